"""
### Phrase TMS: scheduled connector ingestion

Every hour, turn the files of a Phrase connector folder that are new or changed into Phrase jobs, exactly
once, without missing a change.

1. **list_files** lists the connector folder once (recursively if configured, include/exclude patterns)
   and compares it with the folder as the **last successful run** listed it (the *baseline*, kept in the
   asset state store of `phrase_connector_ingestion_watermark`): every file new to the pipeline or changed
   since is selected, whatever its `lastModified` (late merges, reverts, hours the scheduler was down, a run
   that failed). The first run, with no baseline yet, takes the files modified within
   `initial_lookback_hours` (24 by default). It then reconciles the selection with Phrase in a few calls for
   the whole run: the project's languages, one listing of its connector download tasks (a download of
   this version used to create jobs is Phrase's record that it was ingested), and a job lookup only for
   files that record cannot settle. Files already ingested are reported, not mapped.
2. **ingest_file** (one mapped task per file to ingest, `PhraseIngestConnectorFileOperator` as
   `IngestFileOperator`, deferrable, pool `phrase_api`) gets the run's plan for its file (encoded names,
   version) and only downloads, waits in the triggerer (one shared poll per project), creates one job per
   target language and waits for the import (one shared poll per project). Two ingests of the same file at
   the same moment (a zombie try, two runs) create its jobs once. A clear, retry or rerun creates no
   duplicates.
3. **summarize** (runs whatever happened) reports files, jobs per language and failures. A file Phrase
   could not process (conversion failed, file gone from the repository, import failed) ends its own
   mapped task *skipped*, the reason in its label (`docs/x.docx · skipped: conversion failed`), and is
   reported as an *expected* failure: the run still succeeds. Any other failure (bad settings,
   authentication, a bug, timeouts...) fails its task and the run, and the baseline is not advanced, so
   the next run covers its changes again. The run's **Phrase** tab shows the summary (files, jobs per
   language with links, failures, API calls). With new jobs, it emits an Asset event through the alias
   `phrase_tms_new_jobs` for the Asset `phrase://<phrase-host>/projects/<projectUid>` (host of the
   connection's base URL, e.g. `cloud.memsource.com`), extra `{"project_uid", "job_uids",
   "jobs": [{"uid", "targetLang", "filename"}], "source_run_id"}`. `phrase_new_jobs_report` is scheduled
   on it.

**Backfill by hand**: trigger it with `window_start` (+ `window_end`) or `lookback_hours`: the files
modified in that window are ingested in addition to the changes (those already in Phrase are skipped).

**Settings**, first match wins: this run's Params; the Airflow Variable `phrase_ingestion` (a JSON
object with the same keys); environment variables `PHRASE_INGEST_<KEY>` (e.g.
`PHRASE_INGEST_TARGET_LANGS=de,fr_fr`); defaults (the emulator's demo seed). Keys: `phrase_conn_id`,
`connector` (id or name), `folder`, `recursive`, `include` / `exclude` (fnmatch patterns on the path
relative to the folder; `*` also matches `/`), `project_uid`, `target_langs`, `pre_translate`,
`max_files`, `poll_interval`, `deferrable` (false: wait on the worker, without a triggerer),
`initial_lookback_hours`.

Connection `phrase_tms_default` (type `phrase_tms`); pool `phrase_api`, created **with
`--include-deferred`**: its slots cap the ingests in flight (running or waiting in the triggerer), i.e.
how many downloads and imports this deployment has pending in Phrase at once.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Asset, AssetAlias, CronTriggerTimetable, Param, TriggerRule, task

from airflow_phrase.ingestion.baseline import WATERMARK_ASSET_NAME, WATERMARK_ASSET_URI
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


#: The Asset whose state store keeps the folder as the last successful run listed it.
WATERMARK = Asset(name=WATERMARK_ASSET_NAME, uri=WATERMARK_ASSET_URI)

PARAMS = {
    "window_start": _optional(
        "string",
        "Backfill: window start",
        "Also ingest the files modified at or after this moment (ISO 8601, UTC if no zone). "
        "Empty: only the changes since the last successful run.",
        format="date-time",
    ),
    "window_end": _optional(
        "string",
        "Backfill: window end",
        "Also ingest the files modified before this moment. Empty: now.",
        format="date-time",
    ),
    "lookback_hours": _optional(
        "number",
        "Backfill: look back (hours)",
        "Instead of a start: also ingest the files modified in the hours before the window end.",
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
    "initial_lookback_hours": _optional(
        "number",
        "Initial look-back (hours)",
        "The first run (no baseline yet) ingests the files modified within this many hours (default 24).",
        exclusiveMinimum=0,
    ),
}

with DAG(
    dag_id="phrase_connector_ingestion",
    description="Hourly: connector files new or changed since the last good run -> Phrase TMS jobs",
    schedule=CronTriggerTimetable("0 * * * *", timezone="UTC", interval=timedelta(hours=1)),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["phrase", "example"],
    doc_md=__doc__,
):

    @task(inlets=[WATERMARK])
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
        # The ingest reads what the run planned (encoded names); no folder walk per file.
    ).expand_kwargs(files_to_ingest)

    @task(
        trigger_rule=TriggerRule.ALL_DONE,
        inlets=[WATERMARK],
        outlets=[AssetAlias(NEW_JOBS_ASSET_ALIAS)],
        retries=0,
    )
    def summarize(**context: object) -> dict[str, object]:
        return summarize_run(context)

    ingest >> summarize()
