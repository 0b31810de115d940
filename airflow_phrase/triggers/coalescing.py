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

The poll interval, the ``created_after`` bound, the ``not_before`` time and the task ids are per
trigger and are *not* part of the key: the poller polls at the shortest interval among its waiters,
lists from the earliest ``created_after`` among them, and looks for the task ids of all its *due*
waiters (see "Not before" below) in the same pages.

Lifecycle
---------
1. A trigger calls :func:`register`: it adds a :class:`Waiter` (task id, ``created_after``, interval,
   ``not_before`` and an ``asyncio.Queue`` of observations) to the poller of its key, creating and
   starting the poller if there is none.
2. The poller (one asyncio task, started in an empty ``contextvars`` context so its own log lines do
   not land in the log of whichever task happened to start it) polls first at the earliest
   ``not_before`` among its waiters, then once per interval (and never while no waiter is due: it
   sleeps until the earliest ``not_before`` instead, waking up early when a waiter joins). A poll
   fetches pages (``pageSize`` 1000, ``taskType=DOWNLOAD``, ``dateCreatedFrom`` = earliest
   ``created_after`` minus a clock-skew margin) until every waited id has been seen or the pages run
   out, and puts one observation into the queue of each waiter it looked for, i.e. each waiter whose
   ``not_before`` had passed when the poll started (a waiter that joined during the poll, or was not
   due yet, is served by a later one): :class:`TaskFinished` (terminal state; the waiter is then
   dropped), :class:`TaskPending` (still ``NEW``), :class:`TaskNotVisible` (not listed),
   :class:`PollDelayed` (a transient failure outlasted the hook's retries; the poller tries again next
   interval) or :class:`PollFailed` (a non-retryable API or configuration error: delivered to *every*
   waiter, due or not, which all end with an error event, and the poller stops; the trigger holds
   that event until its own ``not_before``).
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

Not before
----------
Every waiter carries ``not_before`` (absolute epoch seconds; the trigger's kwarg, by default one poll
interval after the trigger was built) and is not served by any poll that started earlier. The reason
is a race in Airflow's scheduler: when a trigger fires within a second or so of the deferral, the
resumed try can be queued before the scheduler has processed the deferral; the scheduler then logs a
"state mismatch" and puts the task ``up_for_retry`` (apache/airflow#67287; the guard of Airflow 3.3.2
covers a ``scheduled`` task but not a ``queued`` one; related: apache/airflow#72716,
apache/airflow#72767). An immediate poll is of little use anyway: the sensor looks at the task once right
before deferring, and the operators defer right after starting a download that cannot have finished yet.
A waiter joining a poller that is already polling for others simply ignores (is not given) the results of
polls that started before its ``not_before``; a new poller schedules its first poll for the earliest
``not_before`` among its waiters. So coalescing is kept: still about one call per interval.

Triggerer restart
-----------------
Nothing is persisted here: all state lives in the triggerer's memory. After a restart (or when triggers
move to another triggerer) each trigger is rebuilt from its serialized kwargs, registers again and a
new poller forms; since the triggers only ever *read* (GET), a restart repeats no side effect. A task
that finished while no triggerer ran is found by the first poll. ``not_before`` is part of the
serialized kwargs, so a rebuilt trigger keeps its original one: once it has passed, the new poller
polls at once instead of delaying again after every restart.

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
import contextlib
import contextvars
import logging
import os
import time
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
    """One trigger's registration with a poller. Compared by identity.

    ``not_before`` (absolute epoch seconds): polls that start earlier neither look for this waiter's task
    nor report to it (see "Not before" in the module docstring). ``0.0``: due at once.
    """

    task_id: str
    created_after: datetime | None
    poll_interval: float
    not_before: float = 0.0
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
        #: While the poller waits: when it plans to poll next (epoch seconds); ``None`` otherwise.
        self.next_poll_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        #: Set when a waiter joins, so a poller sleeping until a later ``not_before`` reschedules.
        self._wake = asyncio.Event()

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

    def add(self, waiter: Waiter) -> None:
        """Add a waiter; the poller reconsiders when to poll next."""
        self.waiters.add(waiter)
        self._wake.set()

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

    def earliest_not_before(self) -> float:
        """The earliest ``not_before`` among the waiters (epoch seconds; ``0.0`` without waiters)."""
        return min((waiter.not_before for waiter in self.waiters), default=0.0)

    def seconds_to_next_poll(self, *, wall_now: float, loop_now: float, last_started: float | None) -> float:
        """How long to wait before the next poll: one interval after the last poll started (``loop_now``
        and ``last_started`` are event-loop times), and not before the earliest ``not_before``
        (``wall_now`` is epoch seconds)."""
        by_interval = 0.0 if last_started is None else last_started + self.interval() - loop_now
        return max(0.0, by_interval, self.earliest_not_before() - wall_now)

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
        last_started: float | None = None
        try:
            await _ensure_greenback_portal()
            async with PhraseTmsHook(self.conn_id, retry_policy=self.retry_policy) as hook:
                while self.waiters and not self._stopped:
                    wall_now = time.time()
                    delay = self.seconds_to_next_poll(
                        wall_now=wall_now, loop_now=loop.time(), last_started=last_started
                    )
                    if delay > 0:
                        self.next_poll_at = wall_now + delay
                        await self._sleep_unless_woken(delay)
                        self.next_poll_at = None
                        continue  # the waiters may have changed: reschedule
                    last_started = loop.time()
                    await self._poll_once(hook, started=wall_now)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not leave waiters waiting until their deadline
            log.exception("Connector task poller for %s stopped unexpectedly", self.key)
            self._fail_all(f"The poller of connector task states failed: {describe(error)}")
        finally:
            self.stop()

    async def _sleep_unless_woken(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or until a waiter joins. No ``await`` before the ``clear()``: a
        waiter joining after the caller computed ``delay`` is never missed."""
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _poll_once(self, hook: PhraseTmsHook, *, started: float) -> None:
        """One poll for the waiters due at ``started`` (epoch seconds)."""
        looked_for = {waiter for waiter in self.waiters if waiter.not_before <= started}
        if not looked_for:
            return
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
                self._broadcast(PollDelayed(describe(error)), looked_for)
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
            elif state.is_finished:  # an unknown status counts once Phrase processed the task
                waiter.queue.put_nowait(TaskFinished(state))
                self.waiters.discard(waiter)
            else:
                waiter.queue.put_nowait(TaskPending(state))
        if not self.waiters:
            self.stop()

    def _broadcast(self, observation: Observation, waiters: set[Waiter] | None = None) -> None:
        """Give ``observation`` to ``waiters`` (those still registered), by default to all waiters."""
        for waiter in self.waiters if waiters is None else waiters & self.waiters:
            waiter.queue.put_nowait(observation)

    def _fail_all(self, message: str) -> None:
        # To every waiter, due or not: the poller stops, so no later poll would serve the others.
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
    not_before: float | None = None,
    retry_policy: RetryPolicy | None = None,
) -> tuple[ConnectorTaskPoller, Waiter]:
    """Add a waiter to the poller of ``(running loop, conn_id, project_uid)``, starting one if needed.

    ``not_before``: absolute epoch seconds before which no poll serves this waiter (``None``: due at once).
    """
    pollers = _pollers_of_running_loop()
    key = (conn_id, project_uid)
    poller = pollers.get(key)
    waiter = Waiter(
        task_id=str(task_id),
        created_after=created_after,
        poll_interval=poll_interval,
        not_before=not_before if not_before is not None else 0.0,
    )
    if poller is None or poller.stopped:
        poller = pollers[key] = ConnectorTaskPoller(key, retry_policy=retry_policy, registry=pollers)
        poller.add(waiter)
        poller.start()
    else:
        poller.add(waiter)
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
