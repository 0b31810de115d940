"""PhraseConnectorTaskSensor through ``dag.test()`` in poke, reschedule and deferrable mode.

DAGs: ``tests/dag_fixtures/sensor_connector_task.py``. Upstream tasks start real downloads through the
hook against the session emulator; in deferrable mode ``dag.test()`` runs the trigger in-process. Two
runs per mode (six in all): outcomes (SUCCESS into XCom, ERROR failing once) and timeouts (fail, and
skip with ``soft_fail``).
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from tests.conftest import load_fixture_dag
from tests.triggers.support import TASKS_PATH, WEBSITE

pytestmark = pytest.mark.dagtest

MODES = ("poke", "reschedule", "deferrable")


def task_states(dag_run: Any) -> dict[str, tuple[str | None, int]]:
    return {ti.task_id: (ti.state, ti.try_number) for ti in dag_run.get_task_instances()}


def xcom_value(dag_run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key="return_value"
            )
        ).first()
        assert row is not None, f"no return_value XCom for {task_id}"
        return XComModel.deserialize_value(row)


def phrase_error_message(conn_id: str, task_id: str) -> str:
    hook = PhraseTmsHook(conn_id)
    try:
        state = hook.get_connector_task_state(WEBSITE, task_id)
    finally:
        hook.close()
    assert state is not None and state.error_message
    return state.error_message


@pytest.mark.parametrize("mode", MODES)
def test_success_lands_in_xcom_and_error_fails_once(
    airflow_db: str,
    phrase_emulator: Any,
    phrase_connection: str,
    mode: str,
    capfd: pytest.CaptureFixture[str],
):
    # Slow enough that every mode really waits (the deferrable sensor defers instead of finishing at once).
    phrase_emulator.admin.configure(task_delay=3.0)
    dag = load_fixture_dag(f"sensor_outcomes_{mode}")

    dag_run = dag.test()

    states = task_states(dag_run)
    assert states["start_ok"][0] == "success" and states["start_err"][0] == "success"
    assert states["wait_ok"][0] == "success", states
    assert states["wait_err"] == ("failed", 1), states  # AirflowFailException: no retries
    value = xcom_value(dag_run, "wait_ok")
    started = xcom_value(dag_run, "start_ok")
    assert isinstance(value, dict)
    assert value["id"] == started["download_task_id"] and value["status"] == "SUCCESS"
    failed_id = xcom_value(dag_run, "start_err")["download_task_id"]
    output = capfd.readouterr()
    logs = output.out + output.err
    assert f"Phrase connector download task {failed_id} ended ERROR: " in logs
    assert phrase_error_message(phrase_connection, failed_id) in logs
    polls = [e for e in phrase_emulator.admin.journal() if e.path == TASKS_PATH]
    assert len(polls) >= 3  # the sensors waited through several checks / trigger polls
    # Only the deferrable DAG hands the wait to the trigger (its log line names the shared poll).
    assert ("share the poll" in logs) is (mode == "deferrable")


@pytest.mark.parametrize("mode", MODES)
def test_never_finishing_task_times_out_and_soft_fail_skips(
    airflow_db: str,
    phrase_emulator: Any,
    phrase_connection: str,
    mode: str,
    capfd: pytest.CaptureFixture[str],
):
    phrase_emulator.admin.configure(task_delay=86_400)
    dag = load_fixture_dag(f"sensor_timeouts_{mode}")

    dag_run = dag.test()

    states = task_states(dag_run)
    assert states["start"][0] == "success"
    assert states["wait_hard"][0] == "failed", states
    assert states["wait_soft"][0] == "skipped", states
    assert dag_run.state == "failed"
    output = capfd.readouterr()
    logs = output.out + output.err
    assert "Sensor has timed out" in logs
    assert ("share the poll" in logs) is (mode == "deferrable")
