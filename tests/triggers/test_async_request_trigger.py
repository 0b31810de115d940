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
from tests.triggers.support import (
    FAST_RETRY,
    OK_FILE,
    SECRETS,
    WEBSITE,
    all_events,
    last_seq,
    start_download,
    wait_until,
)

ASYNC_PATH_PREFIX = "/api2/v1/async/"


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
        phrase_connection, "5200001", poll_interval=3, deadline=1_900_000_000.0
    )

    classpath, kwargs = trigger.serialize()

    assert classpath == "airflow_phrase.triggers.async_request.PhraseAsyncRequestTrigger"
    assert kwargs == {
        "phrase_conn_id": phrase_connection,
        "async_request_id": "5200001",
        "poll_interval": 3.0,
        "deadline": 1_900_000_000.0,
        "retry_policy": None,
    }
    rebuilt = import_string(classpath)(**deserialize(serialize(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert not any(secret in json.dumps(kwargs) + repr(trigger) for secret in SECRETS)
