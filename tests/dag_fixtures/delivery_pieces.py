"""Job status sensor → target files → export, each deferrable (used by tests/operators'
delivery leak scan). Params choose the project, the jobs and where files go. No network I/O at parse time.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, Param

from airflow_phrase.operators.export import PhraseExportJobsToRepositoryOperator
from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator
from airflow_phrase.sensors.job_status import PhraseJobStatusSensor

with DAG(
    dag_id="delivery_pieces",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={
        "project_uid": Param("prjWebsite000000000001", type="string"),
        "job_uids": Param([], type="array"),
        "base_path": Param("file:///tmp/phrase-delivery-pieces", type="string"),
    },
    tags=["tests"],
):
    wait = PhraseJobStatusSensor(
        task_id="wait_for_completion",
        project_uid="{{ params.project_uid }}",
        job_uids="{{ params.job_uids }}",
        poke_interval=0.1,
        timeout=120,
    )
    download = PhraseDownloadTargetFileOperator(
        task_id="download_target_files",
        project_uid="{{ params.project_uid }}",
        job_uids="{{ ti.xcom_pull('wait_for_completion')['job_uids'] }}",
        base_path="{{ params.base_path }}",
        poll_interval=0.1,
        deferrable=True,
    )
    export = PhraseExportJobsToRepositoryOperator(
        task_id="export_to_repository",
        project_uid="{{ params.project_uid }}",
        job_uids="{{ ti.xcom_pull('wait_for_completion')['job_uids'] }}",
        poll_interval=0.1,
        deferrable=True,
    )
    wait >> [download, export]
