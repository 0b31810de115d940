"""``phrase_manual_ingestion`` run with ``dag.test()``: a chosen set of files, and a form that is refused."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import ParamValidationError

from tests.dags.runs import asset_events, jobs_by_file, task_states, xcom_value

pytestmark = pytest.mark.dagtest


def test_chosen_files_are_ingested_into_the_chosen_project_and_languages(
    example_dags: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    dag = example_dags.dags["phrase_manual_ingestion"]
    form = {
        "files": ["guides/install.md", "legacy/broken.docx", "api/reference.json"],
        "project_uid": "prjDocsReview00000001",
        "target_langs": ["es"],
    }

    run = dag.test(run_conf=form)

    assert run.state == "success"
    summary = xcom_value(run, "summarize", "ingestion_summary")
    assert [(f["path"], f["state"]) for f in summary["files"]] == [
        ("docs/api/reference.json", "success"),
        ("docs/guides/install.md", "success"),
        ("docs/legacy/broken.docx", "skipped"),
    ]
    assert summary["files"][2]["failure"]["category"] == "conversion_failed"
    # A project with two workflow steps: one job per step for the one language asked for.
    jobs = [j for j in emulator.admin.snapshot()["jobs"] if j["projectUid"] == "prjDocsReview00000001"]
    assert sorted((j["filename"], j["targetLang"], j["workflowLevel"]) for j in jobs) == [
        ("install.md", "es", 1),
        ("install.md", "es", 2),
        ("reference.json", "es", 1),
        ("reference.json", "es", 2),
    ]
    [(uri, extra, _aliases)] = asset_events(run)
    assert uri.endswith("/projects/prjDocsReview00000001")
    assert sorted(extra["job_uids"]) == sorted(j["uid"] for j in jobs)


def test_a_bad_form_fails_before_anything_is_sent_to_phrase(
    example_dags: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    dag = example_dags.dags["phrase_manual_ingestion"]

    # What JSON Schema can express is refused by the form itself: no run is even created.
    with pytest.raises(ParamValidationError, match="target_langs"):
        dag.test(run_conf={"files": ["guides/install.md"], "target_langs": ["de", "klingon!"]})
    # The rest is refused by validate_request, before anything is sent to Phrase.
    conf = {"files": ["guides/install.md"], "modified_from": "2026-11-08", "modified_to": "2026-11-01"}
    run = dag.test(run_conf=conf)

    assert run.state == "failed"
    assert task_states(run, "validate_request") == {-1: "failed"}
    assert task_states(run, "list_files") == {-1: "upstream_failed"}
    # The summary points at the task that failed, not at the listing that never ran.
    summary = xcom_value(run, "summarize", "ingestion_summary")
    assert summary["stopped_at"] == {"task_id": "validate_request", "state": "failed"}
    assert emulator.admin.journal() == []
    assert jobs_by_file(emulator.admin.snapshot()) == {}
