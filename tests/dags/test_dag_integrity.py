"""The example DAGs load cleanly, do nothing remote while being parsed, and are wired as documented."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from tests.dags.conftest import REPO_DAGS, load_example_dags

DAG_IDS = {
    "phrase_connector_ingestion",
    "phrase_manual_ingestion",
    "phrase_new_jobs_report",
    "phrase_translation_delivery",
}

# Parsed in a fresh interpreter so that nothing this test session imported or configured counts: the
# script forbids network connections, connection and Variable lookups, then parses dags/ with a DagBag.
PARSE_PROBE = textwrap.dedent(
    """
    import json, socket, sys, time

    calls = []

    def forbidden(name):
        def deny(*args, **kwargs):
            calls.append(name)
            raise RuntimeError(f"{name} called while parsing a DAG file")
        return deny

    socket.socket.connect = forbidden("socket.connect")
    socket.create_connection = forbidden("socket.create_connection")

    from airflow.sdk import BaseHook, Variable
    from airflow.sdk.definitions.connection import Connection

    BaseHook.get_connection = classmethod(forbidden("BaseHook.get_connection"))
    Variable.get = classmethod(forbidden("Variable.get"))
    Connection.get = classmethod(forbidden("Connection.get"))

    from airflow.dag_processing.dagbag import DagBag

    before = set(sys.modules)
    started = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1])
    seconds = time.perf_counter() - started
    print(json.dumps({
        "import_errors": bag.import_errors,
        "dag_ids": sorted(bag.dag_ids),
        "forbidden_calls": calls,
        "new_modules": sorted(
            m for m in set(sys.modules) - before if m.startswith(("airflow_phrase", "fastapi", "uvicorn"))
        ),
        "seconds": seconds,
    }))
    """
)


@pytest.fixture(scope="module")
def parse_probe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("parse-home")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "PATH": str(Path(sys.executable).parent),
    }
    done = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(REPO_DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_dag_file_loads_without_import_errors(parse_probe: dict) -> None:
    assert parse_probe["import_errors"] == {}
    assert set(parse_probe["dag_ids"]) == DAG_IDS


def test_parsing_touches_no_network_connection_or_variable(parse_probe: dict) -> None:
    assert parse_probe["forbidden_calls"] == []


def test_parsing_imports_neither_the_emulator_nor_a_server_stack(parse_probe: dict) -> None:
    # What keeps parsing cheap: the DAG files import the operator, the hook and the small ingestion
    # helpers, never the emulator (or FastAPI/uvicorn). The measured time is printed, not asserted.
    print(f"parsed dags/ in {parse_probe['seconds']:.2f} s")
    assert parse_probe["new_modules"], "the probe saw no airflow_phrase import at all"
    heavy = [
        m
        for m in parse_probe["new_modules"]
        if m.startswith(("airflow_phrase.emulator", "fastapi", "uvicorn"))
    ]
    assert heavy == []


@pytest.fixture(scope="module")
def bag(airflow_db: str) -> object:
    return load_example_dags()


def test_the_hourly_dag_is_wired_as_documented(bag: object) -> None:
    from airflow.sdk import AssetAlias, CronTriggerTimetable

    dag = bag.dags["phrase_connector_ingestion"]  # type: ignore[attr-defined]

    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert (dag.timetable.expression, dag.timetable.interval) == ("0 * * * *", timedelta(hours=1))
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert [t.task_id for t in dag.tasks] == ["list_files", "ingest_file", "summarize"]
    ingest = dag.get_task("ingest_file")
    assert type(ingest).__name__ == "MappedOperator"
    # The provider's operator with the example DAGs' policy: Phrase's verdicts end the task skipped.
    from airflow_phrase.ingestion.ingest_task import IngestFileOperator
    from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator

    assert ingest.operator_name == "IngestFileOperator"
    assert issubclass(IngestFileOperator, PhraseIngestConnectorFileOperator)
    assert ingest.pool == "phrase_api"
    assert ingest.partial_kwargs["wait_for_import"] is True
    summarize = dag.get_task("summarize")
    assert summarize.trigger_rule == "all_done"
    assert summarize.upstream_task_ids == {"ingest_file"}
    assert summarize.outlets == [AssetAlias("phrase_tms_new_jobs")]
    assert {"window_start", "window_end", "lookback_hours", "target_langs"} <= set(dag.params)


def test_the_manual_dag_validates_first_and_offers_a_form(bag: object) -> None:
    dag = bag.dags["phrase_manual_ingestion"]  # type: ignore[attr-defined]

    assert not dag.timetable.can_be_scheduled
    assert [t.task_id for t in dag.tasks] == ["validate_request", "list_files", "ingest_file", "summarize"]
    assert dag.get_task("validate_request").retries == 0
    for name in (
        "connector",
        "folder",
        "files",
        "pattern",
        "project_uid",
        "target_langs",
        "modified_from",
        "modified_to",
        "pre_translate",
        "due",
    ):
        schema = dag.params.get_param(name).schema
        assert schema.get("title"), f"param {name} has no title"
    # Dates are text checked by a pattern: Airflow 3.3.2's picker silently drops what it cannot parse.
    from airflow_phrase.ingestion.form import ISO_MOMENT_PATTERN

    assert dag.params.get_param("due").schema["pattern"] == ISO_MOMENT_PATTERN


def test_the_report_dag_is_scheduled_on_the_new_jobs_alias(bag: object) -> None:
    from airflow.sdk import AssetAlias

    dag = bag.dags["phrase_new_jobs_report"]  # type: ignore[attr-defined]

    assert list(dag.timetable.asset_condition.objects) == [AssetAlias("phrase_tms_new_jobs")]


def test_the_delivery_dag_waits_deferrably_and_announces_each_language(bag: object) -> None:
    from airflow.sdk import AssetAlias

    from airflow_phrase.operators.delivery import EXPORT_RECORD_ASSET
    from airflow_phrase.operators.export import PhraseExportJobsToRepositoryOperator
    from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator
    from airflow_phrase.sensors.job_status import PhraseJobStatusSensor

    dag = bag.dags["phrase_translation_delivery"]  # type: ignore[attr-defined]

    assert list(dag.timetable.asset_condition.objects) == [AssetAlias("phrase_tms_new_jobs")]
    # Mapped over the projects of the run: one wait and one delivery per project.
    wait = dag.get_task("wait_for_completion")
    assert wait.operator_class is PhraseJobStatusSensor and wait.partial_kwargs["deferrable"]
    export = dag.get_task("export_to_repository")
    assert export.operator_class is PhraseExportJobsToRepositoryOperator
    assert EXPORT_RECORD_ASSET in export.partial_kwargs["inlets"]  # where the export record is kept
    download = dag.get_task("download_target_files")
    assert download.operator_class is PhraseDownloadTargetFileOperator
    assert download.partial_kwargs["deferrable"] and export.partial_kwargs["deferrable"]
    announce = dag.get_task("announce")
    assert announce.outlets == [AssetAlias("phrase_tms_translations")]
    assert set(announce.upstream_task_ids) == {"export_to_repository", "download_target_files"}
    assert dag.params.get_param("delivery_mode").schema["enum"] == ["repository", "object_storage"]
    for name in ("project_uid", "job_uids", "all_completed", "base_path", "file_pattern", "target_statuses"):
        assert dag.params.get_param(name).schema.get("title"), name
