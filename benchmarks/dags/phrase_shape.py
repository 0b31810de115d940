"""The DAG-parse benchmark's DAG with the provider's operators: download → sensor → create job, plus an
ingest task (the shapes of ``tests/dag_fixtures``). ``core_shape.py`` has the same shape in core operators."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG

from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.download import PhraseConnectorDownloadOperator
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.sensors.connector_task import PhraseConnectorTaskSensor

with DAG(dag_id="bench_phrase_shape", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)):
    download = PhraseConnectorDownloadOperator(
        task_id="download", connector="Docs Git", folder="docs", file="a.md", project_uid="prj1"
    )
    wait = PhraseConnectorTaskSensor(
        task_id="wait", project_uid="prj1", download_task_id="{{ ti.xcom_pull('download') }}", deferrable=True
    )
    create = PhraseCreateJobFromConnectorTaskOperator(
        task_id="create",
        project_uid="prj1",
        download_task_id="{{ ti.xcom_pull('download') }}",
        target_langs=["de"],
    )
    ingest = PhraseIngestConnectorFileOperator(
        task_id="ingest",
        connector="Docs Git",
        folder="docs",
        file="b.md",
        project_uid="prj1",
        target_langs=["de"],
    )
    download >> wait >> create >> ingest
