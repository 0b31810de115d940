"""Change detection of ``phrase_connector_ingestion`` (``dag.test()`` against the emulator): a run ingests
what is new or changed since the last successful run, whatever the files' ``lastModified`` says.

One story per test (each ``dag.test()`` costs tens of seconds).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.dags.runs import task_states, xcom_value

pytestmark = pytest.mark.dagtest

#: The seed's docs/ files ingested cleanly by a first run (modified within the initial look-back).
FIRST_RUN_JOBS = {"getting started.md", "install.md", "überblick.md", "index.html", "bad-import.md"}


def _jobs_per_file(emulator: Any) -> Counter[str]:
    return Counter(job["filename"] for job in emulator.admin.snapshot()["jobs"])


def _calls(emulator: Any, since: int) -> list[tuple[str, str, str | None]]:
    return [(e.method, e.path, e.param("notReady")) for e in emulator.admin.journal(since=since)]


def test_late_and_reverted_files_are_ingested_and_unchanged_ones_cost_nothing(
    example_dags: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    dag = example_dags.dags["phrase_connector_ingestion"]

    first = dag.test(logical_date=datetime.now(timezone.utc))

    assert first.state == "success"
    jobs = _jobs_per_file(emulator)
    assert set(jobs) == FIRST_RUN_JOBS and set(jobs.values()) == {3}

    # After the first run: a file arrives with a lastModified three days old (a merge of old commits, a copy
    # that kept its mtime), and install.md goes back to an older version (a revert: lastModified moves back).
    emulator.admin.put_file("1001", "docs/merged.md", content="# Merged\n", lastModified="-3d")
    emulator.admin.put_file("1001", "docs/guides/install.md", content="# Install (v1)\n", lastModified="-10d")
    mark = emulator.admin.journal()[-1].seq

    second = dag.test(logical_date=datetime.now(timezone.utc))

    assert second.state == "success"
    summary = xcom_value(second, "summarize", "ingestion_summary")
    assert sorted(f["path"] for f in summary["files"]) == ["docs/guides/install.md", "docs/merged.md"]
    assert summary["changes"]["previous"]  # compared with the first run's listing
    assert summary["counts"]["unchanged"] == 7
    assert set(task_states(second, "ingest_file").values()) == {"success"}
    after = _jobs_per_file(emulator)
    assert after["merged.md"] == 3  # ingested although its lastModified is older than the last run
    assert after["install.md"] == 6  # the reverted version got its own jobs, the old ones stay
    assert {name: n for name, n in after.items() if name not in ("merged.md", "install.md")} == {
        name: 3 for name in FIRST_RUN_JOBS - {"install.md"}
    }
    # One reconciliation for the run: the project read once, one task listing, no job lookup per file.
    calls = _calls(emulator, mark)
    assert sum(1 for m, p, _ in calls if m == "GET" and p.endswith("/projects/prjWebsite000000000001")) == 1
    assert sum(1 for m, p, _ in calls if p == "/api2/v1/connectorAsyncTasks") >= 1
    assert [c for c in calls if c[0] == "GET" and c[1].endswith("/jobs") and c[2] is None] == []

    mark = emulator.admin.journal()[-1].seq
    third = dag.test(logical_date=datetime.now(timezone.utc))

    assert third.state == "success"
    assert xcom_value(third, "summarize", "ingestion_summary")["files"] == []
    calls = _calls(emulator, mark)
    # Nothing changed: listing the folder and reading the project is all it costs.
    assert {(method, path.split("/")[3]) for method, path, _ in calls} <= {
        ("GET", "connectors"),
        ("GET", "projects"),
    }
    assert sum(1 for method, _, _ in calls if method == "POST") == 0
