"""Download → sensor → create job, composed from the three building blocks (used by tests/operators).

Two DAGs from one definition: ``operators_compose_poke`` waits on the worker, ``operators_compose_deferrable``
in the (in-process) triggerer. Params choose the file, the project and the languages. No network I/O at
parse time.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import DAG, Param

from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.download import PhraseConnectorDownloadOperator
from airflow_phrase.sensors.connector_task import PhraseConnectorTaskSensor

DOWNLOAD = "ti.xcom_pull(task_ids='download')"

for mode in ("poke", "deferrable"):
    deferrable = mode == "deferrable"
    with DAG(
        dag_id=f"operators_compose_{mode}",
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        render_template_as_native_obj=True,
        params={
            "connector": Param("Docs Git", type="string"),
            "folder": Param("docs/guides", type="string"),
            "file": Param("install.md", type="string"),
            "project_uid": Param("prjDocsReview00000001", type="string"),
            "target_langs": Param(["de", "es"], type="array"),
        },
        tags=["tests"],
    ):
        download = PhraseConnectorDownloadOperator(
            task_id="download",
            connector="{{ params.connector }}",
            folder="{{ params.folder }}",
            file="{{ params.file }}",
            project_uid="{{ params.project_uid }}",
        )
        wait = PhraseConnectorTaskSensor(
            task_id="wait_for_download",
            project_uid="{{ params.project_uid }}",
            download_task_id=f"{{{{ {DOWNLOAD}['download_task_id'] }}}}",
            created_after=f"{{{{ {DOWNLOAD}['date_created'] }}}}",
            poke_interval=0.1,
            timeout=120,
            mode="poke",
            deferrable=deferrable,
        )
        create_job = PhraseCreateJobFromConnectorTaskOperator(
            task_id="create_job",
            project_uid="{{ params.project_uid }}",
            download_task_id=f"{{{{ {DOWNLOAD}['download_task_id'] }}}}",
            target_langs="{{ params.target_langs }}",
            wait_for_import=True,
            deferrable=deferrable,
            poll_interval=0.1,
            wait_timeout=120,
        )
        download >> wait >> create_job
