"""``phrase_connector_ingestion`` and ``phrase_new_jobs_report`` run with ``dag.test()`` against the emulator.

Each ``dag.test()`` costs tens of seconds, so one test walks a whole story: ingest a window, run the same
interval again, read the new jobs through the Asset event.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.dags.runs import alias_assets, asset_events, jobs_by_file, task_states, xcom_value

pytestmark = pytest.mark.dagtest

PROJECT = "prjWebsite000000000001"
LANGS = ["de", "fr_fr", "ja"]
INGESTED = ["getting started.md", "index.html", "install.md", "reference.json", "überblick.md"]
EXPECTED_FAILURES = {
    "docs/guides/bad-import.md": "import_failed",
    "docs/legacy/broken.docx": "conversion_failed",
    "docs/legacy/gone.md": "remote_file_error",
}
#: Modified within the hour before the emulator's (re)start; the seed's other docs/ files are days old.
RECENT = ["docs/getting started.md", "docs/guides/bad-import.md", "docs/guides/install.md",
          "docs/guides/überblick.md", "docs/legacy/broken.docx", "docs/site/index.html"]  # fmt: skip


def ingestion_dag(example_dags: Any) -> Any:
    return example_dags.dags["phrase_connector_ingestion"]


def test_a_week_is_ingested_once_with_expected_failures_reported_and_an_asset_event(
    example_dags: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    dag = ingestion_dag(example_dags)
    now = datetime.now(timezone.utc)
    conf = {"window_start": (now - timedelta(days=7)).isoformat(), "window_end": now.isoformat()}
    logical_date = now.replace(minute=0, second=0, microsecond=0)

    first = dag.test(logical_date=logical_date, run_conf=conf)

    # The run succeeds although three files failed: Phrase's verdict on them is an expected failure, and
    # their tasks end skipped (the grid tells them from real failures), the reason in their label.
    assert first.state == "success"
    states = task_states(first, "ingest_file")
    summary = xcom_value(first, "summarize", "ingestion_summary")
    by_path = {f["path"]: f for f in summary["files"]}
    assert sorted(by_path) == sorted([*RECENT, "docs/api/reference.json", "docs/legacy/gone.md"])
    for path, outcome in by_path.items():
        expected_state = "skipped" if path in EXPECTED_FAILURES else "success"
        assert states[outcome["map_index"]] == expected_state, path
        if path in EXPECTED_FAILURES:
            assert outcome["failure"]["category"] == EXPECTED_FAILURES[path]
    assert "not a valid Office Open XML document" in by_path["docs/legacy/broken.docx"]["failure"]["message"]
    assert task_states(first, "summarize") == {-1: "success"}

    # Exactly one job per target language for every file that could be ingested.
    jobs = jobs_by_file(emulator.admin.snapshot())
    for name in INGESTED:
        assert jobs[name] == LANGS, name
    assert "broken.docx" not in jobs and "gone.md" not in jobs
    new_uids = sorted(job["uid"] for f in summary["files"] for job in f["jobs"])
    assert len(new_uids) == 15
    # Every job the run created is reported, with its import outcome: the bad import's three too.
    failed_import = by_path["docs/guides/bad-import.md"]["failure"]["jobs"]
    assert sorted(job["targetLang"] for job in failed_import) == LANGS
    assert all(job["created_now"] and job["url"].endswith("/translate") for job in failed_import)
    assert sorted(job["uid"] for job in failed_import) == sorted(
        j["uid"] for j in emulator.admin.snapshot()["jobs"] if j["filename"] == "bad-import.md"
    )
    labels = {
        ti.map_index: ti.rendered_map_index
        for ti in first.get_task_instances()
        if ti.task_id == "ingest_file"
    }
    assert labels[by_path["docs/legacy/broken.docx"]["map_index"]] == (
        "docs/legacy/broken.docx · skipped: conversion failed"
    )
    assert labels[by_path["docs/api/reference.json"]["map_index"]] == "docs/api/reference.json"

    # The project's Asset got one event, through the alias, listing the new jobs.
    [(uri, extra, aliases)] = asset_events(first)
    host = emulator.base_url.split("//", 1)[1].split("/", 1)[0]
    assert uri == f"phrase://{host}/projects/{PROJECT}"
    assert aliases == ["phrase_tms_new_jobs"]
    assert sorted(extra["job_uids"]) == new_uids
    assert extra["project_uid"] == PROJECT
    assert alias_assets("phrase_tms_new_jobs") == [uri]

    # The same window again (as a backfill by hand would run it): Phrase's record (used downloads of these
    # versions) says every file with jobs is ingested: nothing new in Phrase, no new event. The files
    # whose download failed are tried again and fail again the same way.
    emulator.admin.clear_journal()
    second = dag.test(logical_date=logical_date, run_conf=conf)

    assert second.state == "success"
    assert jobs_by_file(emulator.admin.snapshot()) == jobs
    again = xcom_value(second, "summarize", "ingestion_summary")
    assert {f["path"]: f["reused"] for f in again["files"] if f["state"] == "success"} == {
        f"docs/{p}": "jobs" for p in ["api/reference.json", "getting started.md", "guides/bad-import.md",
                                      "guides/install.md", "guides/überblick.md", "site/index.html"]
    }  # fmt: skip
    assert asset_events(second) == []
    creates = [
        e for e in emulator.admin.journal() if e.method == "POST" and e.path.endswith("/connectorTask")
    ]
    assert creates == []

    # The downstream DAG reads the announced jobs back from Phrase.
    report_dag = example_dags.dags["phrase_new_jobs_report"]
    report_run = report_dag.test(
        run_conf={"project_uid": extra["project_uid"], "job_uids": extra["job_uids"]}
    )
    assert report_run.state == "success"
    report = xcom_value(report_run, "report", "return_value")
    assert sorted(row["uid"] for row in report["jobs"]) == new_uids
    assert {row["import_status"] for row in report["jobs"]} == {"OK"}


def test_a_first_run_takes_the_initial_look_back_and_a_failed_run_leaves_its_changes_to_the_next(
    example_dags: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    dag = ingestion_dag(example_dags)
    dag.get_task("ingest_file").retries = 0  # (a 403 AuthAccessDenied fails at once anyway)
    # The first connector download Phrase is asked for answers 403 (not a verdict on the file).
    emulator.admin.set_faults(
        [{"method": "POST", "path": r"/api2/v2/connectors/[^/]+/folders/[^/]+/files/[^/]+",
          "sequence": [{"status": 403}]}]
    )  # fmt: skip

    # No conf and no baseline yet: the files modified within the initial look-back (24 h) are taken.
    run = dag.test(logical_date=datetime.now(timezone.utc))

    summary = xcom_value(run, "summarize", "ingestion_summary")
    assert [f["path"] for f in summary["files"]] == RECENT
    assert summary["window"] is None
    assert summary["counts"]["older_than_lookback"] == 2  # docs/api/reference.json, docs/legacy/gone.md
    unexpected = [f for f in summary["files"] if f["failure"] and f["failure"]["category"] == "unexpected"]
    assert len(unexpected) == 1
    assert unexpected[0]["failure"]["error_type"] == "PhraseAuthenticationError"  # a PhraseApiError
    assert "HTTP 403" in unexpected[0]["failure"]["message"]
    assert run.state == "failed"
    assert task_states(run, "summarize") == {-1: "failed"}
    # The other files were still ingested, and Phrase's verdicts are still only expected failures (the
    # 403 hit whichever file was downloaded first: that one never got Phrase's verdict).
    hit = unexpected[0]["path"]
    verdicts = {k: v for k, v in EXPECTED_FAILURES.items() if k in RECENT and k != hit}
    failures = {f["path"]: f["failure"]["category"] for f in summary["files"] if f["failure"]}
    assert {path: category for path, category in failures.items() if path != hit} == verdicts
    succeeded = {f["path"] for f in summary["files"] if f["state"] == "success"}
    assert succeeded == set(RECENT) - {hit} - set(verdicts)
    assert len(succeeded) >= 3
    assert asset_events(run) == []

    # The run failed, so it recorded no baseline: the next run (Phrase healthy again) takes the same files,
    # ingests the one the 403 hit, and finds the others in Phrase's record (nothing created twice).
    before = jobs_by_file(emulator.admin.snapshot())
    following = dag.test(logical_date=datetime.now(timezone.utc))

    assert following.state == "success"
    after = xcom_value(following, "summarize", "ingestion_summary")
    reused = {f["path"]: f["reused"] for f in after["files"] if f["state"] == "success"}
    with_jobs = {path for path in RECENT if path.rsplit("/", 1)[1] in before}  # incl. a failed import
    assert {path for path, how in reused.items() if how == "jobs"} == with_jobs
    hit_name = hit.rsplit("/", 1)[1]
    jobs = jobs_by_file(emulator.admin.snapshot())
    assert {name: langs for name, langs in jobs.items() if name != hit_name} == before
    if hit not in EXPECTED_FAILURES:
        assert jobs[hit_name] == LANGS
