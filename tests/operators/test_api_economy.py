"""How many Phrase calls an ingest costs: the exact sequence, with nothing looked at twice.

Behaviour, not speed: with the emulator finishing downloads and imports at once (no delay), a wait's
first look (one poll interval after starting the work) finds it finished, so every call is accounted for.
The API-token connection keeps the login out of the journal.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.ingest_state import IngestPlan
from tests.operators.conftest import (
    TASKS_PATH,
    WEBSITE,
    MemoryTaskStateStore,
    RecordingTaskInstance,
    calls,
    finished_state,
    jobs_in,
    retry_context,
)

ROOT = "/api2/v1/connectors/1001/folders"
DOCS = f"{ROOT}/{b'docs'.hex()}"
GUIDES = f"{ROOT}/{b'docs/guides'.hex()}"
DOWNLOAD = f"/api2/v2/connectors/1001/folders/{b'docs/guides'.hex()}/files/{b'docs/guides/install.md'.hex()}"
PROJECT = f"/api2/v1/projects/{WEBSITE}"
JOBS = f"/api2/v2/projects/{WEBSITE}/jobs"
CREATE = f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask"

#: Without the run's plan: finding the file and what Phrase already has of it, each asked once.
LOOK_UP = [("GET", ROOT), ("GET", DOCS), ("GET", GUIDES), ("GET", PROJECT), ("GET", JOBS)]


def _operator(**kwargs: Any) -> PhraseIngestConnectorFileOperator:
    kwargs.setdefault("connector", "1001")
    kwargs.setdefault("folder", "docs/guides")
    kwargs.setdefault("file", "install.md")
    kwargs.setdefault("project_uid", WEBSITE)
    kwargs.setdefault("target_langs", ["de", "fr_fr", "ja"])
    kwargs.setdefault("poll_interval", 0.05)
    return PhraseIngestConnectorFileOperator(task_id="ingest", **kwargs)


def _ctx(store: MemoryTaskStateStore | None = None) -> dict[str, Any]:
    return {"ti": RecordingTaskInstance(), "task_state_store": store or MemoryTaskStateStore()}


def _plan() -> dict[str, Any]:
    hook = PhraseTmsHook()
    try:
        version = hook.resolve_remote_file("1001", "docs/guides", "install.md").version
    finally:
        hook.close()
    return IngestPlan(
        file=version,
        version_after=version.last_modified,
        languages_checked=True,
        planned_at=datetime.now(timezone.utc),
    ).model_dump(mode="json")


@pytest.fixture
def instant(emulator: Any) -> Any:
    emulator.admin.configure(task_delay=0, import_delay=0)
    return emulator


def test_with_the_runs_plan_an_ingest_costs_two_posts_and_two_shared_polls(instant: Any) -> None:
    plan = _plan()
    instant.admin.clear_journal()

    result = _operator(deferrable=False, wait_for_import=True, plan=plan).execute(_ctx())

    assert calls(instant) == [
        ("POST", DOWNLOAD),
        ("GET", TASKS_PATH),  # the download's first (and here only) poll, one interval after starting it
        ("POST", CREATE),  # no look for jobs first: the poll showed the task linking none
        ("GET", JOBS),  # the import's poll: the project's not-ready jobs (any number of files share it)
    ]
    assert result["reused"] is None and len(result["job_uids"]) == 3
    not_ready = instant.admin.journal()[-1]
    assert not_ready.param("notReady") == "true"


def test_without_a_plan_the_file_and_phrases_record_are_looked_up_once(instant: Any) -> None:
    result = _operator(deferrable=False, wait_for_import=True).execute(_ctx())

    assert calls(instant) == [
        *LOOK_UP,
        ("POST", DOWNLOAD),
        ("GET", TASKS_PATH),
        ("POST", CREATE),
        ("GET", JOBS),
    ]
    assert result["reused"] is None and len(result["job_uids"]) == 3


def test_a_connector_given_by_name_costs_one_listing_more(instant: Any) -> None:
    _operator(connector="Docs Git", deferrable=False).execute(_ctx())

    assert calls(instant)[:2] == [("GET", "/api2/v1/connectors"), ("GET", ROOT)]
    assert calls(instant).count(("GET", "/api2/v1/connectors")) == 1


def test_the_deferrable_path_creates_at_once_after_the_resume(instant: Any) -> None:
    plan = _plan()
    instant.admin.clear_journal()
    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True, wait_for_import=True, plan=plan).execute(_ctx())

    # Started a moment ago: deferred at once, without looking at the download first.
    assert calls(instant) == [("POST", DOWNLOAD)]
    progress = json.loads(json.dumps(deferred.value.kwargs["progress"]))
    state = finished_state(WEBSITE, progress["download_task_id"])
    event = {
        "status": "success",
        "project_uid": WEBSITE,
        "download_task_id": state.id,
        "task_state": state.to_wire(),
        "message": "done",
    }
    instant.admin.clear_journal()

    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True, wait_for_import=True, plan=plan).execute_complete(
            _ctx(), event=event, progress=progress
        )

    # The trigger's last poll showed the task linking no job and no rival: create; the import, asked for a
    # moment ago, is waited for in the triggerer.
    assert calls(instant) == [("POST", CREATE)]
    assert deferred.value.method_name == "execute_complete_import"
    assert len(deferred.value.trigger.job_uids) == 3 == len(jobs_in(instant))


def test_a_retry_whose_earlier_download_finished_does_not_wait_for_it(instant: Any) -> None:
    """A download an earlier try started (and Phrase finished) is used as listed: no second poll."""
    instant.admin.configure(task_delay=0.3)
    plan = _plan()
    store = MemoryTaskStateStore()
    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True, plan=plan).execute(_ctx(store))  # the earlier try, lost after deferring
    task_id = deferred.value.kwargs["progress"]["download_task_id"]
    finished_state(WEBSITE, task_id)  # ... and Phrase finished the download meanwhile
    instant.admin.clear_journal()

    result = _operator(deferrable=False, plan=plan).execute(retry_context(store))

    assert result["reused"] == "download" and result["download_task_id"] == task_id
    assert calls(instant) == [("GET", TASKS_PATH), ("POST", CREATE)]


def test_a_state_that_links_a_job_is_checked_before_creating(instant: Any) -> None:
    """Creating without looking first holds only while the task links no job: a linked one is looked up."""
    from airflow_phrase.models import JobCreateRequest

    first = _operator(deferrable=False).execute(_ctx())
    hook = PhraseTmsHook()
    state = hook.get_connector_task_state(WEBSITE, first["download_task_id"])
    assert state is not None and state.job_uid  # Phrase linked the task to its first job
    instant.admin.clear_journal()

    again = hook.create_jobs_once(
        WEBSITE,
        first["download_task_id"],
        JobCreateRequest(target_langs=["de", "fr_fr", "ja"]),
        task_state=state,
    )

    assert sorted(again.job_uids) == sorted(first["job_uids"]) and not again.created
    assert [method for method, _ in calls(instant)] == ["GET", "GET"]  # project, jobs; no POST
    assert len(jobs_in(instant)) == 3
