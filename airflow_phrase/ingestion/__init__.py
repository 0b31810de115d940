"""Helpers of the example ingestion DAGs (``dags/``): settings, the run's window, file selection,
failure classification and the run's summary. Small pieces, each unit-tested, shared by the DAG files.

* :mod:`.settings` — Params > Variable ``phrase_ingestion`` > ``PHRASE_INGEST_*`` > defaults.
* :mod:`.window` — which ``lastModified`` values a run takes (``[start, end)``).
* :mod:`.selection` — listing a connector folder and picking files (window, include/exclude globs).
* :mod:`.failures` — expected (Phrase's verdict on one file) vs unexpected failures.
* :mod:`.summary` — the run's report and the Asset event of the project's new jobs.
* :mod:`.manual` — the validated request of a manual run.
* :mod:`.tasks` — the task bodies the DAG files call.
"""

from __future__ import annotations

from airflow_phrase.ingestion.failures import (
    FAILURE_XCOM_KEY,
    FileFailure,
    classify_failure,
    record_ingest_failure,
)
from airflow_phrase.ingestion.selection import (
    ConnectorFile,
    FileSelection,
    list_connector_files,
    select_files,
    split_delivered_translations,
)
from airflow_phrase.ingestion.settings import POOL, VARIABLE_NAME, IngestionSettings, resolve_settings
from airflow_phrase.ingestion.summary import (
    NEW_JOBS_ASSET_ALIAS,
    IngestionSummary,
    build_summary,
    project_asset_uri,
    render_summary,
)
from airflow_phrase.ingestion.window import IngestionWindow, resolve_window

__all__ = [
    "FAILURE_XCOM_KEY",
    "NEW_JOBS_ASSET_ALIAS",
    "POOL",
    "VARIABLE_NAME",
    "ConnectorFile",
    "FileFailure",
    "FileSelection",
    "IngestionSettings",
    "IngestionSummary",
    "IngestionWindow",
    "build_summary",
    "classify_failure",
    "list_connector_files",
    "project_asset_uri",
    "record_ingest_failure",
    "render_summary",
    "resolve_settings",
    "resolve_window",
    "select_files",
    "split_delivered_translations",
]
