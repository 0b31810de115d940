"""Waiting on the worker (poke mode) for Phrase's asynchronous work, and reading how it ended.

The deferrable path waits in the triggers (:mod:`airflow_phrase.triggers`); this module is the
synchronous twin the hook's ``wait_for_*`` verbs use when ``deferrable=False``, plus the verdicts both
paths share: what a finished download or import means and how a failure is reported.

Polling is a tenacity loop: a poll that hits a transient failure (429, 5xx, connection) after the hook's
own retries is logged and polled again until the deadline, so a 429 storm delays the task instead of
failing it; any other failure ends the wait at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import tenacity

from airflow_phrase.classification import worth_polling_again
from airflow_phrase.exceptions import PhraseDownloadFailedError, PhraseImportFailedError, PhraseWaitTimeout
from airflow_phrase.models import AsyncRequest, ConnectorTaskState, JobPartV2

log = logging.getLogger(__name__)

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Whether a failed poll may simply be repeated later: a transient or ambiguous failure (the one
    table: :mod:`airflow_phrase.classification`)."""
    return worth_polling_again(error)


def deadline_after(*timeouts: float | None, now: float | None = None) -> float | None:
    """The absolute deadline (epoch seconds) of the shortest of ``timeouts``; ``None`` if none is set."""
    limits = [limit for limit in timeouts if limit is not None]
    if not limits:
        return None
    return (time.time() if now is None else now) + min(limits)


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


# ---------------------------------------------------------------- verdicts


def check_download(state: ConnectorTaskState, *, file_label: str) -> None:
    """Raise :class:`~airflow_phrase.exceptions.PhraseDownloadFailedError` (an ``AirflowFailException``)
    with Phrase's ``errorMessage`` if the download task failed (``ERROR`` / ``CONVERTER_ERROR``).

    A failed conversion or a vanished remote file does not heal by retrying the task.
    """
    if state.is_failure:
        raise PhraseDownloadFailedError(
            status=state.status.value,
            error_message=state.failure_detail,
            download_task_id=state.id,
            file=file_label,
        )


def failed_imports(job_uids: Sequence[str], not_ready: Mapping[str, JobPartV2]) -> list[JobPartV2]:
    """Those of ``job_uids`` the not-ready listing shows with ``importStatus`` ``ERROR``."""
    failed = []
    for uid in job_uids:
        job = not_ready.get(uid)
        if job is not None and job.import_status is not None and job.import_status.status == "ERROR":
            failed.append(job)
    return failed


def pending_imports(job_uids: Sequence[str], not_ready: Mapping[str, JobPartV2]) -> list[str]:
    """Those of ``job_uids`` whose import is still running (listed as not ready and not failed)."""
    failed = {job.uid for job in failed_imports(job_uids, not_ready)}
    return [uid for uid in job_uids if uid in not_ready and uid not in failed]


def import_failed_error(jobs_label: str, failed: Sequence[JobPartV2]) -> PhraseImportFailedError:
    """The failure of an import the not-ready listing shows (the first job's ``errorMessage``)."""
    first = failed[0]
    message = first.import_status.error_message if first.import_status is not None else None
    return PhraseImportFailedError(
        what=jobs_label, error_code=None, error_desc=message, job_uids=[job.uid for job in failed]
    )


def check_import(request: AsyncRequest, *, jobs_label: str, job_uids: Sequence[str] = ()) -> None:
    """Raise :class:`~airflow_phrase.exceptions.PhraseImportFailedError` with Phrase's
    ``errorCode``/``errorDesc`` if the ``IMPORT_JOB`` async request failed."""
    response = request.async_response
    if response is not None and response.error_code is not None:
        raise PhraseImportFailedError(
            what=jobs_label,
            error_code=response.error_code,
            error_desc=response.error_desc,
            async_request_id=request.id,
            job_uids=job_uids,
        )


__all__ = [
    "check_download",
    "check_import",
    "deadline_after",
    "failed_imports",
    "import_failed_error",
    "pending_imports",
    "poll",
]
