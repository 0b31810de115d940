"""
### Phrase TMS: manual ingestion and backfill

Trigger it from the UI (**Trigger DAG** opens the form) to re-ingest chosen files or to backfill a range
of modification dates, without editing code.

* **What**: a connector, a folder, and at least one of: `files` (paths relative to the folder, e.g.
  `guides/install.md`, or unique file names), `pattern` (fnmatch patterns such as `*.md`; `*` also
  matches `/`), a date range on the files' `lastModified` (`modified_from` / `modified_to`, UTC if no
  zone is given).
* **Where**: the project and its target languages; optionally pre-translation and a due date.

Empty fields fall back to the Variable `phrase_ingestion`, then `PHRASE_INGEST_*`, then the defaults (the
emulator's demo seed). **validate_request** checks the form before anything is sent to Phrase and fails
naming each bad field. The rest is the hourly DAG's: mapped, deferrable, idempotent `ingest_file` tasks
(a file version already in the project creates nothing: submitting the form twice is safe), and a
`summarize` task that reports and fails the run only on unexpected failures; new jobs update the
project's Asset (`phrase://<phrase-host>/projects/<projectUid>`).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAlias, Param, TriggerRule, task

from airflow_phrase.ingestion.failures import record_ingest_failure
from airflow_phrase.ingestion.ingest_task import MAP_INDEX_TEMPLATE, IngestFileOperator
from airflow_phrase.ingestion.settings import POOL
from airflow_phrase.ingestion.summary import NEW_JOBS_ASSET_ALIAS
from airflow_phrase.ingestion.tasks import (
    INGEST_TASK_ID,
    list_files_for_request,
    load_manual_request,
    summarize_run,
)

PARAMS = {
    "connector": Param(
        None,
        type=["null", "string"],
        title="Connector",
        description="Connector id or name, e.g. 'Docs Git'. Empty: the configured default.",
        section="What to ingest",
    ),
    "folder": Param(
        None,
        type=["null", "string"],
        title="Folder",
        description="Folder path in the connector, e.g. 'docs' ('/' for its root).",
        section="What to ingest",
    ),
    "files": Param(
        None,
        type=["null", "array"],
        items={"type": "string"},
        title="Files",
        description="One per line: paths relative to the folder (e.g. 'guides/install.md').",
        section="What to ingest",
    ),
    "pattern": Param(
        None,
        type=["null", "array"],
        items={"type": "string"},
        title="Patterns",
        description="fnmatch patterns on the path relative to the folder, e.g. '*.md'.",
        section="What to ingest",
    ),
    "recursive": Param(True, type="boolean", title="Include subfolders", section="What to ingest"),
    "modified_from": Param(
        None,
        type=["null", "string"],
        format="date-time",
        title="Modified from",
        description="Only files modified at or after this moment (backfill).",
        section="What to ingest",
    ),
    "modified_to": Param(
        None,
        type=["null", "string"],
        format="date-time",
        title="Modified before",
        description="Only files modified before this moment.",
        section="What to ingest",
    ),
    "project_uid": Param(
        None,
        type=["null", "string"],
        title="Project UID",
        description="Phrase project that receives the jobs.",
        section="Jobs",
    ),
    "target_langs": Param(
        None,
        type=["null", "array"],
        items={"type": "string"},
        title="Target languages",
        description="e.g. de, fr_fr. Empty: the configured default.",
        section="Jobs",
    ),
    "pre_translate": Param(False, type="boolean", title="Pre-translate", section="Jobs"),
    "due": Param(
        None,
        type=["null", "string"],
        format="date-time",
        title="Due date",
        description="Due date of the jobs (projects without workflow steps).",
        section="Jobs",
    ),
}

with DAG(
    dag_id="phrase_manual_ingestion",
    description="Ingest chosen connector files (or a date range) into Phrase TMS, from a form",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params=PARAMS,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["phrase", "example"],
    doc_md=__doc__,
):

    @task(retries=0)
    def validate_request(**context: object) -> dict[str, object]:
        return load_manual_request(context)

    @task
    def list_files(request: dict[str, object], **context: object) -> list[dict[str, object]]:
        return list_files_for_request(context, request)

    files_to_ingest = list_files(validate_request())

    ingest = IngestFileOperator.partial(
        task_id=INGEST_TASK_ID,
        pool=POOL,
        wait_for_import=True,
        wait_timeout=timedelta(hours=2),
        on_failure_callback=record_ingest_failure,
        map_index_template=MAP_INDEX_TEMPLATE,
    ).expand_kwargs(files_to_ingest)

    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[AssetAlias(NEW_JOBS_ASSET_ALIAS)], retries=0)
    def summarize(**context: object) -> dict[str, object]:
        return summarize_run(context)

    ingest >> summarize()
