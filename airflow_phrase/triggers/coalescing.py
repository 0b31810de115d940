"""Shared polling: one listing per (what is listed, connection, project) and interval, for every trigger.

Why
---
Phrase has no endpoint to read *one* connector task, and reading jobs one by one costs one call per job.
What it does have are project-wide listings: ``GET /api2/v1/connectorAsyncTasks`` (up to 1000 tasks a
page) and ``GET /api2/v2/projects/{projectUid}/jobs`` (filters such as ``notReady`` or ``status``). A
deferred task per file, each polling on its own, would list the same project once per file and interval:
1,000 waiting files would cost 1,000 calls per interval, for answers that are all in the same page, and
would soon run into Phrase's rate limit (6000 requests per minute per user, plus a cap on concurrent
requests). Here every trigger waiting on the same listing of the same project in one triggerer process
shares one poll, so 1,000 waiting files cost about one call per interval (one per page of the listing).
With several triggerer processes, each has its own pollers: one call per interval per (triggerer, listing,
project).

Airflow 3.3's own shared streams (``BaseEventTrigger.shared_stream_key``) are not used: the triggerer
applies them only to event-driven scheduling triggers (asset watchers), not to triggers that resume a
deferred task.

What is shared, what is not
---------------------------
A :class:`SharedPoller` subclass says *what* is listed (:meth:`SharedPoller.fetch`): the connector tasks of
the project (:class:`~airflow_phrase.triggers.pollers.ConnectorTasksPoller`), its jobs that are not
imported yet (:class:`~airflow_phrase.triggers.pollers.NotReadyJobsPoller`), its jobs in some statuses.
One poller exists per ``(event loop, poller class, connection id, project uid, listing options)``:

* the **event loop**, because a triggerer runs all its triggers in one loop, and aiohttp sessions,
  futures and queues belong to one loop (``dag.test()`` runs each trigger in a fresh ``asyncio.run``);
* the **connection id**, because it decides the account, the credentials and the retry settings;
* the **project uid**, because Phrase lists per project.

The poller knows nothing about what its waiters wait for: every poll hands the whole listing (a
:class:`Snapshot`) to each waiter it was made for, and each trigger decides for itself whether its wait is
over. The poll interval, the ``created_after`` bound and ``not_before`` are per waiter: the poller polls at
the shortest interval among its waiters and lists from the earliest ``created_after`` among them.

Lifecycle
---------
1. A trigger calls :func:`register` with its poller class: it adds a :class:`Waiter` (``created_after``,
   interval, ``not_before`` and an ``asyncio.Queue`` of observations) to the poller of its key, creating
   and starting the poller if there is none.
2. The poller (one asyncio task, started in an empty ``contextvars`` context so that its log lines do not
   land in the log of whichever task happened to start it) polls first at the earliest ``not_before`` among
   its waiters, then once per interval, and never while no waiter is due (it sleeps until the earliest
   ``not_before`` instead, waking up early when a waiter joins). One poll fetches every page and puts one
   observation into the queue of each waiter whose ``not_before`` had passed when the poll started: a
   :class:`Snapshot`, :class:`PollDelayed` (a transient failure outlasted the hook's retries; the poller
   tries again next interval) or :class:`PollFailed` (a non-retryable API or configuration error: delivered
   to *every* waiter, due or not, and the poller stops; the trigger holds that until its ``not_before``).
3. Each trigger consumes its own queue, enforces its own deadline, decides what to yield and logs in its
   own task's log.
4. The trigger calls :func:`unregister` when it ends for any reason (its wait is over, it was cancelled
   because the task was cleared or marked, the triggerer is shutting down); the other waiters are not
   disturbed. When the last waiter leaves, the poller is removed from the registry and cancelled (its
   aiohttp session is closed); the next registration starts a fresh one. Registration, unregistration and
   dispatch never ``await`` in between, so a waiter can never be left with a poller that is stopping.

Retries: every HTTP request goes through the hook, which retries 429 (honouring ``Retry-After``), 5xx and
connection errors with backoff, and logs in again when a login token expired. The retry policy of a poller
is the one of the trigger that started it (``None``: the connection's settings).

Not before
----------
Every waiter carries ``not_before`` (absolute epoch seconds; by default one poll interval after the trigger
was built) and is not served by any poll that started earlier. The reason is a race in Airflow's scheduler:
when a trigger fires within a second or so of the deferral, the resumed try can be queued before the
scheduler has processed the deferral; the scheduler then logs a "state mismatch" and puts the task
``up_for_retry`` (apache/airflow#67287; the guard of Airflow 3.3.2 covers a ``scheduled`` task but not a
``queued`` one). An immediate poll is of little use anyway: what a task waits for was started a moment ago.
A waiter joining a poller that is already polling for others is not given the results of polls that started
before its ``not_before``; a new poller schedules its first poll for the earliest ``not_before`` among its
waiters. So coalescing is kept: still about one call per interval.

Triggerer restart
-----------------
Nothing is persisted here: all state lives in the triggerer's memory. After a restart (or when triggers
move to another triggerer) each trigger is rebuilt from its serialized kwargs, registers again and a new
poller forms; since the pollers only ever *read* (GET), a restart repeats no side effect. ``not_before`` is
part of a trigger's serialized kwargs, so a rebuilt trigger keeps its original one: once it has passed, the
new poller polls at once instead of delaying again after every restart.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, Union

from airflow_phrase.hooks.retry import RetryPolicy
from airflow_phrase.triggers._common import describe, is_transient

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

log = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")
T = TypeVar("T")


async def wait_at_most(awaitable: Awaitable[T], timeout: float | None) -> T | None:
    """``await awaitable`` for at most ``timeout`` seconds (``None``: no limit); ``None`` if it did not
    finish in time (it is then cancelled).

    Not ``asyncio.wait_for``: on Python before 3.12 it can swallow the caller's cancellation when the
    awaited future finishes at the same moment (python/cpython#86296, #98518). A trigger cancelled by the
    triggerer (its task cleared or marked) would then go on waiting, and polling, until its deadline.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    finally:
        if not task.done():
            task.cancel()
    return task.result() if done else None


# ---------------------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Snapshot(Generic[ItemT]):
    """What one poll listed, by id (task id, job uid), shared by every waiter the poll was made for.

    ``date_from`` is the lower bound the listing used (``dateCreatedFrom``), when it had one; a waiter
    whose item is missing can say how far back was looked. ``polled_at`` is when the poll started (epoch).
    """

    items: Mapping[str, ItemT]
    polled_at: float
    date_from: datetime | None = None


@dataclass(frozen=True)
class PollDelayed:
    """A poll failed with a transient error even after the hook's retries; polling goes on."""

    message: str


@dataclass(frozen=True)
class PollFailed:
    """A poll failed for good (e.g. 401/403/404, a bad connection). The last observation a waiter gets."""

    message: str


Observation = Union[Snapshot[Any], PollDelayed, PollFailed]  # noqa: UP007


@dataclass(eq=False)
class Waiter:
    """One trigger's registration with a poller. Compared by identity.

    ``not_before`` (absolute epoch seconds): polls that start earlier do not report to this waiter (see
    "Not before" in the module docstring). ``0.0``: due at once. ``created_after``: the listing must reach
    back at least this far (``None``: the listing's own default). ``wanted``: the ids this waiter waits
    for, for a poller that can look them up instead of listing everything (``None``: not said; pollers
    that list everything ignore it).
    """

    created_after: datetime | None
    poll_interval: float
    not_before: float = 0.0
    wanted: frozenset[str] | None = None
    queue: asyncio.Queue[Observation] = field(default_factory=asyncio.Queue, repr=False)

    async def next_observation(self, timeout: float | None = None) -> Observation | None:
        """The next observation the poller made for this waiter; ``None`` if none came within ``timeout``
        seconds (``None``: wait as long as it takes)."""
        return await wait_at_most(self.queue.get(), timeout)


# ---------------------------------------------------------------------------------------- the poller

PollerKey = tuple[type, str, str, Hashable]  # (poller class, connection id, project uid, options)


class SharedPoller(ABC, Generic[ItemT]):
    """Polls one listing of one project for all the waiters registered with it.

    Subclasses implement :meth:`fetch`. Created by :func:`register`, stopped when :func:`unregister`
    removes its last waiter; see the module docstring.
    """

    #: What the poller lists, for log lines ("connector tasks", "jobs not imported yet").
    what: ClassVar[str] = "items"

    def __init__(
        self,
        key: PollerKey,
        *,
        retry_policy: RetryPolicy | None,
        registry: dict[PollerKey, SharedPoller[Any]],
    ) -> None:
        self.key = key
        self._registry = registry
        self.retry_policy = retry_policy
        self.waiters: set[Waiter] = set()
        #: Listing requests this poller made (one per page; the hook's retries not counted).
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
        return self.key[1]

    @property
    def project_uid(self) -> str:
        return self.key[2]

    @property
    def options(self) -> Hashable:
        """The listing options of this poller (part of its key), e.g. the statuses listed."""
        return self.key[3]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(conn_id={self.conn_id!r}, project_uid={self.project_uid!r}, "
            f"waiters={len(self.waiters)}, calls={self.calls})"
        )

    # -- what is listed (subclasses)

    @abstractmethod
    async def fetch(self, hook: PhraseTmsHook, date_from: datetime | None) -> dict[str, ItemT]:
        """Every item of one poll by id, all pages; count each page request in :attr:`calls`."""

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
        """How long to wait before the next poll: one interval after the last poll ended (``loop_now``
        and ``last_started``, the time it ended, are event-loop times), and not before the earliest
        ``not_before`` (``wall_now`` is epoch seconds)."""
        by_interval = 0.0 if last_started is None else last_started + self.interval() - loop_now
        return max(0.0, by_interval, self.earliest_not_before() - wall_now)

    def date_created_from(self) -> datetime | None:
        """The earliest ``created_after`` among the waiters (``None`` if one of them has none)."""
        bounds = [waiter.created_after for waiter in self.waiters]
        if not bounds or any(bound is None for bound in bounds):
            return None
        return min(bound for bound in bounds if bound is not None)

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
                    await self._poll_once(hook, started=wall_now)
                    # The next poll is one interval after this one *ended* (a long, paged poll is not
                    # followed by another at once), and the waiters it served get to leave first.
                    last_started = loop.time()
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not leave waiters waiting until their deadline
            log.exception("%s stopped unexpectedly", self)
            self._fail_all(f"The shared poll of {self.what} failed: {describe(error)}")
        finally:
            self.stop()

    async def _sleep_unless_woken(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or until a waiter joins. No ``await`` before the ``clear()``: a
        waiter joining after the caller computed ``delay`` is never missed."""
        self._wake.clear()
        await wait_at_most(self._wake.wait(), delay)

    async def _poll_once(self, hook: PhraseTmsHook, *, started: float) -> None:
        """One poll for the waiters due at ``started`` (epoch seconds)."""
        looked_for = {waiter for waiter in self.waiters if waiter.not_before <= started}
        if not looked_for:
            return
        date_from = self.date_created_from()
        try:
            items = await self.fetch(hook, date_from)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if is_transient(error):
                log.warning(
                    "Listing %s of project %s failed, trying again next interval: %s",
                    self.what,
                    self.project_uid,
                    error,
                )
                self._broadcast(PollDelayed(describe(error)), looked_for)
                return
            log.error("Listing %s of project %s failed for good: %s", self.what, self.project_uid, error)
            self._fail_all(describe(error))
            return
        self.polls += 1
        self._broadcast(Snapshot(items=items, polled_at=started, date_from=date_from), looked_for)

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

_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, SharedPoller[Any]]] = (
    weakref.WeakKeyDictionary()
)

PollerT = TypeVar("PollerT", bound=SharedPoller[Any])


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _pollers_of_running_loop() -> dict[PollerKey, SharedPoller[Any]]:
    loop = asyncio.get_running_loop()
    pollers = _REGISTRY.get(loop)
    if pollers is None:
        pollers = _REGISTRY[loop] = {}
    return pollers


def active_pollers() -> list[SharedPoller[Any]]:
    """The pollers of the running event loop (for tests, benchmarks and diagnostics)."""
    return list(_pollers_of_running_loop().values())


def register(
    poller_class: type[PollerT],
    conn_id: str,
    project_uid: str,
    *,
    options: Hashable = None,
    created_after: datetime | None,
    poll_interval: float,
    not_before: float | None = None,
    retry_policy: RetryPolicy | None = None,
    wanted: frozenset[str] | None = None,
) -> tuple[PollerT, Waiter]:
    """Add a waiter to the poller of ``(running loop, poller_class, conn_id, project_uid, options)``,
    starting one if needed.

    ``not_before``: absolute epoch seconds before which no poll serves this waiter (``None``: due at once).
    ``created_after`` is normalised to UTC. ``wanted``: see :class:`Waiter`.
    """
    pollers = _pollers_of_running_loop()
    key: PollerKey = (poller_class, conn_id, project_uid, options)
    poller = pollers.get(key)
    waiter = Waiter(
        created_after=created_after.astimezone(timezone.utc) if created_after is not None else None,
        poll_interval=poll_interval,
        not_before=not_before if not_before is not None else 0.0,
        wanted=wanted,
    )
    if poller is None or poller.stopped:
        poller = poller_class(key, retry_policy=retry_policy, registry=pollers)
        pollers[key] = poller
        poller.add(waiter)
        poller.start()
    else:
        poller.add(waiter)
    assert isinstance(poller, poller_class)
    return poller, waiter


def unregister(poller: SharedPoller[Any], waiter: Waiter) -> None:
    """Remove a waiter (idempotent); stop the poller when it was the last one."""
    poller.waiters.discard(waiter)
    if not poller.waiters:
        poller.stop()


__all__ = [
    "Observation",
    "PollDelayed",
    "PollFailed",
    "SharedPoller",
    "Snapshot",
    "Waiter",
    "active_pollers",
    "register",
    "unregister",
]
