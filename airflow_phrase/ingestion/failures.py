"""Telling a file that Phrase could not process apart from a run that went wrong.

*Expected* failures are about one remote file and are Phrase's verdict on it: its conversion failed
(``CONVERTER_ERROR``), the connector could not fetch it (``ERROR``, e.g. removed from the repository) or
its import failed. Retrying cannot fix them, so the ingest operator fails the task without retries, with
Phrase's message, raising :class:`~airflow_phrase.exceptions.PhraseDownloadFailedError` or
:class:`~airflow_phrase.exceptions.PhraseImportFailedError` (both ``AirflowFailException``); the example
DAGs' ingest task (:mod:`airflow_phrase.ingestion.ingest_task`) records them and ends *skipped* instead,
and the run reports them and still succeeds. They are recognised by type, never by their message text.
A mapped task skipped without a record (marked skipped by a person) is reported as ``skipped``, also
expected.

Everything else is *unexpected* and fails the run: bad arguments, a connector or file that does not
exist, Phrase refusing the job request (HTTP 4xx, usually a configuration problem such as a language the
project does not have), authentication, timeouts, transient errors that outlived their retries, bugs.

The classification is recorded by :func:`record_ingest_failure`, the ``on_failure_callback`` of the
mapped ingest tasks, as an XCom the summary reads; it runs in the failing task's own process, which is
the only place the exception is known. There is no text fallback because an exception never reaches it
as text: in the task's process the callback gets the exception object itself, and when a task fails
outside it (its process died, a heartbeat timed out) the DAG processor runs the callback with no
exception at all, which is recorded as ``not_recorded`` (and fails the run: no one knows what happened).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from airflow_phrase.exceptions import PhraseDownloadFailedError, PhraseImportFailedError

#: XCom key under which a failed ingest task records its :class:`FileFailure`.
FAILURE_XCOM_KEY = "phrase_ingest_failure"
_MAX_MESSAGE = 500


class FailureCategory(str, Enum):
    CONVERSION_FAILED = "conversion_failed"
    REMOTE_FILE_ERROR = "remote_file_error"
    IMPORT_FAILED = "import_failed"
    SKIPPED = "skipped"
    UNEXPECTED = "unexpected"
    NOT_RECORDED = "not_recorded"

    @property
    def expected(self) -> bool:
        return self in _EXPECTED

    @property
    def label(self) -> str:
        return _LABELS[self]


_EXPECTED = frozenset(
    {
        FailureCategory.CONVERSION_FAILED,
        FailureCategory.REMOTE_FILE_ERROR,
        FailureCategory.IMPORT_FAILED,
        FailureCategory.SKIPPED,
    }
)
_LABELS = {
    FailureCategory.CONVERSION_FAILED: "conversion failed",
    FailureCategory.REMOTE_FILE_ERROR: "connector could not fetch the file",
    FailureCategory.IMPORT_FAILED: "import failed",
    FailureCategory.SKIPPED: "skipped without a Phrase verdict",
    FailureCategory.UNEXPECTED: "unexpected error",
    FailureCategory.NOT_RECORDED: "failed, reason not recorded",
}


class FileFailure(BaseModel):
    """Why one file's ingest task failed (plain JSON in XCom)."""

    model_config = ConfigDict(frozen=True)

    category: FailureCategory
    message: str
    #: The exception's class name, for the unexpected ones.
    error_type: str | None = None
    #: ``import_failed``: the jobs Phrase created before their import failed,
    #: ``[{"uid", "targetLang", "url", "created_now"}]`` (``created_now``: by this try, not found).
    jobs: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def expected(self) -> bool:
        return self.category.expected

    def describe(self) -> str:
        return f"{self.category.label}: {self.message}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def classify_failure(error: BaseException | None) -> FileFailure:
    """Classify the exception a mapped ingest task failed with."""
    if error is None:
        return FileFailure(
            category=FailureCategory.NOT_RECORDED, message="the task failed without an exception"
        )
    if isinstance(error, PhraseDownloadFailedError):
        category = (
            FailureCategory.CONVERSION_FAILED
            if error.conversion_failed
            else FailureCategory.REMOTE_FILE_ERROR
        )
        return FileFailure(category=category, message=_short(error.detail))
    if isinstance(error, PhraseImportFailedError):
        return FileFailure(category=FailureCategory.IMPORT_FAILED, message=_short(error.detail))
    return FileFailure(
        category=FailureCategory.UNEXPECTED,
        message=_short(str(error)) or type(error).__name__,
        error_type=type(error).__name__,
    )


def record_ingest_failure(context: Any) -> None:
    """``on_failure_callback`` of the mapped ingest tasks: store the :class:`FileFailure` in XCom."""
    failure = classify_failure(context.get("exception"))
    context["ti"].xcom_push(key=FAILURE_XCOM_KEY, value=failure.model_dump(mode="json"))


def recorded_failure(value: Any, *, state: str | None = "failed") -> FileFailure:
    """The failure a task recorded; without one, ``skipped`` for a skipped task, else ``not_recorded``
    (which fails the run)."""
    if isinstance(value, dict):
        try:
            return FileFailure.model_validate(value)
        except ValueError:
            pass
    if state == "skipped":
        return FileFailure(category=FailureCategory.SKIPPED, message="the task was skipped")
    return FileFailure(
        category=FailureCategory.NOT_RECORDED,
        message="the task failed but recorded no reason; see its log",
    )
