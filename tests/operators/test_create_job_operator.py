"""PhraseCreateJobFromConnectorTaskOperator against the emulator: creation, idempotency, failures, waits."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseConnectionError,
    PhraseImportFailedError,
    PhraseWaitTimeout,
)
from airflow_phrase.links import JOB_URLS_XCOM_KEY, JOBS_URL_XCOM_KEY, PROJECT_URL_XCOM_KEY
from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.triggers.jobs_import import PhraseJobsImportTrigger
from tests.operators.conftest import (
    CREATE_JOB_PATH,
    REVIEW,
    WEBSITE,
    calls,
    jobs_in,
    posts,
    start_finished_download,
)


def _operator(
    project_uid: str, download_task_id: str, **kwargs: Any
) -> PhraseCreateJobFromConnectorTaskOperator:
    kwargs.setdefault("target_langs", ["de", "es"] if project_uid == REVIEW else ["de", "fr_fr"])
    kwargs.setdefault("poll_interval", 0.05)
    return PhraseCreateJobFromConnectorTaskOperator(
        task_id="create_job", project_uid=project_uid, download_task_id=download_task_id, **kwargs
    )


def _per_language(jobs: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    counts: dict[tuple[str, int], int] = {}
    for job in jobs:
        key = (job["targetLang"], job["workflowLevel"])
        counts[key] = counts.get(key, 0) + 1
    return counts


# --------------------------------------------------------------------------- creating


def test_creates_one_job_per_language_and_workflow_step(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, REVIEW)["download_task_id"]

    result = _operator(REVIEW, task_id).execute(context)

    assert json.loads(json.dumps(result)) == result  # plain JSON
    assert set(result) == {
        "project_uid",
        "job_uids",
        "jobs",
        "async_request_id",
        "unsupported_files",
        "warnings",
    }
    assert result["project_uid"] == REVIEW
    assert result["async_request_id"]
    assert {(j["targetLang"], j["workflowLevel"]) for j in result["jobs"]} == {
        ("de", 1),
        ("de", 2),
        ("es", 1),
        ("es", 2),
    }
    assert all(
        set(job) == {"uid", "filename", "targetLang", "status", "workflowLevel"} for job in result["jobs"]
    )
    assert sorted(result["job_uids"]) == sorted(job["uid"] for job in jobs_in(emulator, REVIEW))
    # Several jobs: the "Phrase job(s)" link opens the project; every job's URL is in XCom too.
    xcom = context["ti"].xcom
    assert xcom[PROJECT_URL_XCOM_KEY] == f"{emulator.base_url}/project2/show/{REVIEW}"
    assert xcom[JOBS_URL_XCOM_KEY] == xcom[PROJECT_URL_XCOM_KEY]
    assert [entry["uid"] for entry in xcom[JOB_URLS_XCOM_KEY]] == result["job_uids"]


def test_a_single_job_links_to_its_editor(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]

    result = _operator(WEBSITE, task_id, target_langs=["ja"]).execute(context)

    (uid,) = result["job_uids"]
    assert context["ti"].xcom[JOBS_URL_XCOM_KEY] == f"{emulator.base_url}/job/{uid}/translate"


def test_templated_field_values_are_rendered_types(emulator: Any, context: dict[str, Any]) -> None:
    """Values as Jinja renders them (ids as ints, BCP 47 codes) are normalised by validation."""
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]

    result = _operator(
        WEBSITE, int(task_id), target_langs=["FR-fr"], due="2030-01-01T10:00:00+02:00"
    ).execute(context)

    assert [job["targetLang"] for job in result["jobs"]] == ["fr_fr"]


# --------------------------------------------------------------------------- idempotency


def test_executing_again_returns_the_existing_jobs(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, REVIEW)["download_task_id"]
    operator = _operator(REVIEW, task_id)

    first = operator.execute(context)
    again = operator.execute(context)

    assert sorted(again["job_uids"]) == sorted(first["job_uids"])
    assert len(jobs_in(emulator, REVIEW)) == 4
    assert len(posts(emulator, "/jobs/connectorTask")) == 1


@pytest.mark.parametrize(
    "lost_response",
    [
        pytest.param({"status": 502, "afterHandler": True}, id="502-after-create"),
        pytest.param({"status": 504, "afterHandler": True}, id="504-after-create"),
        pytest.param({"drop": True, "afterHandler": True}, id="dropped-after-create"),
    ],
)
def test_a_lost_create_response_is_reconciled_not_repeated(
    lost_response: dict[str, Any], emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.set_faults([{"method": "POST", "path": CREATE_JOB_PATH, "sequence": [lost_response]}])

    result = _operator(WEBSITE, task_id).execute(context)

    jobs = jobs_in(emulator, WEBSITE)
    assert _per_language(jobs) == {("de", 1): 1, ("fr_fr", 1): 1}
    assert sorted(result["job_uids"]) == sorted(job["uid"] for job in jobs)
    assert len(posts(emulator, "/jobs/connectorTask")) == 1
    # The reconciled jobs are linked too.
    assert [entry["uid"] for entry in context["ti"].xcom[JOB_URLS_XCOM_KEY]] == result["job_uids"]


def test_a_failure_before_creating_fails_the_try_and_the_retry_creates_once(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.set_faults([{"method": "POST", "path": CREATE_JOB_PATH, "sequence": [{"status": 502}]}])
    operator = _operator(WEBSITE, task_id)

    with pytest.raises(PhraseApiError) as raised:  # not AirflowFailException: Airflow may retry
        operator.execute(context)
    assert raised.value.status == 502
    assert jobs_in(emulator) == []

    result = operator.execute(context)  # the retry

    assert _per_language(jobs_in(emulator, WEBSITE)) == {("de", 1): 1, ("fr_fr", 1): 1}
    assert len(result["job_uids"]) == 2


def test_a_connection_dropped_before_creating_is_not_mistaken_for_success(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.set_faults([{"method": "POST", "path": CREATE_JOB_PATH, "sequence": [{"drop": True}]}])

    with pytest.raises(PhraseConnectionError):
        _operator(WEBSITE, task_id).execute(context)

    assert jobs_in(emulator) == []


# --------------------------------------------------------------------------- Phrase refuses


def test_an_unknown_download_task_fails_with_phrases_message(emulator: Any, context: dict[str, Any]) -> None:
    with pytest.raises(AirflowFailException) as raised:
        _operator(WEBSITE, "999999").execute(context)

    message = str(raised.value)
    assert "Phrase refused to create jobs from download task 999999" in message
    assert "HTTP 400" in message and "Connector async task 999999 not found" in message
    assert jobs_in(emulator) == []


def test_languages_outside_the_project_fail_before_the_create_call(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.clear_journal()

    with pytest.raises(AirflowFailException) as raised:
        _operator(WEBSITE, task_id, target_langs=["de", "it", "pl"]).execute(context)

    assert (
        "target_langs: it, pl are not among the target languages of project prjWebsite000000000001 "
        "(de, fr_fr, ja); remove them or add them to the project in Phrase"
    ) in str(raised.value)
    assert jobs_in(emulator) == []
    assert [method for method, _ in calls(emulator)] == ["GET"]  # the project, nothing else


def test_a_failed_download_task_cannot_become_jobs(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE, folder="docs/legacy", file="broken.docx")[
        "download_task_id"
    ]

    with pytest.raises(AirflowFailException) as raised:
        _operator(WEBSITE, task_id).execute(context)

    assert "CONVERTER_ERROR" in str(raised.value)


# --------------------------------------------------------------------------- waiting for the import (poke)


def test_waits_for_the_import_on_the_worker(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]

    result = _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    snapshot = {job["uid"]: job["importStatus"] for job in jobs_in(emulator, WEBSITE)}
    assert {snapshot[uid] for uid in result["job_uids"]} == {"OK"}


def test_a_failed_import_fails_with_phrases_message(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE, file="bad-import.md")["download_task_id"]

    with pytest.raises(PhraseImportFailedError) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    message = str(raised.value)
    assert "Import of bad-import.md failed: unterminated YAML front matter" in message
    assert "project prjWebsite000000000001" in message
    assert sorted(raised.value.job_uids) == sorted(job["uid"] for job in jobs_in(emulator, WEBSITE))


def test_a_429_storm_while_waiting_for_the_import_only_delays_the_task(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    # The first jobs listing (jobs of the task, before creating) passes; then the import's polls get
    # 7 x 429: more than the hook's 3 attempts per request, twice over.
    storm = [None] + [{"status": 429}] * 7
    jobs_path = rf"/api2/v2/projects/{WEBSITE}/jobs"
    emulator.admin.set_faults([{"method": "GET", "path": jobs_path, "sequence": storm}])

    result = _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    assert len(result["job_uids"]) == 2
    assert sum(entry.status == 429 for entry in emulator.admin.journal()) == 7


def test_a_poke_wait_times_out_clearly(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.configure(import_delay=60)

    with pytest.raises(PhraseWaitTimeout) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False, wait_timeout=0.3).execute(context)

    assert "Timed out waiting for the import of jobs" in str(raised.value)
    assert not isinstance(raised.value, AirflowFailException)  # a retry may find it imported


# --------------------------------------------------------------------------- deferrable


def test_defers_on_the_shared_import_poll_with_the_jobs_in_kwargs(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.configure(import_delay=60)
    before = time.time()

    with pytest.raises(TaskDeferred) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=True, wait_timeout=600).execute(context)

    deferred = raised.value
    trigger = deferred.trigger
    assert isinstance(trigger, PhraseJobsImportTrigger)
    assert deferred.method_name == "execute_complete"
    outcome = deferred.kwargs["outcome"]
    assert json.loads(json.dumps(deferred.kwargs)) == deferred.kwargs
    assert sorted(trigger.job_uids) == sorted(job["uid"] for job in outcome["jobs"])
    assert trigger.project_uid == WEBSITE
    assert trigger.phrase_conn_id == "phrase_tms_default"
    assert trigger.poll_interval == 0.05
    assert trigger.deadline is not None and before + 600 <= trigger.deadline <= time.time() + 600
    assert deferred.timeout is None
    # Both links are in XCom before the task hands over to the triggerer.
    assert {PROJECT_URL_XCOM_KEY, JOBS_URL_XCOM_KEY} <= set(context["ti"].pushes)
    assert len(jobs_in(emulator, WEBSITE)) == 2


def test_defers_right_after_creating_without_looking_at_the_import(
    emulator: Any, context: dict[str, Any]
) -> None:
    """An import Phrase was asked for a moment ago is not finished: looking would only cost a call."""
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.clear_journal()

    with pytest.raises(TaskDeferred):
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=True).execute(context)

    not_ready_polls = [e for e in emulator.admin.journal() if e.param("notReady") == "true"]
    assert not_ready_polls == []
    assert len(posts(emulator, "/jobs/connectorTask")) == 1


def test_found_jobs_are_waited_for_like_created_ones(emulator: Any, context: dict[str, Any]) -> None:
    """Jobs an earlier try created are returned, and their import is waited for all the same."""
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    created = _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    with pytest.raises(TaskDeferred) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=True).execute(context)

    assert sorted(raised.value.trigger.job_uids) == sorted(created["job_uids"])
    assert raised.value.kwargs["outcome"]["created"] is False
    assert len(posts(emulator, "/jobs/connectorTask")) == 1


OUTCOME = {
    "project_uid": WEBSITE,
    "download_task_id": "1",
    "jobs": [
        {
            "uid": "jobPart000000000000001",
            "filename": "a.md",
            "targetLang": "de",
            "status": "NEW",
            "workflowLevel": 1,
        }
    ],
    "async_request_id": "5200001",
}
RESULT = {
    "project_uid": WEBSITE,
    "job_uids": ["jobPart000000000000001"],
    "jobs": OUTCOME["jobs"],
    "async_request_id": "5200001",
    "unsupported_files": [],
    "warnings": [],
}


def _complete(event: Any, outcome: Any = OUTCOME) -> Any:
    return _operator(WEBSITE, "1").execute_complete({}, event=event, outcome=outcome)


def _event(status: str, **fields: Any) -> dict[str, Any]:
    return {"status": status, "project_uid": WEBSITE, "job_uids": ["jobPart000000000000001"], **fields}


def test_execute_complete_success_returns_the_result() -> None:
    assert _complete(_event("success", message="imported")) == RESULT


def test_execute_complete_error_fails_with_phrases_message() -> None:
    event = _event(  # as the shared poll reports a failed import: the job's importStatus errorMessage
        "error",
        message="broken front matter",
        failed_jobs=[{"uid": "jobPart000000000000001", "errorMessage": "broken front matter"}],
    )
    with pytest.raises(
        PhraseImportFailedError,
        match=r"^Phrase could not import jobs jobPart000000000000001 of project prjWebsite000000000001: "
        r"broken front matter$",
    ) as raised:
        _complete(event)

    error = raised.value
    assert (error.error_code, error.error_desc) == (None, "broken front matter")
    assert error.job_uids == ["jobPart000000000000001"]


def test_execute_complete_error_without_phrases_verdict_is_no_import_failure() -> None:
    """The trigger could not read the jobs (e.g. HTTP 403): the task fails, but not as a failed import."""
    with pytest.raises(
        AirflowFailException, match=r"Waiting for Phrase to import .* failed: .*403"
    ) as raised:
        _complete(_event("error", message="PhraseApiError: HTTP 403"))

    assert not isinstance(raised.value, PhraseImportFailedError)


def test_execute_complete_timeout_is_a_clear_retryable_failure() -> None:
    with pytest.raises(PhraseWaitTimeout, match=r"Timed out waiting for Phrase to import jobs jobPart0+1"):
        _complete(_event("timeout", message="did not finish before the deadline"))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(None, "No trigger event was received", id="missing"),
        pytest.param(_event("cancelled"), "Unknown trigger event status", id="unknown"),
        pytest.param({"status": "success"}, "Malformed JobsImportEvent", id="malformed"),
    ],
)
def test_execute_complete_rejects_bad_events(event: Any, expected: str) -> None:
    with pytest.raises(AirflowException, match=expected):
        _complete(event)


def test_execute_complete_without_kwargs_reads_the_jobs_from_the_state_store(
    emulator: Any, context: dict[str, Any]
) -> None:
    """dag.test() of Airflow <= 3.3.2 resumes with the event only: the task state store has the jobs."""
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    created = _operator(WEBSITE, task_id).execute(context)
    event = {"status": "success", "project_uid": WEBSITE, "job_uids": created["job_uids"], "message": ""}

    rebuilt = _operator(WEBSITE, task_id).execute_complete(context, event=event, outcome=None)

    assert rebuilt == created
