"""PhraseCreateJobFromConnectorTaskOperator against the emulator: creation, idempotency, failures, waits."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_phrase.exceptions import PhraseApiError, PhraseConnectionError, PhraseImportFailedError
from airflow_phrase.links import JOB_URLS_XCOM_KEY, JOBS_URL_XCOM_KEY, PROJECT_URL_XCOM_KEY
from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.waiting import PhraseWaitTimeout
from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger
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


def test_a_failed_import_fails_with_phrases_error_code(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE, file="bad-import.md")["download_task_id"]

    with pytest.raises(PhraseImportFailedError) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    message = str(raised.value)
    assert "JobImportFailed: Import of bad-import.md failed: unterminated YAML front matter" in message
    assert "project prjWebsite000000000001" in message
    assert raised.value.error_code == "JobImportFailed"
    assert sorted(raised.value.job_uids) == sorted(job["uid"] for job in jobs_in(emulator, WEBSITE))


def test_a_429_storm_while_waiting_for_the_import_only_delays_the_task(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    storm = [{"status": 429}] * 7  # more than the hook's 3 attempts per request, twice over
    emulator.admin.set_faults([{"method": "GET", "path": r"/api2/v1/async/\d+", "sequence": storm}])

    result = _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    assert len(result["job_uids"]) == 2
    assert sum(entry.status == 429 for entry in emulator.admin.journal()) == 7


def test_a_poke_wait_times_out_clearly(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.configure(import_delay=60)

    with pytest.raises(PhraseWaitTimeout) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False, wait_timeout=0.3).execute(context)

    assert "Timed out waiting for the import (Phrase async request" in str(raised.value)
    assert not isinstance(raised.value, AirflowFailException)  # a retry may find it imported


# --------------------------------------------------------------------------- deferrable


def test_defers_on_the_async_request_with_the_result_in_kwargs(
    emulator: Any, context: dict[str, Any]
) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.configure(import_delay=60)
    before = time.time()

    with pytest.raises(TaskDeferred) as raised:
        _operator(WEBSITE, task_id, wait_for_import=True, deferrable=True, wait_timeout=600).execute(context)

    deferred = raised.value
    trigger = deferred.trigger
    assert isinstance(trigger, PhraseAsyncRequestTrigger)
    assert deferred.method_name == "execute_complete"
    result = deferred.kwargs["result"]
    assert json.loads(json.dumps(deferred.kwargs)) == deferred.kwargs
    assert trigger.async_request_id == result["async_request_id"]
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

    assert not [path for method, path in calls(emulator) if path.startswith("/api2/v1/async/")]
    assert len(posts(emulator, "/jobs/connectorTask")) == 1


def test_found_jobs_are_not_deferred_for(emulator: Any, context: dict[str, Any]) -> None:
    """Jobs an earlier try created have no async request: their import status is checked at once."""
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    created = _operator(WEBSITE, task_id, wait_for_import=True, deferrable=False).execute(context)

    again = _operator(WEBSITE, task_id, wait_for_import=True, deferrable=True).execute(context)

    assert sorted(again["job_uids"]) == sorted(created["job_uids"])
    assert again["async_request_id"] is None


RESULT = {
    "project_uid": WEBSITE,
    "job_uids": ["jobPart000000000000001"],
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
    "unsupported_files": [],
    "warnings": [],
}


def _complete(event: Any, result: Any = RESULT) -> Any:
    return _operator(WEBSITE, "1").execute_complete({}, event=event, result=result)


SUCCESS_EVENT = {
    "status": "success",
    "async_request_id": "5200001",
    "message": "finished",
    "async_request": {"id": "5200001", "action": "IMPORT_JOB", "asyncResponse": {"errorCode": None}},
}


def test_execute_complete_success_returns_the_result() -> None:
    assert _complete(SUCCESS_EVENT) == RESULT


def test_execute_complete_error_fails_with_phrases_message() -> None:
    event = {  # as the trigger reports a failed import: with the finished request
        "status": "error",
        "async_request_id": "5200001",
        "message": "JobImportFailed: broken front matter",
        "async_request": {
            "id": "5200001",
            "action": "IMPORT_JOB",
            "asyncResponse": {"errorCode": "JobImportFailed", "errorDesc": "broken front matter"},
        },
    }
    with pytest.raises(
        PhraseImportFailedError,
        match=r"^Phrase could not import jobs jobPart000000000000001 of project prjWebsite000000000001 "
        r"\(async request 5200001\): JobImportFailed: broken front matter$",
    ) as raised:
        _complete(event)

    error = raised.value
    assert (error.error_code, error.error_desc) == ("JobImportFailed", "broken front matter")
    assert error.async_request_id == "5200001"
    assert error.job_uids == ["jobPart000000000000001"]


def test_execute_complete_error_without_phrases_verdict_is_no_import_failure() -> None:
    """The trigger could not read the request (e.g. HTTP 403): the task fails, but not as a failed import."""
    event = {"status": "error", "async_request_id": "5200001", "message": "PhraseApiError: HTTP 403"}
    with pytest.raises(
        AirflowFailException, match=r"Waiting for Phrase to import .* failed: .*403"
    ) as raised:
        _complete(event)

    assert not isinstance(raised.value, PhraseImportFailedError)


def test_execute_complete_timeout_is_a_clear_retryable_failure() -> None:
    event = {
        "status": "timeout",
        "async_request_id": "5200001",
        "message": "did not finish before the deadline",
    }
    with pytest.raises(PhraseWaitTimeout, match=r"Timed out waiting for Phrase to import jobs jobPart0+1"):
        _complete(event)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(None, "No trigger event was received", id="missing"),
        pytest.param(
            {"status": "cancelled", "async_request_id": "1"}, "Unknown trigger event status", id="unknown"
        ),
        pytest.param({"status": "success"}, "Malformed AsyncRequestEvent", id="malformed"),
    ],
)
def test_execute_complete_rejects_bad_events(event: Any, expected: str) -> None:
    with pytest.raises(AirflowException, match=expected):
        _complete(event)


def test_execute_complete_without_the_carried_result_reads_it_back(
    emulator: Any, context: dict[str, Any]
) -> None:
    """dag.test() of Airflow <= 3.3.2 resumes with the event only: the jobs are found again in Phrase."""
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    created = _operator(WEBSITE, task_id).execute(context)
    event = {**SUCCESS_EVENT, "async_request_id": created["async_request_id"]}

    rebuilt = _operator(WEBSITE, task_id).execute_complete(context, event=event, result=None)

    assert rebuilt == created
