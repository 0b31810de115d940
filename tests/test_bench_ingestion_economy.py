"""The API-economy benchmark's own parts: its seed, its baseline DAG and its accounting (not its figures).

The benchmark itself runs a whole Airflow deployment and only prints (``make bench``); these tests make
sure what it prints is computed from the right things.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_phrase.emulator.seed import load_seed
from benchmarks.bench_ingestion_economy import (
    BENCH_DAGS,
    PROFILES,
    Sample,
    folder_name,
    pending_intervals,
    slot_seconds,
    write_seed,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def entry(seq: int, method: str, path: str, at: datetime, status: int = 200, **query: str) -> dict[str, Any]:
    return {
        "seq": seq, "method": method, "path": path, "time": at.isoformat(), "status": status,
        "durationMs": 0.0, "query": {key: [value] for key, value in query.items()},
    }  # fmt: skip


def test_seed_holds_each_size_in_its_own_folder(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    write_seed(path, [1, 20, 1])
    (connector,) = [c for c in load_seed(path).connectors if c.id == "1001"]
    folders = sorted({file.path.split("/")[0] for file in connector.files})
    assert folders == [folder_name(1), folder_name(20)]
    assert len(connector.files) == 21


def test_pending_intervals_and_slot_seconds_follow_the_journal() -> None:
    """A file is pending from its download POST for task_delay s and from its create POST for
    import_delay s; only running mapped tasks of a pending file count as held."""
    download = "/api2/v2/connectors/1001/folders/{}/files/{}".format
    folder, a, b = (p.hex() for p in (b"bench-0002/", b"bench-0002/page-0001.md", b"bench-0002/page-0002.md"))
    later = T0 + timedelta(seconds=10)
    entries = [
        entry(1, "POST", download(folder, a), T0),
        entry(2, "POST", download(folder, b), T0, status=500),
        entry(3, "POST", "/api2/v1/projects/p/jobs/connectorTask", later, downloadTaskId="7"),
    ]
    snapshot = {"downloadTasks": [{"id": "7", "path": "bench-0002/page-0001.md"}]}
    pending = pending_intervals(entries, snapshot, task_delay=5, import_delay=3)
    start = T0.timestamp()
    assert pending == {"page-0001.md": [(start, start + 5), (start + 10, start + 13)]}  # the 500 is not

    samples = [
        Sample(at=start + 1, running=[("wait", 0, None), ("wait", 1, None)]),  # 0 pending, 1 not
        Sample(at=start + 3, running=[("wait", 0, None)]),  # pending
        Sample(at=start + 7, running=[("wait", 0, None)]),  # between download and import
        Sample(at=start + 11, running=[("wait", 5, "bench-0002/page-0001.md")]),  # past the XCom list
    ]
    held, running = slot_seconds(samples, ["page-0001.md", "page-0002.md"], pending, interval=1.0)
    # held: 1 s (first sample, one interval) + 2 s (to the second) + 4 s (map index 5 -> rendered name).
    assert held == pytest.approx(1 + 2 + 4)
    assert running == pytest.approx(2 * 1 + 2 + 4 + 4)


def test_profiles_read_file_names_from_the_list_task() -> None:
    provider, baseline = PROFILES
    assert provider.file_of_item({"connector": "1001", "folder": "bench-0001", "file": "page-0001.md"}) == (
        "page-0001.md"
    )
    assert baseline.file_of_item({"name": "page-0001.md", "endpoint": "x"}) == "page-0001.md"
    conf = provider.conf("bench-0020", T0 - timedelta(days=1), T0, 3.0)
    assert conf["folder"] == "bench-0020" and conf["window_end"] == T0.isoformat()


def test_baseline_dag_parses_with_the_http_provider_only() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(BENCH_DAGS))  # examples are off: AIRFLOW__CORE__LOAD_EXAMPLES
    assert not bag.import_errors
    dag = bag.dags["phrase_http_baseline"]  # (get_dag would need a metadata DB)
    assert set(dag.task_ids) == {
        "find_folder", "list_files", "start_download", "wait_download", "create_jobs", "wait_import",
    }  # fmt: skip
    modules = {getattr(task, "operator_class", type(task)).__module__ for task in dag.tasks}  # mapped too
    assert all(module.startswith("airflow.providers.http") for module in modules), modules
