"""Failure classification, fed with the exceptions the real operator code raises."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_phrase.exceptions import PhraseApiError, PhraseConnectionError
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
    return raised(check_download, state, file_label="docs/legacy/broken.docx")


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
            event={
                "status": "error",
                "async_request_id": "5200006",
                "async_request": None,
                "message": "JobImportFailed: bad front matter",
            },
            result={"project_uid": "P", "job_uids": ["a"], "jobs": []},
        )
    )

    for failure in (polled, deferred):
        assert (failure.category, failure.expected) == (FailureCategory.IMPORT_FAILED, True)
        assert failure.message == "JobImportFailed: bad front matter"


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
        FAILURE_XCOM_KEY: {"category": "conversion_failed", "message": "cannot convert", "error_type": None}
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
