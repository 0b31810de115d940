"""The rendered arguments of the Phrase operators, as pydantic models (validated in ``execute``).

Field names are the operators' parameter names, so :func:`airflow_phrase.validation.validate_params`
reports a bad argument under the name the DAG author wrote. The job fields are *inherited* from
:class:`~airflow_phrase.models.JobCreateRequest`: its rules (languages, mutually exclusive import
settings, path length, aware datetimes, ...) are written once, there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from airflow_phrase.languages import normalise_language
from airflow_phrase.models import JobCreateRequest, LanguageCode, PhraseId, ProvidersPerLanguage
from airflow_phrase.operators.ingest_state import IngestPlan

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: An id Phrase may write as a number; never empty.
NonEmptyId = Annotated[PhraseId, Field(min_length=1)]

_JOB_FIELDS = frozenset(JobCreateRequest.model_fields)


class WaitArgs(BaseModel):
    """How an operator waits (not sent to Phrase)."""

    model_config = ConfigDict(extra="forbid")

    poll_interval: float = Field(gt=0)
    wait_timeout: timedelta | None = None

    @property
    def wait_timeout_seconds(self) -> float | None:
        return self.wait_timeout.total_seconds() if self.wait_timeout is not None else None


class FileArgs(BaseModel):
    """Which connector file: connector id or name, folder (path or encoded), file (name or encoded)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phrase_conn_id: NonEmpty
    connector: NonEmptyId
    folder: NonEmpty = "/"
    file: NonEmpty
    project_uid: NonEmpty


class DownloadArgs(FileArgs):
    """Arguments of :class:`~airflow_phrase.operators.download.PhraseConnectorDownloadOperator`."""

    source_lang: LanguageCode | None = None
    target_lang: LanguageCode | None = None


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
    """The job fields plus ``continuous``; :meth:`job_request` gives the request body model."""

    continuous: bool = False

    def job_request(self) -> JobCreateRequest:
        # Re-validated through the parent model so nothing but JobCreateRequestDto fields is sent.
        return JobCreateRequest.model_validate(self.model_dump(include=set(_JOB_FIELDS), exclude_none=True))


class CreateJobArgs(_JobArgs):
    """Arguments of :class:`~airflow_phrase.operators.create_job.PhraseCreateJobFromConnectorTaskOperator`."""

    phrase_conn_id: NonEmpty
    project_uid: NonEmpty
    download_task_id: NonEmptyId


class IngestArgs(_JobArgs):
    """Arguments of :class:`~airflow_phrase.operators.ingest.PhraseIngestConnectorFileOperator`."""

    phrase_conn_id: NonEmpty
    connector: NonEmptyId
    folder: NonEmpty = "/"
    file: NonEmpty
    project_uid: NonEmpty
    source_lang: LanguageCode | None = None
    #: The ingestion run's decision for this file (see ``operators/ingest_state.py``).
    plan: IngestPlan | None = None
