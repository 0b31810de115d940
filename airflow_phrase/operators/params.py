"""The rendered arguments of the Phrase operators, as pydantic models (validated in ``execute``).

Field names are the operators' parameter names, so :func:`airflow_phrase.validation.validate_params`
reports a bad argument under the name the DAG author wrote. The job fields are *inherited* from
:class:`~airflow_phrase.models.JobCreateRequest`: its rules (languages, mutually exclusive import
settings, path length, aware datetimes, ...) are written once, there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

from airflow_phrase.languages import normalise_language
from airflow_phrase.models import JobCreateRequest, LanguageCode, Project, ProvidersPerLanguage
from airflow_phrase.operators.ingest_state import IngestPlan
from airflow_phrase.validation import (
    ConnectorRef,
    DownloadTaskIdArg,
    NameText,
    ProjectUidArg,
    StrictFlag,
    coerce_list,
    coerce_structure,
    invalid_arguments,
    native_text,
    strict_flag,
)

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

_JOB_FIELDS = frozenset(JobCreateRequest.model_fields)


class FileArgs(BaseModel):
    """Which connector file: connector id or name, folder (path or encoded), file (name or encoded)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phrase_conn_id: NameText
    connector: ConnectorRef
    folder: NameText = "/"
    file: NameText
    project_uid: ProjectUidArg


class DownloadArgs(FileArgs):
    """Arguments of :class:`~airflow_phrase.operators.download.PhraseConnectorDownloadOperator`."""

    source_lang: LanguageCode | None = None
    target_lang: LanguageCode | None = None


def check_project_languages(
    hook: PhraseTmsHook,
    project_uid: str,
    target_langs: Iterable[str],
    task_id: str,
    *,
    fix: str = "check the project uid",
) -> None:
    """Read the project (``GET /api2/v1/projects/{projectUid}``, cached by the hook) and fail at once
    (``AirflowFailException`` naming ``project_uid`` or ``target_langs``, no retries) when it does not exist
    or a target language is not one of its languages: before anything is downloaded. ``fix`` ends the 404
    message (what the user should check)."""
    from airflow_phrase.exceptions import PhraseApiError

    try:
        project = hook.get_project(project_uid)
    except PhraseApiError as error:
        if error.status != 404:
            raise
        raise invalid_arguments(
            task_id, [f"project_uid: Phrase has no project {project_uid!r} (HTTP 404); {fix}"]
        ) from error
    refuse_languages_not_in_project(project, target_langs, task_id)


def refuse_languages_not_in_project(
    project: Project, target_langs: Iterable[str], task_id: str, *, field: str = "target_langs"
) -> None:
    """Fail (``AirflowFailException`` naming ``field``) if a target language is not one of the project's.

    Phrase refuses to create jobs for them; checked before the download, so nothing is started for jobs
    that cannot be created. A project read without its languages (a role that does not see them) is
    not checked.
    """
    if not project.target_langs:
        return
    allowed = {normalise_language(lang) for lang in project.target_langs}
    stray = [lang for lang in target_langs if normalise_language(lang) not in allowed]
    if stray:
        raise invalid_arguments(
            task_id,
            [
                f"{field}: {', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not among the target "
                f"languages of project {project.uid} ({', '.join(project.target_langs)}); remove "
                f"{'it' if len(stray) == 1 else 'them'} or add {'it' if len(stray) == 1 else 'them'} to "
                "the project in Phrase"
            ],
        )


def narrow_job_request(request: JobCreateRequest, target_langs: Iterable[str]) -> JobCreateRequest:
    """``request`` for only those of its target languages that are in ``target_langs``.

    Used when jobs exist for some languages already and only the others are created. Everything that
    names a language is narrowed with ``targetLangs`` so the request stays valid
    (:class:`~airflow_phrase.models.JobCreateRequest` refuses assignments for languages it does not
    create): ``assignments`` of the other languages are dropped (no assignments left: none sent), and so
    are those inside each of ``workflowSettings``; the workflow steps themselves are kept, with their
    due dates and notification settings. The order of ``targetLangs`` is kept.

    Raises ``ValueError`` when none of ``target_langs`` is in the request (there would be nothing to
    create).
    """
    keep = {normalise_language(lang) for lang in target_langs}
    langs = [lang for lang in request.target_langs if normalise_language(lang) in keep]
    if not langs:
        raise ValueError(
            f"none of {', '.join(sorted(keep)) or '(no languages)'} is among the request's target "
            f"languages {', '.join(request.target_langs)}"
        )

    def kept(assignments: list[ProvidersPerLanguage]) -> list[ProvidersPerLanguage]:
        return [each for each in assignments if normalise_language(each.target_lang) in keep]

    narrowed: dict[str, Any] = {"target_langs": langs}
    if request.assignments is not None:
        narrowed["assignments"] = kept(request.assignments) or None
    if request.workflow_settings is not None:
        narrowed["workflow_settings"] = [
            step.model_copy(update={"assignments": kept(step.assignments)})
            for step in request.workflow_settings
        ]
    # Re-validated, so the narrowed request passes the same rules as the one the DAG author wrote.
    return JobCreateRequest.model_validate({**dict(request), **narrowed})


class _JobArgs(JobCreateRequest):
    """The job fields plus ``continuous``; :meth:`job_request` gives the request body model.

    Stricter about what a DAG passes than the request model is about what Phrase accepts: flags are
    booleans or the texts true / false, and list and mapping fields may be given as the text a template
    renders without native rendering (see :mod:`airflow_phrase.validation`).
    """

    continuous: StrictFlag = False

    @field_validator("target_langs", mode="before")
    @classmethod
    def _list_text(cls, value: Any) -> Any:
        return coerce_list(value)

    @field_validator(
        "workflow_settings",
        "assignments",
        "import_settings",
        "notify_provider",
        "xml_assistant_profile",
        mode="before",
    )
    @classmethod
    def _structure_text(cls, value: Any) -> Any:
        return coerce_structure(value)

    @field_validator("use_project_file_import_settings", "pre_translate", "semantic_markup", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return None if value is None else strict_flag(value)

    @field_validator("path", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return None if value is None else native_text(value)

    def job_request(self) -> JobCreateRequest:
        # Re-validated through the parent model so nothing but JobCreateRequestDto fields is sent.
        return JobCreateRequest.model_validate(self.model_dump(include=set(_JOB_FIELDS), exclude_none=True))


class CreateJobArgs(_JobArgs):
    """Arguments of :class:`~airflow_phrase.operators.create_job.PhraseCreateJobFromConnectorTaskOperator`."""

    phrase_conn_id: NameText
    project_uid: ProjectUidArg
    download_task_id: DownloadTaskIdArg


class IngestArgs(_JobArgs):
    """Arguments of :class:`~airflow_phrase.operators.ingest.PhraseIngestConnectorFileOperator`."""

    phrase_conn_id: NameText
    connector: ConnectorRef
    folder: NameText = "/"
    file: NameText
    project_uid: ProjectUidArg
    source_lang: LanguageCode | None = None
    #: The ingestion run's decision for this file (see ``operators/ingest_state.py``).
    plan: IngestPlan | None = None
