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
)
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
from airflow_phrase.operators.waiting import PhraseWaitTimeout, check_download, check_import
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


def test_a_failed_import_is_expected_on_both_waiting_paths() -> None:
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
            event={  # as the trigger reports a failed import: the finished request is in the event
                "status": "error",
                "async_request_id": "5200006",
                "async_request": request.to_wire(),
                "message": "JobImportFailed: bad front matter",
            },
            result={"project_uid": "P", "job_uids": ["a"], "jobs": []},
        )
    )

    for failure in (polled, deferred):
        assert (failure.category, failure.expected) == (FailureCategory.IMPORT_FAILED, True)
        assert failure.message == "JobImportFailed: bad front matter"


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


def test_a_deferred_import_wait_that_could_not_read_the_request_is_unexpected() -> None:
    """The trigger's error event without a finished request (e.g. HTTP 403 while polling) is no verdict."""
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
            "async_request_id": "5200006",
            "async_request": None,
            "message": "PhraseApiError: HTTP 403 AuthAccessDenied",
        },
        result={"project_uid": "P", "job_uids": ["a"], "jobs": []},
    )

    assert isinstance(error, AirflowFailException) and not isinstance(error, PhraseImportFailedError)
    assert classify_failure(error).category is FailureCategory.UNEXPECTED
    assert "Waiting for Phrase to import jobs a of project P (async request 5200006) failed" in str(error)


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
