"""Projects: the subset of ``ProjectDto`` the provider reads."""

from __future__ import annotations

from pydantic import Field

from ._base import PhraseId, PhraseResponse, PhraseTimestamp
from .common import NameReference, UserReference


class WorkflowStep(PhraseResponse):
    """A workflow step of a project (``ProjectWorkflowStepDto`` subset)."""

    id: PhraseId | None = None
    uid: str | None = None
    name: str | None = None
    workflow_level: int | None = None
    abbreviation: str | None = None


class Project(PhraseResponse):
    uid: str
    id: PhraseId | None = None
    internal_id: int | None = None
    name: str
    source_lang: str | None = None
    target_langs: list[str] = Field(default_factory=list)
    status: str | None = None
    date_created: PhraseTimestamp | None = None
    date_due: PhraseTimestamp | None = None
    owner: UserReference | None = None
    client: NameReference | None = None
    archived: bool | None = None
    workflow_steps: list[WorkflowStep] = Field(default_factory=list)
