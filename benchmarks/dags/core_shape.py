"""The DAG-parse benchmark's baseline: ``phrase_shape.py``'s shape (operator → sensor → operator →
operator) in core operators of Airflow's standard provider."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import DAG


def _noop() -> bool:
    return True


with DAG(dag_id="bench_core_shape", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)):
    download = PythonOperator(task_id="download", python_callable=_noop)
    wait = PythonSensor(task_id="wait", python_callable=_noop)
    create = PythonOperator(task_id="create", python_callable=_noop)
    ingest = PythonOperator(task_id="ingest", python_callable=_noop)
    download >> wait >> create >> ingest
