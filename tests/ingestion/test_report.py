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


@dataclass
class SourcedEvent:
    asset: Any
    source_run_id: str
    extra: dict[str, Any] = field(default_factory=dict)
    source_dag_id: str = "phrase_connector_ingestion"
    source_task_id: str = "summarize"
    source_map_index: int = -1
    timestamp: str = "2026-11-28T10:00:00+00:00"


@dataclass(frozen=True)
class Asset:
    uri: str


def test_an_event_listed_under_its_asset_and_its_alias_counts_once() -> None:
    project = Asset("phrase://cloud.memsource.com/projects/prjA")
    event = SourcedEvent(project, "run1", {"project_uid": "prjA", "job_uids": ["j1"]})
    same_event_again = SourcedEvent(project, "run1", {"project_uid": "prjA", "job_uids": ["j1"]})
    other_project = SourcedEvent(
        Asset("phrase://cloud.memsource.com/projects/prjB"), "run1", {"job_uids": ["k1"]}
    )
    events = {project.uri: [event], "phrase_tms_new_jobs": [same_event_again, other_project]}

    assert event_extras(events) == [event.extra, other_project.extra]


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
