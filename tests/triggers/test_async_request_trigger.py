"""PhraseAsyncRequestTrigger against the emulator: the IMPORT_JOB request of create-job."""

from __future__ import annotations

import json
import time
from typing import Any

from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.serde import deserialize, serialize

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import ConnectorTaskStatus, JobCreateRequest
from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger
from airflow_phrase.triggers.events import AsyncRequestEvent, parse_event
from tests.helpers import wait_until
from tests.triggers.support import (
    FAST_RETRY,
    OK_FILE,
    SECRETS,
    WEBSITE,
    all_events,
    last_seq,
    start_download,
    started_at,
)

ASYNC_PATH_PREFIX = "/api2/v1/async/"
CLASSPATH = "airflow_phrase.triggers.async_request.PhraseAsyncRequestTrigger"
#: Allowance for clock reads and scheduling when comparing journal times with ``not_before``: an immediate
#: poll, the failure these bounds catch, would come a whole (longer) poll interval earlier.
MARGIN = 0.5


def create_job(conn_id: str, path: str) -> str:
    """Download ``path``, wait for the task, create a job from it; return the IMPORT_JOB async request id."""
    download = start_download(conn_id, path)
    hook = PhraseTmsHook(conn_id)
    try:

        def finished() -> bool:
            state = hook.get_connector_task_state(WEBSITE, download.id)
            return state is not None and state.status is ConnectorTaskStatus.SUCCESS

        wait_until(finished)
        jobs = hook.create_job_from_connector_task(
            WEBSITE, download.id, JobCreateRequest(target_langs=["de"])
        )
    finally:
        hook.close()
    assert jobs.async_request is not None
    return jobs.async_request.id


def async_calls(emulator: Any, since: int) -> list[Any]:
    return [e for e in emulator.admin.journal(since=since) if e.path.startswith(ASYNC_PATH_PREFIX)]


def make_trigger(conn_id: str, request_id: str, **kwargs: Any) -> PhraseAsyncRequestTrigger:
    kwargs.setdefault("poll_interval", 0.1)
    kwargs.setdefault("deadline", time.time() + 30)
    return PhraseAsyncRequestTrigger(conn_id, request_id, retry_policy=FAST_RETRY, **kwargs)


async def test_finished_import_yields_success_with_the_request(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(import_delay=0.6)
    request_id = create_job(phrase_connection, OK_FILE)
    since = last_seq(phrase_emulator)

    events = await all_events(make_trigger(phrase_connection, request_id))

    assert len(events) == 1
    event = parse_event(AsyncRequestEvent, events[0])
    assert event.status == "success"
    assert event.async_request is not None
    assert event.async_request["id"] == request_id and event.async_request["asyncResponse"] is not None
    polled = [e for e in phrase_emulator.admin.journal(since=since) if e.path.startswith(ASYNC_PATH_PREFIX)]
    assert polled and all(e.method == "GET" for e in polled)
    assert len(polled) >= 2  # it really waited: the first poll saw the import still running


async def test_failed_import_yields_error_with_code_and_description(
    phrase_emulator: Any, phrase_connection: str
):
    request_id = create_job(phrase_connection, "docs/guides/bad-import.md")

    (payload,) = await all_events(make_trigger(phrase_connection, request_id))

    event = parse_event(AsyncRequestEvent, payload)
    assert event.status == "error"
    assert event.message.startswith("JobImportFailed: ")
    assert "unterminated YAML front matter" in event.message


async def test_deadline_yields_timeout(phrase_emulator: Any, phrase_connection: str):
    phrase_emulator.admin.configure(import_delay=3600)
    request_id = create_job(phrase_connection, OK_FILE)

    (payload,) = await all_events(make_trigger(phrase_connection, request_id, deadline=time.time() + 0.5))

    event = parse_event(AsyncRequestEvent, payload)
    assert event.status == "timeout"
    assert event.async_request is not None and event.async_request["asyncResponse"] is None


async def test_transient_errors_during_the_wait_still_end_in_success(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(import_delay=0.5)
    request_id = create_job(phrase_connection, OK_FILE)
    faults = [{"status": 503}] * 5 + [{"status": 429, "retryAfter": "0"}] * 4
    phrase_emulator.admin.set_faults([{"method": "GET", "path": "/api2/v1/async/.*", "sequence": faults}])

    (payload,) = await all_events(make_trigger(phrase_connection, request_id))

    assert parse_event(AsyncRequestEvent, payload).status == "success"


async def test_unknown_request_yields_error(phrase_emulator: Any, phrase_connection: str):
    (payload,) = await all_events(make_trigger(phrase_connection, "999999999"))

    event = parse_event(AsyncRequestEvent, payload)
    assert event.status == "error" and "404" in event.message


def test_serialize_round_trips_and_carries_no_secret(phrase_connection: str):
    trigger = PhraseAsyncRequestTrigger(
        phrase_connection, "5200001", poll_interval=3, deadline=1_900_000_000.0, not_before=1_899_999_990
    )

    classpath, kwargs = trigger.serialize()

    assert classpath == CLASSPATH
    assert kwargs == {
        "phrase_conn_id": phrase_connection,
        "async_request_id": "5200001",
        "poll_interval": 3.0,
        "deadline": 1_900_000_000.0,
        "retry_policy": None,
        "not_before": 1_899_999_990.0,
    }
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert not any(secret in json.dumps(kwargs) + repr(trigger) for secret in SECRETS)


def test_not_before_defaults_to_one_interval_after_the_trigger_is_built():
    before = time.time()
    trigger = PhraseAsyncRequestTrigger("c", "5200001", poll_interval=4)
    after = time.time()

    assert before + 4 <= trigger.not_before <= after + 4
    assert trigger.serialize()[1]["not_before"] == trigger.not_before


async def test_no_poll_before_one_interval_after_the_trigger_was_built(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(import_delay=0)
    request_id = create_job(phrase_connection, OK_FILE)  # already imported: a poll at once would fire
    since = last_seq(phrase_emulator)
    built = time.time()
    trigger = make_trigger(phrase_connection, request_id, poll_interval=1.5)

    (payload,) = await all_events(trigger)
    fired = time.time()

    assert parse_event(AsyncRequestEvent, payload).status == "success"
    assert built + 1.5 <= trigger.not_before <= fired
    polled = async_calls(phrase_emulator, since)
    assert polled
    assert min(started_at(call) for call in polled) >= built + 1.5 - MARGIN


async def test_a_rebuilt_trigger_whose_not_before_passed_polls_at_once(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(import_delay=0)
    request_id = create_job(phrase_connection, OK_FILE)
    original = make_trigger(
        phrase_connection,
        request_id,
        poll_interval=60,
        not_before=time.time() - 120,
        deadline=time.time() + 15,
    )
    classpath, kwargs = original.serialize()
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))

    (payload,) = await all_events(rebuilt)

    assert rebuilt.not_before == original.not_before
    # Had the rebuild started a fresh delay, its first poll would be 60 s away, after the deadline.
    assert parse_event(AsyncRequestEvent, payload).status == "success"


async def test_a_deadline_before_not_before_times_out_at_the_deadline_without_polling(
    phrase_emulator: Any, phrase_connection: str
):
    phrase_emulator.admin.configure(import_delay=0)
    request_id = create_job(phrase_connection, OK_FILE)  # imported: any poll would end in success
    since = last_seq(phrase_emulator)
    deadline = time.time() + 0.5
    trigger = make_trigger(phrase_connection, request_id, poll_interval=60, deadline=deadline)

    (payload,) = await all_events(trigger)
    fired = time.time()

    event = parse_event(AsyncRequestEvent, payload)
    assert event.status == "timeout" and event.async_request is None
    assert deadline <= fired < trigger.not_before
    assert async_calls(phrase_emulator, since) == []


async def test_a_bad_connection_is_reported_no_earlier_than_not_before(phrase_emulator: Any):
    not_before = time.time() + 0.8

    (payload,) = await all_events(make_trigger("phrase_no_such_connection", "5200001", not_before=not_before))

    assert parse_event(AsyncRequestEvent, payload).status == "error"
    assert time.time() >= not_before
