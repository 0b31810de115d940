"""DAGs for the PhraseConnectorTaskSensor dag.test() runs (tests/sensors), one per waiting mode.

* ``sensor_outcomes_<mode>``: two upstream tasks start connector downloads through the hook (a file that
  downloads fine and one whose task ends ``ERROR``); one sensor waits on each. ``wait_err`` has retries,
  to show that a failed Phrase task fails the sensor once, without retries.
* ``sensor_timeouts_<mode>``: one download that never finishes (the test sets the emulator's
  ``task_delay`` huge); two sensors with a short ``timeout``, one of them with ``soft_fail``.

``<mode>`` is ``poke``, ``reschedule`` or ``deferrable``. Params choose the project, the files and the
connection. No network I/O at parse time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_phrase.sensors.connector_task import PhraseConnectorTaskSensor

MODES = ("poke", "reschedule", "deferrable")
PARAMS = {
    "phrase_conn_id": Param("phrase_tms_default", type="string"),
    "project_uid": Param("prjWebsite000000000001", type="string"),
    "connector": Param("1001", type="string"),
    "ok_file": Param("docs/guides/install.md", type="string"),
    "error_file": Param("docs/legacy/gone.md", type="string"),
}


@task
def start_download(path: str, phrase_conn_id: str, connector: str) -> dict[str, Any]:
    """Start an async connector download; hand its id and creation time downstream."""
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    folder, _, name = path.rpartition("/")
    hook = PhraseTmsHook(phrase_conn_id)
    remote = hook.resolve_remote_file(connector, folder, name)
    started = hook.start_connector_download(remote.connector_id, remote.encoded_folder, remote.encoded_name)
    hook.close()
    return {
        "download_task_id": started.id,
        "date_created": started.date_created.isoformat() if started.date_created else None,
    }


def wait_for(upstream: str, mode: str, **kwargs: Any) -> PhraseConnectorTaskSensor:
    return PhraseConnectorTaskSensor(
        project_uid="{{ params.project_uid }}",
        download_task_id=f"{{{{ ti.xcom_pull(task_ids='{upstream}')['download_task_id'] }}}}",
        created_after=f"{{{{ ti.xcom_pull(task_ids='{upstream}')['date_created'] }}}}",
        phrase_conn_id="{{ params.phrase_conn_id }}",
        mode="reschedule" if mode == "reschedule" else "poke",
        deferrable=mode == "deferrable",
        poke_interval=1,
        **kwargs,
    )


for mode in MODES:
    with DAG(
        dag_id=f"sensor_outcomes_{mode}",
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        params=PARAMS,
        tags=["tests"],
    ):
        start_ok = start_download.override(task_id="start_ok")(
            "{{ params.ok_file }}", "{{ params.phrase_conn_id }}", "{{ params.connector }}"
        )
        start_err = start_download.override(task_id="start_err")(
            "{{ params.error_file }}", "{{ params.phrase_conn_id }}", "{{ params.connector }}"
        )
        start_ok >> wait_for("start_ok", mode, task_id="wait_ok", timeout=120)
        start_err >> wait_for(
            "start_err", mode, task_id="wait_err", timeout=120, retries=2, retry_delay=timedelta(seconds=0)
        )

    with DAG(
        dag_id=f"sensor_timeouts_{mode}",
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        params=PARAMS,
        tags=["tests"],
    ):
        started = start_download.override(task_id="start")(
            "{{ params.ok_file }}", "{{ params.phrase_conn_id }}", "{{ params.connector }}"
        )
        started >> [
            wait_for("start", mode, task_id="wait_hard", timeout=3),
            wait_for("start", mode, task_id="wait_soft", timeout=3, soft_fail=True),
        ]
