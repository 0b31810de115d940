"""Jobs: the create-job request (``JobCreateRequestDto``) and the job shapes Phrase returns."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, field_validator, model_validator

from airflow_phrase.identifiers import NumericId

from ._base import OptionalTimestamp, Page, PhraseId, PhraseRequest, PhraseResponse, UtcDateTime
from .async_requests import AsyncRequestReference
from .common import IdReference, ProjectReference, ProviderType, UidReference

PATH_MAX_LENGTH = 255
#: At most this many jobs per search call (``SearchJobsRequestDto.jobs``: "Max: 50 records").
MAX_SEARCH_JOBS = 50
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:_[a-z0-9]{2,8}){0,3}$")


def _normalise_language_code(value: Any) -> Any:
    # Phrase writes locales lower-case with underscores ("en_us", "zh_hans_cn"); accept BCP 47 too.
    if isinstance(value, str):
        return value.strip().replace("-", "_").lower()
    return value


def _check_language_code(value: str) -> str:
    if not _LANGUAGE_CODE.match(value):
        raise ValueError(
            f"{value!r} is not a Phrase language code; use codes like 'de', 'fr_fr', 'en_us' or 'zh_hans_cn'"
        )
    return value


#: A Phrase locale code, normalised to Phrase's form (``fr-FR`` → ``fr_fr``).
LanguageCode = Annotated[str, BeforeValidator(_normalise_language_code), AfterValidator(_check_language_code)]


class ProviderReference(PhraseRequest):
    """A linguist (``USER``) or vendor (``VENDOR``) to assign."""

    id: NumericId
    type: ProviderType


class ProvidersPerLanguage(PhraseRequest):
    target_lang: LanguageCode
    providers: list[ProviderReference] = Field(min_length=1)


class NotifyProvider(PhraseRequest):
    organization_email_template: IdReference
    notification_interval_in_minutes: int | None = Field(default=None, ge=0, le=1440)


class WorkflowStepSettings(PhraseRequest):
    """Per-workflow-step settings, for projects with workflow steps. ``id`` is the project's step id.

    ``assignments`` is required (``JobCreateRequestDtoWorkflowStepConfiguration`` in the spec); give
    ``[]`` to set only the step's due date or notification.
    """

    id: NumericId
    due: UtcDateTime | None = None
    assignments: list[ProvidersPerLanguage]
    notify_provider: NotifyProvider | None = None


class JobCreateRequest(PhraseRequest):
    """Body of ``POST /api2/v1/projects/{projectUid}/jobs/connectorTask``.

    Validated before anything is sent: a non-empty list of well-formed target languages, at most one
    way of choosing import settings, a ``path`` of at most 255 characters and timezone-aware dates.
    """

    target_langs: list[LanguageCode] = Field(min_length=1)
    due: UtcDateTime | None = None
    workflow_settings: list[WorkflowStepSettings] | None = None
    assignments: list[ProvidersPerLanguage] | None = None
    import_settings: UidReference | None = None
    use_project_file_import_settings: bool | None = None
    callback_url: str | None = None
    path: str | None = Field(default=None, max_length=PATH_MAX_LENGTH)
    pre_translate: bool | None = None
    semantic_markup: bool | None = None
    xml_assistant_profile: UidReference | None = None
    notify_provider: NotifyProvider | None = None
    job_preview_package_file_uid_ref: UidReference | None = None

    @field_validator("target_langs")
    @classmethod
    def _unique_languages(cls, value: list[str]) -> list[str]:
        duplicates = sorted({lang for lang in value if value.count(lang) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once; give each language once")
        return value

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> JobCreateRequest:
        if self.import_settings is not None and self.use_project_file_import_settings:
            raise ValueError(
                "importSettings and useProjectFileImportSettings are mutually exclusive; "
                "give one or the other"
            )
        if self.assignments and self.workflow_settings:
            raise ValueError(
                "assignments are for projects without workflow steps; with workflowSettings, put the "
                "assignments inside each workflow step instead"
            )
        targets = set(self.target_langs)
        assigned = [a.target_lang for a in self.assignments or []] + [
            a.target_lang for step in self.workflow_settings or [] for a in step.assignments
        ]
        stray = sorted(set(assigned) - targets)
        if stray:
            raise ValueError(
                f"assignments name target languages {', '.join(stray)} that are not in targetLangs"
            )
        return self


class ProviderOut(PhraseResponse):
    """``ProviderReference`` in a response: a linguist (``USER``) or vendor (``VENDOR``) assigned."""

    id: PhraseId | None = None
    uid: PhraseId | None = None
    type: str | None = None


class WorkflowStepReference(PhraseResponse):
    """``WorkflowStepReference``: the workflow step of a job just created (create job's ``jobs[]``)."""

    id: PhraseId | None = None
    uid: PhraseId | None = None
    name: str | None = None
    order: int | None = None
    lqa_enabled: bool | None = None


class ProjectWorkflowStepReference(PhraseResponse):
    """``ProjectWorkflowStepReference``: a job's workflow step in get job and list jobs v2."""

    id: PhraseId | None = None
    name: str | None = None
    order: int | None = None
    workflow_level: int | None = None


class JobPartReference(PhraseResponse):
    """``JobPartReference``: one created job (one per target language and workflow step)."""

    uid: PhraseId
    filename: str | None = None
    target_lang: str | None = None
    status: str | None = None
    imported: bool | None = None
    date_created: OptionalTimestamp = None
    date_due: OptionalTimestamp = None
    workflow_level: int | None = None
    workflow_step: WorkflowStepReference | None = None
    continuous: bool | None = None
    source_file_uid: PhraseId | None = None
    providers: list[ProviderOut] = Field(default_factory=list)
    update_source_date: OptionalTimestamp = None
    notification_interval_in_minutes: int | None = None
    job_assigned_email_template: dict[str, object] | None = None


class JobListWarning(PhraseResponse):
    domain: str | None = None
    job_part_ids: list[PhraseId] = Field(default_factory=list)
    message: str | None = None


class JobList(PhraseResponse):
    """``JobListDto``: the 201 body of create-job."""

    jobs: list[JobPartReference] = Field(default_factory=list)
    async_request: AsyncRequestReference | None = None
    unsupported_files: list[str] = Field(default_factory=list)
    warnings: list[JobListWarning] = Field(default_factory=list)


class ImportStatus(PhraseResponse):
    """``importStatus``: ``RUNNING`` while importing, then ``OK`` or ``ERROR`` (any other value kept as is:
    code compares with those three strings)."""

    status: str | None = None
    error_message: str | None = None


class JobPart(PhraseResponse):
    """``JobPartExtendedDto`` from get job."""

    uid: PhraseId
    inner_id: PhraseId | None = None
    filename: str | None = None
    source_lang: str | None = None
    target_lang: str | None = None
    status: str | None = None
    imported: bool | None = None
    import_status: ImportStatus | None = None
    date_created: OptionalTimestamp = None
    date_due: OptionalTimestamp = None
    continuous: bool | None = None
    workflow_level: int | None = None
    last_workflow_level: int | None = None
    workflow_step: ProjectWorkflowStepReference | None = None
    project: ProjectReference | None = None
    providers: list[ProviderOut] = Field(default_factory=list)
    server_task_id: PhraseId | None = None
    words_count: int | None = None
    original_file_directory: str | None = None
    update_source_date: OptionalTimestamp = None

    def as_list_item(self) -> JobPartV2:
        """This job as list jobs v2 lists it: a :class:`JobPartV2` at the job's own ``workflowLevel``."""
        return JobPartV2(
            uid=self.uid,
            inner_id=self.inner_id,
            filename=self.filename,
            status=self.status,
            target_lang=self.target_lang,
            imported=self.imported,
            import_status=self.import_status,
            date_created=self.date_created,
            date_due=self.date_due,
            continuous=self.continuous,
            workflow_step=self.workflow_step,
            server_task_id=self.server_task_id,
        ).listed_at_level(self.workflow_level)


class JobSearchRequest(PhraseRequest):
    """Body of ``POST /api2/v1/projects/{projectUid}/jobs/search`` (``SearchJobsRequestDto``): 1 to 50 job
    uids, ``{"jobs": [{"uid": ...}]}``."""

    jobs: list[UidReference] = Field(min_length=1, max_length=MAX_SEARCH_JOBS)

    @classmethod
    def of(cls, job_uids: list[str]) -> JobSearchRequest:
        return cls(jobs=[UidReference(uid=uid) for uid in job_uids])


class JobSearch(PhraseResponse):
    """``SearchJobsDto`` from ``POST /api2/v1/projects/{projectUid}/jobs/search``: the jobs found, each a
    ``JobPartExtendedDto`` (as get job answers)."""

    jobs: list[JobPart] = Field(default_factory=list)


class RemoteFileReference(PhraseResponse):
    """``JobRemoteFileReference``: where a job's source file came from (list jobs v2's ``remoteFile``)."""

    encoded_file_name: str | None = None
    encoded_folder: str | None = None
    human_readable_file_name: str | None = None
    human_readable_folder: str | None = None


class JobPartV2(PhraseResponse):
    """``JobPartReferenceV2``: an item of list jobs v2.

    Phrase's item has no ``workflowLevel``: list jobs v2 lists one workflow level per call (its
    ``workflowLevel`` query parameter, default 1). :attr:`workflow_level` is that level, which
    :meth:`~airflow_phrase.hooks.phrase_tms.PhraseTmsHook.iter_jobs` records on every job it lists
    (:meth:`listed_at_level`), else the level of the job's ``workflowStep`` if Phrase gives it.
    """

    uid: PhraseId
    inner_id: PhraseId | None = None
    filename: str | None = None
    status: str | None = None
    target_lang: str | None = None
    imported: bool | None = None
    import_status: ImportStatus | None = None
    date_created: OptionalTimestamp = None
    date_due: OptionalTimestamp = None
    continuous: bool | None = None
    workflow_step: ProjectWorkflowStepReference | None = None
    server_task_id: PhraseId | None = None
    source_file_uid: PhraseId | None = None
    remote_file: RemoteFileReference | None = None

    _listed_level: int | None = PrivateAttr(default=None)

    def listed_at_level(self, level: int | None) -> JobPartV2:
        """Record the workflow level the listing asked for (returns ``self``)."""
        self._listed_level = level
        return self

    @property
    def workflow_level(self) -> int | None:
        """The job's workflow level: the one it was listed at, else its ``workflowStep``'s, else ``None``."""
        if self._listed_level is not None:
            return self._listed_level
        return self.workflow_step.workflow_level if self.workflow_step is not None else None


class JobPartsPage(Page):
    """``PageDtoJobPartReferenceV2`` from ``GET /api2/v2/projects/{projectUid}/jobs``."""

    content: list[JobPartV2] = Field(default_factory=list)

    def listed_at_level(self, level: int | None) -> JobPartsPage:
        """Record on every job the level the listing asked for (``None``: Phrase's default, 1)."""
        for job in self.content:
            job.listed_at_level(level if level is not None else 1)
        return self
