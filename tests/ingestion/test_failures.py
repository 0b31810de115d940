"""Failure classification, fed with the exceptions the real operator code raises."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseConnectionError,
    PhraseDownloadFailedError,
    PhraseImportFailedError,
    PhraseWaitTimeout,
)
from airflow_phrase.hooks.waits import check_download, check_import
from airflow_phrase.ingestion.failures import (
    FAILURE_XCOM_KEY,
    FailureCategory,
    classify_failure,
    record_ingest_failure,
    recorded_failure,
)
from airflow_phrase.models import AsyncRequest, ConnectorTaskState
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.params import IngestArgs
from airflow_phrase.validation import validate_params


def raised(func: Any, *args: Any, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as info:
        func(*args, **kwargs)
    return info.value


def download_failure(status: str, message: str) -> BaseException:
    state = ConnectorTaskState.model_validate({"id": "310007", "status": status, "errorMessage": message})
    error = raised(check_download, state, file_label="docs/legacy/broken.docx")
    assert isinstance(error, PhraseDownloadFailedError)
    return error


def test_a_failed_conversion_is_expected_and_keeps_phrases_message() -> None:
    failure = classify_failure(
        download_failure(
            "CONVERTER_ERROR", "Unable to convert broken.docx: not a valid Office Open XML document"
        )
    )

    assert failure.category is FailureCategory.CONVERSION_FAILED
    assert failure.expected
    assert failure.message == "Unable to convert broken.docx: not a valid Office Open XML document"


def test_a_file_the_connector_cannot_fetch_is_expected() -> None:
    failure = classify_failure(download_failure("ERROR", "remote file not found: docs/legacy/gone.md"))

    assert (failure.category, failure.expected) == (FailureCategory.REMOTE_FILE_ERROR, True)
    assert failure.message == "remote file not found: docs/legacy/gone.md"


def test_a_failed_import_is_expected_on_every_waiting_path() -> None:
    request = AsyncRequest.model_validate(
        {"id": "5200006", "asyncResponse": {"errorCode": "JobImportFailed", "errorDesc": "bad front matter"}}
    )
    polled = classify_failure(raised(check_import, request, jobs_label="jobs a, b of project P"))
    operator = PhraseIngestConnectorFileOperator(
        task_id="ingest_file",
        connector="1001",
        folder="docs",
        file="x.md",
        project_uid="P",
        target_langs=["de"],
    )
    deferred = classify_failure(
        raised(
            operator.execute_complete_import,
            {},
            event={  # as the shared import poll reports a failed import: the job's importStatus message
                "status": "error",
                "project_uid": "P",
                "job_uids": ["a"],
                "failed_jobs": [{"uid": "a", "errorMessage": "bad front matter"}],
                "message": "bad front matter",
            },
            progress=_progress(),
        )
    )

    assert (polled.category, polled.message) == (
        FailureCategory.IMPORT_FAILED,
        "JobImportFailed: bad front matter",
    )
    assert (deferred.category, deferred.message) == (FailureCategory.IMPORT_FAILED, "bad front matter")


def _progress() -> dict[str, Any]:
    return {
        "stage": "importing",
        "project_uid": "P",
        "file": {
            "connector_id": "1001",
            "encoded_folder": "646f6373",
            "encoded_name": "78",
            "name": "x.md",
            "folder_path": "docs",
        },
        "download_task_id": "5",
    }


def test_a_failed_import_of_an_existing_job_is_expected() -> None:
    """Jobs found rather than created have no async request: their importStatus says it."""
    error = PhraseImportFailedError(
        what="job a (x.md, de)", error_code=None, error_desc="unterminated front matter", job_uids=["a"]
    )

    failure = classify_failure(error)

    assert (failure.category, failure.message) == (FailureCategory.IMPORT_FAILED, "unterminated front matter")


def test_the_type_decides_not_the_message_text() -> None:
    """A message that reads like Phrase's verdict is not one: only the typed exceptions are expected."""
    lookalikes = [
        AirflowFailException("Phrase connector download task 5 of x.docx ended CONVERTER_ERROR: nope"),
        AirflowFailException("Phrase could not import jobs a of project P (async request 7): E: d"),
    ]
    for error in lookalikes:
        assert classify_failure(error).category is FailureCategory.UNEXPECTED


def test_a_deferred_import_wait_that_could_not_read_the_jobs_is_unexpected() -> None:
    """The trigger's error event without a failed job (e.g. HTTP 403 while polling) is no verdict."""
    operator = PhraseIngestConnectorFileOperator(
        task_id="ingest_file",
        connector="1001",
        folder="docs",
        file="x.md",
        project_uid="P",
        target_langs=["de"],
    )
    error = raised(
        operator.execute_complete_import,
        {},
        event={
            "status": "error",
            "project_uid": "P",
            "job_uids": ["a"],
            "failed_jobs": [],
            "message": "PhraseApiError: HTTP 403 AuthAccessDenied",
        },
        progress=_progress(),
    )

    assert isinstance(error, AirflowFailException) and not isinstance(error, PhraseImportFailedError)
    assert classify_failure(error).category is FailureCategory.UNEXPECTED
    assert "Waiting for Phrase to import jobs a of project P failed" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        PhraseApiError(status=401, method="GET", path="/api2/v1/connectors", error_code="AuthUnauthorized"),
        PhraseConnectionError("connection refused"),
        PhraseWaitTimeout("Timed out waiting for Phrase connector download task 5"),
        AirflowException("The task resumed without its progress"),
        AirflowFailException(
            "Phrase refused to create jobs from download task 5 (HTTP 400): targetLangs ..."
        ),
        RuntimeError("a bug"),
    ],
    ids=["auth", "connection", "timeout", "resume", "refused", "bug"],
)
def test_everything_else_is_unexpected(error: BaseException) -> None:
    failure = classify_failure(error)

    assert failure.category is FailureCategory.UNEXPECTED
    assert not failure.expected
    assert failure.error_type == type(error).__name__


def test_bad_operator_arguments_are_unexpected() -> None:
    error = raised(
        validate_params,
        IngestArgs,
        "ingest_file",
        phrase_conn_id="c",
        connector="1",
        file="f",
        project_uid="p",
        target_langs=["xx-"],
    )

    assert classify_failure(error).category is FailureCategory.UNEXPECTED


def test_the_failure_callback_records_the_classification_in_xcom() -> None:
    pushed: dict[str, Any] = {}

    class TaskInstance:
        def xcom_push(self, key: str, value: Any) -> None:
            pushed[key] = value

    error = download_failure("CONVERTER_ERROR", "cannot convert")
    record_ingest_failure({"ti": TaskInstance(), "exception": error})

    assert pushed == {
        FAILURE_XCOM_KEY: {
            "category": "conversion_failed",
            "message": "cannot convert",
            "error_type": None,
            "jobs": [],
        }
    }
    assert recorded_failure(pushed[FAILURE_XCOM_KEY]).expected


def test_a_missing_or_garbled_record_counts_as_unexpected() -> None:
    for value in (None, "oops", {"category": "nonsense"}):
        failure = recorded_failure(value)
        assert failure.category is FailureCategory.NOT_RECORDED
        assert not failure.expected
    assert classify_failure(None).category is FailureCategory.NOT_RECORDED


def test_long_messages_are_shortened_to_one_line() -> None:
    failure = classify_failure(RuntimeError("line one\n" + "x" * 2000))

    assert "\n" not in failure.message
    assert len(failure.message) == 500 and failure.message.endswith("...")
