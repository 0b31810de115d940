"""The Phrase view's figures and pages, from a recorded summary (no Airflow server needed).

The same pages on a real API server, behind its authentication and in a browser, are in
``tests/e2e/test_ui_e2e.py``.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_phrase.ingestion.summary import build_summary, stopped_summary
from airflow_phrase.ui import render
from airflow_phrase.ui.run_report import parse_summary, run_report, trend_point

LANGS = ("de", "fr_fr", "ja")
WEB = "https://cloud.memsource.com/web"


def _jobs(name: str) -> list[dict[str, Any]]:
    return [{"uid": f"{name}-{lang}", "targetLang": lang, "filename": name} for lang in LANGS]


def recorded() -> dict[str, Any]:
    """A run over five selected files: two ingested, one already ingested, a conversion error, a failed
    import (three jobs created), as the summarize task records it."""
    files = ["docs/a.md", "docs/b.md", "docs/old.md", "docs/broken.docx", "docs/bad-import.md"]
    fresh = {"reused": None, "import_checked": True}
    summary = build_summary(
        selection={
            "connector_id": "1001",
            "settings": {"project_uid": "prjWebsite000000000001", "folder": "docs"},
            "window": {
                "start": "2026-11-21T00:00:00+00:00",
                "end": "2026-11-28T00:00:00+00:00",
                "source": "x",
            },
            "counts": {"listed": 8, "selected": 5, "outside_window": 3},
            "files": [{"path": path} for path in files],
        },
        states={0: "success", 1: "success", 2: "success", 3: "skipped", 4: "skipped"},
        results=[
            {**fresh, "jobs": _jobs("a.md")},
            {**fresh, "jobs": _jobs("b.md")},
            {"reused": "jobs", "import_checked": True, "jobs": _jobs("old.md")},
            None,
            None,
        ],
        failures=[
            None,
            None,
            None,
            {"category": "conversion_failed", "message": "Unable to convert broken.docx <b>"},
            {
                "category": "import_failed",
                "message": "JobImportFailed: bad YAML",
                "jobs": [{"uid": f"bad-{lang}", "targetLang": lang, "created_now": True} for lang in LANGS],
            },
        ],
        api_calls=[9, 8, 4, 5, 9],
        listing_api_calls=3,
        phrase_url=WEB,
        job_url=lambda uid: f"{WEB}/job/{uid}/translate",
    )
    return summary.model_dump(mode="json")


def test_the_figures_of_a_run() -> None:
    summary = parse_summary(recorded())
    assert summary is not None
    report = run_report(summary)

    assert (report.files_found, report.files_selected, report.outside_window) == (8, 5, 3)
    assert (report.ingested, report.already_ingested) == (2, 1)
    assert (report.expected_failures, report.unexpected_failures) == (2, 0)
    assert (report.jobs_created, report.jobs_imported, report.jobs_import_failed) == (9, 6, 3)
    assert report.jobs_existing == 3
    assert report.api_calls == 38
    assert [(bar.language, bar.imported, bar.import_failed, bar.existing) for bar in report.languages] == [
        ("de", 2, 1, 1),
        ("fr_fr", 2, 1, 1),
        ("ja", 2, 1, 1),
    ]
    reasons = {line.path: line.reason for line in report.files}
    assert reasons["docs/broken.docx"] == "conversion failed: Unable to convert broken.docx <b>"
    assert reasons["docs/a.md"] is None


def _figures(html: str) -> dict[str, str]:
    return dict(
        (label, number)
        for number, label in re.findall(
            r'data-figure="[^"]+"><div class="n">([^<]+)</div><div class="l">([^<]+)', html
        )
    )


def test_the_run_page_shows_the_figures_the_chart_and_the_links() -> None:
    report = run_report(parse_summary(recorded()))  # type: ignore[arg-type]
    html = render.run_page("phrase_manual_ingestion", "manual__1", "success", report, nonce="n0nce")

    assert _figures(html) == {
        "files found": "8", "selected": "5", "ingested": "2", "already ingested": "1",
        "expected failures": "2", "unexpected failures": "0", "jobs created": "9", "imports failed": "3",
        "API calls": "38",
    }  # fmt: skip
    bars = re.findall(r'data-lang="([^"]+)" data-kind="([^"]+)" data-count="(\d+)"', html)
    assert ("de", "imported", "2") in bars and ("ja", "import failed", "1") in bars
    assert len(bars) == 9  # three languages, three kinds each
    assert f'href="{WEB}/job/a.md-de/translate"' in html
    assert "Unable to convert broken.docx &lt;b&gt;" in html  # escaped
    # Nothing is loaded from anywhere: no external scripts, styles, images or fonts.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "@import" not in html and "url(" not in html
    assert '<script nonce="n0nce">' in html


def test_a_run_without_a_summary_and_a_stopped_run() -> None:
    running = render.run_page("d", "r", "running", None, nonce="x")
    assert "has not recorded its summary yet" in running
    other = render.run_page("d", "r", "success", None, nonce="x")
    assert "recorded no Phrase ingestion summary" in other
    stopped = run_report(parse_summary(stopped_summary("validate_request", "failed").model_dump()))  # type: ignore[arg-type]
    html = render.run_page("d", "r", "failed", stopped, nonce="x")
    assert 'data-stopped="validate_request"' in html and "Nothing was ingested" in html


def test_something_else_than_a_summary_is_no_summary() -> None:
    assert parse_summary({"files": "not a list"}) is None
    assert parse_summary("text") is None


def test_the_overview_trend() -> None:
    points = [
        trend_point("phrase_manual_ingestion", "r2", "2026-11-28 10:00 UTC", "success", recorded()),
        trend_point("phrase_connector_ingestion", "r1", "2026-11-28 09:00 UTC", "failed", {"x": 1}),
    ]
    assert (points[0].files_selected, points[0].jobs_created, points[0].failures) == (5, 9, 2)
    assert points[1].files_selected is None

    html = render.overview_page(points, nonce="x")
    assert re.findall(r'data-run="r2" data-kind="([^"]+)" data-count="(\d+)"', html) == [
        ("files selected", "5"),
        ("jobs created", "9"),
    ]
    assert 'href="runs/phrase_manual_ingestion/r2"' in html


def test_a_scheduled_run_shows_the_files_found_in_phrase_and_those_set_aside() -> None:
    """The scheduled DAG reports files already in Phrase without mapping them (its run plan), and why the
    other listed files were not selected (unchanged since the last good run, filtered out)."""
    summary = build_summary(
        selection={
            "connector_id": "1001",
            "settings": {"project_uid": "prjWebsite000000000001", "folder": "docs"},
            "baseline": {"previous": "2026-11-28T09:00:00+00:00"},
            "counts": {"listed": 16, "selected": 2, "unchanged": 12, "filtered_by_pattern": 2},
            "files": [{"path": "docs/new.md"}],
            "already_ingested": [{"path": "docs/merged-late.md", "jobs": _jobs("merged-late.md")}],
        },
        states={0: "success"},
        results=[{"reused": None, "import_checked": True, "jobs": _jobs("new.md")}],
        failures=[None],
        job_url=lambda uid: f"{WEB}/job/{uid}/translate",
    )
    report = run_report(parse_summary(summary.model_dump(mode="json")))  # type: ignore[arg-type]

    assert (report.ingested, report.already_ingested) == (1, 1)
    assert (report.jobs_created, report.jobs_existing) == (3, 3)
    assert report.set_aside == ["12 unchanged", "2 filtered by pattern"]
    html = render.run_page("phrase_connector_ingestion", "scheduled__1", "success", report, nonce="x")
    assert "Not selected: 12 unchanged, 2 filtered by pattern." in html
    assert f'href="{WEB}/job/merged-late.md-de/translate"' in html
