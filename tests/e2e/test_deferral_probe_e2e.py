"""The harness itself: a real Airflow deployment defers a task, frees its slot, and the triggerer resumes it.

Runs the probe DAG ``e2e_deferral_probe`` (``tests/e2e/probe_dags``) through the REST API: two mapped tasks
in a one-slot pool both reach ``deferred`` at the same time (impossible unless deferral releases the slot and
the worker), stay there until the test creates the release file, and then resume in a new worker process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.emulator_process import EmulatorProcess
from tests.e2e.polling import wait_for

pytestmark = pytest.mark.e2e

PROBE_DAG = "e2e_deferral_probe"
PROBE_TASK = "wait_for_release"


def test_every_process_listens_on_loopback_only(
    airflow_cluster: AirflowCluster, emulator_process: EmulatorProcess | None
) -> None:
    also = {"emulator": emulator_process.process} if emulator_process is not None else {}
    airflow_cluster.assert_listening_on_loopback_only(also)


def test_deferred_tasks_free_their_slot_and_resume_via_the_triggerer(
    airflow_cluster: AirflowCluster, tmp_path: Path
) -> None:
    api = airflow_cluster.api
    airflow_cluster.wait_for_dag(PROBE_DAG, file_hint="e2e_deferral_probe")
    api.set_paused(PROBE_DAG, False)
    release_file = tmp_path / "release"
    run_id = api.trigger_run(PROBE_DAG, conf={"release_file": str(release_file)})["dag_run_id"]

    def both_deferred() -> list[dict] | None:
        tis = [ti for ti in api.task_instances(PROBE_DAG, run_id) if ti["task_id"] == PROBE_TASK]
        return tis if len(tis) == 2 and all(ti["state"] == "deferred" for ti in tis) else None

    deferred = wait_for(
        both_deferred,
        timeout=120,
        what="both mapped probe tasks (one pool slot between them) to be deferred at once",
        describe_last=lambda: api.describe_task_states(PROBE_DAG, run_id),
    )
    assert {ti["map_index"] for ti in deferred} == {0, 1}
    assert all(ti["pool"] == "e2e_probe_single_slot" for ti in deferred)

    release_file.write_text("go")
    run = api.wait_for_run(PROBE_DAG, run_id, timeout=120)
    assert run["state"] == "success", api.describe_task_states(PROBE_DAG, run_id)

    for map_index in (0, 1):
        result = api.xcom(PROBE_DAG, run_id, PROBE_TASK, map_index=map_index)
        assert result["probe_name"] == "ab"[map_index]
        # The process that deferred exited; a new one ran the resume method.
        assert result["deferred_by_pid"] != result["resumed_by_pid"]
        tries = api.task_instance_tries(PROBE_DAG, run_id, PROBE_TASK, map_index)
        assert [t["try_number"] for t in tries] == [1]  # deferring is not a retry
        # The API serves the try's log from the shared log folder: the worker's part and the triggerer's.
        log = api.task_log(PROBE_DAG, run_id, PROBE_TASK, try_number=1, map_index=map_index)
        assert "Pausing task as DEFERRED" in log
        assert f"Found File {release_file}" in log
    trigger_logs = [
        path
        for path in airflow_cluster.task_log_files(PROBE_DAG, run_id, PROBE_TASK)
        if ".trigger." in path.name
    ]
    assert len(trigger_logs) == 2, airflow_cluster.task_log_files(PROBE_DAG, run_id, PROBE_TASK)
