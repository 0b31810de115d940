"""Projects: the subset of ``ProjectDto`` the provider reads, and the project list page."""

from __future__ import annotations

from pydantic import Field

from ._base import OptionalTimestamp, Page, PhraseId, PhraseResponse
from .common import NameReference, UserReference


class WorkflowStep(PhraseResponse):
    """A workflow step of a project (``ProjectWorkflowStepDto`` subset). Phrase sends ``id`` as a number."""

    id: PhraseId | None = None
    name: str | None = None
    workflow_level: int | None = None
    abbreviation: str | None = None


class Project(PhraseResponse):
    """``ProjectDto``. Its shape depends on the caller's role (``userRole``: ``ADMIN`` and
    ``PROJECT_MANAGER`` see ``status``, ``workflowSteps`` and more; ``LINGUIST``, ``VENDOR`` and ``BUYER``
    less), so everything past the identity is optional."""

    uid: PhraseId
    id: PhraseId | None = None
    internal_id: int | None = None
    name: str = ""
    user_role: str | None = None
    source_lang: str | None = None
    target_langs: list[str] = Field(default_factory=list)
    status: str | None = None
    date_created: OptionalTimestamp = None
    date_due: OptionalTimestamp = None
    owner: UserReference | None = None
    client: NameReference | None = None
    archived: bool | None = None
    workflow_steps: list[WorkflowStep] = Field(default_factory=list)


class ProjectsPage(Page):
    """``PageDtoAbstractProjectDto`` from ``GET /api2/v1/projects``."""

    content: list[Project] = Field(default_factory=list)
