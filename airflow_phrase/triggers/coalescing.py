"""Coalesced polling of ``GET /api2/v1/connectorAsyncTasks``: one poll per (connection, project) and interval.

Why
---
Phrase has no endpoint to read *one* connector task: ``connectorAsyncTasks`` lists the tasks of a
project, up to 1000 per page. A deferred task per file, each polling on its own, would list the same
project once per file and interval: 1,000 waiting files would cost 1,000 calls per interval, for
answers that are all in the same page, and would soon run into Phrase's rate limit (6000 requests per
minute per user, plus a cap on concurrent requests). Here every trigger waiting on a task of the same
project in one triggerer process shares one poll, so 1,000 waiting files cost about one call per
interval (one per 1000 tasks in the listed window, to be exact). With several triggerer processes,
each has its own pollers: one call per interval per (triggerer, project).

Airflow 3.3's own shared streams (``BaseEventTrigger.shared_stream_key``) are not used: the triggerer
applies them only to event-driven scheduling triggers (asset watchers), not to triggers that resume a
deferred task, and they could not stop paging once the waited ids are found.

Keying
------
A :class:`ConnectorTaskPoller` exists per ``(event loop, connection id, project uid)``:

* the **event loop**, because a triggerer runs all its triggers in one loop, and aiohttp sessions,
  futures and queues belong to one loop (``dag.test()`` runs each trigger in a fresh ``asyncio.run``,
  and a test may run several loops one after the other: each gets its own pollers);
* the **connection id**, because it decides the account, the credentials and the retry settings;
* the **project uid**, because Phrase lists connector tasks per project.

The poll interval, the ``created_after`` bound and the task ids are per trigger and are *not* part of
the key: the poller polls at the shortest interval among its waiters, lists from the earliest
``created_after`` among them, and looks for all their task ids in the same pages.

Lifecycle
---------
1. A trigger calls :func:`register`: it adds a :class:`Waiter` (task id, ``created_after``, interval,
   and an ``asyncio.Queue`` of observations) to the poller of its key, creating and starting the poller
   if there is none.
2. The poller (one asyncio task, started in an empty ``contextvars`` context so its own log lines do
   not land in the log of whichever task happened to start it) polls at once, then once per interval:
   it fetches pages (``pageSize`` 1000, ``taskType=DOWNLOAD``, ``dateCreatedFrom`` = earliest
   ``created_after`` minus a clock-skew margin) until every waited id has been seen or the pages run
   out, and puts one observation into the queue of each waiter it looked for (a waiter that joined
   during the poll is served by the next one): :class:`TaskFinished` (terminal state; the
   waiter is then dropped), :class:`TaskPending` (still ``NEW``), :class:`TaskNotVisible` (not listed),
   :class:`PollDelayed` (a transient failure outlasted the hook's retries; the poller tries again next
   interval) or :class:`PollFailed` (a non-retryable API or configuration error: delivered to *every*
   waiter, which all end with an error event, and the poller stops).
3. Each trigger consumes its own queue and enforces its own deadline; it alone decides what to yield
   and logs in its own task's log.
4. The trigger calls :func:`unregister` when it ends for any reason (event yielded, cancelled because
   the task was cleared or marked, the triggerer shutting down); the other waiters are not disturbed.
   When the last waiter leaves, the poller is removed from the registry and cancelled (its aiohttp
   session is closed); the next registration starts a fresh one. Registration, unregistration and
   dispatch never ``await`` in between, so a waiter can never be left with a poller that is stopping.

Retries: every HTTP request goes through the hook, which retries 429 (honouring ``Retry-After``),
5xx and connection errors with backoff, and logs in again when a login token expired. The retry
policy of the poller is the one of the trigger that started it (``None``: the connection's settings).

Triggerer restart
-----------------
Nothing is persisted here: all state lives in the triggerer's memory. After a restart (or when triggers
move to another triggerer) each trigger is rebuilt from its serialized kwargs, registers again and a
new poller forms; since the triggers only ever *read* (GET), a restart repeats no side effect. A task
that finished while no triggerer ran is found by the first poll.

The 24 h window
---------------
Without ``dateCreatedFrom`` Phrase lists only tasks created in the last 24 hours (to now + 1 h), so a
long wait, or a wait that starts a day after the download, would lose sight of its task. The poller
therefore always sends ``dateCreatedFrom``: the earliest ``created_after`` among its waiters (the
sensor passes the download's ``date_created`` when it has it, else now minus its timeout and a day),
and for a waiter without one, now minus 24 h (Phrase's own default), minus :data:`CLOCK_SKEW_MARGIN`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Union

from airflow_phrase.hooks.retry import RetryPolicy
from airflow_phrase.models import ConnectorTaskState
from airflow_phrase.triggers._common import describe, is_transient

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

log = logging.getLogger(__name__)

#: ``pageSize`` of every listing (Phrase's maximum for ``connectorAsyncTasks``).
PAGE_SIZE = 1000
#: Phrase's default ``dateCreatedFrom`` when none is sent: now minus this.
PHRASE_DEFAULT_WINDOW = timedelta(hours=24)
#: Subtracted from ``dateCreatedFrom``: Airflow's and Phrase's clocks may disagree a little.
CLOCK_SKEW_MARGIN = timedelta(minutes=5)
#: Only connector *download* tasks are waited on.
TASK_TYPES = ("DOWNLOAD",)


# ---------------------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class TaskFinished:
    """The task reached SUCCESS, ERROR or CONVERTER_ERROR. The last observation a waiter gets."""

    state: ConnectorTaskState


@dataclass(frozen=True)
class TaskPending:
    """The task is listed and still ``NEW``."""

    state: ConnectorTaskState


@dataclass(frozen=True)
class TaskNotVisible:
    """The task id is not (yet) in the listing (wrong project, or outside the dateCreated window)."""

    date_created_from: datetime | None


@dataclass(frozen=True)
class PollDelayed:
    """A poll failed with a transient error even after the hook's retries; polling goes on."""

    message: str


@dataclass(frozen=True)
class PollFailed:
    """A poll failed for good (e.g. 401/403/404, a bad connection). The last observation a waiter gets."""

    message: str


Observation = Union[TaskFinished, TaskPending, TaskNotVisible, PollDelayed, PollFailed]  # noqa: UP007


@dataclass(eq=False)
class Waiter:
    """One trigger's registration with a poller. Compared by identity."""

    task_id: str
    created_after: datetime | None
    poll_interval: float
    queue: asyncio.Queue[Observation] = field(default_factory=asyncio.Queue, repr=False)

    async def next_observation(self) -> Observation:
        """The next observation the poller made for this waiter."""
        return await self.queue.get()


# ---------------------------------------------------------------------------------------- the poller


PollerKey = tuple[str, str]  # (connection id, project uid)


class ConnectorTaskPoller:
    """Polls ``connectorAsyncTasks`` of one project for all the waiters registered with it.

    Created by :func:`register`, stopped when :func:`unregister` removes its last waiter; see the
    module docstring.
    """

    def __init__(
        self,
        key: PollerKey,
        *,
        retry_policy: RetryPolicy | None,
        registry: dict[PollerKey, ConnectorTaskPoller],
    ) -> None:
        self.key = key
        self._registry = registry
        self.retry_policy = retry_policy
        self.waiters: set[Waiter] = set()
        #: ``GET connectorAsyncTasks`` requests this poller made (one per page, retries not counted).
        self.calls = 0
        #: Completed polls (all pages of one round).
        self.polls = 0
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def conn_id(self) -> str:
        return self.key[0]

    @property
    def project_uid(self) -> str:
        return self.key[1]

    def __repr__(self) -> str:
        return (
            f"ConnectorTaskPoller(conn_id={self.conn_id!r}, project_uid={self.project_uid!r}, "
            f"waiters={len(self.waiters)}, calls={self.calls})"
        )

    # -- lifecycle (all synchronous: called from the loop's thread without awaiting in between)

    def start(self) -> None:
        # An empty context: the poller outlives the trigger that happens to start it, and must not
        # inherit that trigger's log routing.
        self._task = contextvars.Context().run(asyncio.ensure_future, self._run())

    def stop(self) -> None:
        """Leave the registry and cancel the polling task (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._registry.get(self.key) is self:
            del self._registry[self.key]
        if self._task is not None and not self._task.done() and self._task is not _current_task():
            self._task.cancel()

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def wait_closed(self) -> None:
        """Wait until the polling task has ended and closed its HTTP session (after :meth:`stop`)."""
        if self._task is not None:
            await asyncio.wait({self._task})

    def interval(self) -> float:
        return min((waiter.poll_interval for waiter in self.waiters), default=0.0)

    def date_created_from(self, now: datetime) -> datetime | None:
        """The earliest ``created_after`` among the waiters (Phrase's 24 h default for those without)."""
        if not self.waiters:
            return None
        bounds = [waiter.created_after or now - PHRASE_DEFAULT_WINDOW for waiter in self.waiters]
        return min(bounds) - CLOCK_SKEW_MARGIN

    # -- polling

    async def _run(self) -> None:
        from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

        loop = asyncio.get_running_loop()
        try:
            await _ensure_greenback_portal()
            async with PhraseTmsHook(self.conn_id, retry_policy=self.retry_policy) as hook:
                while self.waiters and not self._stopped:
                    started = loop.time()
                    await self._poll_once(hook)
                    if not self.waiters or self._stopped:
                        break
                    await asyncio.sleep(max(0.0, started + self.interval() - loop.time()))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not leave waiters waiting until their deadline
            log.exception("Connector task poller for %s stopped unexpectedly", self.key)
            self._fail_all(f"The poller of connector task states failed: {describe(error)}")
        finally:
            self.stop()

    async def _poll_once(self, hook: PhraseTmsHook) -> None:
        looked_for = set(self.waiters)
        wanted = {waiter.task_id for waiter in looked_for}
        date_from = self.date_created_from(datetime.now(timezone.utc))
        seen: dict[str, ConnectorTaskState] = {}
        page_number = 0
        try:
            while True:
                self.calls += 1
                page = await hook.a_get_connector_task_states_page(
                    self.project_uid,
                    page_number=page_number,
                    page_size=PAGE_SIZE,
                    task_types=TASK_TYPES,
                    processing_types=None,
                    date_created_from=date_from,
                )
                for state in page.content:
                    if state.id in wanted:
                        seen[state.id] = state
                if wanted <= seen.keys() or not page.content:
                    break
                if page.total_pages and page_number + 1 >= page.total_pages:
                    break
                if not page.total_pages and len(page.content) < PAGE_SIZE:
                    break
                page_number += 1
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if is_transient(error):
                log.warning(
                    "Polling connector tasks of project %s failed, trying again next interval: %s",
                    self.project_uid,
                    error,
                )
                self._broadcast(PollDelayed(describe(error)))
                return
            log.error("Polling connector tasks of project %s failed for good: %s", self.project_uid, error)
            self._fail_all(describe(error))
            return
        self.polls += 1
        self._dispatch(looked_for, seen, date_from)

    def _dispatch(
        self, looked_for: set[Waiter], seen: dict[str, ConnectorTaskState], date_from: datetime | None
    ) -> None:
        for waiter in looked_for & self.waiters:  # not those that left (or joined) during the poll
            state = seen.get(waiter.task_id)
            if state is None:
                waiter.queue.put_nowait(TaskNotVisible(date_from))
            elif state.status.is_finished:
                waiter.queue.put_nowait(TaskFinished(state))
                self.waiters.discard(waiter)
            else:
                waiter.queue.put_nowait(TaskPending(state))
        if not self.waiters:
            self.stop()

    def _broadcast(self, observation: Observation) -> None:
        for waiter in self.waiters:
            waiter.queue.put_nowait(observation)

    def _fail_all(self, message: str) -> None:
        self._broadcast(PollFailed(message))
        self.waiters.clear()
        self.stop()


async def _ensure_greenback_portal() -> None:
    """Give the poller task what the triggerer gives each trigger task: a greenback portal.

    The triggerer lets sync SDK calls (e.g. a secrets backend's sync path) run inside a trigger through
    greenback; the poller is a task of its own, so it sets up its own portal, as the triggerer does.
    """
    if os.environ.get("AIRFLOW_DISABLE_GREENBACK_PORTAL", "").lower() == "true":
        return
    try:
        import greenback
    except ImportError:  # pragma: no cover - greenback ships with Airflow's triggerer
        return
    await greenback.ensure_portal()


# ---------------------------------------------------------------------------------------- the registry

_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, ConnectorTaskPoller]] = (
    weakref.WeakKeyDictionary()
)


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _pollers_of_running_loop() -> dict[PollerKey, ConnectorTaskPoller]:
    loop = asyncio.get_running_loop()
    pollers = _REGISTRY.get(loop)
    if pollers is None:
        pollers = _REGISTRY[loop] = {}
    return pollers


def active_pollers() -> list[ConnectorTaskPoller]:
    """The pollers of the running event loop (for tests, benchmarks and diagnostics)."""
    return list(_pollers_of_running_loop().values())


def register(
    conn_id: str,
    project_uid: str,
    task_id: str,
    *,
    created_after: datetime | None,
    poll_interval: float,
    retry_policy: RetryPolicy | None = None,
) -> tuple[ConnectorTaskPoller, Waiter]:
    """Add a waiter to the poller of ``(running loop, conn_id, project_uid)``, starting one if needed."""
    pollers = _pollers_of_running_loop()
    key = (conn_id, project_uid)
    poller = pollers.get(key)
    waiter = Waiter(task_id=str(task_id), created_after=created_after, poll_interval=poll_interval)
    if poller is None or poller.stopped:
        poller = pollers[key] = ConnectorTaskPoller(key, retry_policy=retry_policy, registry=pollers)
        poller.waiters.add(waiter)
        poller.start()
    else:
        poller.waiters.add(waiter)
    return poller, waiter


def unregister(poller: ConnectorTaskPoller, waiter: Waiter) -> None:
    """Remove a waiter (idempotent); stop the poller when it was the last one."""
    poller.waiters.discard(waiter)
    if not poller.waiters:
        poller.stop()


__all__ = [
    "CLOCK_SKEW_MARGIN",
    "PAGE_SIZE",
    "ConnectorTaskPoller",
    "Observation",
    "PollDelayed",
    "PollFailed",
    "TaskFinished",
    "TaskNotVisible",
    "TaskPending",
    "Waiter",
    "active_pollers",
    "register",
    "unregister",
]
