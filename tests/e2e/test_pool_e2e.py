"""The ``phrase_api`` pool caps the ingests in flight: with ``--include-deferred`` and one slot, one file at a
time is downloaded, waited on, created and imported, on a real scheduler and triggerer.

A deferred task gives its worker slot back but keeps its pool slot, so the second file's download starts
only after the first file's ingest ended. Read from the emulator's journal: the download POSTs and create
POSTs alternate, one file after the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.conftest import PHRASE_POOL, PHRASE_POOL_SLOTS
from tests.e2e.emulator_process import EmulatorProcess

pytestmark = pytest.mark.e2e

DAG_ID = "phrase_manual_ingestion"
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / f"{DAG_ID}.py"
FILES = ["getting started.md", "guides/install.md", "guides/überblick.md", "site/index.html"]
RUN_TIMEOUT = 420.0


@pytest.fixture
def one_slot_pool(airflow_cluster: AirflowCluster) -> Iterator[None]:
    api = airflow_cluster.api

    def set_slots(slots: int) -> None:
        body = {"pool": PHRASE_POOL, "slots": slots, "include_deferred": True}
        api.request("PATCH", f"/pools/{PHRASE_POOL}", json=body)

    set_slots(1)
    try:
        yield
    finally:
        set_slots(PHRASE_POOL_SLOTS)


@pytest.fixture
def emulator(emulator_process: EmulatorProcess | None) -> Iterator[EmulatorProcess]:
    if emulator_process is None:
        pytest.skip("the Phrase emulator CLI (python -m airflow_phrase.emulator) is not in this checkout")
    emulator_process.reset()
    yield emulator_process


@pytest.mark.skipif(not DAG_FILE.exists(), reason=f"{DAG_FILE} is not in this checkout yet")
def test_a_one_slot_pool_takes_one_file_at_a_time_through_its_waits(
    airflow_cluster: AirflowCluster, emulator: EmulatorProcess, one_slot_pool: None
) -> None:
    api = airflow_cluster.api
    pool = api.request("GET", f"/pools/{PHRASE_POOL}")
    assert pool["include_deferred"] is True and pool["slots"] == 1
    airflow_cluster.wait_for_dag(DAG_ID, file_hint=DAG_ID)
    conf = {"files": FILES, "poll_interval": 1.0, "target_langs": ["de"]}

    run_id = api.trigger_run(DAG_ID, conf=conf)["dag_run_id"]
    api.set_paused(DAG_ID, False)
    run = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)

    assert run["state"] == "success", api.describe_task_states(DAG_ID, run_id)
    kinds = {"/files/": "download", "/jobs/connectorTask": "create"}
    posts = [
        kind
        for entry in emulator.journal()
        if entry["method"] == "POST" and entry["status"] < 400
        for fragment, kind in kinds.items()
        if fragment in entry["path"]
    ]
    # One ingest in flight at a time: never a second download before the first file's jobs exist.
    assert posts == ["download", "create"] * len(FILES), posts
