"""The example DAGs' ingest task: Phrase's verdict ends it skipped, recorded and labelled; the rest fails.

Runs the operator's own code with the parent's ``execute`` replaced by what Phrase would make it raise;
the same policy on a real scheduler is asserted in ``tests/dags`` (``dag.test()``) and ``tests/e2e``.
"""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_phrase.exceptions import PhraseDownloadFailedError, PhraseImportFailedError
from airflow_phrase.ingestion.failures import FAILURE_XCOM_KEY, recorded_failure
from airflow_phrase.ingestion.ingest_task import MAP_INDEX_TEMPLATE, OUTCOME_CONTEXT_KEY, IngestFileOperator
from airflow_phrase.links import JOB_URLS_XCOM_KEY
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.try_record import API_CALLS_XCOM_KEY


class TaskInstance:
    task_id = "ingest_file"
    map_index = 2

    def __init__(self, xcoms: dict[str, Any] | None = None) -> None:
        self.xcoms = dict(xcoms or {})
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int) -> Any:
        assert (task_ids, map_indexes) == (self.task_id, self.map_index)
        return self.xcoms.get(key)


def _operator() -> IngestFileOperator:
    return IngestFileOperator(
        task_id="ingest_file",
        connector="Docs Git",
        folder="docs/legacy",
        file="broken.docx",
        project_uid="prjWebsite000000000001",
        target_langs=["de"],
        wait_for_import=True,
    )


def _label(context: dict[str, Any]) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(MAP_INDEX_TEMPLATE).render(context)


def _run(monkeypatch: pytest.MonkeyPatch, raised: BaseException | None, ti: TaskInstance) -> Any:
    def parent_execute(self: Any, context: Any) -> dict[str, Any]:
        if raised is not None:
            raise raised
        return {"jobs": [{"uid": "j1"}], "reused": None}

    monkeypatch.setattr(PhraseIngestConnectorFileOperator, "execute", parent_execute)
    operator = _operator()
    context: dict[str, Any] = {"ti": ti, "task": operator}
    return operator, context


def test_phrases_verdict_on_the_file_ends_the_task_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = PhraseDownloadFailedError(
        status="CONVERTER_ERROR", error_message="not a valid docx", download_task_id="17", file="x"
    )
    ti = TaskInstance()
    operator, context = _run(monkeypatch, error, ti)

    with pytest.raises(AirflowSkipException, match="conversion failed: not a valid docx"):
        operator.execute(context)

    failure = recorded_failure(ti.pushed[FAILURE_XCOM_KEY])
    assert failure.expected and failure.category.value == "conversion_failed"
    assert ti.pushed[API_CALLS_XCOM_KEY] == 0  # always recorded, so the summary never pulls a missing one
    assert _label(context) == "docs/legacy/broken.docx · skipped: conversion failed"


def test_a_failed_import_records_the_jobs_phrase_created(monkeypatch: pytest.MonkeyPatch) -> None:
    error = PhraseImportFailedError(
        what="jobs j1, j2", error_code="JobImportFailed", error_desc="bad YAML", async_request_id="9",
        job_uids=["j1", "j2"],
    )  # fmt: skip
    urls = [{"uid": "j1", "targetLang": "de", "url": "u1"}, {"uid": "j2", "targetLang": "ja", "url": "u2"}]
    ti = TaskInstance({JOB_URLS_XCOM_KEY: urls})
    operator, context = _run(monkeypatch, error, ti)

    with pytest.raises(AirflowSkipException):
        operator.execute(context)

    assert ti.pushed[FAILURE_XCOM_KEY]["jobs"] == [
        {"uid": "j1", "targetLang": "de", "url": "u1", "created_now": True},
        {"uid": "j2", "targetLang": "ja", "url": "u2", "created_now": True},
    ]
    assert context[OUTCOME_CONTEXT_KEY] == "skipped: import failed"


def test_any_other_failure_still_fails_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    ti = TaskInstance()
    operator, context = _run(monkeypatch, AirflowFailException("HTTP 401"), ti)

    with pytest.raises(AirflowFailException):
        operator.execute(context)

    assert FAILURE_XCOM_KEY not in ti.pushed  # the on_failure_callback records it
    assert _label(context) == "docs/legacy/broken.docx · failed"


def test_success_keeps_the_plain_label_and_says_the_import_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ti = TaskInstance()
    operator, context = _run(monkeypatch, None, ti)

    result = operator.execute(context)

    assert result["import_checked"] is True and result["jobs"] == [{"uid": "j1"}]
    assert _label(context) == "docs/legacy/broken.docx"
