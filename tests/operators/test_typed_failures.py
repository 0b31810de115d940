"""The typed failures the operators raise for Phrase's verdict on a file: no retries, fields kept."""

from __future__ import annotations

import pickle

from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.exceptions import PhraseDownloadFailedError, PhraseImportFailedError


def test_a_failed_download_keeps_phrases_message_and_survives_pickling() -> None:
    error = PhraseDownloadFailedError(
        status="CONVERTER_ERROR",
        error_message="Unable to convert broken.docx",
        download_task_id="310007",
        file="docs/legacy/broken.docx",
    )

    assert isinstance(error, AirflowFailException)  # Airflow fails the task without retrying it
    assert str(error) == (
        "Phrase connector download task 310007 of docs/legacy/broken.docx ended CONVERTER_ERROR: "
        "Unable to convert broken.docx"
    )
    assert error.conversion_failed
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.status, copy.error_message, copy.download_task_id, copy.file) == (
        PhraseDownloadFailedError,
        str(error),
        "CONVERTER_ERROR",
        "Unable to convert broken.docx",
        "310007",
        "docs/legacy/broken.docx",
    )


def test_a_download_phrase_gave_no_message_for_says_so() -> None:
    error = PhraseDownloadFailedError(status="ERROR", error_message=None, download_task_id="5", file="x.md")

    assert str(error).endswith("ended ERROR: Phrase gave no error message")
    assert not error.conversion_failed and error.download_task_id == "5"


def test_a_failed_import_keeps_phrases_code_and_survives_pickling() -> None:
    error = PhraseImportFailedError(
        what="jobs a, b of project P",
        error_code="JobImportFailed",
        error_desc="bad front matter",
        async_request_id="5200006",
        job_uids=["a", "b"],
    )

    assert isinstance(error, AirflowFailException)
    assert str(error) == (
        "Phrase could not import jobs a, b of project P (async request 5200006): "
        "JobImportFailed: bad front matter"
    )
    assert error.detail == "JobImportFailed: bad front matter"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.error_code, copy.async_request_id, copy.job_uids) == (
        PhraseImportFailedError,
        str(error),
        "JobImportFailed",
        "5200006",
        ["a", "b"],
    )


def test_a_failed_job_import_without_an_async_request() -> None:
    error = PhraseImportFailedError(
        what="job a (x.md, de)", error_code=None, error_desc="unterminated front matter"
    )

    assert str(error) == "Phrase could not import job a (x.md, de): unterminated front matter"
    assert error.async_request_id is None and error.job_uids == []
