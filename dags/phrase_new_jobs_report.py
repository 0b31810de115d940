"""
### Phrase TMS: report on new jobs

Scheduled on the Asset alias `phrase_tms_new_jobs`: runs whenever `phrase_connector_ingestion` (or
`phrase_manual_ingestion`) created new jobs in a Phrase project, i.e. on each event of an Asset
`phrase://<phrase-host>/projects/<projectUid>`. It reads the new jobs listed in the triggering events'
extra (`job_uids`) back from Phrase through `PhraseTmsHook` and logs and returns their status and import
status. Use it as the template of a downstream DAG (notify translators, track progress, ...).

Run it by hand with Params `project_uid` and `job_uids` to report on chosen jobs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, AssetAlias, Param, task

from airflow_phrase.ingestion.report import report_new_jobs
from airflow_phrase.ingestion.summary import NEW_JOBS_ASSET_ALIAS

with DAG(
    dag_id="phrase_new_jobs_report",
    description="Status of the Phrase TMS jobs the ingestion DAGs just created",
    schedule=[AssetAlias(NEW_JOBS_ASSET_ALIAS)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "phrase_conn_id": Param("phrase_tms_default", type="string", title="Phrase connection"),
        "project_uid": Param(
            None,
            type=["null", "string"],
            title="Project UID",
            description="Manual runs only: the project of the jobs below.",
        ),
        "job_uids": Param(
            None,
            type=["null", "array"],
            items={"type": "string"},
            title="Job UIDs",
            description="Manual runs only: jobs to report on.",
        ),
    },
    tags=["phrase", "example"],
    doc_md=__doc__,
):

    @task(retries=2)
    def report(**context: object) -> dict[str, object]:
        return report_new_jobs(context)

    report()
