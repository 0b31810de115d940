"""``PhraseJobsImportTrigger``: wait in the triggerer until Phrase imported the source file into some jobs.

Creating jobs from a download task returns the jobs at once, but Phrase imports the file into them
asynchronously. Instead of one ``GET /api2/v1/async/{id}`` per create call and interval, every trigger
waiting for imports in a project shares one poll of the project's *not ready* jobs
(``GET /api2/v2/projects/{projectUid}/jobs?notReady=true``: jobs whose import is running or failed; see
:mod:`airflow_phrase.triggers.coalescing`): 1,000 waiting files cost one listing per interval (one call
per 50 not-ready jobs). A waited job that is not listed is imported; one listed with
``importStatus.status`` ``ERROR`` failed. The trigger only reads, so a triggerer restart repeats nothing.

Yields exactly one :class:`~airflow_phrase.triggers.events.JobsImportEvent`:

* ``success``: none of the jobs is still importing, none failed;
* ``error``: the import of some job failed (``failed_jobs`` with Phrase's ``errorMessage``), or polling
  failed for good (a non-retryable API or configuration error);
* ``timeout``: the absolute ``deadline`` passed first.

Like the other Phrase triggers it neither polls nor fires before ``not_before`` (default: one interval
after the deferral; see :mod:`airflow_phrase.triggers.connector_task`): jobs created a moment ago are
never imported yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_phrase.hooks.waits import failed_imports, pending_imports
from airflow_phrase.models import JobPartV2
from airflow_phrase.triggers._common import (
    deadline_text,
    epoch_text,
    not_before_kwarg,
    retry_policy_kwarg,
    retry_policy_of,
)
from airflow_phrase.triggers._shared_wait import SharedPollTrigger
from airflow_phrase.triggers.coalescing import PollFailed, register
from airflow_phrase.triggers.events import JobsImportEvent
from airflow_phrase.triggers.pollers import NotReadyJobsPoller
from airflow_phrase.validation import check_poll_interval


class PhraseJobsImportTrigger(SharedPollTrigger):
    """Wait until Phrase finished importing the source file into ``job_uids`` of ``project_uid``.

    :param phrase_conn_id: Airflow connection id of type ``phrase_tms``.
    :param project_uid: the project of the jobs.
    :param job_uids: the jobs (those of workflow level 1 decide; others are imported with them).
    :param poll_interval: seconds between polls (the shared poller uses its waiters' shortest interval).
    :param deadline: absolute epoch seconds; when it passes the trigger yields a ``timeout`` event.
    :param retry_policy: :class:`~airflow_phrase.hooks.retry.RetryPolicy` fields as a plain dict.
    :param not_before: absolute epoch seconds before which the trigger neither polls nor fires (except the
        ``timeout`` at an earlier deadline); ``None``: one ``poll_interval`` from when it is built.
    """

    def __init__(
        self,
        phrase_conn_id: str,
        project_uid: str,
        job_uids: Sequence[str],
        poll_interval: float = 10.0,
        deadline: float | None = None,
        retry_policy: dict[str, Any] | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__()
        check_poll_interval(poll_interval)  # the floor, as for the operators and the sensor
        self.phrase_conn_id = phrase_conn_id
        self.project_uid = project_uid
        self.job_uids = [str(uid) for uid in job_uids]
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline) if deadline is not None else None
        self.retry_policy = retry_policy_kwarg(retry_policy)
        self.not_before = not_before_kwarg(not_before, self.poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "phrase_conn_id": self.phrase_conn_id,
                "project_uid": self.project_uid,
                "job_uids": list(self.job_uids),
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "retry_policy": self.retry_policy,
                "not_before": self.not_before,
            },
        )

    @property
    def label(self) -> str:
        return f"the import of Phrase jobs {', '.join(self.job_uids)}"

    def _crash_event(self, message: str) -> JobsImportEvent:
        return self._event("error", message=message)

    async def _wait(self) -> JobsImportEvent:
        if not self.job_uids:
            return self._event("success", message="No jobs to wait for")
        poller, waiter = self._registration = register(
            NotReadyJobsPoller,
            self.phrase_conn_id,
            self.project_uid,
            created_after=None,
            poll_interval=self.poll_interval,
            not_before=self.not_before,
            retry_policy=retry_policy_of(self.retry_policy),
        )
        self.log.info(
            "Waiting for Phrase to import jobs %s of project %s (first poll not before %s, then every %g s; "
            "deadline %s; %d wait(s) of this project share the poll)",
            ", ".join(self.job_uids),
            self.project_uid,
            epoch_text(self.not_before),
            self.poll_interval,
            deadline_text(self.deadline),
            len(poller.waiters),
        )
        pending: list[str] = list(self.job_uids)
        async for observation in self.observations(waiter):
            if observation is None:
                break
            if isinstance(observation, PollFailed):
                return self._event("error", message=observation.message)
            failed = failed_imports(self.job_uids, observation.items)
            if failed:
                return self._failed_event(failed)
            pending = pending_imports(self.job_uids, observation.items)
            if not pending:
                self.log.info("Phrase imported jobs %s", ", ".join(self.job_uids))
                return self._event("success", message=f"Phrase imported jobs {', '.join(self.job_uids)}")
        return self._timeout_event(pending)

    def _event(self, status: str, *, message: str, failed: Sequence[JobPartV2] = ()) -> JobsImportEvent:
        return JobsImportEvent.model_validate(
            {
                "status": status,
                "project_uid": self.project_uid,
                "job_uids": list(self.job_uids),
                "failed_jobs": [
                    {
                        "uid": job.uid,
                        "filename": job.filename,
                        "targetLang": job.target_lang,
                        "errorMessage": job.import_status.error_message if job.import_status else None,
                    }
                    for job in failed
                ],
                "message": message,
            }
        )

    def _failed_event(self, failed: Sequence[JobPartV2]) -> JobsImportEvent:
        first = failed[0]
        reason = (first.import_status.error_message if first.import_status else None) or "no error message"
        self.log.error("Phrase could not import jobs %s: %s", ", ".join(job.uid for job in failed), reason)
        return self._event("error", message=reason, failed=failed)

    def _timeout_event(self, pending: Sequence[str]) -> JobsImportEvent:
        return self._event(
            "timeout",
            message=(
                f"The import of jobs {', '.join(pending)} of project {self.project_uid} did not finish "
                f"before the deadline {deadline_text(self.deadline)}"
            ),
        )


__all__ = ["PhraseJobsImportTrigger"]
