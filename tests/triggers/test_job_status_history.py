"""``PhraseJobStatusTrigger`` in a long-lived project: the cost of a poll does not grow with the history.

A real project holds thousands of jobs completed long ago. Listing every job in the statuses that end a
wait would cost a call per 50 of them at every poll; the poller reads page 0 of that listing and, when
the rest of it is longer than the search for the waited jobs, looks those up instead
(``POST /api2/v1/projects/{p}/jobs/search``). Counts come from the emulator's journal.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow_phrase.triggers.coalescing import active_pollers
from tests.triggers.jobs_support import (
    add_completed_history,
    calls_per_poll,
    create_jobs,
    listing_calls,
    search_calls,
)
from tests.triggers.support import last_seq
from tests.triggers.test_job_status_trigger import outcome, trigger_for

HISTORY = 500  # ten listing pages of jobs completed long ago


async def test_three_waited_jobs_cost_at_most_two_calls_a_poll_whatever_the_history(
    phrase_emulator: Any, phrase_connection: str
):
    de, fr, ja = create_jobs(phrase_connection)
    add_completed_history(phrase_emulator, de, HISTORY)
    phrase_emulator.admin.script_job(de, status="COMPLETED", after=0.5)
    phrase_emulator.admin.script_job(fr, status="CANCELLED", after=0.7)
    phrase_emulator.admin.script_job(ja, status="COMPLETED", after=0.9)
    since = last_seq(phrase_emulator)

    event = await outcome(trigger_for(phrase_connection, [de, fr, ja]))

    assert event.status == "success"
    assert sorted(job["uid"] for job in event.reached) == sorted([de, ja])
    assert [(job["uid"], job["status"]) for job in event.ended_otherwise] == [(fr, "CANCELLED")]
    per_poll = calls_per_poll(phrase_emulator, since)
    assert len(per_poll) >= 2, per_poll  # the jobs ended while it polled
    assert max(per_poll) <= 2, per_poll  # page 0, then one search for the three jobs
    assert [c.param("pageNumber") for c in listing_calls(phrase_emulator, since)] == ["0"] * len(per_poll)
    assert len(search_calls(phrase_emulator, since)) == len(per_poll)
    assert active_pollers() == []


async def test_coalesced_waits_search_for_the_union_of_their_jobs(
    phrase_emulator: Any, phrase_connection: str
):
    de, fr, ja = create_jobs(phrase_connection)
    add_completed_history(phrase_emulator, de, HISTORY)
    for uid in (de, fr, ja):
        phrase_emulator.admin.script_job(uid, status="COMPLETED", after=0.5)
    since = last_seq(phrase_emulator)

    # Three tasks, one job each, sharing one poller: one search names all three jobs.
    events = await asyncio.gather(*(outcome(trigger_for(phrase_connection, [uid])) for uid in (de, fr, ja)))

    assert [e.status for e in events] == ["success"] * 3
    assert [e.reached[0]["uid"] for e in events] == [de, fr, ja]
    assert max(calls_per_poll(phrase_emulator, since)) <= 2


async def test_a_short_listing_costs_one_call_a_poll_as_before(phrase_emulator: Any, phrase_connection: str):
    de, fr, ja = create_jobs(phrase_connection)
    add_completed_history(phrase_emulator, de, 20)  # one listing page, history and all
    phrase_emulator.admin.script_job(de, status="COMPLETED", after=0.3)
    phrase_emulator.admin.script_job(fr, status="COMPLETED", after=0.5)
    phrase_emulator.admin.script_job(ja, status="COMPLETED", after=0.7)
    since = last_seq(phrase_emulator)
    started = time.monotonic()

    event = await outcome(trigger_for(phrase_connection, [de, fr, ja]))

    assert event.status == "success" and len(event.reached) == 3
    per_poll = calls_per_poll(phrase_emulator, since)
    assert per_poll and set(per_poll) == {1}, per_poll
    assert search_calls(phrase_emulator, since) == []
    assert len(per_poll) <= (time.monotonic() - started) / 0.2 + 2
