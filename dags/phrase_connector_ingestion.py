"""
### Phrase TMS: hourly connector ingestion

Every hour, turn the files of a Phrase connector folder that changed during the hour into Phrase jobs.

1. **list_files** lists the connector folder (recursively if configured), keeps the files whose
   `lastModified` falls in the run's window `[start, end)` and that pass the include/exclude patterns,
   sorted by path (so a rerun maps the same files to the same map indexes).
2. **ingest_file** (one mapped task per file, `PhraseIngestConnectorFileOperator` as
   `IngestFileOperator`, deferrable, pool `phrase_api`) downloads the file into Phrase, waits in the
   triggerer, creates one job per target language and waits for the import. It is idempotent per file
   version: if the project already has this version's jobs, nothing is created. A clear, retry, backfill
   or second run of the same interval creates no duplicates.
3. **summarize** (runs whatever happened) reports files, jobs per language and failures. A file Phrase
   could not process (conversion failed, file gone from the repository, import failed) ends its own
   mapped task *skipped*, the reason in its label (`docs/x.docx · skipped: conversion failed`), and is
   reported as an *expected* failure: the run still succeeds. Any other failure (bad settings,
   authentication, a bug, timeouts...) fails its task and the run. The run's **Phrase** tab shows the
   summary (files, jobs per language with links, failures, API calls).
   With new jobs, it emits an Asset event through the alias `phrase_tms_new_jobs` for the Asset
   `phrase://<phrase-host>/projects/<projectUid>` (host of the connection's base URL, e.g.
   `cloud.memsource.com`), extra `{"project_uid", "job_uids", "jobs": [{"uid", "targetLang", "filename"}],
   "source_run_id"}`. `phrase_new_jobs_report` is scheduled on it.

**Window.** A scheduled run takes its data interval (the hour before the run). For a manual run or a
backfill by hand, set `window_start` (+ `window_end`), or `lookback_hours` (counted back from
`window_end`, the data interval's end, or now). Without any, a manual run takes the hour before it.

**Settings**, first match wins: this run's Params; the Airflow Variable `phrase_ingestion` (a JSON
object with the same keys); environment variables `PHRASE_INGEST_<KEY>` (e.g.
`PHRASE_INGEST_TARGET_LANGS=de,fr_fr`); defaults (the emulator's demo seed). Keys: `phrase_conn_id`,
`connector` (id or name), `folder`, `recursive`, `include` / `exclude` (fnmatch patterns on the path
relative to the folder; `*` also matches `/`), `project_uid`, `target_langs`, `pre_translate`,
`max_files`, `poll_interval`, `deferrable` (false: wait on the worker, without a triggerer).

Connection `phrase_tms_default` (type `phrase_tms`); pool `phrase_api` (create it: its slots cap the
concurrent ingest tasks).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetAlias, CronTriggerTimetable, Param, TriggerRule, task

from airflow_phrase.ingestion.failures import record_ingest_failure
from airflow_phrase.ingestion.ingest_task import MAP_INDEX_TEMPLATE, IngestFileOperator
from airflow_phrase.ingestion.settings import POOL
from airflow_phrase.ingestion.summary import NEW_JOBS_ASSET_ALIAS
from airflow_phrase.ingestion.tasks import (
    INGEST_TASK_ID,
    list_files_for_interval,
    summarize_run,
)


def _optional(kind: str | list[str], title: str, description: str, **schema: object) -> Param:
    kinds = [kind] if isinstance(kind, str) else kind
    return Param(None, type=["null", *kinds], title=title, description=description, **schema)


PARAMS = {
    "window_start": _optional(
        "string",
        "Window start",
        "Ingest files modified at or after this moment (ISO 8601, UTC if no zone). "
        "Empty: the run's data interval.",
        format="date-time",
    ),
    "window_end": _optional(
        "string",
        "Window end",
        "Ingest files modified before this moment. Empty: the data interval's end.",
        format="date-time",
    ),
    "lookback_hours": _optional(
        "number",
        "Look back (hours)",
        "Instead of a start: the hours before the window end.",
        exclusiveMinimum=0,
    ),
    "connector": _optional("string", "Connector", "Connector id or name. Empty: configured default."),
    "folder": _optional("string", "Folder", "Folder path in the connector, e.g. 'docs'."),
    "recursive": _optional("boolean", "Include subfolders", "List subfolders too."),
    "include": _optional(["array", "string"], "Include patterns", "e.g. ['*.md']; empty: every file."),
    "exclude": _optional(["array", "string"], "Exclude patterns", "e.g. ['legacy/*']."),
    "project_uid": _optional("string", "Project UID", "Phrase project that receives the jobs."),
    "target_langs": _optional(["array", "string"], "Target languages", "e.g. ['de', 'fr_fr']."),
    "pre_translate": _optional("boolean", "Pre-translate", "Pre-translate the new jobs."),
    "phrase_conn_id": _optional("string", "Phrase connection", "Airflow connection id (type phrase_tms)."),
    "max_files": _optional(
        "integer", "Max files", "Fail instead of ingesting more files than this.", minimum=1
    ),
    "poll_interval": _optional(
        "number", "Poll interval (s)", "Seconds between status checks.", exclusiveMinimum=0
    ),
    "deferrable": _optional("boolean", "Deferrable", "Wait in the triggerer (default) or on the worker."),
}

with DAG(
    dag_id="phrase_connector_ingestion",
    description="Hourly: connector files changed in the hour -> Phrase TMS jobs",
    schedule=CronTriggerTimetable("0 * * * *", timezone="UTC", interval=timedelta(hours=1)),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["phrase", "example"],
    doc_md=__doc__,
):

    @task
    def list_files(**context: object) -> list[dict[str, object]]:
        return list_files_for_interval(context)

    files_to_ingest = list_files()

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
