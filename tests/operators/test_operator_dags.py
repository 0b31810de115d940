"""The operators run as Airflow runs them: ``dag.test()`` on SQLite against the emulator over HTTP.

DAGs: ``tests/dag_fixtures/operators_compose.py`` (download → sensor → create job) and
``tests/dag_fixtures/operators_ingest.py`` (the one-task ingest), each in poke and deferrable mode
(the deferrable runs go through the in-process triggerer of ``dag.test``). Params choose the file.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import load_fixture_dag
from tests.operators.conftest import REVIEW, WEBSITE, jobs_in, posts

pytestmark = pytest.mark.dagtest


def _task_states(dag_run: Any) -> dict[str, tuple[str | None, int]]:
    return {ti.task_id: (ti.state, ti.try_number) for ti in dag_run.get_task_instances()}


def _xcoms(dag_run: Any, task_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id)
        ).all()
        return {row.key: XComModel.deserialize_value(row) for row in rows}


def _run(dag_id: str, **conf: Any) -> Any:
    return load_fixture_dag(dag_id).test(run_conf=conf)


def _deferrals(caplog: pytest.LogCaptureFixture) -> int:
    """How often dag.test() handed a task to its in-process triggerer."""
    return sum("[DAG TEST] running trigger in line" in record.getMessage() for record in caplog.records)


def _slow_enough_to_defer(emulator: Any) -> None:
    # A download and an import that certainly are still running when the operator first looks.
    emulator.admin.configure(task_delay=1.0, import_delay=1.0)


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_download_sensor_create_job(
    mode: str, airflow_db: str, emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="airflow.sdk.definitions.dag")
    _slow_enough_to_defer(emulator)

    dag_run = _run(f"operators_compose_{mode}", project_uid=REVIEW, target_langs=["de", "es"])

    assert dag_run.state == "success", _task_states(dag_run)
    assert _deferrals(caplog) == (2 if mode == "deferrable" else 0)  # sensor, then the import wait
    download = _xcoms(dag_run, "download")["return_value"]
    result = _xcoms(dag_run, "create_job")
    created = result["return_value"]
    jobs = jobs_in(emulator, REVIEW)
    assert sorted(created["job_uids"]) == sorted(job["uid"] for job in jobs)
    assert {job["downloadTaskId"] for job in jobs} == {download["download_task_id"]}
    assert {job["importStatus"] for job in jobs} == {"OK"}  # wait_for_import=True
    # The links, as the task runner stored them for the UI.
    project_url = f"{emulator.base_url}/project2/show/{REVIEW}"
    assert _xcoms(dag_run, "download")["_link_PhraseProjectLink"] == project_url
    assert result["_link_PhraseProjectLink"] == project_url
    assert result["_link_PhraseJobsLink"] == project_url  # several jobs: their project


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_ingest_then_run_again_creates_nothing_new(
    mode: str, airflow_db: str, emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="airflow.sdk.definitions.dag")
    _slow_enough_to_defer(emulator)
    conf = {"folder": "docs/site", "file": "index.html", "project_uid": WEBSITE, "target_langs": ["ja"]}

    first = _run(f"operators_ingest_{mode}", **conf)

    assert first.state == "success", _task_states(first)
    assert _deferrals(caplog) == (2 if mode == "deferrable" else 0)  # the download, then the import
    result = _xcoms(first, "ingest")
    ingested = result["return_value"]
    assert ingested["reused"] is None
    (job,) = jobs_in(emulator, WEBSITE)
    assert ingested["job_uids"] == [job["uid"]] and job["importStatus"] == "OK"
    assert result["_link_PhraseJobsLink"] == f"{emulator.base_url}/job/{job['uid']}/translate"

    again = _run(f"operators_ingest_{mode}", **conf)  # the same file again, e.g. a cleared task

    assert again.state == "success", _task_states(again)
    repeated = _xcoms(again, "ingest")["return_value"]
    assert repeated["reused"] == "jobs"
    assert repeated["job_uids"] == ingested["job_uids"]
    assert _deferrals(caplog) == (2 if mode == "deferrable" else 0)  # nothing left to wait for
    assert len(jobs_in(emulator)) == 1
    assert len(posts(emulator, "/api2/v2/connectors/")) == 1
    assert len(posts(emulator, "/jobs/connectorTask")) == 1


def test_a_file_phrase_cannot_convert_fails_once_with_links(
    airflow_db: str, emulator: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = _run(
        "operators_ingest_deferrable", folder="docs/legacy", file="broken.docx", project_uid=WEBSITE
    )

    assert dag_run.state == "failed"
    # retries=1 in the DAG, but a conversion error is final: one try, no retry.
    assert _task_states(dag_run) == {"ingest": ("failed", 1)}
    assert jobs_in(emulator) == []
    xcoms = _xcoms(dag_run, "ingest")
    project_url = f"{emulator.base_url}/project2/show/{WEBSITE}"
    assert xcoms["_link_PhraseProjectLink"] == project_url
    # No jobs: the "Phrase job(s)" link opens the project, resolved without an error in the log
    # (the task runner logs "XCom not found" at error level when a link's XCom is missing).
    assert xcoms["_link_PhraseJobsLink"] == project_url
    logged = "".join(capfd.readouterr())
    assert "Task failed with exception" in logged  # the log is captured here ...
    assert "XCom not found" not in logged  # ... and has no missing link XCom in it


def test_an_import_failure_fails_the_task(airflow_db: str, emulator: Any) -> None:
    dag_run = _run("operators_ingest_poke", file="bad-import.md", project_uid=WEBSITE, target_langs=["de"])

    assert dag_run.state == "failed"
    assert _task_states(dag_run) == {"ingest": ("failed", 1)}
    (job,) = jobs_in(emulator, WEBSITE)
    assert job["importStatus"] == "ERROR"
