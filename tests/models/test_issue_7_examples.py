"""The three responses of issue 7 that used to fail a whole listing, each with the value it must give.

1. a folder listing whose ``lastModified`` is a Java ``Instant`` object;
2. a connector task state / job whose ids are JSON numbers, which reconciliation must still match;
3. a connectorAsyncTasks page with a task in a status the spec does not list (``CANCELLED``), which
   used to fail every waiter of the project's coalesced poll.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from airflow_phrase.emulator.state import CANCELLED_TASK_ID
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import (
    ConnectorTaskStatesPage,
    ConnectorTaskStatus,
    FolderListing,
    JobCreateRequest,
    JobPartsPage,
    UnknownValue,
)
from airflow_phrase.triggers.events import ConnectorTaskEvent, parse_event
from tests.helpers import DEMO_API_TOKEN
from tests.triggers.support import FAST_RETRY, OK_FILE, WEBSITE, all_events, start_download

LIVE_QUIRKS = [{"live_quirks": True}]


def test_an_instant_last_modified_reads_as_its_utc_moment() -> None:
    listing = FolderListing.model_validate(
        {
            "files": [
                {
                    "id": 4711,
                    "name": "install.md",
                    "encodedName": "696e7374616c6c2e6d64",
                    "lastModified": {"epochSecond": 1785909781, "nano": 785484047},
                }
            ]
        }
    )
    (entry,) = listing.files
    assert entry.last_modified == datetime(2026, 8, 5, 6, 3, 1, 785484, tzinfo=timezone.utc)
    assert entry.last_modified.isoformat().replace("+00:00", "Z") == "2026-08-05T06:03:01.785484Z"
    assert entry.id == "4711"


def test_numeric_ids_read_as_decimal_strings() -> None:
    page = ConnectorTaskStatesPage.model_validate(
        {"content": [{"id": 310001, "status": "SUCCESS", "jobUid": None}], "projectUid": "p"}
    )
    assert page.content[0].id == "310001"
    jobs = JobPartsPage.model_validate({"content": [{"uid": "j1", "innerId": 7, "serverTaskId": 310001}]})
    assert (jobs.content[0].server_task_id, jobs.content[0].inner_id) == ("310001", "7")


@pytest.mark.parametrize("phrase_emulator", LIVE_QUIRKS, indirect=True)
def test_reconciliation_matches_a_task_sent_as_a_number(phrase_emulator: Any, phrase_connection: str) -> None:
    hook = PhraseTmsHook(phrase_connection)
    started = start_download(phrase_connection)
    state, _ = hook.wait_for_download(
        WEBSITE, started.id, created_after=None, poll_interval=0.05, deadline=time.time() + 20
    )
    created = hook.create_job_from_connector_task(
        WEBSITE, started.id, JobCreateRequest(target_langs=["de", "ja"])
    )
    # On the wire, serverTaskId is a number in this mode ...
    raw = requests.get(
        phrase_emulator.url(f"/api2/v2/projects/{WEBSITE}/jobs"),
        headers={"Authorization": f"ApiToken {DEMO_API_TOKEN}"},
        timeout=10,
    ).json()
    assert {job["serverTaskId"] for job in raw["content"]} == {int(started.id)}
    # ... and reconciliation still finds exactly the jobs created from the task.
    found = hook.find_jobs_of_task(WEBSITE, started.id, state=state)
    assert sorted(job.uid for job in found) == sorted(job.uid for job in created.jobs)
    # Matched by serverTaskId (a number on the wire, a string once read): every job of the task.
    assert len(found) == len(created.jobs) == 2


@pytest.mark.parametrize("phrase_emulator", LIVE_QUIRKS, indirect=True)
async def test_an_unknown_status_fails_only_its_own_waiter(
    phrase_emulator: Any, phrase_connection: str
) -> None:
    """Decision: a task whose status the provider does not know counts as finished once Phrase has
    processed it (``dateProcessed`` set), and as failed (only SUCCESS yields the file); before that it
    counts as still running. The other waiters of the shared poll are not affected."""
    import asyncio

    from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger

    started = start_download(phrase_connection, OK_FILE)

    def trigger(task_id: str) -> PhraseConnectorTaskTrigger:
        return PhraseConnectorTaskTrigger(
            phrase_conn_id=phrase_connection,
            project_uid=WEBSITE,
            download_task_id=task_id,
            poll_interval=0.2,
            deadline=time.time() + 30,
            retry_policy=FAST_RETRY,
            not_before=0.0,
        )

    ok, odd = await asyncio.gather(all_events(trigger(started.id)), all_events(trigger(CANCELLED_TASK_ID)))
    succeeded = parse_event(ConnectorTaskEvent, ok[0])
    cancelled = parse_event(ConnectorTaskEvent, odd[0])
    assert succeeded.status == "success" and succeeded.task_state is not None
    assert succeeded.task_state["status"] == ConnectorTaskStatus.SUCCESS.value
    assert cancelled.status == "error"
    assert "'CANCELLED', which this provider does not know" in cancelled.message
    assert "treated as failed" in cancelled.message and "Cancelled by a user in Phrase." in cancelled.message
    assert cancelled.task_state is not None and cancelled.task_state["status"] == "CANCELLED"


def test_an_unknown_status_before_processing_counts_as_still_running() -> None:
    page = ConnectorTaskStatesPage.model_validate(
        {"content": [{"id": "1", "status": "QUEUED"}, {"id": "2", "status": "CANCELLED", "dateProcessed": 0}]}
    )
    queued, cancelled = page.content
    assert queued.status == UnknownValue("QUEUED") and not queued.is_finished and not queued.is_failure
    assert cancelled.is_finished and cancelled.is_failure
