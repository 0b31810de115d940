"""Splitting the emulator's request journal between the tasks of an ``airflow dags test`` run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_phrase.demo.results import TaskRecord, calls_per_task

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_each_call_belongs_to_the_first_task_that_finished_after_it() -> None:
    tasks = [
        TaskRecord("summarize", -1, "success", at(30)),
        TaskRecord("list_files", -1, "success", at(10)),
        TaskRecord("ingest_file", 1, "failed", at(25)),
        TaskRecord("ingest_file", 0, "success", at(20)),
        TaskRecord("ingest_file", 2, "upstream_failed", None),
    ]
    calls = [at(1), at(9.9), at(10), at(11), at(19), at(21), at(24), at(29), at(31)]

    assert calls_per_task(tasks, calls) == {
        ("list_files", -1): 3,
        ("ingest_file", 0): 2,
        ("ingest_file", 1): 2,
        ("summarize", -1): 1,
    }
