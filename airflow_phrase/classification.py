"""What a failed request to Phrase TMS means, and which failures are worth repeating: the one table.

Every part of the provider that decides whether to repeat something reads it from here: the hook's
retries within one call (:mod:`airflow_phrase.hooks.retry`), the waits that poll Phrase (operators,
sensor, triggers), the create-job reconciliation and the choice of exception (a *rejected* request fails
the task at once, without Airflow retries). The exceptions carry the classification
(:attr:`airflow_phrase.exceptions.PhraseApiError.failure_class`, ``.transient``, ``.ambiguous``,
``.rejected``).

A failure is

* **transient**: Phrase certainly did not act on the request (429 Too Many Requests, 503 Service
  Unavailable, a connection that could not be established). Repeating it later is safe and may succeed.
* **ambiguous**: Phrase may have acted on it although the answer says otherwise (408, 500, 502, 504 and
  every other 5xx but 501, a read timeout, a connection dropped after the request was sent).
* **rejected**: Phrase refused the request itself (every other 4xx, 501, a TLS failure). The same
  request fails again; only a change of the request or the connection helps.

Which failures the hook retries depends on what a repetition costs (:data:`RETRY_TABLE`):

==========================================  =========  ==========  =============
request (:class:`RequestKind`)               transient  ambiguous   rejected
==========================================  =========  ==========  =============
reads (GET, job-search POST), ``READ``       retried    retried     never
login POST, ``LOGIN``                        retried    retried     never
start-download POST, ``START_DOWNLOAD``      retried    retried     never
target-file PUT, ``START_TARGET_FILE``       retried    retried     never
set-status POST, ``SET_STATUS``              retried    retried     never
create-job POST, ``CREATE_JOBS``            retried    **no**      never
export POST, ``EXPORT_JOBS``                 retried    **no**      never
target-file GET, ``DOWNLOAD_TARGET_FILE``    retried    **no**      never
==========================================  =========  ==========  =============

* A second login only issues a second token.
* A second download start leaves at most one spare download task in Phrase that no job is created from
  (Phrase cannot cancel it, and it costs one fetch of the file); not retrying would cost an Airflow
  retry, which starts a download again anyway, after the task's retry delay.
* A second target-file PUT (``PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile``) likewise
  leaves at most one spare async request that nothing downloads (it counts against Phrase's pending
  async requests until it expires).
* A second set-status POST asks for the status the first one set: the job ends in the same status
  (Phrase may notify the owner twice if ``notifyOwner`` is set).
* A second create-job call may create every job twice. An ambiguous failure is therefore raised at once
  and the operator looks in Phrase for the jobs before anything is created again
  (:mod:`airflow_phrase.operators.job_creation`).
* A second export (``POST /api2/v3/projects/{projectUid}/jobs/export``) writes every job's file to the
  repository again (a second commit, a second overwrite): raised at once; the caller checks what was
  exported before exporting again.
* The target-file download (``GET .../downloadTargetFile/{asyncRequestId}``) is single use: after an
  ambiguous failure Phrase may have spent the ``asyncRequestId`` already, so a repeat would only fail
  with :class:`~airflow_phrase.exceptions.PhraseTargetFileRequestGoneError`; the caller starts a new
  target-file request instead.

Waits that poll Phrase (reads) also poll again next interval after transient and ambiguous failures, until
their deadline; a rejected poll ends the wait.

This module imports nothing heavy: DAG files import the operators, which import this.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum


class FailureClass(str, Enum):
    """What one failed request says about the request itself (see the module docstring)."""

    TRANSIENT = "transient"
    AMBIGUOUS = "ambiguous"
    REJECTED = "rejected"


class TransportKind(str, Enum):
    """How an attempt failed when no usable HTTP response came back."""

    CONNECT = "connection could not be established"
    TIMEOUT = "timed out waiting for the response"
    DROPPED = "connection dropped before a complete response"
    TLS = "TLS error"


class RequestKind(str, Enum):
    """What repeating a request costs; decides which failures the hook retries (:data:`RETRY_TABLE`)."""

    #: GET, and ``POST /api2/v1/projects/{projectUid}/jobs/search``: reading twice changes nothing.
    READ = "read"
    #: ``POST /api2/v3/auth/login``: a repeat only issues another token.
    LOGIN = "login"
    #: ``POST /api2/v2/connectors/{id}/folders/{folder}/files/{file}``: a repeat starts a spare task.
    START_DOWNLOAD = "start_download"
    #: ``POST /api2/v1/projects/{projectUid}/jobs/connectorTask``: a repeat may create the jobs twice.
    CREATE_JOBS = "create_jobs"
    #: ``POST /api2/v3/projects/{projectUid}/jobs/export``: a repeat exports the jobs twice.
    EXPORT_JOBS = "export_jobs"
    #: ``PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile``: a repeat starts a spare request.
    START_TARGET_FILE = "start_target_file"
    #: ``GET .../downloadTargetFile/{asyncRequestId}``: single use; a repeat after an ambiguous failure
    #: finds the id spent.
    DOWNLOAD_TARGET_FILE = "download_target_file"
    #: ``POST /api2/v1/projects/{projectUid}/jobs/{jobUid}/setStatus``: a repeat sets the same status.
    SET_STATUS = "set_status"


#: HTTP statuses with a class of their own; others: 5xx ambiguous, everything else rejected.
STATUS_CLASSES: Mapping[int, FailureClass] = {
    408: FailureClass.AMBIGUOUS,  # a proxy gave up waiting: the request may be running
    429: FailureClass.TRANSIENT,
    500: FailureClass.AMBIGUOUS,
    501: FailureClass.REJECTED,  # Not Implemented: never changes
    502: FailureClass.AMBIGUOUS,
    503: FailureClass.TRANSIENT,
    504: FailureClass.AMBIGUOUS,
}

TRANSPORT_CLASSES: Mapping[TransportKind, FailureClass] = {
    TransportKind.CONNECT: FailureClass.TRANSIENT,
    TransportKind.TIMEOUT: FailureClass.AMBIGUOUS,
    TransportKind.DROPPED: FailureClass.AMBIGUOUS,
    TransportKind.TLS: FailureClass.REJECTED,
}

_ALL = frozenset(RequestKind)

#: The one retry table: for each class of failure, the requests the hook retries within one call.
RETRY_TABLE: Mapping[FailureClass, frozenset[RequestKind]] = {
    FailureClass.TRANSIENT: _ALL,
    FailureClass.AMBIGUOUS: _ALL
    - {RequestKind.CREATE_JOBS, RequestKind.EXPORT_JOBS, RequestKind.DOWNLOAD_TARGET_FILE},
    FailureClass.REJECTED: frozenset(),
}

#: ``errorCode`` prefix of Phrase's authentication and account errors (``AuthInvalidCredentials``, ...).
AUTH_ERROR_PREFIX = "Auth"


def classify_status(status: int) -> FailureClass:
    """The class of a non-2xx HTTP status (see :data:`STATUS_CLASSES`)."""
    known = STATUS_CLASSES.get(status)
    if known is not None:
        return known
    return FailureClass.AMBIGUOUS if 500 <= status <= 599 else FailureClass.REJECTED


def is_auth_failure(status: int, error_code: str | None) -> bool:
    """401, or a 403 whose ``errorCode`` is one of Phrase's ``Auth*`` codes (bad credentials, a locked
    account, API access disabled): the connection must be fixed."""
    return status == 401 or (status == 403 and (error_code or "").startswith(AUTH_ERROR_PREFIX))


def retried(failure_class: FailureClass, kind: RequestKind) -> bool:
    """Whether the hook repeats a request of ``kind`` after a failure of ``failure_class``."""
    return kind in RETRY_TABLE[failure_class]


def worth_polling_again(error: BaseException) -> bool:
    """Whether a wait that polls Phrase (reads only) should poll again next interval after ``error``.

    True for the provider's API and connection errors that are not rejected; false for anything else
    (a rejected request, a bug).
    """
    failure_class = getattr(error, "failure_class", None)
    return isinstance(failure_class, FailureClass) and retried(failure_class, RequestKind.READ)


__all__ = [
    "RETRY_TABLE",
    "STATUS_CLASSES",
    "TRANSPORT_CLASSES",
    "FailureClass",
    "RequestKind",
    "TransportKind",
    "classify_status",
    "is_auth_failure",
    "retried",
    "worth_polling_again",
]
