"""Exceptions raised by the Phrase TMS provider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_phrase.classification import FailureClass, classify_status, is_auth_failure


class _Classified:
    """``transient`` / ``ambiguous`` / ``rejected`` from ``failure_class`` (see
    :mod:`airflow_phrase.classification`)."""

    @property
    def failure_class(self) -> FailureClass:
        raise NotImplementedError

    @property
    def transient(self) -> bool:
        """Phrase certainly did not act on the request; repeating it later may succeed."""
        return self.failure_class is FailureClass.TRANSIENT

    @property
    def ambiguous(self) -> bool:
        """Phrase may have acted on the request although it answered with an error (or not at all)."""
        return self.failure_class is FailureClass.AMBIGUOUS

    @property
    def rejected(self) -> bool:
        """Phrase refused the request; the same request fails again."""
        return self.failure_class is FailureClass.REJECTED


class PhraseApiError(_Classified, AirflowException):
    """Phrase answered with an error status (after any retries the status allowed).

    Carries what a person needs to act on the failure (status, Phrase's ``errorCode`` and
    ``errorDescription``, the method and the path) and never any credential. Build one with
    :func:`phrase_api_error`, which picks the subclass: a *rejected* request (see
    :mod:`airflow_phrase.classification`) raises :class:`PhraseRequestRejectedError` or
    :class:`PhraseAuthenticationError`, which fail the task at once.
    """

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        error_code: str | None = None,
        error_description: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.error_code = error_code
        self.error_description = error_description
        self.attempts = attempts
        detail = (
            f"{error_code}: {error_description}" if error_code else (error_description or "no error body")
        )
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        message = f"Phrase TMS API {method} {path} failed with HTTP {status}{tried}: {detail}"
        hint = self._hint()
        super().__init__(f"{message.rstrip('.')}. {hint}" if hint else message)

    def _hint(self) -> str:
        return ""

    @property
    def failure_class(self) -> FailureClass:
        """Transient, ambiguous or rejected, by the status (see :mod:`airflow_phrase.classification`)."""
        return classify_status(self.status)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Keyword-only __init__: make the exception picklable (Airflow ships exceptions across processes).
        return (
            _rebuild_api_error,
            (
                type(self),
                self.status,
                self.method,
                self.path,
                self.error_code,
                self.error_description,
                self.attempts,
            ),
        )


class PhraseRequestRejectedError(PhraseApiError, AirflowFailException):
    """Phrase refused the request (a 4xx other than 408 and 429, or 501): sending it again cannot help, so
    the task fails at once, without Airflow retries."""


class PhraseAuthenticationError(PhraseRequestRejectedError):
    """Phrase refused the credentials (401, or a 403 with an ``Auth*`` ``errorCode`` such as
    ``AuthAccountInactive``): fix the Airflow connection. The task fails at once."""

    def _hint(self) -> str:
        return (
            "Check the Airflow connection's Login and Password (or token) and its extra 'auth_type'; "
            "retrying with the same credentials cannot succeed."
        )


def phrase_api_error(
    *,
    status: int,
    method: str,
    path: str,
    error_code: str | None = None,
    error_description: str | None = None,
    attempts: int = 1,
) -> PhraseApiError:
    """The :class:`PhraseApiError` (or the subclass the status calls for) of a failed request."""
    cls: type[PhraseApiError] = PhraseApiError
    if is_auth_failure(status, error_code):
        cls = PhraseAuthenticationError
    elif classify_status(status) is FailureClass.REJECTED:
        cls = PhraseRequestRejectedError
    return cls(
        status=status,
        method=method,
        path=path,
        error_code=error_code,
        error_description=error_description,
        attempts=attempts,
    )


def _rebuild_api_error(
    cls: type[PhraseApiError],
    status: int,
    method: str,
    path: str,
    error_code: str | None,
    error_description: str | None,
    attempts: int,
) -> PhraseApiError:
    return cls(
        status=status,
        method=method,
        path=path,
        error_code=error_code,
        error_description=error_description,
        attempts=attempts,
    )


class PhraseConnectionError(_Classified, AirflowException):
    """Phrase could not be reached (connection refused, reset or timed out) after all retries.

    ``failure_class`` is transient (the connection could not be established) unless a subclass says
    otherwise (:class:`PhraseResponseLostError`: ambiguous; :class:`PhraseTlsError`: rejected).
    """

    default_failure_class = FailureClass.TRANSIENT

    @property
    def failure_class(self) -> FailureClass:
        return self.default_failure_class


class PhraseResponseLostError(PhraseConnectionError):
    """The request was sent but no complete response came back (timeout, dropped connection).

    Phrase may have processed it. For a non-idempotent request (create job) the caller should check
    what exists before trying again.
    """

    default_failure_class = FailureClass.AMBIGUOUS


class PhraseTlsError(PhraseConnectionError, AirflowFailException):
    """The TLS handshake with Phrase failed (certificate, protocol): the Base URL or the trust store must
    be fixed, so the task fails at once."""

    default_failure_class = FailureClass.REJECTED


class PhraseConfigurationError(AirflowFailException):
    """The Airflow connection for Phrase TMS is set up wrongly; the message says which field to fix.

    Fails the task at once: a retry would read the same connection.
    """


class PhraseNotFoundError(AirflowException):
    """A connector, folder or file named in the DAG does not exist; the message lists what does."""


# ---------------------------------------------------------------------------------------------------
# Phrase's verdict on one file. Subclasses of ``AirflowFailException``: retrying cannot change it, so the
# task fails at once. The ingestion DAGs tell these "expected" failures from everything else by type
# (``airflow_phrase.ingestion.failures``).


class PhraseDownloadFailedError(AirflowFailException):
    """A connector download task ended ``ERROR`` (the connector could not fetch the file) or
    ``CONVERTER_ERROR`` (Phrase could not convert it).

    :param status: ``"ERROR"`` or ``"CONVERTER_ERROR"``.
    :param error_message: Phrase's ``errorMessage`` of the task (``None`` if it gave none).
    :param download_task_id: the connector download task.
    :param file: the file, as a readable path (``"docs/legacy/broken.docx"``).
    """

    def __init__(self, *, status: str, error_message: str | None, download_task_id: str, file: str) -> None:
        self.status = status
        self.error_message = error_message
        self.download_task_id = str(download_task_id)
        self.file = file
        super().__init__(
            f"Phrase connector download task {self.download_task_id} of {file} ended {status}: {self.detail}"
        )

    @property
    def detail(self) -> str:
        """Phrase's message (or a note that it gave none)."""
        return self.error_message or "Phrase gave no error message"

    @property
    def conversion_failed(self) -> bool:
        """``CONVERTER_ERROR``: the file was fetched but Phrase could not convert it."""
        return self.status == "CONVERTER_ERROR"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_rebuild_download_failed, (self.status, self.error_message, self.download_task_id, self.file))


def _rebuild_download_failed(
    status: str, error_message: str | None, download_task_id: str, file: str
) -> PhraseDownloadFailedError:
    return PhraseDownloadFailedError(
        status=status, error_message=error_message, download_task_id=download_task_id, file=file
    )


class PhraseImportFailedError(AirflowFailException):
    """Phrase created the jobs but could not import the file into them.

    Either the ``IMPORT_JOB`` async request of the create call finished with ``errorCode`` /
    ``errorDesc``, or (jobs that were found rather than created, so no async request is known) a job's
    ``importStatus`` is ``ERROR`` with an ``errorMessage`` (then ``error_code`` is ``None``).

    :param what: the jobs, for the message (``"jobs a, b of project P"``, ``"job a (x.md, de)"``).
    :param error_code: Phrase's ``errorCode`` (``"JobImportFailed"``), if any.
    :param error_desc: Phrase's ``errorDesc`` / the job's ``errorMessage``.
    :param async_request_id: the import's async request, when known.
    :param job_uids: the jobs whose import failed (or that the async request covered).
    """

    def __init__(
        self,
        *,
        what: str,
        error_code: str | None,
        error_desc: str | None,
        async_request_id: str | None = None,
        job_uids: Sequence[str] = (),
    ) -> None:
        self.what = what
        self.error_code = error_code
        self.error_desc = error_desc
        self.async_request_id = str(async_request_id) if async_request_id is not None else None
        self.job_uids = list(job_uids)
        request = f" (async request {self.async_request_id})" if self.async_request_id else ""
        super().__init__(f"Phrase could not import {what}{request}: {self.detail}")

    @property
    def detail(self) -> str:
        """``"errorCode: errorDesc"`` (or the job's ``errorMessage`` when there is no code)."""
        if self.error_code:
            return f"{self.error_code}: {self.error_desc or 'Phrase gave no description'}"
        return self.error_desc or "Phrase gave no error message"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (
            _rebuild_import_failed,
            (self.what, self.error_code, self.error_desc, self.async_request_id, self.job_uids),
        )


def _rebuild_import_failed(
    what: str,
    error_code: str | None,
    error_desc: str | None,
    async_request_id: str | None,
    job_uids: Sequence[str],
) -> PhraseImportFailedError:
    return PhraseImportFailedError(
        what=what,
        error_code=error_code,
        error_desc=error_desc,
        async_request_id=async_request_id,
        job_uids=job_uids,
    )


class PhraseWaitTimeout(AirflowException):
    """Phrase's asynchronous work did not finish before the wait's deadline (retryable)."""


class PhraseTargetFileRequestGoneError(PhraseRequestRejectedError):
    """The ``asyncRequestId`` of a target-file download is spent, unknown or expired (Phrase answered
    ``GET .../downloadTargetFile/{asyncRequestId}`` with 404 or 410).

    Phrase documents the id as single use: once one download began, it is invalid. Which status a second
    download gets is not documented (UNCONFIRMED; the emulator answers 410). Start a new request
    (``PhraseTmsHook.start_target_file_download``), wait for it, and download with the new id.
    """

    def _hint(self) -> str:
        return (
            "The target file's asyncRequestId can be used once only: start a new target-file request "
            "(PUT .../targetFile), wait for it to finish, then download with the new id."
        )
