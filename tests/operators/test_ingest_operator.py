"""PhraseIngestConnectorFileOperator against the emulator: the one-task ingest, exactly once."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_phrase.emulator.seed import DEMO_SEED_PATH
from airflow_phrase.exceptions import PhraseDownloadFailedError, PhraseImportFailedError, PhraseWaitTimeout
from airflow_phrase.links import JOBS_URL_XCOM_KEY, PROJECT_URL_XCOM_KEY
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.ingest_state import PROGRESS_KEY
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from airflow_phrase.triggers.jobs_import import PhraseJobsImportTrigger
from tests.operators.conftest import (
    REVIEW,
    TASKS_PATH,
    WEBSITE,
    MemoryTaskStateStore,
    RecordingTaskInstance,
    calls,
    finished_state,
    jobs_in,
    posts,
    retry_context,
)

INSTALL_ENCODED = b"docs/guides/install.md".hex()


def _operator(**kwargs: Any) -> PhraseIngestConnectorFileOperator:
    kwargs.setdefault("connector", "Docs Git")
    kwargs.setdefault("folder", "docs/guides")
    kwargs.setdefault("file", "install.md")
    kwargs.setdefault("project_uid", REVIEW)
    kwargs.setdefault("target_langs", ["de", "es"] if kwargs["project_uid"] == REVIEW else ["de", "fr_fr"])
    kwargs.setdefault("deferrable", False)
    kwargs.setdefault("poll_interval", 0.05)
    return PhraseIngestConnectorFileOperator(task_id="ingest", **kwargs)


def _download_posts(emulator: Any) -> list[str]:
    return posts(emulator, "/api2/v2/connectors/")


def _create_posts(emulator: Any) -> list[str]:
    return posts(emulator, "/jobs/connectorTask")


# --------------------------------------------------------------------------- the happy path (poke)


def test_ingests_a_file_into_jobs(emulator: Any, context: dict[str, Any]) -> None:
    result = _operator().execute(context)

    assert json.loads(json.dumps(result)) == result
    assert result["reused"] is None
    assert result["project_uid"] == REVIEW
    assert {(j["targetLang"], j["workflowLevel"]) for j in result["jobs"]} == {
        ("de", 1),
        ("de", 2),
        ("es", 1),
        ("es", 2),
    }
    assert result["file_name"] == "install.md"
    assert result["file"] == INSTALL_ENCODED
    assert result["folder_path"] == "docs/guides"
    assert result["connector_id"] == "1001"
    assert result["last_modified"]
    assert result["async_request_id"]
    assert (result["new_job_uids"], result["existing_job_uids"]) == (result["job_uids"], [])
    tasks = emulator.admin.snapshot()["downloadTasks"]
    assert [task["id"] for task in tasks] == [result["download_task_id"]]
    assert {job["downloadTaskId"] for job in jobs_in(emulator)} == {result["download_task_id"]}
    assert len(_download_posts(emulator)) == 1
    assert len(_create_posts(emulator)) == 1
    assert context["ti"].xcom[PROJECT_URL_XCOM_KEY].endswith(f"/project2/show/{REVIEW}")
    assert context["ti"].xcom[JOBS_URL_XCOM_KEY]


def test_running_again_returns_the_existing_jobs_without_downloading(
    emulator: Any, context: dict[str, Any]
) -> None:
    first = _operator().execute(context)

    again = _operator().execute({"ti": RecordingTaskInstance()})

    assert again["reused"] == "jobs"
    assert sorted(again["job_uids"]) == sorted(first["job_uids"])
    assert again["async_request_id"] is None
    assert len(jobs_in(emulator)) == 4
    assert len(_download_posts(emulator)) == 1
    assert len(_create_posts(emulator)) == 1


# Jobs for only some of the requested languages: see test_ingest_partial.py.


def test_jobs_older_than_the_files_last_modification_do_not_count(
    phrase_emulator_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, context: dict[str, Any]
) -> None:
    """A file changed after its jobs were created is a new version: it is downloaded and ingested again."""
    seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    future = (datetime.now().astimezone() + timedelta(days=365)).isoformat()
    for remote in seed["connectors"][0]["files"]:
        if remote["path"] == "docs/guides/install.md":
            remote["lastModified"] = future  # "modified" after any job created in this test
    (tmp_path / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    emulator = phrase_emulator_factory(seed=tmp_path / "seed.json")
    monkeypatch.setenv(
        "AIRFLOW_CONN_PHRASE_TMS_DEFAULT",
        json.dumps(
            {
                "conn_type": "phrase_tms",
                "host": emulator.base_url,
                "password": "demo-api-token-0123456789",
                "extra": {"auth_type": "api_token", "max_wait_seconds": 0.2},
            }
        ),
    )

    first = _operator().execute(context)
    second = _operator().execute({"ti": RecordingTaskInstance()})

    assert second["reused"] is None
    assert set(second["job_uids"]).isdisjoint(first["job_uids"])
    assert len(_download_posts(emulator)) == 2


# --------------------------------------------------------------------------- a retry reuses the download


def test_a_retry_after_a_timed_out_wait_reuses_the_download(
    emulator: Any, context: dict[str, Any], store: MemoryTaskStateStore
) -> None:
    emulator.admin.configure(task_delay=1.0)
    with pytest.raises(PhraseWaitTimeout, match=r"docs/guides/install.md"):
        _operator(wait_timeout=0.05).execute(context)  # first try: gave up waiting
    assert jobs_in(emulator) == []

    result = _operator().execute(retry_context(store))  # the retry: same task instance, same state store

    assert result["reused"] == "download"
    assert len(_download_posts(emulator)) == 1
    tasks = emulator.admin.snapshot()["downloadTasks"]
    assert [task["id"] for task in tasks] == [result["download_task_id"]]
    assert len(jobs_in(emulator)) == 4


def test_a_retry_after_a_deferral_was_lost_reuses_the_download(
    emulator: Any, context: dict[str, Any], store: MemoryTaskStateStore
) -> None:
    emulator.admin.configure(task_delay=1.0)
    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True).execute(context)  # the worker hands over ... and the try is lost
    started = deferred.value.kwargs["progress"]["download_task_id"]

    result = _operator().execute(retry_context(store))

    assert result["reused"] == "download"
    assert result["download_task_id"] == started
    assert len(_download_posts(emulator)) == 1
    assert len(_create_posts(emulator)) == 1


def test_a_retry_after_the_jobs_were_created_creates_nothing(
    emulator: Any, context: dict[str, Any], store: MemoryTaskStateStore
) -> None:
    """The first try created the jobs and died before recording it: the retry finds them from its download."""
    first = _operator(project_uid=WEBSITE).execute(context)
    progress = store.get(PROGRESS_KEY)
    store.set(PROGRESS_KEY, {**progress, "stage": "downloading", "created": None})  # as if it died

    again = _operator(project_uid=WEBSITE).execute(retry_context(store))

    assert sorted(again["job_uids"]) == sorted(first["job_uids"])
    assert len(_create_posts(emulator)) == 1 and len(_download_posts(emulator)) == 1
    assert len(jobs_in(emulator)) == 2


def test_a_download_someone_turned_into_jobs_is_not_reused(emulator: Any, context: dict[str, Any]) -> None:
    """A finished download already used for jobs in another project must not be picked up again."""
    _operator(project_uid=WEBSITE).execute(context)

    result = _operator(project_uid=REVIEW).execute({"ti": RecordingTaskInstance()})

    assert result["reused"] is None
    assert len(_download_posts(emulator)) == 2


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("folder", "file", "status", "message"),
    [
        pytest.param(
            "docs/legacy", "gone.md", "ERROR", "remote file not found: docs/legacy/gone.md", id="error"
        ),
        pytest.param(
            "docs/legacy",
            "broken.docx",
            "CONVERTER_ERROR",
            "Unable to convert broken.docx: the file is not a valid Office Open XML document",
            id="converter-error",
        ),
    ],
)
def test_a_failed_download_fails_once_with_phrases_message(
    folder: str, file: str, status: str, message: str, emulator: Any, context: dict[str, Any]
) -> None:
    with pytest.raises(PhraseDownloadFailedError) as raised:  # an AirflowFailException: no retries
        _operator(folder=folder, file=file).execute(context)

    error = raised.value
    (task,) = emulator.admin.snapshot()["downloadTasks"]
    assert (
        str(error)
        == f"Phrase connector download task {task['id']} of {folder}/{file} ended {status}: {message}"
    )
    assert (error.status, error.error_message, error.download_task_id) == (status, message, task["id"])
    assert error.file == f"{folder}/{file}"
    assert error.conversion_failed is (status == "CONVERTER_ERROR")
    assert _create_posts(emulator) == []
    assert jobs_in(emulator) == []


def test_a_failed_import_fails_with_phrases_message(emulator: Any, context: dict[str, Any]) -> None:
    with pytest.raises(PhraseImportFailedError, match=r"Import of bad-import.md failed") as raised:
        _operator(file="bad-import.md", wait_for_import=True).execute(context)
    jobs = jobs_in(emulator)
    assert len(jobs) == 4  # the jobs exist; their import failed
    error = raised.value
    assert error.error_desc and error.error_desc.startswith("Import of bad-import.md failed")
    level_one = sorted(job["uid"] for job in jobs if job["workflowLevel"] == 1)
    assert sorted(error.job_uids) == level_one  # the not-ready listing is of workflow level 1


def test_languages_outside_the_project_fail_before_anything_is_downloaded(
    emulator: Any, context: dict[str, Any]
) -> None:
    with pytest.raises(AirflowFailException) as raised:
        _operator(target_langs=["de", "ja"]).execute(context)

    assert (
        "target_langs: ja is not among the target languages of project prjDocsReview00000001 (de, es); "
        "remove it or add it to the project in Phrase"
    ) in str(raised.value)
    assert [path for method, path in calls(emulator) if method != "GET"] == []  # no download, no create


def test_a_429_storm_during_the_wait_only_delays_the_task(emulator: Any, context: dict[str, Any]) -> None:
    # 7 x 429 on the task listing of the wait: more than the hook's 3 attempts per request, twice over.
    storm = [{"status": 429, "retryAfter": "0"}] * 7
    emulator.admin.set_faults([{"method": "GET", "path": TASKS_PATH, "sequence": storm}])

    result = _operator(project_uid=WEBSITE).execute(context)

    assert len(result["job_uids"]) == 2
    throttled = [entry for entry in emulator.admin.journal() if entry.status == 429]
    assert len(throttled) == 7


def test_an_endless_429_storm_ends_in_one_clear_timeout(emulator: Any, context: dict[str, Any]) -> None:
    storm = [{"status": 429, "retryAfter": "0"}] * 1000
    emulator.admin.set_faults([{"method": "GET", "path": TASKS_PATH, "sequence": storm}])

    with pytest.raises(PhraseWaitTimeout) as raised:
        _operator(project_uid=WEBSITE, wait_timeout=1.0).execute(context)

    message = str(raised.value)
    assert "Timed out waiting for Phrase connector download task" in message
    assert "HTTP 429" in message
    assert _create_posts(emulator) == []


# --------------------------------------------------------------------------- deferrable


def test_defers_on_the_connector_task_with_links_already_pushed(
    emulator: Any, context: dict[str, Any], store: MemoryTaskStateStore
) -> None:
    emulator.admin.configure(task_delay=60)
    before = time.time()

    with pytest.raises(TaskDeferred) as raised:
        _operator(deferrable=True, wait_timeout=300).execute(context)

    deferred = raised.value
    trigger = deferred.trigger
    assert isinstance(trigger, PhraseConnectorTaskTrigger)
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is None
    progress = deferred.kwargs["progress"]
    assert json.loads(json.dumps(deferred.kwargs)) == deferred.kwargs
    assert store.get(PROGRESS_KEY) == progress  # kept for a later try or a resume without kwargs
    (task,) = emulator.admin.snapshot()["downloadTasks"]
    assert progress["download_task_id"] == trigger.download_task_id == task["id"]
    assert progress["reused"] is None
    assert progress["file"]["encoded_name"] == INSTALL_ENCODED
    assert trigger.project_uid == REVIEW
    assert trigger.phrase_conn_id == "phrase_tms_default"
    assert trigger.poll_interval == 0.05
    assert trigger.claim_file_name == "install.md"  # rival downloads of this file are looked at
    assert trigger.deadline is not None and before + 300 <= trigger.deadline <= time.time() + 300
    created_after = datetime.fromisoformat(trigger.created_after)
    assert created_after <= datetime.fromisoformat(task["dateCreated"])
    # Before deferring, both links: the jobs link opens the project until jobs exist.
    assert context["ti"].pushes == [PROJECT_URL_XCOM_KEY, JOBS_URL_XCOM_KEY]
    assert context["ti"].xcom[JOBS_URL_XCOM_KEY] == context["ti"].xcom[PROJECT_URL_XCOM_KEY]
    assert _create_posts(emulator) == []


def test_resumes_creates_the_jobs_and_defers_again_for_the_import(
    emulator: Any, context: dict[str, Any]
) -> None:
    emulator.admin.configure(task_delay=0.3, import_delay=60)
    operator = _operator(deferrable=True, wait_for_import=True)
    with pytest.raises(TaskDeferred) as first:
        operator.execute(context)
    progress = first.value.kwargs["progress"]
    state = finished_state(REVIEW, progress["download_task_id"])
    event = {
        "status": "success",
        "project_uid": REVIEW,
        "download_task_id": state.id,
        "task_state": state.to_wire(),
        "message": "done",
    }

    resumed = _operator(deferrable=True, wait_for_import=True)  # rebuilt, as Airflow does on resume
    with pytest.raises(TaskDeferred) as second:
        resumed.execute_complete(context, event=event, progress=json.loads(json.dumps(progress)))

    trigger = second.value.trigger
    assert isinstance(trigger, PhraseJobsImportTrigger)
    assert second.value.method_name == "execute_complete_import"
    after = second.value.kwargs["progress"]
    assert after["stage"] == "importing"
    assert sorted(trigger.job_uids) == sorted(job["uid"] for job in jobs_in(emulator))
    assert len(jobs_in(emulator)) == 4
    assert JOBS_URL_XCOM_KEY in context["ti"].pushes

    import_event = {"status": "success", "project_uid": REVIEW, "job_uids": trigger.job_uids, "message": ""}
    result = _operator().execute_complete_import(context, event=import_event, progress=after)
    assert result["download_task_id"] == state.id and result["file"] == INSTALL_ENCODED
    assert sorted(result["new_job_uids"]) == sorted(trigger.job_uids)
    assert len(_create_posts(emulator)) == 1


PROGRESS = {
    "stage": "downloading",
    "project_uid": WEBSITE,
    "file": {
        "connector_id": "1001",
        "encoded_folder": "x",
        "encoded_name": "y",
        "name": "broken.docx",
        "folder_path": "docs/legacy",
    },
    "download_task_id": "310001",
    "download_created": "2026-11-28T10:00:00+00:00",
}


def _event(status: str, **fields: Any) -> dict[str, Any]:
    return {"status": status, "project_uid": WEBSITE, "download_task_id": "310001", "message": "", **fields}


def test_execute_complete_error_with_a_task_state_reports_phrases_message() -> None:
    state = {"id": "310001", "status": "CONVERTER_ERROR", "errorMessage": "Unable to convert broken.docx"}
    event = _event("error", task_state=state, message="Unable to convert broken.docx")
    with pytest.raises(
        PhraseDownloadFailedError, match=r"of docs/legacy/broken.docx ended CONVERTER_ERROR: Unable to"
    ) as raised:
        _operator().execute_complete({}, event=event, progress=PROGRESS)
    assert raised.value.conversion_failed and raised.value.download_task_id == "310001"


def test_execute_complete_error_without_a_state_reports_the_trigger_message() -> None:
    event = _event("error", message="PhraseApiError: HTTP 403 AuthAccessDenied")
    with pytest.raises(
        AirflowFailException, match=r"task 310001 of docs/legacy/broken.docx failed: .*403"
    ) as raised:
        _operator().execute_complete({}, event=event, progress=PROGRESS)
    assert not isinstance(raised.value, PhraseDownloadFailedError)  # no verdict on the file


def test_execute_complete_timeout_is_a_clear_failure() -> None:
    event = _event("timeout", message="not finished before the deadline")
    with pytest.raises(
        PhraseWaitTimeout, match="Timed out waiting for Phrase download task 310001 of docs/legacy"
    ):
        _operator().execute_complete({}, event=event, progress=PROGRESS)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(None, "No trigger event was received", id="missing"),
        pytest.param(_event("cancelled"), "Unknown trigger event status 'cancelled'", id="unknown"),
        pytest.param(_event("success"), "Malformed ConnectorTaskEvent", id="success-without-state"),
    ],
)
def test_execute_complete_rejects_bad_events(event: Any, expected: str) -> None:
    with pytest.raises(AirflowException, match=expected):
        _operator().execute_complete({}, event=event, progress=PROGRESS)


def test_execute_complete_without_kwargs_reads_the_progress_from_the_state_store(
    emulator: Any, context: dict[str, Any]
) -> None:
    """dag.test() of Airflow <= 3.3.2 resumes with the event only: the task state store has the progress."""
    with pytest.raises(TaskDeferred) as deferred:
        _operator(deferrable=True).execute(context)
    task_id = deferred.value.kwargs["progress"]["download_task_id"]
    state = finished_state(REVIEW, task_id)
    event = _event("success", project_uid=REVIEW, download_task_id=task_id, task_state=state.to_wire())

    result = _operator().execute_complete(context, event=event, progress=None)

    assert result["download_task_id"] == task_id
    assert result["file"] == INSTALL_ENCODED
    assert len(result["job_uids"]) == 4 == len(jobs_in(emulator))


def test_execute_complete_without_any_progress_says_so() -> None:
    event = _event("success", task_state={"id": "310001", "status": "SUCCESS"})
    with pytest.raises(AirflowException, match="Resumed without the progress"):
        _operator().execute_complete({"task_state_store": MemoryTaskStateStore()}, event=event, progress=None)


def test_nothing_but_gets_before_a_deferral_when_the_file_is_ingested(
    emulator: Any, context: dict[str, Any]
) -> None:
    _operator().execute(context)
    before = len(calls(emulator))

    result = _operator(deferrable=True).execute({"ti": RecordingTaskInstance()})

    assert result["reused"] == "jobs"
    assert all(method == "GET" for method, _ in calls(emulator)[before:])


# --------------------------------------------------------------------------- with the run's plan


def _plan(emulator: Any, folder: str = "docs/guides", file: str = "install.md") -> dict[str, Any]:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.ingest_state import IngestPlan

    hook = PhraseTmsHook()
    try:
        resolved = hook.resolve_remote_file("1001", folder, file)
    finally:
        hook.close()
    version = resolved.version
    return IngestPlan(
        file=version,
        version_after=version.last_modified,
        languages_checked=True,
        planned_at=datetime.now(timezone.utc),
    ).model_dump(mode="json")


def test_with_the_runs_plan_a_first_try_only_downloads_waits_and_creates(
    emulator: Any, context: dict[str, Any]
) -> None:
    plan = _plan(emulator)
    emulator.admin.clear_journal()

    result = _operator(project_uid=WEBSITE, plan=plan).execute(context)

    kinds = [(method, path.split("/")[3]) for method, path in calls(emulator)]
    assert kinds.count(("POST", "connectors")) == 1  # the download
    assert kinds.count(("POST", "projects")) == 1  # the create
    assert ("GET", "connectors") not in kinds  # no folder walk: the plan has the encoded names
    assert not any(method == "GET" and "/jobs" in path for method, path in calls(emulator))
    assert not any(path.rstrip("/").endswith(WEBSITE) for _, path in calls(emulator))  # no project read
    assert len(result["job_uids"]) == 2
