"""``PhraseConnectorTaskTrigger``: wait in the triggerer until a connector download task has finished.

The trigger only ever *reads* (``GET /api2/v1/connectorAsyncTasks``), so the triggerer may restart it
at any time without repeating a side effect. It does not poll by itself: it registers with the shared
poller of its (connection, project) in :mod:`airflow_phrase.triggers.coalescing`, so any number of
waiting tasks of one project cost one listing per interval. It yields exactly one
:class:`~airflow_phrase.triggers.events.ConnectorTaskEvent`:

* ``success``: the task ended ``SUCCESS`` (and, with a claim, no lower rival claim of the same file
  version is pending: see :mod:`airflow_phrase.hooks.claims`); ``task_state`` is its state (Phrase's
  JSON), ``rivals_used`` the rival downloads jobs were created from;
* ``error``: the task ended ``ERROR`` / ``CONVERTER_ERROR`` (``message`` is Phrase's ``errorMessage``),
  or polling failed for good (a non-retryable API or configuration error);
* ``timeout``: the absolute ``deadline`` passed first.

Transient API trouble (429 storms, 5xx, dropped connections, an expired login token) is absorbed by the
hook's retries and, beyond them, by simply polling again next interval until the deadline.

Not before
----------
The trigger neither polls nor fires before ``not_before`` (absolute epoch seconds; by default one
``poll_interval`` after the trigger was built, i.e. after the deferral), unless the deadline comes first:
then the ``timeout`` event is emitted at the deadline. Why: a trigger that fires within a second or two of
the deferral can have the resumed try queued before Airflow's scheduler has processed the deferral; the
scheduler then logs a "state mismatch" and puts the task ``up_for_retry`` (apache/airflow#67287: Airflow
3.3.2 guards a ``scheduled`` task against this, not a ``queued`` one; related: apache/airflow#72716,
apache/airflow#72767). Polling at once is of little use anyway: the sensor looks at the task right before
deferring, and the operators defer right after starting a download that cannot have finished yet.
An error known early (a poll made for other waiters of the shared poller failed for good, e.g. 404 or bad
credentials) is held until ``not_before`` as well. ``not_before`` is serialized with the trigger, so a
triggerer restart does not delay it again: a rebuilt trigger whose ``not_before`` has passed polls at
once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_phrase.hooks.claims import DEFAULT_ABANDON_AFTER, ClaimCheck, check_claim, is_failed, is_finished
from airflow_phrase.models import ConnectorTaskState
from airflow_phrase.triggers._common import (
    created_after_kwarg,
    deadline_text,
    epoch_text,
    first_event_time,
    not_before_kwarg,
    parse_created_after,
    retry_policy_kwarg,
    retry_policy_of,
    seconds_left,
    sleep_until,
)
from airflow_phrase.triggers.coalescing import PollDelayed, PollFailed, Snapshot, Waiter, register, unregister
from airflow_phrase.triggers.events import ConnectorTaskEvent
from airflow_phrase.triggers.pollers import ConnectorTasksPoller
from airflow_phrase.validation import check_poll_interval


class PhraseConnectorTaskTrigger(BaseTrigger):
    """Wait for a Phrase connector download task (``downloadTaskId``) of a project to finish.

    :param phrase_conn_id: Airflow connection id of type ``phrase_tms``.
    :param project_uid: the project whose ``connectorAsyncTasks`` list the task.
    :param download_task_id: the id returned by the async connector download.
    :param poll_interval: seconds between polls (the shared poller uses its waiters' shortest interval).
    :param deadline: absolute epoch seconds; when it passes the trigger yields a ``timeout`` event.
    :param created_after: timezone-aware ISO 8601; listed as ``dateCreatedFrom`` (Phrase otherwise lists
        only the last 24 h). Pass the download's ``dateCreated`` or a bound before it (with a claim: the
        earliest rival worth seeing, see below).
    :param retry_policy: :class:`~airflow_phrase.hooks.retry.RetryPolicy` fields as a plain dict
        (``None``: the connection's settings).
    :param not_before: absolute epoch seconds before which the trigger neither polls nor fires (except
        the ``timeout`` at an earlier deadline); ``None``: one ``poll_interval`` from when the trigger is
        built. Serialized, so a rebuilt trigger keeps it (see the module docstring for why).
    :param claim_file_name: the downloaded file's name: with it, success also waits until no lower rival
        claim of the same file version is pending (:mod:`airflow_phrase.hooks.claims`).
    :param claim_version_after: ISO 8601: the file version's lower bound (rivals created earlier are
        downloads of an older version).
    :param abandon_after: seconds after which a finished, unused rival download is taken as abandoned.
    """

    def __init__(
        self,
        phrase_conn_id: str,
        project_uid: str,
        download_task_id: str,
        poll_interval: float = 15.0,
        deadline: float | None = None,
        created_after: str | None = None,
        retry_policy: dict[str, Any] | None = None,
        not_before: float | None = None,
        claim_file_name: str | None = None,
        claim_version_after: str | None = None,
        abandon_after: float = DEFAULT_ABANDON_AFTER.total_seconds(),
    ) -> None:
        super().__init__()
        check_poll_interval(poll_interval)  # the floor, as for the operators and the sensor
        self.phrase_conn_id = phrase_conn_id
        self.project_uid = project_uid
        self.download_task_id = str(download_task_id)
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline) if deadline is not None else None
        self.created_after = created_after_kwarg(created_after)
        self.retry_policy = retry_policy_kwarg(retry_policy)
        self.not_before = not_before_kwarg(not_before, self.poll_interval)
        self.claim_file_name = claim_file_name
        self.claim_version_after = created_after_kwarg(claim_version_after)
        self.abandon_after = float(abandon_after)
        self._registration: tuple[ConnectorTasksPoller, Waiter] | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "phrase_conn_id": self.phrase_conn_id,
                "project_uid": self.project_uid,
                "download_task_id": self.download_task_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "created_after": self.created_after,
                "retry_policy": self.retry_policy,
                "not_before": self.not_before,
                "claim_file_name": self.claim_file_name,
                "claim_version_after": self.claim_version_after,
                "abandon_after": self.abandon_after,
            },
        )

    # ------------------------------------------------------------------ running

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._wait()
        except Exception as error:  # never leave the task deferred without an outcome
            self.log.exception("Waiting for Phrase connector task %s failed", self.download_task_id)
            event = self._event("error", message=f"Waiting for the connector task failed: {error}")
        finally:
            self._detach()
        # An error may be known before not_before (a shared poll made for other waiters failed for
        # good): hold it until then, see the module docstring.
        await sleep_until(first_event_time(self.not_before, self.deadline))
        yield TriggerEvent(event.to_payload())

    async def _wait(self) -> ConnectorTaskEvent:
        poller, waiter = self._registration = register(
            ConnectorTasksPoller,
            self.phrase_conn_id,
            self.project_uid,
            created_after=parse_created_after(self.created_after),
            poll_interval=self.poll_interval,
            not_before=self.not_before,
            retry_policy=retry_policy_of(self.retry_policy),
        )
        self.log.info(
            "Waiting for Phrase connector download task %s of project %s (first poll not before %s, "
            "then every %g s; %s; %d task(s) of this project share the poll)",
            self.download_task_id,
            self.project_uid,
            epoch_text(self.not_before),
            self.poll_interval,
            f"deadline {deadline_text(self.deadline)}",
            len(poller.waiters),
        )
        last_state: ConnectorTaskState | None = None
        was_visible: bool | None = None
        waiting_for: frozenset[str] = frozenset()
        while True:
            remaining = seconds_left(self.deadline)
            if remaining == 0.0:
                return self._timeout_event(last_state)
            observation = await waiter.next_observation(timeout=remaining)
            if observation is None:
                return self._timeout_event(last_state)

            if isinstance(observation, PollFailed):
                return self._event("error", message=observation.message, state=last_state)
            if isinstance(observation, PollDelayed):
                self.log.warning("Polling Phrase failed, trying again next interval: %s", observation.message)
                continue
            assert isinstance(observation, Snapshot)
            state = observation.items.get(self.download_task_id)
            if state is None:
                if was_visible is not False:
                    bound = observation.date_from
                    self.log.warning(
                        "Connector task %s is not (yet) listed in project %s (dateCreatedFrom %s); still "
                        "waiting. If it never appears, check the project uid and created_after.",
                        self.download_task_id,
                        self.project_uid,
                        bound.isoformat(timespec="seconds") if bound else "Phrase's default: last 24 h",
                    )
                was_visible = False
                continue
            last_state = state
            if was_visible is not True:
                self.log.info("Connector task %s is listed, status %s", self.download_task_id, _status(state))
            was_visible = True
            if not is_finished(state):
                continue
            if is_failed(state):
                return self._finished_event(state, ClaimCheck())
            check = self._claim_check(state, observation)
            if check.clear:
                return self._finished_event(state, check)
            pending = frozenset(rival.id for rival in check.pending)
            if pending != waiting_for:
                self.log.info(
                    "Download task %s finished, but the earlier download(s) %s of a file named %r (started "
                    "by another ingest of this file version, or of a same-named file) are not used yet; "
                    "waiting for them so that the file's jobs are created once",
                    self.download_task_id,
                    ", ".join(sorted(pending)),
                    self.claim_file_name,
                )
                waiting_for = pending

    def _claim_check(self, own: ConnectorTaskState, snapshot: Snapshot[ConnectorTaskState]) -> ClaimCheck:
        if self.claim_file_name is None:
            return ClaimCheck()
        return check_claim(
            own,
            snapshot.items,
            file_name=self.claim_file_name,
            version_after=parse_created_after(self.claim_version_after),
            now=datetime.now(timezone.utc),
            abandon_after=timedelta(seconds=self.abandon_after),
        )

    # ------------------------------------------------------------------ events

    def _event(
        self,
        status: str,
        *,
        message: str,
        state: ConnectorTaskState | None = None,
        rivals_used: list[ConnectorTaskState] | None = None,
    ) -> ConnectorTaskEvent:
        return ConnectorTaskEvent.model_validate(
            {
                "status": status,
                "project_uid": self.project_uid,
                "download_task_id": self.download_task_id,
                "task_state": state.to_wire() if state is not None else None,
                "rivals_used": [rival.to_wire() for rival in rivals_used or []],
                "message": message,
            }
        )

    def _finished_event(self, state: ConnectorTaskState, check: ClaimCheck) -> ConnectorTaskEvent:
        if is_failed(state):
            message = state.failure_detail or f"Phrase reported {_status(state)} without an errorMessage"
            self.log.error("Connector task %s ended %s: %s", self.download_task_id, _status(state), message)
            return self._event("error", message=message, state=state)
        if check.abandoned:
            self.log.warning(
                "Earlier download(s) %s of a file named %r finished but were never used: taken as abandoned",
                ", ".join(rival.id for rival in check.abandoned),
                self.claim_file_name,
            )
        self.log.info("Connector task %s ended %s", self.download_task_id, _status(state))
        return self._event(
            "success",
            message=f"Connector download task {self.download_task_id} succeeded",
            state=state,
            rivals_used=check.used,
        )

    def _timeout_event(self, last_state: ConnectorTaskState | None) -> ConnectorTaskEvent:
        seen = f"last status {_status(last_state)}" if last_state is not None else "never listed"
        return self._event(
            "timeout",
            message=(
                f"Connector download task {self.download_task_id} of project {self.project_uid} did not "
                f"finish before the deadline {deadline_text(self.deadline)} ({seen})"
            ),
            state=last_state,
        )

    # ------------------------------------------------------------------ leaving

    def _detach(self) -> None:
        """Leave the shared poller (idempotent); the other waiters keep polling."""
        registration, self._registration = self._registration, None
        if registration is not None:
            unregister(*registration)

    async def on_kill(self) -> None:
        """The task was marked failed/successful or cleared while deferred (called on Airflow 3.3+).

        Phrase has no API to cancel a connector task, so the download goes on in Phrase; this only stops
        waiting for it.
        """
        self._detach()
        self.log.info(
            "Stopped waiting for Phrase connector download task %s of project %s. Phrase TMS has no API to "
            "cancel a connector task: it finishes in Phrase regardless.",
            self.download_task_id,
            self.project_uid,
        )

    async def cleanup(self) -> None:
        """Release local resources only (leave the shared poller); never touches the remote task."""
        self._detach()
        await super().cleanup()


def _status(state: ConnectorTaskState) -> str:
    return str(getattr(state.status, "value", state.status))


__all__ = ["PhraseConnectorTaskTrigger"]
