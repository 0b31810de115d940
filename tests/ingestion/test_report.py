"""The new-jobs report: which jobs the triggering Asset events announce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_phrase.ingestion.report import event_extras, jobs_from_events, render_job_report


@dataclass
class Event:
    extra: dict[str, Any] = field(default_factory=dict)


def test_jobs_are_collected_per_project_without_duplicates() -> None:
    events = {
        "phrase://cloud.memsource.com/projects/prjA": [
            Event({"project_uid": "prjA", "job_uids": ["j1", "j2"]}),
            Event({"project_uid": "prjA", "job_uids": ["j2", "j3"]}),
        ],
        "phrase://cloud.memsource.com/projects/prjB": [Event({"project_uid": "prjB", "job_uids": ["k1"]})],
        "phrase://elsewhere/projects/x": [Event({})],
    }

    assert jobs_from_events(event_extras(events)) == {"prjA": ["j1", "j2", "j3"], "prjB": ["k1"]}


def test_no_events_no_jobs() -> None:
    assert event_extras(None) == [] and event_extras({}) == []
    assert jobs_from_events([]) == {}
    assert render_job_report([]) == "No new jobs."


def test_the_report_is_a_table() -> None:
    rows = [
        {"project_uid": "prjA", "uid": "j1", "filename": "a.md", "target_lang": "de", "status": "NEW",
         "import_status": "OK"},
        {"project_uid": "prjA", "uid": "j22", "filename": "bb.md", "target_lang": "fr_fr", "status": "NEW",
         "import_status": "RUNNING"},
    ]  # fmt: skip

    lines = render_job_report(rows).splitlines()

    assert lines[0].split() == ["project", "job", "file", "lang", "status", "import"]
    assert lines[1].index("a.md") == lines[2].index("bb.md")
