"""The ``summarize`` task body with a stand-in task instance: what it pulls, pushes, raises and emits."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from airflow.sdk import Asset, AssetAlias
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.ingestion.failures import FAILURE_XCOM_KEY
from airflow_phrase.ingestion.tasks import SUMMARY_KEY, summarize_run
from airflow_phrase.operators.try_record import API_CALLS_XCOM_KEY

SELECTION = {
    "connector_id": "1001",
    "settings": {
        "project_uid": "prjWebsite000000000001",
        "folder": "docs",
        "phrase_conn_id": "phrase_tms_default",
    },
    "window": None,
    "counts": {"listed": 3, "selected": 3},
    "files": [{"path": "docs/a.md"}, {"path": "docs/broken.docx"}, {"path": "docs/c.md"}],
}
RESULT = {"jobs": [{"uid": "j-a-de", "targetLang": "de", "filename": "a.md"}], "reused": None}


class TaskInstance:
    """Answers ``xcom_pull`` like the SDK (a list for a list of map indexes) and records pushes."""

    dag_id = "phrase_connector_ingestion"

    def __init__(self, selection: Any, states: dict[str, str], xcoms: dict[tuple[str, int], Any]) -> None:
        self.selection = selection
        self.states = states
        self.xcoms = xcoms
        self.pulls: list[tuple[str, tuple[int, ...]]] = []
        self.pushed: dict[str, Any] = {}

    def xcom_pull(self, task_ids: str, key: str = "return_value", map_indexes: Any = None) -> Any:
        if task_ids == "list_files":
            return self.selection if key == "selection" else self.xcoms.get((key, -1))
        self.pulls.append((key, tuple(map_indexes)))
        return [self.xcoms.get((key, index)) for index in map_indexes]

    def get_task_states(self, dag_id: str, task_ids: list[str], run_ids: list[str]) -> dict[str, Any]:
        prefixes = tuple(task_ids)
        return {run_ids[0]: {k: v for k, v in self.states.items() if k.startswith(prefixes)}}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


class OutletEvents(defaultdict):
    def __init__(self) -> None:
        super().__init__(Accessor)


class Accessor:
    def __init__(self) -> None:
        self.added: list[tuple[Asset, dict[str, Any]]] = []

    def add(self, asset: Asset, extra: dict[str, Any]) -> None:
        self.added.append((asset, extra))


def context(ti: TaskInstance) -> dict[str, Any]:
    return {"ti": ti, "run_id": "scheduled__2026-11-28T10:00:00+00:00", "outlet_events": OutletEvents()}


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "phrase_tms", "host": "https://cloud.memsource.com/web", "password": "t0ken",
            "extra": {"auth_type": "api_token"}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_PHRASE_TMS_DEFAULT", json.dumps(conn))


def test_expected_failures_are_reported_and_new_jobs_announced() -> None:
    ti = TaskInstance(
        SELECTION,
        {"ingest_file_0": "success", "ingest_file_1": "skipped", "ingest_file_2": "success"},
        {
            ("return_value", 0): RESULT,
            ("return_value", 2): {**RESULT, "jobs": [], "reused": "jobs"},
            (FAILURE_XCOM_KEY, 1): {"category": "conversion_failed", "message": "cannot convert"},
            (API_CALLS_XCOM_KEY, 0): 8,
            (API_CALLS_XCOM_KEY, 1): 4,
            (API_CALLS_XCOM_KEY, 2): 3,
            (API_CALLS_XCOM_KEY, -1): 2,
        },
    )
    ctx = context(ti)

    report = summarize_run(ctx)

    # Only what each task can have pushed is asked for (pulling a missing XCom logs an error).
    assert ti.pulls == [("return_value", (0, 2)), (FAILURE_XCOM_KEY, (1,)), (API_CALLS_XCOM_KEY, (0, 1, 2))]
    assert ti.pushed[SUMMARY_KEY] == report
    assert [f["state"] for f in report["files"]] == ["success", "skipped", "success"]
    assert [f["api_calls"] for f in report["files"]] == [8, 4, 3]
    assert report["listing_api_calls"] == 2
    assert report["phrase_url"] == "https://cloud.memsource.com/web"
    assert report["files"][0]["jobs"][0]["url"] == "https://cloud.memsource.com/web/job/j-a-de/translate"
    [(asset, extra)] = ctx["outlet_events"][AssetAlias("phrase_tms_new_jobs")].added
    assert asset.uri == "phrase://cloud.memsource.com/projects/prjWebsite000000000001"
    assert extra["job_uids"] == ["j-a-de"]


def test_an_unexpected_failure_fails_the_task_after_the_summary_is_stored() -> None:
    ti = TaskInstance(
        SELECTION,
        {"ingest_file_0": "success", "ingest_file_1": "failed", "ingest_file_2": "failed"},
        {
            ("return_value", 0): RESULT,
            (FAILURE_XCOM_KEY, 1): {"category": "conversion_failed", "message": "cannot convert"},
            (FAILURE_XCOM_KEY, 2): {
                "category": "unexpected",
                "message": "HTTP 401",
                "error_type": "PhraseApiError",
            },
        },
    )
    ctx = context(ti)

    with pytest.raises(AirflowFailException, match=r"docs/c\.md \(map index 2\): unexpected error: HTTP 401"):
        summarize_run(ctx)

    assert len(ti.pushed[SUMMARY_KEY]["files"]) == 3
    assert not ctx["outlet_events"]  # no Asset event from a failed run


def test_nothing_new_means_no_asset_event() -> None:
    selection = {**SELECTION, "files": [{"path": "docs/a.md"}]}
    ti = TaskInstance(
        selection, {"ingest_file_0": "success"}, {("return_value", 0): {**RESULT, "reused": "jobs"}}
    )
    ctx = context(ti)

    summarize_run(ctx)

    assert not ctx["outlet_events"]


def test_without_a_selection_the_listing_failed_and_so_does_the_run() -> None:
    ti = TaskInstance(None, {"list_files": "failed"}, {})
    with pytest.raises(AirflowFailException, match="task 'list_files' ended failed; see that task's log"):
        summarize_run(context(ti))
    assert ti.pushed[SUMMARY_KEY]["stopped_at"] == {"task_id": "list_files", "state": "failed"}


def test_after_a_refused_form_the_summary_points_at_the_validation_not_the_listing() -> None:
    """Reported bug: "see list_files' log", but list_files was upstream_failed and has no log."""
    ti = TaskInstance(None, {"validate_request": "failed", "list_files": "upstream_failed"}, {})
    with pytest.raises(AirflowFailException) as error:
        summarize_run(context(ti))
    assert "task 'validate_request' ended failed; see that task's log" in str(error.value)
    assert "list_files" not in str(error.value)
