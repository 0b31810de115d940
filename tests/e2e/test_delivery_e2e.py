"""``phrase_translation_delivery`` end to end: a real scheduler and triggerer against the emulator process.

Three jobs of one file (de, fr_fr, ja); the emulator completes two a few seconds after the run starts and
cancels the third. The run waits in the triggerer, writes each completed job's file once, reports the
cancelled job without waiting for it, and a cleared run repeats no delivery (the journal says so).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.emulator_process import EmulatorProcess

pytestmark = pytest.mark.e2e

DAG_ID = "phrase_translation_delivery"
PROJECT_UID = "prjWebsite000000000001"
RUN_TIMEOUT = 150.0
CONN_ID = "phrase_e2e_setup"
DOWNLOAD = re.compile(r"^/api2/v2/projects/[^/]+/jobs/[^/]+/downloadTargetFile/[^/]+$")
START = re.compile(r"^/api2/v3/projects/[^/]+/jobs/[^/]+/targetFile$")


@pytest.fixture
def emulator(emulator_process: EmulatorProcess | None) -> Iterator[EmulatorProcess]:
    if emulator_process is None:
        pytest.skip("the Phrase emulator CLI is not in this checkout")
    emulator_process.reset()
    before = emulator_process.config()
    emulator_process.configure(import_delay=0.5, target_file_delay=1.0)
    yield emulator_process
    emulator_process.configure(
        import_delay=before["import_delay"], target_file_delay=before["target_file_delay"]
    )


def create_jobs(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The jobs of docs/guides/install.md in de, fr_fr, ja, imported (over HTTP, as a user would)."""
    from tests.triggers.jobs_support import create_jobs as create

    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", emulator.connection_uri_json())
    return create(CONN_ID, PROJECT_UID)


def script(emulator: EmulatorProcess, job_uid: str, status: str, after: float) -> None:
    emulator._admin("POST", f"jobs/{job_uid}/script", json={"status": status, "after": after})


def deliveries(emulator: EmulatorProcess, since: int = 0) -> tuple[int, int]:
    """(target-file requests started, files downloaded) since journal entry ``since``."""
    entries = emulator.journal(since)
    started = sum(1 for e in entries if e["method"] == "PUT" and START.match(e["path"]))
    downloaded = sum(1 for e in entries if e["method"] == "GET" and DOWNLOAD.match(e["path"]))
    return started, downloaded


def test_delivery_waits_in_the_triggerer_delivers_once_and_reports_the_cancelled_job(
    airflow_cluster: AirflowCluster,
    emulator: EmulatorProcess,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = airflow_cluster.api
    airflow_cluster.wait_for_dag(DAG_ID, file_hint=DAG_ID)
    out = tmp_path_factory.mktemp("delivered")
    de, fr, ja = create_jobs(emulator, monkeypatch)
    # Completed after the sensor has looked once and deferred; fr is cancelled at once.
    script(emulator, de, "COMPLETED", 8.0)
    script(emulator, fr, "CANCELLED", 0.0)
    script(emulator, ja, "COMPLETED", 10.0)
    conf = {"project_uid": PROJECT_UID, "job_uids": [de, fr, ja], "base_path": out.as_uri()}

    run_id = api.trigger_run(DAG_ID, conf=conf)["dag_run_id"]
    api.set_paused(DAG_ID, False)
    try:
        started = time.monotonic()
        run = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
        first_seconds = time.monotonic() - started
        assert run["state"] == "success", api.describe_task_states(DAG_ID, run_id)

        # The wait happened in the triggerer (a trigger log for the sensor), not on a worker.
        trigger_logs = [
            p
            for p in airflow_cluster.task_log_files(DAG_ID, run_id, "wait_for_completion")
            if ".trigger." in p.name
        ]
        assert trigger_logs, "the sensor never deferred"

        # Each completed job's file exactly once; the cancelled one reported, not delivered.
        summary = api.xcom(DAG_ID, run_id, "announce")
        assert sorted(item["uid"] for item in summary["delivered"]) == sorted([de, ja])
        assert [(job["uid"], job["status"]) for job in summary["ended_otherwise"]] == [(fr, "CANCELLED")]
        for lang in ("de", "ja"):
            assert (out / lang / "docs/guides/install.md").read_text(encoding="utf-8").startswith("# [")
        assert not (out / "fr_fr").exists()
        assert deliveries(emulator) == (2, 2)
        records = sorted(p.stem for p in (out / ".phrase-delivery" / PROJECT_UID).glob("*.json"))
        assert records == sorted([de, ja])
        assert json.loads((out / ".phrase-delivery" / PROJECT_UID / f"{de}.json").read_text())["path"] == (
            "de/docs/guides/install.md"
        )
        events = api.asset_events(source_dag_id=DAG_ID)
        assert sorted(e["uri"].rsplit("/", 1)[-1] for e in events if e["source_run_id"] == run_id) == [
            "de",
            "ja",
        ]

        # Clear the whole run: it runs again and delivers nothing twice.
        since = emulator.journal()[-1]["seq"]
        api.clear_run(DAG_ID, run_id)
        rerun = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
        assert rerun["state"] == "success", api.describe_task_states(DAG_ID, run_id)
        assert deliveries(emulator, since) == (0, 0)
        again = api.xcom(DAG_ID, run_id, "announce")
        assert again["delivered"] == [] and sorted(again["already_delivered"]) == sorted([de, ja])
        print(f"delivery run: {first_seconds:.1f} s")
    finally:
        api.set_paused(DAG_ID, True)  # later ingestion tests' Asset events must not start deliveries
