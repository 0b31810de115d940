"""Coalesced polling: many triggers of one project in one event loop share one connectorAsyncTasks poll.

Counts come from the emulator's journal (what really reached the server). The only timing asserted is
"nothing before ``not_before``", with generous margins.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.triggers.coalescing import Snapshot, Waiter, active_pollers, unregister
from airflow_phrase.triggers.coalescing import register as register_waiter
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from airflow_phrase.triggers.events import ConnectorTaskEvent, parse_event
from airflow_phrase.triggers.pollers import CLOCK_SKEW_MARGIN, ConnectorTasksPoller
from airflow_phrase.triggers.pollers import TASKS_PAGE_SIZE as PAGE_SIZE
from tests.helpers import async_wait_until
from tests.triggers.support import (
    DOCS_GIT,
    DOCS_REVIEW,
    FAST_RETRY,
    OK_FILE,
    TASKS_PATH,
    WEBSITE,
    all_events,
    last_seq,
    start_downloads,
    started_at,
    task_calls,
)

INTERVAL = 0.2
#: Allowance for clock reads and scheduling when comparing times with ``not_before``.
MARGIN = 0.3
#: A task id the emulator never lists: its waiter keeps the poller polling.
NEVER_LISTED = "999999999"


def trigger_for(
    conn_id: str, task_id: str, project_uid: str = WEBSITE, **kwargs: Any
) -> PhraseConnectorTaskTrigger:
    return PhraseConnectorTaskTrigger(
        phrase_conn_id=conn_id,
        project_uid=project_uid,
        download_task_id=task_id,
        poll_interval=kwargs.pop("poll_interval", INTERVAL),
        deadline=kwargs.pop("deadline", time.time() + 60),
        retry_policy=FAST_RETRY,
        **kwargs,
    )


def register(
    conn_id: str, project_uid: str, task_id: str, **kwargs: Any
) -> tuple[ConnectorTasksPoller, Waiter]:
    """A waiter on the project's connector task listing (``task_id``: what the test looks for in it)."""
    return register_waiter(ConnectorTasksPoller, conn_id, project_uid, **kwargs)


def finished(observation: Any, task_id: str) -> bool:
    """The observation is a listing in which ``task_id`` has finished."""
    if not isinstance(observation, Snapshot):
        return False
    state = observation.items.get(task_id)
    return state is not None and state.status.value != "NEW"


def not_listed(observation: Any, task_id: str) -> bool:
    return isinstance(observation, Snapshot) and task_id not in observation.items


async def run_all(triggers: list[PhraseConnectorTaskTrigger]) -> list[ConnectorTaskEvent]:
    results = await asyncio.gather(*(all_events(trigger) for trigger in triggers))
    assert all(len(events) == 1 for events in results)
    return [parse_event(ConnectorTaskEvent, events[0]) for events in results]


@pytest.mark.parametrize("waiting", [10, 200])
async def test_n_waiting_triggers_cost_one_poll_per_interval(
    phrase_emulator: Any, phrase_connection: str, waiting: int
):
    phrase_emulator.admin.configure(task_delay=1.5)
    downloads = start_downloads(phrase_connection, OK_FILE, waiting)
    since = last_seq(phrase_emulator)
    started = time.monotonic()

    events = await run_all([trigger_for(phrase_connection, d.id) for d in downloads])

    elapsed = time.monotonic() - started
    assert [e.status for e in events] == ["success"] * waiting
    assert sorted(e.download_task_id for e in events) == sorted(d.id for d in downloads)
    calls = task_calls(phrase_emulator, since)
    intervals = elapsed / INTERVAL
    # One poll per interval (plus the first one), whatever the number of waiting tasks.
    assert 1 <= len(calls) <= 2 * (intervals + 1), (len(calls), intervals)
    assert len(calls) < waiting or waiting <= 10
    assert {c.param("pageSize") for c in calls} == {str(PAGE_SIZE)}
    assert active_pollers() == []


async def test_each_project_gets_its_own_poll(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=1.0)
    downloads = start_downloads(phrase_connection, OK_FILE, 6)
    since = last_seq(phrase_emulator)
    triggers = [trigger_for(phrase_connection, d.id, WEBSITE) for d in downloads[:3]]
    triggers += [trigger_for(phrase_connection, d.id, DOCS_REVIEW) for d in downloads[3:]]

    running = asyncio.ensure_future(run_all(triggers))
    await async_wait_until(lambda: len(active_pollers()) == 2)
    keys = {(p.conn_id, p.project_uid) for p in active_pollers()}
    events = await running

    assert keys == {(phrase_connection, WEBSITE), (phrase_connection, DOCS_REVIEW)}
    assert all(e.status == "success" for e in events)
    calls = task_calls(phrase_emulator, since)
    per_project = {
        project: [c for c in calls if c.param("projectUid") == project] for project in (WEBSITE, DOCS_REVIEW)
    }
    assert all(per_project.values()), per_project
    assert len(calls) == sum(len(v) for v in per_project.values())


def finish_downloads_now(emulator: Any, task_ids: list[str]) -> None:
    """End the given download tasks at the emulator's current time (they succeed on the next poll)."""
    state = emulator.services.state
    with state._lock:
        for task_id in task_ids:
            state._tasks[task_id].finishes_at = state._at(None)


async def test_cancelling_one_trigger_does_not_disturb_the_others(
    phrase_emulator: Any, phrase_connection: str
):
    # The downloads never end on their own: a slow machine must not let them finish before the
    # cancellation is checked. They are ended explicitly once it has been.
    phrase_emulator.admin.configure(task_delay=3600)
    downloads = start_downloads(phrase_connection, OK_FILE, 3)
    running = [asyncio.ensure_future(all_events(trigger_for(phrase_connection, d.id))) for d in downloads]
    await async_wait_until(lambda: len(active_pollers()) == 1 and active_pollers()[0].polls >= 1)
    (poller,) = active_pollers()
    assert len(poller.waiters) == 3

    running[1].cancel()
    await asyncio.wait([running[1]])

    assert len(poller.waiters) == 2 and not poller.stopped
    finish_downloads_now(phrase_emulator, [downloads[0].id, downloads[2].id])
    survivors = await asyncio.gather(running[0], running[2])
    assert [parse_event(ConnectorTaskEvent, events[0]).status for events in survivors] == [
        "success",
        "success",
    ]
    assert running[1].cancelled()
    assert poller.stopped and active_pollers() == []


async def test_poller_stops_polling_when_its_last_waiter_leaves(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=3600)
    downloads = start_downloads(phrase_connection, OK_FILE, 2)
    running = [asyncio.ensure_future(all_events(trigger_for(phrase_connection, d.id))) for d in downloads]
    await async_wait_until(lambda: len(active_pollers()) == 1 and active_pollers()[0].polls >= 2)
    (poller,) = active_pollers()

    for task in running:
        task.cancel()
    await asyncio.wait(running)
    await asyncio.wait_for(poller.wait_closed(), timeout=10)
    after_stop = last_seq(phrase_emulator)
    # A new waiter on the same key gets a fresh poller, and the stopped one never polls again.
    replacement = asyncio.ensure_future(
        all_events(trigger_for(phrase_connection, downloads[0].id, deadline=time.time() + 0.5))
    )
    await async_wait_until(lambda: bool(active_pollers()))
    (fresh,) = active_pollers()
    (payload,) = await replacement

    assert poller.stopped and fresh is not poller
    assert parse_event(ConnectorTaskEvent, payload).status == "timeout"
    assert poller.calls == poller.polls  # one page per poll; the count stopped with the poller
    assert len(task_calls(phrase_emulator, after_stop)) == fresh.calls


async def test_two_triggers_on_the_same_task_both_get_the_outcome(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=0.6)
    (download,) = start_downloads(phrase_connection, OK_FILE, 1)

    events = await run_all([trigger_for(phrase_connection, download.id) for _ in range(2)])

    assert [e.status for e in events] == ["success", "success"]


async def test_non_retryable_error_reaches_every_waiter(phrase_emulator: Any, phrase_connection: str):
    downloads = start_downloads(phrase_connection, OK_FILE, 3)
    since = last_seq(phrase_emulator)
    unknown_project = "prjDoesNotExist0000001"

    events = await run_all([trigger_for(phrase_connection, d.id, unknown_project) for d in downloads])

    assert [e.status for e in events] == ["error"] * 3
    assert all("404" in e.message for e in events)
    assert len(task_calls(phrase_emulator, since)) == 1  # one failed poll, shared, not retried
    assert active_pollers() == []


async def test_the_earliest_created_after_bounds_the_shared_poll(
    phrase_emulator: Any, phrase_connection: str
):
    downloads = start_downloads(phrase_connection, OK_FILE, 2)
    since = last_seq(phrase_emulator)
    now = datetime.now(timezone.utc)
    early, late = now - timedelta(hours=40), now - timedelta(hours=2)

    await run_all(
        [
            trigger_for(phrase_connection, downloads[0].id, created_after=late.isoformat()),
            trigger_for(phrase_connection, downloads[1].id, created_after=early.isoformat()),
        ]
    )

    first = task_calls(phrase_emulator, since)[0]
    sent = datetime.fromisoformat(first.param("dateCreatedFrom").replace("Z", "+00:00"))
    assert abs(sent - (early - CLOCK_SKEW_MARGIN)) < timedelta(seconds=1)


async def test_a_listing_longer_than_a_page_is_read_to_its_end(phrase_emulator: Any, phrase_connection: str):
    # 1,100 finished tasks: two pages of 1000. Created straight in the emulator's state to save time. Every
    # page is read (rival downloads of a file may be on any page, see airflow_phrase.hooks.claims).
    phrase_emulator.admin.configure(task_delay=0)
    hook = PhraseTmsHook(phrase_connection)
    remote = hook.resolve_remote_file(DOCS_GIT, "docs/guides", "install.md")
    hook.close()
    tasks = [
        phrase_emulator.state.start_download(
            remote.connector_id, remote.encoded_folder, remote.encoded_name, user_uid="demoUser0000000000001"
        )
        for _ in range(PAGE_SIZE + 100)
    ]

    since = last_seq(phrase_emulator)
    (early,) = await run_all([trigger_for(phrase_connection, tasks[0].id)])
    pages = [c.param("pageNumber") for c in task_calls(phrase_emulator, since)]

    assert early.status == "success"
    assert pages == ["0", "1"]


async def test_a_waiter_joining_during_a_poll_is_served_by_the_next_poll(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=0)
    first, second = start_downloads(phrase_connection, OK_FILE, 2)
    # The first listing answers slowly, so the second waiter joins while it is in flight.
    phrase_emulator.admin.set_faults(
        [{"method": "GET", "path": TASKS_PATH, "sequence": [{"delaySeconds": 0.5}]}]
    )
    poller, early = register(phrase_connection, WEBSITE, first.id, created_after=None, poll_interval=INTERVAL)
    try:
        await async_wait_until(lambda: poller.calls == 1)
        same_poller, late = register(
            phrase_connection, WEBSITE, second.id, created_after=None, poll_interval=INTERVAL
        )

        assert same_poller is poller
        early_seen = await asyncio.wait_for(early.next_observation(), timeout=10)
        late_seen = await asyncio.wait_for(late.next_observation(), timeout=10)
    finally:
        unregister(poller, early)
        unregister(poller, late)

    # The late waiter was not given the slow poll, which started before it joined.
    assert finished(early_seen, first.id) and finished(late_seen, second.id)
    assert poller.polls == 2


# ---------------------------------------------------------------------------------------- not before


async def test_a_joining_waiter_ignores_polls_started_before_its_not_before(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=0)
    (done,) = start_downloads(phrase_connection, OK_FILE, 1)
    poller, busy = register(
        phrase_connection, WEBSITE, NEVER_LISTED, created_after=None, poll_interval=INTERVAL
    )
    try:
        await async_wait_until(lambda: poller.polls >= 1)
        since = last_seq(phrase_emulator)
        not_before = time.time() + 1.2
        same_poller, late = register(
            phrase_connection,
            WEBSITE,
            done.id,
            created_after=None,
            poll_interval=INTERVAL,
            not_before=not_before,
        )
        seen = await asyncio.wait_for(late.next_observation(), timeout=10)
        seen_at = time.time()
        busy_seen = [busy.queue.get_nowait() for _ in range(busy.queue.qsize())]
    finally:
        unregister(poller, busy)
        unregister(poller, late)

    assert same_poller is poller
    # The task was finished all along: only not_before kept the earlier polls from reporting it.
    assert finished(seen, done.id)
    assert seen_at >= not_before
    early = [call for call in task_calls(phrase_emulator, since) if started_at(call) < not_before - MARGIN]
    assert len(early) >= 2, "the shared poller should have gone on polling for the other waiter"
    assert busy_seen and all(not_listed(o, NEVER_LISTED) for o in busy_seen)


async def test_a_new_poller_first_polls_at_the_earliest_not_before_and_never_for_nobody(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=0)
    first, second = start_downloads(phrase_connection, OK_FILE, 2)
    since = last_seq(phrase_emulator)
    now = time.time()
    early_at, late_at = now + 0.8, now + 1.6
    poller, late = register(
        phrase_connection, WEBSITE, second.id, created_after=None, poll_interval=INTERVAL, not_before=late_at
    )
    _, early = register(
        phrase_connection, WEBSITE, first.id, created_after=None, poll_interval=INTERVAL, not_before=early_at
    )
    try:
        early_seen = await asyncio.wait_for(early.next_observation(), timeout=10)
        unregister(poller, early)  # as its trigger does once its wait is over
        late_seen = await asyncio.wait_for(late.next_observation(), timeout=10)
    finally:
        unregister(poller, early)
        unregister(poller, late)

    assert finished(early_seen, first.id) and finished(late_seen, second.id)
    calls = task_calls(phrase_emulator, since)
    # One poll for each waiter when it became due; none in between, when no waiter was due.
    assert len(calls) == poller.polls == 2
    assert started_at(calls[0]) >= early_at - MARGIN
    assert started_at(calls[1]) >= late_at - MARGIN


async def test_a_waiter_already_due_wakes_a_poller_waiting_for_a_later_not_before(
    phrase_emulator: Any, phrase_connection: str
):
    # E.g. a trigger rebuilt after a triggerer restart joins a poller whose waiters are not due yet.
    phrase_emulator.admin.configure(task_delay=0)
    (done,) = start_downloads(phrase_connection, OK_FILE, 1)
    poller, pending = register(
        phrase_connection,
        WEBSITE,
        NEVER_LISTED,
        created_after=None,
        poll_interval=INTERVAL,
        not_before=time.time() + 60,
    )
    try:
        await async_wait_until(lambda: (poller.next_poll_at or 0) > time.time() + 30)  # asleep
        _, due = register(
            phrase_connection,
            WEBSITE,
            done.id,
            created_after=None,
            poll_interval=INTERVAL,
            not_before=time.time() - 120,
        )
        seen = await asyncio.wait_for(due.next_observation(), timeout=10)
    finally:
        unregister(poller, pending)
        unregister(poller, due)

    assert finished(seen, done.id)
    assert pending.queue.empty()  # not due: the poll made for the other waiter did not report to it


async def test_triggers_with_staggered_not_before_still_share_one_poll_per_interval(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=2.0)
    downloads = start_downloads(phrase_connection, OK_FILE, 40)
    since = last_seq(phrase_emulator)
    now = time.time()
    triggers = [
        trigger_for(phrase_connection, d.id, not_before=now + INTERVAL * (1 + i % 8))
        for i, d in enumerate(downloads)
    ]
    started = time.monotonic()

    events = await run_all(triggers)

    elapsed = time.monotonic() - started
    assert [e.status for e in events] == ["success"] * len(triggers)
    calls = task_calls(phrase_emulator, since)
    assert 1 <= len(calls) <= 2 * (elapsed / INTERVAL + 1), (len(calls), elapsed)
    assert len(calls) < len(triggers)


async def test_a_shared_poll_failing_for_good_is_reported_to_a_waiter_not_before_its_not_before(
    phrase_emulator: Any, phrase_connection: str
):
    (download,) = start_downloads(phrase_connection, OK_FILE, 1)
    since = last_seq(phrase_emulator)
    unknown_project = "prjDoesNotExist0000001"
    now = time.time()
    due = trigger_for(phrase_connection, download.id, unknown_project, not_before=now - 60)
    later = trigger_for(phrase_connection, download.id, unknown_project, not_before=now + 1.0)
    reported_at: dict[int, float] = {}

    async def run_and_note(index: int, trigger: PhraseConnectorTaskTrigger) -> ConnectorTaskEvent:
        (payload,) = await all_events(trigger)
        reported_at[index] = time.time()
        return parse_event(ConnectorTaskEvent, payload)

    events = await asyncio.gather(run_and_note(0, due), run_and_note(1, later))

    assert [e.status for e in events] == ["error", "error"]
    assert all("404" in e.message for e in events)
    # One shared poll, made for the due waiter, failed for good; the other waiter learnt of it at once
    # but reports it only at its own not_before.
    assert len(task_calls(phrase_emulator, since)) == 1
    assert reported_at[0] < later.not_before <= reported_at[1]


async def test_a_cancelled_waiter_stays_cancelled_when_an_observation_arrives_at_the_same_moment():
    """The triggerer cancels a trigger whose task was cleared; if the shared poll hands it an observation in
    the same loop iteration, the cancellation must not be lost (``asyncio.wait_for`` before Python 3.12
    returns the observation instead, and the trigger went on polling until its deadline)."""
    from airflow_phrase.triggers.coalescing import PollDelayed, Waiter

    waiter = Waiter(created_after=None, poll_interval=1.0)
    reading = asyncio.ensure_future(waiter.next_observation(timeout=30))
    await asyncio.sleep(0)  # it waits on the queue now

    waiter.queue.put_nowait(PollDelayed("an observation"))
    reading.cancel()

    with pytest.raises(asyncio.CancelledError):
        await reading
    assert reading.cancelled()


async def test_a_waiter_reads_observations_and_times_out_without_one():
    from airflow_phrase.triggers.coalescing import PollDelayed, Waiter

    waiter = Waiter(created_after=None, poll_interval=1.0)
    waiter.queue.put_nowait(PollDelayed("first"))

    assert await waiter.next_observation(timeout=5) == PollDelayed("first")
    assert await waiter.next_observation(timeout=0.05) is None
