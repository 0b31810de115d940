"""The demo's first run: the ``airflow dags test`` command, and a seed whose times suit its look-back.

The demo's run is a first run: it takes the files modified within the initial look-back (24 h) before
``T``, which comes some minutes after the emulator started (the seed's relative times count from that
start). Every ``docs/`` file must therefore sit clearly inside the look-back whatever that delay, or clearly
outside it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from airflow_phrase.demo.__main__ import DAG_ID, dags_test_command
from airflow_phrase.emulator.seed import load_seed, resolve_time

START = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
DEMO_START_SLACK = timedelta(hours=12)
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


def test_the_run_is_a_run_at_now_without_conf() -> None:
    now = datetime(2026, 11, 28, 10, 17, 42, 123456, tzinfo=timezone.utc)

    assert dags_test_command(now) == ["dags", "test", DAG_ID, "2026-11-28T10:17:42+00:00"]


def test_a_lookback_sets_the_first_runs_initial_look_back_through_the_dag_param() -> None:
    now = datetime(2026, 11, 28, 10, 17, 42, tzinfo=timezone.utc)

    assert dags_test_command(now, 168.0)[4:] == ["--conf", json.dumps({"initial_lookback_hours": 168})]
    assert dags_test_command(now, 0.5)[4:] == ["--conf", json.dumps({"initial_lookback_hours": 0.5})]


def test_every_docs_file_is_clearly_inside_or_clearly_outside_the_initial_look_back() -> None:
    ages = docs_file_ages()
    window = timedelta(hours=24)
    inside = {path for path, age in ages.items() if NEWEST_ALLOWED <= age <= window - DEMO_START_SLACK}
    outside = {path for path, age in ages.items() if age > window + timedelta(hours=12)}

    assert inside | outside == set(ages), (
        f"too close to an edge of the window: {set(ages) - inside - outside}"
    )
    # What a new user should see in a first run: files ingested, both kinds of recent failure,
    # and old files left alone.
    assert {"docs/legacy/broken.docx", "docs/guides/bad-import.md"} <= inside
    assert len(inside - {"docs/legacy/broken.docx", "docs/guides/bad-import.md"}) >= 3
    assert outside == {"docs/api/reference.json", "docs/legacy/gone.md"}
