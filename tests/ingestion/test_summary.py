"""The run's summary: outcomes per file, jobs per language, failures, the Asset event, the text report."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_phrase.ingestion.failures import FailureCategory
from airflow_phrase.ingestion.summary import (
    IngestionSummary,
    asset_event_extra,
    build_summary,
    project_asset_uri,
    render_summary,
)

FILES = ["docs/a.md", "docs/b.md", "docs/legacy/broken.docx", "docs/c.md"]


def selection(paths: list[str] = FILES) -> dict[str, Any]:
    return {
        "connector_id": "1001",
        "settings": {"project_uid": "prjWebsite000000000001", "folder": "docs", "phrase_conn_id": "x"},
        "window": {
            "start": "2026-11-28T09:00:00+00:00",
            "end": "2026-11-28T10:00:00+00:00",
            "source": "data interval",
        },
        "counts": {"listed": 9, "selected": len(paths), "outside_window": 5, "filtered_by_pattern": 0},
        "files": [{"path": p} for p in paths],
    }


def result(name: str, reused: str | None = None) -> dict[str, Any]:
    return {
        "project_uid": "prjWebsite000000000001",
        "reused": reused,
        "jobs": [
            {"uid": f"job-{name}-{lang}", "targetLang": lang, "filename": name} for lang in ("de", "ja")
        ],
    }


CONVERSION = {"category": "conversion_failed", "message": "Unable to convert broken.docx", "error_type": None}


def test_outcomes_jobs_and_expected_failures() -> None:
    summary = build_summary(
        selection=selection(),
        states={0: "success", 1: "success", 2: "failed", 3: "success"},
        results=[result("a.md"), result("b.md", reused="jobs"), None, result("c.md", reused="download")],
        failures=[None, None, CONVERSION, None],
    )

    assert [f.path for f in summary.succeeded] == ["docs/a.md", "docs/b.md", "docs/c.md"]
    assert [f.path for f in summary.expected_failures] == ["docs/legacy/broken.docx"]
    assert summary.unexpected_failures == []
    assert summary.jobs_by_language() == {
        "de": ["job-a.md-de", "job-b.md-de", "job-c.md-de"],
        "ja": ["job-a.md-ja", "job-b.md-ja", "job-c.md-ja"],
    }
    # b.md was already in Phrase: its jobs are reported but are not new.
    assert summary.jobs_by_language(new_only=True) == {
        "de": ["job-a.md-de", "job-c.md-de"],
        "ja": ["job-a.md-ja", "job-c.md-ja"],
    }
    assert summary.window is not None and summary.project_uid == "prjWebsite000000000001"


@pytest.mark.parametrize(
    ("state", "failure", "category"),
    [
        ("failed", None, FailureCategory.NOT_RECORDED),
        (
            "failed",
            {"category": "unexpected", "message": "HTTP 401", "error_type": "PhraseApiError"},
            FailureCategory.UNEXPECTED,
        ),
        ("upstream_failed", None, None),
        (None, None, None),
    ],
    ids=["failed-without-record", "failed-unexpectedly", "upstream-failed", "never-ran"],
)
def test_anything_but_success_or_an_expected_failure_fails_the_run(
    state: str | None, failure: dict[str, Any] | None, category: FailureCategory | None
) -> None:
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/b.md"]),
        states={0: "success", 1: state},
        results=[result("a.md"), None],
        failures=[None, failure],
    )

    assert [f.path for f in summary.unexpected_failures] == ["docs/b.md"]
    outcome = summary.unexpected_failures[0]
    assert (outcome.failure.category if outcome.failure else None) is category
    assert "docs/b.md (map index 1)" in summary.failure_message()


def test_a_summary_survives_the_xcom_round_trip() -> None:
    summary = build_summary(
        selection=selection(),
        states={0: "success", 1: "success", 2: "failed", 3: "success"},
        results=[result("a.md"), result("b.md"), None, result("c.md")],
        failures=[None, None, CONVERSION, None],
    )

    assert IngestionSummary.model_validate(summary.model_dump(mode="json")) == summary


def test_the_text_report_is_aligned_and_names_every_failure() -> None:
    summary = build_summary(
        selection=selection(),
        states={0: "success", 1: "success", 2: "failed", 3: "failed"},
        results=[result("a.md"), result("b.md", reused="jobs"), None, None],
        failures=[None, None, CONVERSION, {"category": "unexpected", "message": "boom", "error_type": "X"}],
    )

    text = render_summary(summary, api_calls={"docs/a.md": 21, "docs/legacy/broken.docx": 9})
    lines = text.splitlines()

    header = next(index for index, line in enumerate(lines) if line.split()[:2] == ["file", "result"])
    table = lines[header + 1 : header + 1 + len(FILES)]
    column = lines[header].index("result")
    assert [line[column:].split("  ")[0] for line in table] == [
        "ingested",
        "already ingested",
        "failed (expected)",
        "FAILED",
    ]
    assert any(line.startswith("  docs/a.md") and line.endswith("21") for line in table)
    assert any("already ingested" in line for line in table)
    assert "failed (expected)" in text
    assert "conversion failed: Unable to convert broken.docx" in text
    assert "docs/c.md [UNEXPECTED]" in text
    assert "unexpected error: boom" in text
    assert "Outcome       1 ingested, 1 already ingested, 1 expected failure(s), 1 unexpected" in text
    assert "2026-11-28 09:00 UTC .. 2026-11-28 10:00 UTC (data interval)" in text


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("https://cloud.memsource.com/web", "phrase://cloud.memsource.com/projects/prj1"),
        ("https://us.cloud.memsource.com/web", "phrase://us.cloud.memsource.com/projects/prj1"),
        ("http://127.0.0.1:8123/web", "phrase://127.0.0.1:8123/projects/prj1"),
        ("https://user@Cloud.Memsource.com/web", "phrase://cloud.memsource.com/projects/prj1"),
    ],
)
def test_the_asset_uri_names_the_phrase_instance_and_the_project(url: str, uri: str) -> None:
    assert project_asset_uri(url, "prj1") == uri


def test_the_asset_event_extra_lists_only_new_jobs() -> None:
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/b.md"]),
        states={0: "success", 1: "success"},
        results=[result("a.md"), result("b.md", reused="jobs")],
        failures=[None, None],
    )

    extra = asset_event_extra(summary, run_id="scheduled__x")

    assert extra == {
        "project_uid": "prjWebsite000000000001",
        "job_uids": ["job-a.md-de", "job-a.md-ja"],
        "jobs": [
            {"uid": "job-a.md-de", "targetLang": "de", "filename": "a.md"},
            {"uid": "job-a.md-ja", "targetLang": "ja", "filename": "a.md"},
        ],
        "source_run_id": "scheduled__x",
    }


def partial_result(name: str) -> dict[str, Any]:
    """The ingest result when de already had a job and only ja was created (``reused="partial"``)."""
    return {
        **result(name, reused="partial"),
        "new_job_uids": [f"job-{name}-ja"],
        "existing_job_uids": [f"job-{name}-de"],
    }


def test_a_partial_ingest_counts_only_the_created_jobs_as_new() -> None:
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/b.md", "docs/c.md"]),
        states={0: "success", 1: "success", 2: "success"},
        results=[
            {**result("a.md"), "new_job_uids": ["job-a.md-de", "job-a.md-ja"], "existing_job_uids": []},
            partial_result("b.md"),
            {**result("c.md", reused="jobs"), "new_job_uids": [], "existing_job_uids": ["job-c.md-de"]},
        ],
        failures=[None, None, None],
    )

    b = summary.files[1]
    assert [job.uid for job in b.new_jobs] == ["job-b.md-ja"]
    assert [job.uid for job in b.existing_jobs] == ["job-b.md-de"]
    assert summary.jobs_by_language(new_only=True) == {
        "de": ["job-a.md-de"],
        "ja": ["job-a.md-ja", "job-b.md-ja"],
    }
    assert [job.uid for job in summary.existing_job_refs()] == ["job-b.md-de", "job-c.md-de", "job-c.md-ja"]
    extra = asset_event_extra(summary, run_id="r")
    assert extra["job_uids"] == ["job-a.md-de", "job-a.md-ja", "job-b.md-ja"]
    assert [job["uid"] for job in extra["jobs"]] == extra["job_uids"]
    assert IngestionSummary.model_validate(summary.model_dump(mode="json")) == summary


def test_the_report_shows_which_jobs_are_new() -> None:
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/b.md", "docs/c.md"]),
        states={0: "success", 1: "success", 2: "success"},
        results=[result("a.md"), partial_result("b.md"), result("c.md", reused="jobs")],
        failures=[None, None, None],
    )

    text = render_summary(summary)

    assert "Jobs          3 created, 3 already in Phrase" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  docs/")}
    assert "  ingested  " in rows["docs/a.md"]
    assert "ingested (1 of 2 jobs new)" in rows["docs/b.md"]
    assert "already ingested" in rows["docs/c.md"]
    per_language = text.split("New jobs per language\n", 1)[1].splitlines()
    assert [line.split()[:2] for line in per_language] == [["de", "1"], ["ja", "2"]]
    assert "job-b.md-de" not in text.split("New jobs per language", 1)[1]


def test_a_result_without_new_job_uids_counts_as_before() -> None:
    """Results of an older provider have no ``new_job_uids``: every job is new unless reused="jobs"."""
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/b.md"]),
        states={0: "success", 1: "success"},
        results=[result("a.md", reused="download"), result("b.md", reused="jobs")],
        failures=[None, None],
    )

    assert [job.uid for job in summary.new_job_refs()] == ["job-a.md-de", "job-a.md-ja"]


def _import_failed(name: str, *, created_now: bool = True) -> dict[str, Any]:
    return {
        "category": "import_failed",
        "message": "JobImportFailed: unterminated YAML front matter",
        "jobs": [
            {"uid": f"job-{name}-{lang}", "targetLang": lang, "url": None, "created_now": created_now}
            for lang in ("de", "fr_fr", "ja")
        ],
    }


def _three_languages(name: str) -> dict[str, Any]:
    jobs = [
        {"uid": f"job-{name}-{lang}", "targetLang": lang, "filename": name} for lang in ("de", "fr_fr", "ja")
    ]
    return {
        "reused": None,
        "jobs": jobs,
        "new_job_uids": [job["uid"] for job in jobs],
        "import_checked": True,
    }


def test_every_job_created_is_counted_with_its_import_outcome() -> None:
    """Reported bug: a run that created 6 jobs said "3 new": the jobs of the file whose import failed
    were not counted."""
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/guides/bad-import.md"]),
        states={0: "success", 1: "skipped"},
        results=[_three_languages("a.md"), None],
        failures=[None, _import_failed("bad-import.md")],
        job_url=lambda uid: f"https://cloud.memsource.com/web/job/{uid}/translate",
    )

    created = summary.created_jobs()
    assert len(created) == 6
    assert [(job.uid, job.import_status) for job in created] == [
        ("job-a.md-de", "OK"),
        ("job-a.md-fr_fr", "OK"),
        ("job-a.md-ja", "OK"),
        ("job-bad-import.md-de", "ERROR"),
        ("job-bad-import.md-fr_fr", "ERROR"),
        ("job-bad-import.md-ja", "ERROR"),
    ]
    assert all(job.url == f"https://cloud.memsource.com/web/job/{job.uid}/translate" for job in created)
    assert created[3].filename == "bad-import.md"
    text = render_summary(summary)
    assert "Jobs          6 created (3 imported, 3 import failed), 0 already in Phrase" in text
    assert "de (import failed), fr_fr (import failed), ja (import failed)" in text
    # Only the imported jobs are announced to downstream DAGs.
    assert asset_event_extra(summary)["job_uids"] == ["job-a.md-de", "job-a.md-fr_fr", "job-a.md-ja"]
    assert IngestionSummary.model_validate(summary.model_dump(mode="json")) == summary


def test_jobs_found_rather_than_created_are_not_counted_as_created() -> None:
    summary = build_summary(
        selection=selection(["docs/guides/bad-import.md"]),
        states={0: "skipped"},
        results=[None],
        failures=[_import_failed("bad-import.md", created_now=False)],
    )
    assert summary.created_jobs() == []
    assert len(summary.files[0].failed_import_jobs) == 3


def test_a_skipped_file_is_an_expected_failure_with_or_without_a_record() -> None:
    summary = build_summary(
        selection=selection(["docs/legacy/broken.docx", "docs/x.md"]),
        states={0: "skipped", 1: "skipped"},
        results=[None, None],
        failures=[CONVERSION, None],
    )
    assert [f.outcome for f in summary.files] == ["expected_failure", "expected_failure"]
    assert summary.files[1].failure is not None
    assert summary.files[1].failure.category is FailureCategory.SKIPPED
    assert summary.unexpected_failures == []
    assert "skipped (expected)" in render_summary(summary)


def test_api_calls_add_up_and_show_in_the_report() -> None:
    summary = build_summary(
        selection=selection(["docs/a.md", "docs/legacy/broken.docx"]),
        states={0: "success", 1: "skipped"},
        results=[result("a.md"), None],
        failures=[None, CONVERSION],
        api_calls=[9, 5],
        listing_api_calls=3,
    )
    assert summary.api_calls == 17
    text = render_summary(summary)
    assert "API calls     17 from the tasks (3 to list the folder); triggerer polls not included" in text
    assert any(line.startswith("  docs/a.md") and line.endswith("9") for line in text.splitlines())


def test_a_run_that_stopped_before_ingesting_names_the_task() -> None:
    from airflow_phrase.ingestion.summary import stopped_summary

    summary = IngestionSummary.model_validate(stopped_summary("validate_request", "failed").model_dump())
    assert summary.stopped_at is not None and summary.stopped_at.task_id == "validate_request"
    assert render_summary(summary).startswith("Nothing was ingested: task 'validate_request' ended failed")
