"""The shared listings the Phrase triggers wait on (see :mod:`airflow_phrase.triggers.coalescing`).

* :class:`ConnectorTasksPoller`: ``GET /api2/v1/connectorAsyncTasks?taskType=DOWNLOAD`` of a project,
  every page, from the earliest ``created_after`` of its waiters (minus :data:`CLOCK_SKEW_MARGIN`).
  Items: :class:`~airflow_phrase.models.ConnectorTaskState` by task id.
* :class:`NotReadyJobsPoller`: ``GET /api2/v2/projects/{projectUid}/jobs?notReady=true`` (workflow level
  1), every page: the jobs whose import has not finished or failed. Items:
  :class:`~airflow_phrase.models.JobPartV2` by job uid. A waited job that is *not* listed is imported.
* :class:`JobStatusPoller`: the jobs of one workflow level in the statuses that end a wait (the waited
  statuses and the ones that end it otherwise), read the cheaper way
  (:mod:`airflow_phrase.hooks.job_status_reads`): page 0 of
  ``GET /api2/v2/projects/{projectUid}/jobs?status=...&workflowLevel=N``, then the rest of the listing or
  ``POST /api2/v1/projects/{projectUid}/jobs/search`` for the jobs its waiters wait for
  (:attr:`~airflow_phrase.triggers.coalescing.Waiter.wanted`), whichever takes fewer calls: at most
  ``1 + ceil(waited jobs / 50)`` calls a poll, whatever the project's history. Options:
  ``(workflow_level, statuses)``. A waited job in neither answer is still on its way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from airflow_phrase.models import ConnectorTaskState, JobPartV2
from airflow_phrase.triggers.coalescing import SharedPoller

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

#: ``pageSize`` of the connector task listing (Phrase's maximum).
TASKS_PAGE_SIZE = 1000
#: ``pageSize`` of the jobs listing (Phrase's maximum for list jobs v2).
JOBS_PAGE_SIZE = 50
#: Subtracted from ``dateCreatedFrom``: Airflow's and Phrase's clocks may disagree a little.
CLOCK_SKEW_MARGIN = timedelta(minutes=5)
#: Only connector *download* tasks are waited on.
TASK_TYPES = ("DOWNLOAD",)


class ConnectorTasksPoller(SharedPoller[ConnectorTaskState]):
    """The project's connector download tasks (any processing type), by id."""

    what: ClassVar[str] = "connector download tasks"

    async def fetch(self, hook: PhraseTmsHook, date_from: datetime | None) -> dict[str, ConnectorTaskState]:
        since = date_from - CLOCK_SKEW_MARGIN if date_from is not None else None
        states: dict[str, ConnectorTaskState] = {}
        async for state in hook.a_iter_connector_task_states(
            self.project_uid,
            task_types=TASK_TYPES,
            processing_types=None,
            date_created_from=since,
            page_size=TASKS_PAGE_SIZE,
            on_page=self._count,
        ):
            states[state.id] = state
        return states

    def _count(self) -> None:
        self.calls += 1


class NotReadyJobsPoller(SharedPoller[JobPartV2]):
    """The project's jobs whose import is still running or failed (``notReady=true``), by uid."""

    what: ClassVar[str] = "jobs not imported yet"

    async def fetch(self, hook: PhraseTmsHook, date_from: datetime | None) -> dict[str, JobPartV2]:
        jobs: dict[str, JobPartV2] = {}
        async for job in hook.a_iter_jobs(
            self.project_uid, not_ready=True, page_size=JOBS_PAGE_SIZE, on_page=self._count
        ):
            jobs[job.uid] = job
        return jobs

    def _count(self) -> None:
        self.calls += 1


class JobStatusPoller(SharedPoller[JobPartV2]):
    """The project's jobs of one workflow level in some statuses, by uid.

    The poller's options are ``(workflow_level, statuses)``: ``workflow_level`` ``None`` lists Phrase's
    default level (1); ``statuses`` is a sorted tuple of job statuses (the ``status`` filter).
    """

    what: ClassVar[str] = "jobs by status"

    async def fetch(self, hook: PhraseTmsHook, date_from: datetime | None) -> dict[str, JobPartV2]:
        options: tuple[int | None, tuple[str, ...]] = self.options  # type: ignore[assignment]
        workflow_level, statuses = options
        return await hook.a_find_jobs_in_statuses(
            self.project_uid,
            self.wanted(),
            statuses=statuses,
            workflow_level=workflow_level,
            on_page=self._count,
        )

    def wanted(self) -> frozenset[str] | None:
        """The jobs the waiters wait for (``None`` if one of them did not say: the whole listing)."""
        waited = [waiter.wanted for waiter in self.waiters]
        if any(uids is None for uids in waited):
            return None
        return frozenset().union(*waited)  # type: ignore[arg-type]

    def _count(self) -> None:
        self.calls += 1


__all__ = ["CLOCK_SKEW_MARGIN", "ConnectorTasksPoller", "JobStatusPoller", "NotReadyJobsPoller"]
