"""Waiting on the worker (poke mode) for Phrase's asynchronous work, and reading how it ended.

The deferrable path waits in the triggers (:mod:`airflow_phrase.triggers`); this module is the
synchronous twin used when ``deferrable=False``, plus the rules both paths share: what a finished
download or import means and how a failure is reported.

Polling is a tenacity loop: a poll that hits a transient failure (429, 5xx, connection) after the hook's
own retries is logged and polled again until the deadline, so a 429 storm delays the task instead of
failing it; any other failure ends the wait at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import tenacity
from airflow.sdk.exceptions import AirflowException

from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseConnectionError,
    PhraseDownloadFailedError,
    PhraseImportFailedError,
)
from airflow_phrase.models import AsyncRequest, ConnectorTaskState, JobPart

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Statuses a poll may hit during a long wait without the wait failing.
TRANSIENT_POLL_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class PhraseWaitTimeout(AirflowException):
    """Phrase's asynchronous work did not finish before the wait's deadline (retryable)."""


def deadline_after(*timeouts: float | None, now: float | None = None) -> float | None:
    """The absolute deadline (epoch seconds) of the shortest of ``timeouts``; ``None`` if none is set."""
    limits = [limit for limit in timeouts if limit is not None]
    if not limits:
        return None
    return (time.time() if now is None else now) + min(limits)


def is_transient(error: BaseException) -> bool:
    """Whether a failed poll may simply be repeated later."""
    if isinstance(error, PhraseApiError):
        return error.status in TRANSIENT_POLL_STATUSES
    return isinstance(error, PhraseConnectionError)


def poll(
    fetch: Callable[[], T],
    *,
    done: Callable[[T], bool],
    poll_interval: float,
    deadline: float | None,
    what: str,
    wait_first: bool = False,
) -> T:
    """Call ``fetch`` every ``poll_interval`` seconds until ``done(result)``; raise :class:`PhraseWaitTimeout`
    at ``deadline`` (epoch seconds; ``None``: no deadline).

    ``wait_first``: wait one interval before the first call, for work that was started a moment ago
    (a download or an import Phrase was asked for a moment ago is practically never finished: looking at
    once would only cost an API call).
    """

    def until_deadline(retry_state: tenacity.RetryCallState) -> bool:
        return deadline is not None and time.time() >= deadline

    def interval_or_less() -> float:
        """One interval, or what is left of it before the deadline."""
        if deadline is None:
            return poll_interval
        return max(0.0, min(poll_interval, deadline - time.time()))

    def next_wait(retry_state: tenacity.RetryCallState) -> float:
        return interval_or_less()

    def log_transient(retry_state: tenacity.RetryCallState) -> None:
        outcome = retry_state.outcome
        if outcome is not None and outcome.failed:
            log.warning("Polling %s failed transiently (%s); polling again", what, outcome.exception())

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient)
        | tenacity.retry_if_result(lambda result: not done(result)),
        wait=next_wait,
        stop=until_deadline,
        before_sleep=log_transient,
        reraise=False,
    )
    if wait_first:
        time.sleep(interval_or_less())
    try:
        return retrying(fetch)
    except tenacity.RetryError as exc:
        last = exc.last_attempt
        cause = f" (last poll failed: {last.exception()})" if last.failed else ""
        raise PhraseWaitTimeout(f"Timed out waiting for {what}{cause}.") from None


# ---------------------------------------------------------------- connector download tasks


def check_download(state: ConnectorTaskState, *, file_label: str) -> None:
    """Raise :class:`~airflow_phrase.exceptions.PhraseDownloadFailedError` (an ``AirflowFailException``)
    with Phrase's ``errorMessage`` if the download task failed.

    A failed conversion or a vanished remote file does not heal by retrying the task.
    """
    if state.is_failure:
        raise PhraseDownloadFailedError(
            status=state.status.value,
            error_message=state.failure_detail,
            download_task_id=state.id,
            file=file_label,
        )


def wait_for_download(
    hook: PhraseTmsHook,
    project_uid: str,
    task_id: str,
    *,
    created_after: datetime | None,
    poll_interval: float,
    deadline: float | None,
    wait_first: bool = False,
) -> ConnectorTaskState:
    """Poll the connector task states until the download task is finished (any end state).

    ``wait_first``: the download was started a moment ago; the first look is one interval later.
    """

    def finished(state: ConnectorTaskState | None) -> bool:
        return state is not None and state.is_finished

    state = poll(
        lambda: hook.get_connector_task_state(project_uid, task_id, created_after=created_after),
        done=finished,
        poll_interval=poll_interval,
        deadline=deadline,
        what=f"Phrase connector download task {task_id} (project {project_uid})",
        wait_first=wait_first,
    )
    assert state is not None  # done() guarantees it
    return state


# ---------------------------------------------------------------- job import


def check_import(request: AsyncRequest, *, jobs_label: str, job_uids: Sequence[str] = ()) -> None:
    """Raise :class:`~airflow_phrase.exceptions.PhraseImportFailedError` (an ``AirflowFailException``)
    with Phrase's ``errorCode``/``errorDesc`` if the import failed."""
    response = request.async_response
    if response is not None and response.error_code is not None:
        raise PhraseImportFailedError(
            what=jobs_label,
            error_code=response.error_code,
            error_desc=response.error_desc,
            async_request_id=request.id,
            job_uids=job_uids,
        )


def wait_for_async_request(
    hook: PhraseTmsHook,
    async_request_id: str,
    *,
    poll_interval: float,
    deadline: float | None,
    wait_first: bool = False,
) -> AsyncRequest:
    """Poll ``GET /api2/v1/async/{id}`` until ``asyncResponse`` is set.

    ``wait_first``: the request was made a moment ago; the first look is one interval later.
    """
    return poll(
        lambda: hook.get_async_request(async_request_id),
        done=lambda request: request.is_finished,
        poll_interval=poll_interval,
        deadline=deadline,
        what=f"the import (Phrase async request {async_request_id})",
        wait_first=wait_first,
    )


def wait_for_jobs_import(
    hook: PhraseTmsHook,
    project_uid: str,
    job_uids: Sequence[str],
    *,
    poll_interval: float,
    deadline: float | None,
) -> list[JobPart]:
    """Poll each job until its ``importStatus`` is ``OK`` or ``ERROR``; fail with the first error.

    Used when the jobs were found rather than created, so no async request id is known.
    """
    finished: list[JobPart] = []
    for uid in job_uids:
        job = poll(
            lambda uid=uid: hook.get_job(project_uid, uid),  # type: ignore[misc]
            done=lambda job: job.import_status is not None and job.import_status.status in ("OK", "ERROR"),
            poll_interval=poll_interval,
            deadline=deadline,
            what=f"the import of Phrase job {uid}",
        )
        if job.import_status is not None and job.import_status.status == "ERROR":
            raise PhraseImportFailedError(
                what=f"job {uid} ({job.filename}, {job.target_lang})",
                error_code=None,
                error_desc=job.import_status.error_message,
                job_uids=[uid],
            )
        finished.append(job)
    return finished
