"""The one-task ingest (used by tests/operators): ``operators_ingest_poke`` and ``..._deferrable``.

Params choose the file, the project and the languages. ``retries=1`` with no delay: a failure that must not
be retried (a download Phrase cannot convert) shows as a single failed try. No network I/O at parse time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Param

from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator

for mode in ("poke", "deferrable"):
    with DAG(
        dag_id=f"operators_ingest_{mode}",
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
        default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
        tags=["tests"],
    ):
        PhraseIngestConnectorFileOperator(
            task_id="ingest",
            connector="{{ params.connector }}",
            folder="{{ params.folder }}",
            file="{{ params.file }}",
            project_uid="{{ params.project_uid }}",
            target_langs="{{ params.target_langs }}",
            wait_for_import=True,
            deferrable=mode == "deferrable",
            poll_interval=0.1,
            wait_timeout=120,
        )
