"""How many Phrase calls an ingest costs: the exact sequence, with nothing looked at twice.

Behaviour, not speed: with the emulator finishing downloads and imports at once (no delay), a wait's
first look (one poll interval after starting the work) finds it finished, so every call is accounted for.
The API-token connection keeps the login out of the journal.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.waiting import wait_for_download
from tests.operators.conftest import TASKS_PATH, WEBSITE, RecordingTaskInstance, calls, jobs_in

ROOT = "/api2/v1/connectors/1001/folders"
DOCS = f"{ROOT}/{b'docs'.hex()}"
GUIDES = f"{ROOT}/{b'docs/guides'.hex()}"
DOWNLOAD = f"/api2/v2/connectors/1001/folders/{b'docs/guides'.hex()}/files/{b'docs/guides/install.md'.hex()}"
PROJECT = f"/api2/v1/projects/{WEBSITE}"
JOBS = f"/api2/v2/projects/{WEBSITE}/jobs"
CREATE = f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask"

#: Finding the file and what Phrase already has of it: each asked once.
LOOK_UP = [
    ("GET", ROOT),
    ("GET", DOCS),
    ("GET", GUIDES),
    ("GET", PROJECT),
    ("GET", JOBS),
    ("GET", TASKS_PATH),
]


def _operator(**kwargs: Any) -> PhraseIngestConnectorFileOperator:
    kwargs.setdefault("connector", "1001")
    kwargs.setdefault("folder", "docs/guides")
    kwargs.setdefault("file", "install.md")
    kwargs.setdefault("project_uid", WEBSITE)
    kwargs.setdefault("target_langs", ["de", "fr_fr", "ja"])
    kwargs.setdefault("poll_interval", 0.05)
    return PhraseIngestConnectorFileOperator(task_id="ingest", **kwargs)


def _ctx() -> dict[str, Any]:
    return {"ti": RecordingTaskInstance()}


def _async_path(result: dict[str, Any]) -> str:
    """The path of the result's import request."""
    return f"/api2/v1/async/{result['async_request_id']}"


@pytest.fixture
def instant(emulator: Any) -> Any:
    emulator.admin.configure(task_delay=0, import_delay=0)
    return emulator


def test_a_poke_mode_ingest_asks_for_nothing_twice(instant: Any) -> None:
    result = _operator(deferrable=False, wait_for_import=True).execute(_ctx())

    assert calls(instant) == [
        *LOOK_UP,
        ("POST", DOWNLOAD),
        ("GET", TASKS_PATH),  # the download's first (and here only) poll, one interval after starting it
        ("POST", CREATE),  # no second look for jobs: this try just listed them and the task links none
        ("GET", _async_path(result)),
    ]
    assert result["reused"] is None and len(result["job_uids"]) == 3


def test_a_connector_given_by_name_costs_one_listing_more(instant: Any) -> None:
    _operator(connector="Docs Git", deferrable=False).execute(_ctx())

    assert calls(instant)[:2] == [("GET", "/api2/v1/connectors"), ("GET", ROOT)]
    assert calls(instant).count(("GET", "/api2/v1/connectors")) == 1


def test_the_deferrable_path_checks_for_jobs_after_the_resume_only(instant: Any) -> None:
    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True, wait_for_import=True).execute(_ctx())

    # Started a moment ago: deferred at once, without looking at the download first.
    assert calls(instant) == [*LOOK_UP, ("POST", DOWNLOAD)]
    progress = json.loads(json.dumps(deferred.value.kwargs["progress"]))
    assert progress["workflow_levels"] == [None]
    state = wait_for_download(
        PhraseTmsHook(),
        WEBSITE,
        progress["download_task_id"],
        created_after=None,
        poll_interval=0.05,
        deadline=time.time() + 30,
    )
    event = {
        "status": "success",
        "project_uid": WEBSITE,
        "download_task_id": state.id,
        "task_state": state.to_wire(),
        "message": "done",
    }
    instant.admin.clear_journal()

    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True, wait_for_import=True).execute_complete(
            _ctx(), event=event, progress=progress
        )

    # After a resume the jobs are looked for before creating (the project is not read again: its
    # workflow levels came along); the import, asked for a moment ago, is waited for in the triggerer.
    assert calls(instant) == [("GET", JOBS), ("POST", CREATE)]
    result = deferred.value.kwargs["result"]
    assert deferred.value.method_name == "execute_complete_import"
    assert len(result["job_uids"]) == 3 == len(jobs_in(instant))


def test_a_reused_download_that_finished_is_not_waited_for(instant: Any) -> None:
    """A download an earlier try started (and Phrase finished) is used as listed: no poll."""
    instant.admin.configure(task_delay=0.3)
    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True).execute(_ctx())  # the earlier try, lost after deferring
    task_id = deferred.value.kwargs["progress"]["download_task_id"]
    wait_for_download(  # ... and Phrase finished the download meanwhile
        PhraseTmsHook(), WEBSITE, task_id, created_after=None, poll_interval=0.05, deadline=time.time() + 30
    )
    instant.admin.clear_journal()

    result = _operator(deferrable=False).execute(_ctx())

    assert result["reused"] == "download" and result["download_task_id"] == task_id
    assert calls(instant) == [*LOOK_UP, ("POST", CREATE)]


def test_a_fresh_state_that_links_a_job_is_checked_before_creating(instant: Any) -> None:
    """The shortcut holds only while the task links no job: a linked one is looked up, not duplicated."""
    from airflow_phrase.models import JobCreateRequest
    from airflow_phrase.operators.job_creation import create_jobs_once

    first = _operator(deferrable=False).execute(_ctx())
    hook = PhraseTmsHook()
    state = hook.get_connector_task_state(WEBSITE, first["download_task_id"])
    assert state is not None and state.job_uid  # Phrase linked the task to its first job
    instant.admin.clear_journal()

    again = create_jobs_once(
        hook,
        WEBSITE,
        first["download_task_id"],
        JobCreateRequest(target_langs=["de", "fr_fr", "ja"]),
        task_state=state,
        fresh_state=True,
    )

    assert sorted(again["job_uids"]) == sorted(first["job_uids"])
    assert [method for method, _ in calls(instant)] == ["GET", "GET"]  # project, jobs; no POST
    assert len(jobs_in(instant)) == 3
