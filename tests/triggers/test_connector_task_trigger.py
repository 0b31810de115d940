"""PhraseConnectorTaskTrigger against the emulator over real HTTP: outcomes, faults, token expiry, serde."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.serde import deserialize, serialize
from pydantic import ValidationError

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.triggers.coalescing import active_pollers
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from airflow_phrase.triggers.events import ConnectorTaskEvent, parse_event
from airflow_phrase.triggers.pollers import CLOCK_SKEW_MARGIN
from tests.helpers import async_wait_until
from tests.triggers.support import (
    CONVERTER_ERROR_FILE,
    ERROR_FILE,
    FAST_RETRY,
    SECRETS,
    TASKS_PATH,
    WEBSITE,
    all_events,
    cached_login_tokens,
    last_seq,
    start_download,
    started_at,
    task_calls,
)

CLASSPATH = "airflow_phrase.triggers.connector_task.PhraseConnectorTaskTrigger"
#: Allowance for clock reads and scheduling when comparing journal times with ``not_before``: an immediate
#: poll, the failure these bounds catch, would come a whole (longer) poll interval earlier.
MARGIN = 0.5


def make_trigger(conn_id: str, task_id: str, **kwargs: Any) -> PhraseConnectorTaskTrigger:
    kwargs.setdefault("poll_interval", 0.1)
    kwargs.setdefault("deadline", time.time() + 30)
    kwargs.setdefault("retry_policy", FAST_RETRY)
    return PhraseConnectorTaskTrigger(
        phrase_conn_id=conn_id,
        project_uid=kwargs.pop("project_uid", WEBSITE),
        download_task_id=task_id,
        **kwargs,
    )


async def test_success_yields_exactly_one_event_with_the_task_state(
    phrase_emulator: Any, phrase_connection: str
):
    download = start_download(phrase_connection)
    since = last_seq(phrase_emulator)

    events = await all_events(make_trigger(phrase_connection, download.id))

    assert len(events) == 1
    event = parse_event(ConnectorTaskEvent, events[0])
    assert event.status == "success"
    assert event.download_task_id == download.id and event.project_uid == WEBSITE
    assert event.task_state is not None
    assert event.task_state["id"] == download.id and event.task_state["status"] == "SUCCESS"
    json.dumps(events[0])  # plain JSON, nothing pydantic left
    waited = phrase_emulator.admin.journal(since=since)
    assert waited and {(e.method, e.path) for e in waited} <= {
        ("GET", TASKS_PATH),
        ("POST", "/api2/v3/auth/login"),
    }
    assert all(e.method == "GET" for e in waited if e.path != "/api2/v3/auth/login")
    assert active_pollers() == []  # the shared poller went away with its last waiter


@pytest.mark.parametrize(
    ("path", "status"),
    [(ERROR_FILE, "ERROR"), (CONVERTER_ERROR_FILE, "CONVERTER_ERROR")],
    ids=["error", "converter"],
)
async def test_failed_task_yields_error_with_phrases_message(
    phrase_emulator: Any, phrase_connection: str, path: str, status: str
):
    download = start_download(phrase_connection, path)

    (payload,) = await all_events(make_trigger(phrase_connection, download.id))

    event = parse_event(ConnectorTaskEvent, payload)
    hook = PhraseTmsHook(phrase_connection)
    phrase_state = hook.get_connector_task_state(WEBSITE, download.id)
    hook.close()
    assert phrase_state is not None and phrase_state.error_message
    assert event.status == "error"
    assert event.message == phrase_state.error_message
    assert event.task_state is not None and event.task_state["status"] == status


async def test_deadline_yields_timeout_with_the_last_seen_state(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=3600)
    download = start_download(phrase_connection)
    deadline = time.time() + 0.6

    (payload,) = await all_events(make_trigger(phrase_connection, download.id, deadline=deadline))

    event = parse_event(ConnectorTaskEvent, payload)
    assert event.status == "timeout"
    assert time.time() >= deadline
    assert download.id in event.message
    assert event.task_state is not None and event.task_state["status"] == "NEW"


async def test_deadline_already_passed_times_out_without_waiting(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=3600)
    download = start_download(phrase_connection)

    (payload,) = await all_events(make_trigger(phrase_connection, download.id, deadline=time.time() - 1))

    assert parse_event(ConnectorTaskEvent, payload).status == "timeout"


async def test_429_storm_and_503s_during_the_wait_still_end_in_success(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=1.0)
    download = start_download(phrase_connection)
    since = last_seq(phrase_emulator)
    storm = [{"status": 429, "retryAfter": "0"}] * 6 + [{"status": 503}] * 4 + [{"status": 429}] * 3
    phrase_emulator.admin.set_faults([{"method": "GET", "path": TASKS_PATH, "sequence": storm}])

    (payload,) = await all_events(make_trigger(phrase_connection, download.id))

    event = parse_event(ConnectorTaskEvent, payload)
    assert event.status == "success", event.message
    statuses = [e.status for e in task_calls(phrase_emulator, since)]
    # Every fault was served (more than one poll's worth of retries: the poller polled again), then a 200.
    assert statuses.count(429) == 9 and statuses.count(503) == 4
    assert statuses[-1] == 200


async def test_dropped_connections_during_the_wait_still_end_in_success(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=0.5)
    download = start_download(phrase_connection)
    phrase_emulator.admin.set_faults(
        [{"method": "GET", "path": TASKS_PATH, "sequence": [{"drop": True}] * 5 + [{"status": 502}] * 2}]
    )

    (payload,) = await all_events(make_trigger(phrase_connection, download.id))

    assert parse_event(ConnectorTaskEvent, payload).status == "success"


async def test_login_token_expiring_mid_wait_is_renewed(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(task_delay=1.5)
    download = start_download(phrase_connection)
    since = last_seq(phrase_emulator)
    trigger = make_trigger(phrase_connection, download.id, poll_interval=0.1)
    running = asyncio.ensure_future(all_events(trigger))
    await async_wait_until(lambda: any(e.status == 200 for e in task_calls(phrase_emulator, since)))
    tokens = cached_login_tokens()
    assert tokens, "the trigger's hook should have logged in"
    for token in tokens:
        phrase_emulator.admin.expire_token(token)

    (payload,) = await asyncio.wait_for(running, timeout=30)

    assert parse_event(ConnectorTaskEvent, payload).status == "success"
    entries = phrase_emulator.admin.journal(since=since)
    rejected = [e.seq for e in entries if e.path == TASKS_PATH and e.status == 401]
    relogins = [e.seq for e in entries if e.path == "/api2/v3/auth/login" and e.status == 200]
    assert rejected, "the expired token should have been rejected once"
    assert any(seq > rejected[0] for seq in relogins), "the hook should have logged in again"


async def test_non_retryable_api_error_yields_error_event(phrase_emulator: Any, phrase_connection: str):
    download = start_download(phrase_connection)

    (payload,) = await all_events(
        make_trigger(phrase_connection, download.id, project_uid="prjDoesNotExist0000001")
    )

    event = parse_event(ConnectorTaskEvent, payload)
    assert event.status == "error"
    assert "404" in event.message


async def test_missing_connection_yields_error_event_not_an_exception(phrase_emulator: Any):
    (payload,) = await all_events(make_trigger("phrase_no_such_connection", "310001"))

    event = parse_event(ConnectorTaskEvent, payload)
    assert event.status == "error"
    assert "phrase_no_such_connection" in event.message


async def test_created_after_is_sent_as_date_created_from(phrase_emulator: Any, phrase_connection: str):
    download = start_download(phrase_connection)
    created_after = datetime.now(timezone.utc) - timedelta(hours=30)
    since = last_seq(phrase_emulator)

    await all_events(make_trigger(phrase_connection, download.id, created_after=created_after.isoformat()))

    (sent,) = {e.param("dateCreatedFrom") for e in task_calls(phrase_emulator, since)}
    assert sent is not None
    sent_at = datetime.fromisoformat(sent.replace("Z", "+00:00"))
    assert abs(sent_at - (created_after - CLOCK_SKEW_MARGIN)) < timedelta(seconds=1)


def test_serialize_round_trips_and_carries_no_secret(phrase_connection: str):
    trigger = PhraseConnectorTaskTrigger(
        phrase_conn_id=phrase_connection,
        project_uid=WEBSITE,
        download_task_id="310001",
        poll_interval=7.5,
        deadline=1_900_000_000.25,
        created_after="2026-11-28T10:00:00+0000",
        retry_policy=FAST_RETRY,
        not_before=1_899_999_000.5,
        claim_file_name="install.md",
        claim_version_after="2026-11-27T10:00:00Z",
        abandon_after=120,
    )

    classpath, kwargs = trigger.serialize()

    assert classpath == CLASSPATH
    assert kwargs == {
        "phrase_conn_id": phrase_connection,
        "project_uid": WEBSITE,
        "download_task_id": "310001",
        "poll_interval": 7.5,
        "deadline": 1_900_000_000.25,
        "created_after": "2026-11-28T10:00:00+00:00",
        "retry_policy": {
            **FAST_RETRY,
            "total_timeout": 10.0,
            "initial_wait": 0.05,
            "max_wait": 0.2,
            "jitter": 0.0,
        },
        "not_before": 1_899_999_000.5,
        "claim_file_name": "install.md",
        "claim_version_after": "2026-11-27T10:00:00+00:00",
        "abandon_after": 120.0,
    }
    # The task runner ships kwargs with airflow.sdk.serde; the triggerer rebuilds the trigger from them.
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    text = json.dumps(kwargs) + repr(trigger)
    assert not any(secret in text for secret in SECRETS)


def test_not_before_defaults_to_one_interval_after_the_trigger_is_built_and_survives_serde():
    before = time.time()
    trigger = PhraseConnectorTaskTrigger("c", WEBSITE, "1", poll_interval=12.0)
    after = time.time()

    classpath, kwargs = trigger.serialize()
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))

    assert before + 12.0 <= trigger.not_before <= after + 12.0
    assert kwargs["not_before"] == trigger.not_before
    assert rebuilt.not_before == trigger.not_before  # not pushed back by the rebuild


def test_bad_kwargs_are_rejected_when_the_trigger_is_built():
    with pytest.raises(ValueError, match="timezone-aware"):
        PhraseConnectorTaskTrigger("c", WEBSITE, "1", created_after="2026-11-28T10:00:00")
    with pytest.raises(ValueError, match="poll_interval"):
        PhraseConnectorTaskTrigger("c", WEBSITE, "1", poll_interval=0)
    with pytest.raises(ValidationError):
        PhraseConnectorTaskTrigger("c", WEBSITE, "1", retry_policy={"max_attempts": 0})
    with pytest.raises(ValueError, match="not_before"):
        PhraseConnectorTaskTrigger("c", WEBSITE, "1", not_before=float("nan"))
    with pytest.raises(ValueError, match="not_before"):
        PhraseConnectorTaskTrigger("c", WEBSITE, "1", not_before="2026-11-28T10:00:00+00:00")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- not before


async def test_no_poll_before_one_interval_after_the_trigger_was_built(
    phrase_emulator: Any, phrase_connection: str
):
    # apache/airflow#67287: the task finished before the trigger even ran; firing at once would resume
    # the task before the scheduler has processed the deferral.
    phrase_emulator.admin.configure(task_delay=0)
    download = start_download(phrase_connection)
    since = last_seq(phrase_emulator)
    built = time.time()
    trigger = make_trigger(phrase_connection, download.id, poll_interval=1.5)

    (payload,) = await all_events(trigger)
    fired = time.time()

    assert parse_event(ConnectorTaskEvent, payload).status == "success"
    assert built + 1.5 <= trigger.not_before <= fired
    calls = task_calls(phrase_emulator, since)
    assert calls
    assert min(started_at(call) for call in calls) >= built + 1.5 - MARGIN


async def test_a_rebuilt_trigger_whose_not_before_passed_polls_at_once(
    phrase_emulator: Any, phrase_connection: str
):
    # A triggerer restart long after the deferral: the rebuilt trigger must not wait another interval.
    phrase_emulator.admin.configure(task_delay=0)
    download = start_download(phrase_connection)
    original = make_trigger(
        phrase_connection,
        download.id,
        poll_interval=60.0,
        not_before=time.time() - 120,
        deadline=time.time() + 15,
    )
    classpath, kwargs = original.serialize()
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))
    since = last_seq(phrase_emulator)

    (payload,) = await all_events(rebuilt)

    assert rebuilt.not_before == original.not_before
    # Had the rebuild started a fresh delay, its first poll would be 60 s away, after the deadline.
    assert parse_event(ConnectorTaskEvent, payload).status == "success"
    assert task_calls(phrase_emulator, since)


async def test_a_deadline_before_not_before_times_out_at_the_deadline_without_polling(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(task_delay=0)
    download = start_download(phrase_connection)  # finished: any poll would end in success
    since = last_seq(phrase_emulator)
    deadline = time.time() + 0.5
    trigger = make_trigger(phrase_connection, download.id, poll_interval=60.0, deadline=deadline)

    (payload,) = await all_events(trigger)
    fired = time.time()

    event = parse_event(ConnectorTaskEvent, payload)
    assert event.status == "timeout" and event.task_state is None
    assert deadline <= fired < trigger.not_before
    assert task_calls(phrase_emulator, since) == []
    assert active_pollers() == []


async def test_a_bad_connection_is_reported_no_earlier_than_not_before(phrase_emulator: Any):
    not_before = time.time() + 0.8

    (payload,) = await all_events(make_trigger("phrase_no_such_connection", "310001", not_before=not_before))

    assert parse_event(ConnectorTaskEvent, payload).status == "error"
    assert time.time() >= not_before


async def test_on_kill_and_cleanup_detach_from_the_poller(
    phrase_emulator: Any, phrase_connection: str, capsys
):
    phrase_emulator.admin.configure(task_delay=3600)
    download = start_download(phrase_connection)
    trigger = make_trigger(phrase_connection, download.id)
    running = asyncio.ensure_future(all_events(trigger))
    await async_wait_until(lambda: len(active_pollers()) == 1 and active_pollers()[0].polls >= 1)
    (poller,) = active_pollers()

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    capsys.readouterr()
    await trigger.on_kill()
    await trigger.cleanup()

    assert poller.waiters == set() and poller.stopped
    assert active_pollers() == []
    assert "no API to cancel" in capsys.readouterr().out
