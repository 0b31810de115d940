"""``PhraseJobStatusTrigger``: jobs reaching a status, coalesced per project, against the emulator.

Counts come from the emulator's journal (what reached the server); jobs change status on the
emulator's clock (``script_job`` / ``job_completion_delay``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from airflow_phrase.triggers.coalescing import active_pollers
from airflow_phrase.triggers.events import JobStatusEvent, parse_event
from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger
from tests.triggers.jobs_support import WEBSITE, clone_jobs, create_jobs, listing_calls
from tests.triggers.support import FAST_RETRY, SECRETS, all_events, last_seq

INTERVAL = 0.2


def trigger_for(conn_id: str, job_uids: list[str], **kwargs: Any) -> PhraseJobStatusTrigger:
    return PhraseJobStatusTrigger(
        phrase_conn_id=conn_id,
        project_uid=kwargs.pop("project_uid", WEBSITE),
        job_uids=job_uids,
        poll_interval=kwargs.pop("poll_interval", INTERVAL),
        deadline=kwargs.pop("deadline", time.time() + 60),
        retry_policy=FAST_RETRY,
        **kwargs,
    )


async def outcome(trigger: PhraseJobStatusTrigger) -> JobStatusEvent:
    events = await all_events(trigger)
    assert len(events) == 1
    return parse_event(JobStatusEvent, events[0])


@pytest.mark.parametrize("waiting", [30, 300])
async def test_n_waiting_jobs_cost_one_paged_listing_per_interval(
    phrase_emulator: Any, phrase_connection: str, waiting: int
):
    template = create_jobs(phrase_connection)[0]
    uids = clone_jobs(phrase_emulator, template, waiting)
    phrase_emulator.admin.configure(job_completion_delay=1.0)
    since = last_seq(phrase_emulator)
    started = time.monotonic()

    # One trigger (one deferred task) per job, all of the same project.
    results = await asyncio.gather(*(outcome(trigger_for(phrase_connection, [uid])) for uid in uids))

    elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["success"] * waiting
    assert all(r.reached and r.reached[0]["status"] == "COMPLETED" for r in results)
    calls = listing_calls(phrase_emulator, since)
    polls = {c.seq for c in calls if c.param("pageNumber") in ("0", None)}
    # One listing per interval (each a page per 50 jobs already ended), whatever the number of waiters.
    assert len(polls) <= elapsed / INTERVAL + 2, (len(polls), elapsed)
    assert len(calls) < waiting
    assert all(set(c.query["status"]) >= {"COMPLETED", "CANCELLED", "DECLINED", "REJECTED"} for c in calls)
    assert active_pollers() == []


async def test_a_cancelled_job_ends_its_wait_without_blocking_the_others(
    phrase_emulator: Any, phrase_connection: str
):
    de, fr, ja = create_jobs(phrase_connection)
    phrase_emulator.admin.script_job(de, status="COMPLETED", after=0.3)
    phrase_emulator.admin.script_job(fr, status="CANCELLED", after=0.0)
    phrase_emulator.admin.script_job(ja, status="DECLINED", after=0.5)

    event = await outcome(trigger_for(phrase_connection, [de, fr, ja]))

    assert event.status == "success"
    assert [job["uid"] for job in event.reached] == [de]
    assert {job["uid"]: job["status"] for job in event.ended_otherwise} == {fr: "CANCELLED", ja: "DECLINED"}
    assert event.pending == []
    assert "ended otherwise" in event.message and fr in event.message


async def test_a_chosen_status_such_as_delivered_is_what_is_waited_for(
    phrase_emulator: Any, phrase_connection: str
):
    de, fr, _ = create_jobs(phrase_connection)
    phrase_emulator.admin.script_job(de, status="COMPLETED", after=0.0)
    phrase_emulator.admin.script_job(fr, status="DELIVERED", after=0.3)

    event = await outcome(
        trigger_for(phrase_connection, [de, fr], target_statuses=["delivered", "COMPLETED"])
    )

    assert event.status == "success"
    assert {job["uid"]: job["status"] for job in event.reached} == {de: "COMPLETED", fr: "DELIVERED"}


async def test_a_job_that_never_gets_there_times_out_naming_it(phrase_emulator: Any, phrase_connection: str):
    de, fr, _ = create_jobs(phrase_connection)
    phrase_emulator.admin.script_job(de, status="COMPLETED", after=0.0)
    phrase_emulator.admin.script_job(fr, status=None)

    event = await outcome(trigger_for(phrase_connection, [de, fr], deadline=time.time() + 1.0))

    assert event.status == "timeout"
    assert event.pending == [fr]
    assert fr in event.message


async def test_an_unknown_project_ends_the_wait_with_an_error(phrase_emulator: Any, phrase_connection: str):
    event = await outcome(trigger_for(phrase_connection, ["jobPart000000000000001"], project_uid="prjNope"))

    assert event.status == "error"
    assert event.pending == ["jobPart000000000000001"]
    assert "404" in event.message


def test_serialize_round_trips_without_secrets(phrase_emulator: Any, phrase_connection: str):
    trigger = trigger_for(
        phrase_connection, ["a1", "b2"], target_statuses="completed,delivered", workflow_level=2
    )

    classpath, kwargs = trigger.serialize()
    rebuilt = PhraseJobStatusTrigger(**kwargs)

    assert classpath == "airflow_phrase.triggers.job_status.PhraseJobStatusTrigger"
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["target_statuses"] == ["COMPLETED", "DELIVERED"]
    assert kwargs["not_before"] == trigger.not_before  # kept, not recomputed
    text = json.dumps(kwargs)
    assert not any(secret in text for secret in SECRETS)


def test_bad_arguments_are_refused_naming_them():
    with pytest.raises(ValueError, match="target_statuses: FINISHED is not a Phrase job status"):
        PhraseJobStatusTrigger("c", WEBSITE, ["a1"], target_statuses=["FINISHED"])
    with pytest.raises(ValueError, match="poll_interval"):
        PhraseJobStatusTrigger("c", WEBSITE, ["a1"], poll_interval=0.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"project_uid": "None"}, r"project_uid: 'None' is what a template renders"),
        ({"project_uid": "../prj"}, r"project_uid: '\.\./prj' is not a Phrase uid"),
        ({"job_uids": []}, r"job_uids: is empty"),
        ({"job_uids": "jobA"}, r"job_uids: must be a list"),  # not waited on as j, o, b, A
        ({"job_uids": ["jobA", "jobA"]}, r"job_uids: lists jobA more than once"),
        ({"job_uids": ["None"]}, r"job_uids\[0\]: 'None' is what a template renders"),
        ({"job_uids": ["job/../x"]}, r"job_uids\[0\]: 'job/\.\./x' is not a Phrase uid"),
        ({"workflow_level": 0}, r"workflow_level: must be a whole number from 1 to 15"),
        ({"workflow_level": "abc"}, r"workflow_level: must be a whole number from 1 to 15"),
        ({"workflow_level": True}, r"workflow_level: must be a whole number from 1 to 15"),
    ],
)
def test_bad_identifiers_are_refused_when_built_before_any_call(arguments: dict[str, Any], message: str):
    # The trigger is public API: built by hand (or by a sensor), bad values must never reach a URL.
    fields: dict[str, Any] = {"phrase_conn_id": "c", "project_uid": WEBSITE, "job_uids": ["a1"], **arguments}
    with pytest.raises(ValueError, match=message):
        PhraseJobStatusTrigger(**fields)


def test_more_than_a_thousand_jobs_can_be_waited_for():
    # Waiting reads a paged listing: unlike an export call, it has no 1,000-job limit.
    uids = [f"job{number}" for number in range(1500)]
    assert PhraseJobStatusTrigger("c", WEBSITE, uids).job_uids == uids
