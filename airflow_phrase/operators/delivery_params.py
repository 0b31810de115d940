"""The rendered arguments of the delivery side (job status sensor, export and target-file operators).

Validated before any call to Phrase: a bad value fails the task at once (no retries) with a message
naming the argument and the fix (:func:`~airflow_phrase.validation.validate_params`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from airflow_phrase.identifiers import PhraseUid
from airflow_phrase.validation import NameText, ProjectUidArg, StrictFlag, coerce_list

#: Phrase's limit on the jobs of one export call (``POST /api2/v3/projects/{p}/jobs/export``).
MAX_EXPORT_JOBS = 1000
#: Default name pattern of a delivered target file (see :mod:`airflow_phrase.operators.target_file`).
DEFAULT_FILE_PATTERN = "{target_lang}/{path}"


def _blank_to_none(value: Any) -> Any:
    # Jinja renders a missing XCom value or param as "None".
    return None if isinstance(value, str) and value.strip() in ("", "None") else value


def _statuses(value: Any) -> Any:
    from airflow_phrase.triggers.job_status import target_statuses_of

    if _blank_to_none(value) is None:  # given, but rendered empty: not the default in disguise
        raise ValueError(
            f"rendered {value!r}: give the statuses, e.g. ['COMPLETED'], or leave the argument out for "
            "the default (COMPLETED)"
        )
    try:
        return list(target_statuses_of(value))
    except ValueError as error:  # its message names the field already; validate_params names it too
        raise ValueError(str(error).removeprefix("target_statuses: ")) from None


def _level(value: Any) -> Any:
    if isinstance(value, bool):  # int(True) == 1: a flag given by mistake must not pass as level 1
        raise ValueError(f"is {value!r}, a flag; give the workflow level as a number, 1 to 15")
    return _blank_to_none(value)


def _each_once(value: list[str]) -> list[str]:
    seen: set[str] = set()
    duplicates = sorted({uid for uid in value if uid in seen or seen.add(uid)})  # type: ignore[func-returns-value]
    if duplicates:
        raise ValueError(f"lists {', '.join(duplicates)} more than once; give each job once")
    return value


JobUids = Annotated[list[PhraseUid], BeforeValidator(coerce_list)]
WorkflowLevel = Annotated[Annotated[int, Field(ge=1, le=15)] | None, BeforeValidator(_level)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phrase_conn_id: NameText
    project_uid: ProjectUidArg
    job_uids: JobUids = Field(min_length=1)
    workflow_level: WorkflowLevel = None

    @field_validator("job_uids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _each_once(value)


class JobStatusArgs(_Args):
    """:class:`~airflow_phrase.sensors.job_status.PhraseJobStatusSensor`'s arguments."""

    target_statuses: Annotated[list[str], BeforeValidator(_statuses)] = Field(
        default_factory=lambda: ["COMPLETED"]
    )
    fail_on_ended_otherwise: StrictFlag = False


class DeliverySelectionArgs(BaseModel):
    """The Params ``select_jobs`` of ``phrase_translation_delivery`` reads (validated before any call)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phrase_conn_id: NameText
    project_uid: Annotated[ProjectUidArg | None, BeforeValidator(_blank_to_none)] = None
    job_uids: Annotated[JobUids | None, BeforeValidator(_blank_to_none)] = None
    all_completed: StrictFlag = False
    target_statuses: Annotated[list[str], BeforeValidator(_statuses)] = Field(
        default_factory=lambda: ["COMPLETED"]
    )
    workflow_level: WorkflowLevel = None

    @field_validator("job_uids")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return _each_once(value) if value else value


class ExportArgs(_Args):
    """:class:`~airflow_phrase.operators.export.PhraseExportJobsToRepositoryOperator`'s arguments."""

    job_uids: JobUids = Field(min_length=1, max_length=MAX_EXPORT_JOBS)
    force: StrictFlag = False


class TargetFileArgs(_Args):
    """:class:`~airflow_phrase.operators.target_file.PhraseDownloadTargetFileOperator`'s arguments."""

    base_path: NameText
    file_pattern: NameText = DEFAULT_FILE_PATTERN
    force: StrictFlag = False

    @field_validator("file_pattern")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        from airflow_phrase.operators.target_file import check_file_pattern

        return check_file_pattern(value)

    @field_validator("base_path")
    @classmethod
    def _absolute_location(cls, value: str) -> str:
        from airflow_phrase.operators.target_file import check_base_path

        return check_base_path(value)


__all__ = [
    "DEFAULT_FILE_PATTERN",
    "MAX_EXPORT_JOBS",
    "DeliverySelectionArgs",
    "ExportArgs",
    "JobStatusArgs",
    "TargetFileArgs",
]
