"""
### Phrase TMS: manual ingestion and backfill

Trigger it from the UI (**Trigger DAG** opens the form) to re-ingest chosen files or to backfill a range
of modification dates, without editing code.

* **What**: a connector, a folder, and at least one of: `files` (one per line: paths relative to the
  folder, e.g. `guides/install.md`, or unique file names), `pattern` (fnmatch patterns such as `*.md`;
  `*` also matches `/`, so `*` alone takes every file), `modified_within_hours` (e.g. 168: the last
  week), or a date range on the files' `lastModified` (`modified_from` / `modified_to`, ISO 8601 such
  as `2026-11-28T09:00:00Z`, UTC if no zone is given).
* **Where**: the project and its target languages (one per line); optionally pre-translation, a due
  date and another Phrase connection.

Empty fields fall back to the Variable `phrase_ingestion`, then `PHRASE_INGEST_*`, then the built-in
defaults (the emulator's demo seed); each field's description says which. Blank lines in lists are
ignored; a malformed date or language code is refused by the form itself, naming the field.
**validate_request** checks the whole request before anything is sent to Phrase and fails naming each
bad field. The rest is the hourly DAG's: mapped, deferrable, idempotent `ingest_file` tasks (a file
version already in the project creates nothing: submitting the form twice is safe; a file Phrase cannot
process ends its task skipped), and a `summarize` task that reports and fails the run only on
unexpected failures; new jobs update the project's Asset (`phrase://<phrase-host>/projects/<projectUid>`).
The run's **Phrase** tab shows what happened.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAlias, TriggerRule, task

from airflow_phrase.ingestion.failures import record_ingest_failure
from airflow_phrase.ingestion.form import manual_form_params, validate_form
from airflow_phrase.ingestion.ingest_task import MAP_INDEX_TEMPLATE, IngestFileOperator
from airflow_phrase.ingestion.settings import POOL
from airflow_phrase.ingestion.summary import NEW_JOBS_ASSET_ALIAS
from airflow_phrase.ingestion.tasks import (
    INGEST_TASK_ID,
    list_files_for_request,
    summarize_run,
)

PARAMS = manual_form_params()

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
        return validate_form(context)

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
