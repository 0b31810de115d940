"""The demo's one-hour window: the ``airflow dags test`` command, and a seed whose times suit that window.

The demo's run covers ``[T - 1 h, T)`` where ``T`` (its logical date) comes some minutes after the emulator
started (the seed's relative times count from that start). Every ``docs/`` file must therefore sit clearly
inside the window whatever that delay, or clearly outside it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from airflow_phrase.demo.__main__ import DAG_ID, dags_test_command
from airflow_phrase.emulator.seed import load_seed, resolve_time

START = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
DEMO_START_SLACK = timedelta(minutes=20)
"""How long after the emulator's start the demo's run may begin and still see the same files."""
NEWEST_ALLOWED = timedelta(minutes=1)
"""A file modified this close to the emulator's start is too close to the window's end."""


def docs_file_ages() -> dict[str, timedelta]:
    """``{path: age at the emulator's start}`` of the seed's ``Docs Git`` files under ``docs/``."""
    (connector,) = [c for c in load_seed().connectors if c.name == "Docs Git"]
    return {
        f.path: START - resolve_time(f.last_modified, START)
        for f in connector.files
        if f.path.startswith("docs/")
    }


def test_the_run_is_the_interval_ending_now_without_conf() -> None:
    now = datetime(2026, 11, 28, 10, 17, 42, 123456, tzinfo=timezone.utc)

    assert dags_test_command(now) == ["dags", "test", DAG_ID, "2026-11-28T10:17:42+00:00"]


def test_a_lookback_replaces_the_data_interval_through_the_dag_param() -> None:
    now = datetime(2026, 11, 28, 10, 17, 42, tzinfo=timezone.utc)

    assert dags_test_command(now, 168.0)[4:] == ["--conf", json.dumps({"lookback_hours": 168})]
    assert dags_test_command(now, 0.5)[4:] == ["--conf", json.dumps({"lookback_hours": 0.5})]


def test_every_docs_file_is_clearly_inside_or_clearly_outside_the_demo_window() -> None:
    ages = docs_file_ages()
    window = timedelta(hours=1)
    inside = {path for path, age in ages.items() if NEWEST_ALLOWED <= age <= window - DEMO_START_SLACK}
    outside = {path for path, age in ages.items() if age > window + timedelta(hours=1)}

    assert inside | outside == set(ages), (
        f"too close to an edge of the window: {set(ages) - inside - outside}"
    )
    # What a new user should see in one hourly run: files ingested, both kinds of in-window failure,
    # and old files left alone.
    assert {"docs/legacy/broken.docx", "docs/guides/bad-import.md"} <= inside
    assert len(inside - {"docs/legacy/broken.docx", "docs/guides/bad-import.md"}) >= 3
    assert outside == {"docs/api/reference.json", "docs/legacy/gone.md"}
