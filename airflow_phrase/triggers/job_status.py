"""``PhraseJobStatusTrigger``: wait in the triggerer until jobs of a project reach a status.

Linguists finish jobs on their own time: hours or days. Instead of one ``GET`` per job and interval,
every trigger waiting on jobs of a project (and workflow level, and set of statuses) shares one read per
interval (see :mod:`airflow_phrase.triggers.coalescing`) of the jobs in the statuses that end a wait (the
``target_statuses`` and :data:`ENDED_OTHERWISE`): page 0 of
``GET /api2/v2/projects/{projectUid}/jobs?status=...&workflowLevel=N``, then the rest of that listing or
``POST /api2/v1/projects/{projectUid}/jobs/search`` for the jobs the triggers wait for (each registers its
``job_uids`` as its waiter's ``wanted``), whichever takes fewer calls
(:mod:`airflow_phrase.hooks.job_status_reads`): at most ``1 + ceil(waited jobs / 50)`` calls per
interval, whatever the number of waiting tasks and the project's history.

What ends the wait of one job:

* it is listed in one of ``target_statuses`` (default ``COMPLETED``): **reached**;
* it is listed as ``CANCELLED``, ``DECLINED`` or ``REJECTED`` (and that is not a target): **ended
  otherwise**: it will not reach the status on its own, so waiting for it would hang until the deadline.

The trigger yields exactly one :class:`~airflow_phrase.triggers.events.JobStatusEvent`: ``success``
once no job is pending (it lists the jobs reached and those that ended otherwise), ``error`` if the
listing failed for good, ``timeout`` at the deadline (with the pending jobs). Only reads: a triggerer
restart repeats nothing. Like the other Phrase triggers it neither polls nor fires before ``not_before``.

A job not listed at ``workflow_level`` (default: Phrase's default, 1) is never seen: wait on the job
parts of the workflow step whose completion matters, with that step's level.

The verdict (:func:`job_progress`) and the listing options (:func:`listing_options`) are shared with
:class:`~airflow_phrase.sensors.job_status.PhraseJobStatusSensor`'s poke.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_phrase.hooks.delivery import check_job_uids, check_project_uid
from airflow_phrase.models import JobPartV2
from airflow_phrase.models.delivery import JobStatus
from airflow_phrase.triggers._common import (
    deadline_text,
    epoch_text,
    not_before_kwarg,
    retry_policy_kwarg,
    retry_policy_of,
)
from airflow_phrase.triggers._shared_wait import SharedPollTrigger
from airflow_phrase.triggers.coalescing import PollFailed, register
from airflow_phrase.triggers.events import JobStatusEvent
from airflow_phrase.triggers.pollers import JobStatusPoller
from airflow_phrase.validation import check_poll_interval

#: Phrase's job statuses (``JobPartReferenceV2.status``).
JOB_STATUSES: tuple[str, ...] = tuple(status.value for status in JobStatus)
#: Statuses after which a job will not reach another status on its own: they end its wait.
ENDED_OTHERWISE: tuple[str, ...] = tuple(status.value for status in JobStatus if status.ends_work)
DEFAULT_TARGET_STATUSES: tuple[str, ...] = ("COMPLETED",)
#: The highest workflow level Phrase has (a project has at most 15 workflow steps).
MAX_WORKFLOW_LEVEL = 15
#: A wait reads a paged listing, so it takes any number of jobs (an export call takes 1,000).
_ANY_NUMBER_OF_JOBS = sys.maxsize


def workflow_level_of(value: object) -> int | None:
    """``workflow_level`` as an int from 1 to :data:`MAX_WORKFLOW_LEVEL` (``None`` stays ``None``);
    ``ValueError`` naming it otherwise (a bool, 0, ``"abc"``)."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isdigit():
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int) or not 1 <= text <= MAX_WORKFLOW_LEVEL:
        raise ValueError(
            f"workflow_level: must be a whole number from 1 to {MAX_WORKFLOW_LEVEL} (the level of the "
            f"workflow step the jobs belong to), or None for 1; got {value!r}"
        )
    return text


def target_statuses_of(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``target_statuses`` as a sorted tuple of Phrase job statuses (``ValueError`` naming the field).

    Accepts one status, a list, or a comma-separated string; case-insensitive.
    """
    if value is None:
        return DEFAULT_TARGET_STATUSES
    raw = value.split(",") if isinstance(value, str) else list(value)
    statuses = sorted({str(item).strip().upper() for item in raw if str(item).strip()})
    if not statuses:
        raise ValueError("target_statuses must name at least one job status, e.g. ['COMPLETED']")
    unknown = [status for status in statuses if status not in JOB_STATUSES]
    if unknown:
        raise ValueError(
            f"target_statuses: {', '.join(unknown)} is not a Phrase job status; use some of "
            f"{', '.join(JOB_STATUSES)}"
        )
    return tuple(statuses)


def listing_options(target_statuses: Sequence[str], workflow_level: int | None) -> tuple[Any, ...]:
    """The ``(workflow_level, statuses)`` of the listing that ends these waits (a poller's options)."""
    return (workflow_level, tuple(sorted({*target_statuses, *ENDED_OTHERWISE})))


def job_item(job: JobPartV2) -> dict[str, Any]:
    """A job in events and XCom: ``{"uid", "status", "targetLang", "filename", "workflowLevel"}``."""
    return {
        "uid": job.uid,
        "status": job.status,
        "targetLang": job.target_lang,
        "filename": job.filename,
        "workflowLevel": job.workflow_level,
    }


@dataclass(frozen=True)
class JobProgress:
    """Where waited jobs stand in one listing (see :func:`job_progress`)."""

    reached: list[JobPartV2] = field(default_factory=list)
    ended_otherwise: list[JobPartV2] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.pending


def job_progress(
    job_uids: Sequence[str], listed: Mapping[str, JobPartV2], target_statuses: Sequence[str]
) -> JobProgress:
    """The verdict on ``job_uids`` given a listing of the jobs in the statuses that end a wait."""
    targets = set(target_statuses)
    progress = JobProgress()
    for uid in job_uids:
        job = listed.get(uid)
        if job is None or job.status is None:
            progress.pending.append(uid)
        elif job.status in targets:
            progress.reached.append(job)
        elif job.status in ENDED_OTHERWISE:
            progress.ended_otherwise.append(job)
        else:  # listed in a status nobody asked for (a lenient server): not there yet
            progress.pending.append(uid)
    return progress


class PhraseJobStatusTrigger(SharedPollTrigger):
    """Wait until ``job_uids`` of ``project_uid`` reach one of ``target_statuses``, or end otherwise.

    :param phrase_conn_id: Airflow connection id of type ``phrase_tms``.
    :param project_uid: the project of the jobs.
    :param job_uids: the jobs (job parts) to wait for, all of ``workflow_level``: a list of 1 or more
        distinct Phrase uids.
    :param target_statuses: the statuses that end the wait as reached (default ``["COMPLETED"]``).
    :param workflow_level: the workflow level the jobs are listed at (``None``: Phrase's default, 1).
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
        target_statuses: Sequence[str] | None = None,
        workflow_level: int | None = None,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        retry_policy: dict[str, Any] | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__()
        check_poll_interval(poll_interval)
        self.phrase_conn_id = phrase_conn_id
        # Checked here, before any call: the trigger is public API, and a uid ends up in a URL.
        self.project_uid = check_project_uid(project_uid)
        self.job_uids = check_job_uids(job_uids, limit=_ANY_NUMBER_OF_JOBS)
        self.target_statuses = list(target_statuses_of(target_statuses))
        self.workflow_level = workflow_level_of(workflow_level)
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
                "target_statuses": list(self.target_statuses),
                "workflow_level": self.workflow_level,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "retry_policy": self.retry_policy,
                "not_before": self.not_before,
            },
        )

    @property
    def label(self) -> str:
        level = f", workflow level {self.workflow_level}" if self.workflow_level is not None else ""
        return (
            f"Phrase jobs {', '.join(self.job_uids)} (project {self.project_uid}{level}) to reach "
            f"{' or '.join(self.target_statuses)}"
        )

    def _crash_event(self, message: str) -> JobStatusEvent:
        return self._event("error", message=message)

    async def _wait(self) -> JobStatusEvent:
        poller, waiter = self._registration = register(
            JobStatusPoller,
            self.phrase_conn_id,
            self.project_uid,
            options=listing_options(self.target_statuses, self.workflow_level),
            created_after=None,
            poll_interval=self.poll_interval,
            not_before=self.not_before,
            retry_policy=retry_policy_of(self.retry_policy),
            wanted=frozenset(self.job_uids),
        )
        self.log.info(
            "Waiting for %s (first poll not before %s, then every %g s; deadline %s; %d wait(s) share the "
            "poll)",
            self.label,
            epoch_text(self.not_before),
            self.poll_interval,
            deadline_text(self.deadline),
            len(poller.waiters),
        )
        progress = JobProgress(pending=list(self.job_uids))
        async for observation in self.observations(waiter):
            if observation is None:
                break
            if isinstance(observation, PollFailed):
                return self._event("error", message=observation.message, progress=progress)
            progress = job_progress(self.job_uids, observation.items, self.target_statuses)
            if progress.done:
                return self._done_event(progress)
            self.log.info(
                "%d of %d job(s) still on their way: %s",
                len(progress.pending),
                len(self.job_uids),
                ", ".join(progress.pending[:20]) + (" ..." if len(progress.pending) > 20 else ""),
            )
        return self._timeout_event(progress)

    def _event(self, status: str, *, message: str, progress: JobProgress | None = None) -> JobStatusEvent:
        progress = progress or JobProgress()
        return JobStatusEvent.model_validate(
            {
                "status": status,
                "project_uid": self.project_uid,
                "job_uids": list(self.job_uids),
                "target_statuses": list(self.target_statuses),
                "workflow_level": self.workflow_level,
                "reached": [job_item(job) for job in progress.reached],
                "ended_otherwise": [job_item(job) for job in progress.ended_otherwise],
                "pending": list(progress.pending),
                "message": message,
            }
        )

    def _done_event(self, progress: JobProgress) -> JobStatusEvent:
        message = done_message(progress, self.target_statuses)
        if progress.ended_otherwise:
            self.log.warning(message)
        else:
            self.log.info(message)
        return self._event("success", message=message, progress=progress)

    def _timeout_event(self, progress: JobProgress) -> JobStatusEvent:
        return self._event(
            "timeout",
            message=(
                f"Jobs {', '.join(progress.pending)} of project {self.project_uid} did not reach "
                f"{' or '.join(self.target_statuses)} before the deadline {deadline_text(self.deadline)}"
            ),
            progress=progress,
        )


def done_message(progress: JobProgress, target_statuses: Sequence[str]) -> str:
    """``"3 job(s) reached COMPLETED; 1 ended otherwise: j4 CANCELLED"`` (trigger and sensor alike)."""
    text = f"{len(progress.reached)} job(s) reached {' or '.join(target_statuses)}"
    if progress.ended_otherwise:
        ended = ", ".join(f"{job.uid} {job.status}" for job in progress.ended_otherwise)
        text += f"; {len(progress.ended_otherwise)} ended otherwise: {ended}"
    return text


__all__ = [
    "DEFAULT_TARGET_STATUSES",
    "ENDED_OTHERWISE",
    "JOB_STATUSES",
    "JobProgress",
    "PhraseJobStatusTrigger",
    "done_message",
    "job_item",
    "job_progress",
    "listing_options",
    "target_statuses_of",
    "workflow_level_of",
]
