"""
### Phrase TMS: deliver the translations

Scheduled on the Asset alias `phrase_tms_new_jobs`: runs whenever `phrase_connector_ingestion` (or
`phrase_manual_ingestion`) created new jobs, and closes the loop for them.

1. **select_jobs**: one selection per project: the new jobs of the triggering Asset events (`job_uids`
   of their extra; events of several projects give several selections), or, run by hand, Params
   `project_uid` with `job_uids` or `all_completed` (every job of the project in a target status now).
2. **wait_for_completion** (`PhraseJobStatusSensor`, deferrable, mapped: one wait per project): waits
   in the triggerer until each job is `COMPLETED` (Param `target_statuses`). Each job part is waited on
   at one workflow level: Param `workflow_level`, by default the last level among the run's jobs (the
   step that makes the translation final); parts of other levels, and jobs Phrase no longer has, are
   left out with a line in the log. All waits of a project share one paged status listing per interval. A job
   `CANCELLED`, `DECLINED` or `REJECTED` ends its own wait: it is reported in the summary and does not
   hold the others.
3. **choose** the delivery by Param `delivery_mode`, then, mapped over the projects again:
   **export_to_repository** (`PhraseExportJobsToRepositoryOperator`, `repository`): Phrase pushes the
   translations to the connector's repository; or **download_target_files**
   (`PhraseDownloadTargetFileOperator`, `object_storage`): each translated file is written under
   `base_path` (`file://`, `s3://`, `gs://` with `object_storage_conn_id`) as `file_pattern` says
   (default `{target_lang}/{path}`; projects whose files can share a path: add `{project_uid}`). A
   project none of whose jobs reached the status is skipped. Both
   deliver a job once per state: a retry, a clear or a rerun repeats nothing, but a job re-opened and
   completed again is delivered again.
4. **announce**: one Asset event per delivered (project, language), through the alias
   `phrase_tms_translations`, for the Asset `phrase://<phrase-host>/projects/<projectUid>/translations/
   <lang>`; extra `{"project_uid", "target_lang", "mode", "job_uids", "files", "source_run_id"}`.
   Schedule a site build or a release on it. Returns the run's summary: where each job's translation
   went.

Environment: `PHRASE_DELIVERY_POLL_INTERVAL` (seconds between status looks, default 60).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAlias, Param, TriggerRule, task

from airflow_phrase.ingestion.summary import NEW_JOBS_ASSET_ALIAS
from airflow_phrase.operators.delivery import EXPORT_RECORD_ASSET
from airflow_phrase.operators.delivery_dag import (
    DOWNLOAD_TASK_ID,
    EXPORT_TASK_ID,
    MODES,
    NOTHING_TASK_ID,
    TRANSLATIONS_ASSET_ALIAS,
    announce,
    choose_delivery,
    delivery_kwargs,
    select_jobs,
)
from airflow_phrase.operators.export import PhraseExportJobsToRepositoryOperator
from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator
from airflow_phrase.sensors.job_status import PhraseJobStatusSensor

#: Seconds between status looks (the demo and the tests shorten it; Phrase allows 6,000 calls a minute).
POLL_INTERVAL = float(os.environ.get("PHRASE_DELIVERY_POLL_INTERVAL", "60"))

with DAG(
    dag_id="phrase_translation_delivery",
    description="When Phrase jobs are completed, deliver the translations (repository or object storage)",
    schedule=[AssetAlias(NEW_JOBS_ASSET_ALIAS)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "phrase_conn_id": Param("phrase_tms_default", type="string", title="Phrase connection"),
        "project_uid": Param(
            None, type=["null", "string"], title="Project UID", description="Manual runs: the project."
        ),
        "job_uids": Param(
            None,
            type=["null", "array"],
            items={"type": "string"},
            title="Job UIDs",
            description="Manual runs: the jobs to deliver (or tick 'All completed jobs').",
        ),
        "all_completed": Param(
            False,
            type="boolean",
            title="All completed jobs",
            description="Manual runs without job UIDs: every job of the project in a target status now.",
        ),
        "target_statuses": Param(
            ["COMPLETED"],
            type="array",
            items={"type": "string"},
            title="Target statuses",
            description="The statuses that count as done, e.g. ['COMPLETED', 'DELIVERED'].",
        ),
        "workflow_level": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Workflow level",
            description="The workflow step (level) whose completion counts. Empty: the last level among "
            "the jobs (the step that makes the translation final).",
        ),
        "delivery_mode": Param(
            "object_storage",
            enum=list(MODES),
            title="Delivery",
            description="'repository': Phrase exports to the connector's repository; 'object_storage': "
            "the files are written under the base path.",
        ),
        "base_path": Param(
            "file:///tmp/phrase-translations",
            type="string",
            title="Base path (object storage)",
            description="Where files go: file:///dir, s3://bucket/prefix, gs://bucket/prefix.",
        ),
        "file_pattern": Param(
            "{target_lang}/{path}",
            type="string",
            title="File name pattern",
            description="Placeholders: {target_lang} {path} {folder} {filename} {stem} {ext} {job_uid} "
            "{project_uid} {workflow_level}.",
        ),
    },
    tags=["phrase", "example"],
    doc_md=__doc__,
):

    @task
    def select_jobs_task(**context: object) -> list[dict[str, object]]:
        return select_jobs(context)

    # [{project_uid, job_uids, workflow_level}]: one per project.
    selections = select_jobs_task.override(task_id="select_jobs")()

    wait = PhraseJobStatusSensor.partial(
        task_id="wait_for_completion",
        phrase_conn_id="{{ params.phrase_conn_id }}",
        target_statuses="{{ params.target_statuses }}",
        deferrable=True,  # waits of days hold no worker slot
        poke_interval=POLL_INTERVAL,
        timeout=timedelta(days=14).total_seconds(),
        map_index_template="{{ task.project_uid }}",
    ).expand_kwargs(selections)

    @task.branch
    def choose(**context: object) -> str:
        return choose_delivery(context)

    # Per project, the jobs that reached the status (a project with none: its delivery is skipped).
    reached = wait.output.map(delivery_kwargs)
    common = {
        "phrase_conn_id": "{{ params.phrase_conn_id }}",
        "deferrable": True,
        "poll_interval": min(POLL_INTERVAL, 10.0),
        "map_index_template": "{{ task.project_uid }}",
    }
    # Mapped, the operator cannot add the Asset that keeps its export record to its inlets: name it here.
    export = PhraseExportJobsToRepositoryOperator.partial(
        task_id=EXPORT_TASK_ID, inlets=[EXPORT_RECORD_ASSET], **common
    ).expand_kwargs(reached)
    download = PhraseDownloadTargetFileOperator.partial(
        task_id=DOWNLOAD_TASK_ID,
        base_path="{{ params.base_path }}",
        file_pattern="{{ params.file_pattern }}",
        **common,
    ).expand_kwargs(reached)

    @task
    def nothing_to_deliver() -> None:
        return None

    @task(
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
        outlets=[AssetAlias(TRANSLATIONS_ASSET_ALIAS)],
        retries=0,
    )
    def announce_task(**context: object) -> dict[str, object]:
        return announce(context)

    branch = choose()
    done = announce_task.override(task_id="announce")()
    wait >> branch >> [export, download, nothing_to_deliver.override(task_id=NOTHING_TASK_ID)()]
    [export, download] >> done
