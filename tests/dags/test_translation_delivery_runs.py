"""``phrase_translation_delivery`` under ``dag.test()`` against the emulator: wait, deliver once, announce.

One story per test (each ``dag.test()`` costs seconds): jobs complete on the emulator's clock, one is
cancelled; the files land under the base path; a rerun delivers nothing again; the repository mode exports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.dags.conftest import load_example_dags
from tests.dags.runs import asset_events, task_states, xcom_value
from tests.triggers.jobs_support import WEBSITE, create_jobs

pytestmark = pytest.mark.dagtest

DOWNLOAD_GET = re.compile(r"^/api2/v2/projects/[^/]+/jobs/[^/]+/downloadTargetFile/[^/]+$")
EXPORT_POST = re.compile(r"^/api2/v3/projects/[^/]+/jobs/export$")


@pytest.fixture
def delivery_dag(example_dags: Any, phrase_emulator_connection: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PHRASE_DELIVERY_POLL_INTERVAL", "0.2")  # read when the DAG file is parsed
    return load_example_dags().dags["phrase_translation_delivery"]


def journal_count(emulator: Any, method: str, pattern: re.Pattern[str]) -> int:
    return sum(1 for e in emulator.admin.journal() if e.method == method and pattern.match(e.path))


def test_completed_jobs_are_delivered_once_and_a_cancelled_one_is_reported(
    delivery_dag: Any, phrase_emulator_connection: Any, tmp_path: Path
) -> None:
    emulator = phrase_emulator_connection
    emulator.admin.configure(target_file_delay=0.2)
    de, fr, ja = create_jobs("phrase_tms_default")
    emulator.admin.script_job(de, status="COMPLETED", after=0.5)
    emulator.admin.script_job(fr, status="CANCELLED", after=0.0)
    emulator.admin.script_job(ja, status="COMPLETED", after=0.8)
    conf = {"project_uid": WEBSITE, "job_uids": [de, fr, ja], "base_path": f"file://{tmp_path}"}

    first = delivery_dag.test(run_conf=conf)

    assert first.state == "success"
    assert task_states(first, "export_to_repository") == {-1: "skipped"}
    summary = xcom_value(first, "announce", "return_value")
    assert sorted(item["targetLang"] for item in summary["delivered"]) == ["de", "ja"]
    assert [(job["uid"], job["status"]) for job in summary["ended_otherwise"]] == [(fr, "CANCELLED")]
    for lang in ("de", "ja"):
        assert (tmp_path / lang / "docs/guides/install.md").read_bytes()
    assert not (tmp_path / "fr_fr").exists()
    host = emulator.base_url.split("//", 1)[1].split("/", 1)[0]
    events = sorted((uri, extra["job_uids"]) for uri, extra, _ in asset_events(first))
    assert events == [
        (f"phrase://{host}/projects/{WEBSITE}/translations/de", [de]),
        (f"phrase://{host}/projects/{WEBSITE}/translations/ja", [ja]),
    ]
    assert journal_count(emulator, "GET", DOWNLOAD_GET) == 2

    # A rerun of the same jobs: the delivery records beside the files say they are delivered.
    emulator.admin.clear_journal()
    second = delivery_dag.test(run_conf=conf)

    assert second.state == "success"
    again = xcom_value(second, "announce", "return_value")
    assert again["delivered"] == [] and sorted(again["already_delivered"]) == sorted([de, ja])
    assert journal_count(emulator, "GET", DOWNLOAD_GET) == 0
    assert asset_events(second) == []


def test_the_repository_mode_exports_through_the_connector(
    delivery_dag: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    uids = create_jobs("phrase_tms_default")
    for uid in uids:
        emulator.admin.script_job(uid, status="COMPLETED")

    run = delivery_dag.test(
        run_conf={"project_uid": WEBSITE, "job_uids": uids, "delivery_mode": "repository"}
    )

    assert run.state == "success"
    assert task_states(run, "download_target_files") == {-1: "skipped"}
    exported = xcom_value(run, "export_to_repository", "return_value")
    assert sorted(exported["job_uids"]) == sorted(uids)
    assert journal_count(emulator, "POST", EXPORT_POST) == 1
    assert sorted(xcom_value(run, "announce", "return_value")["languages"]) == ["de", "fr_fr", "ja"]

    # A rerun (a new run, a new task state store): the export record in the asset state store of
    # phrase_tms_export_record says they are exported at this state.
    rerun = delivery_dag.test(
        run_conf={"project_uid": WEBSITE, "job_uids": uids, "delivery_mode": "repository"}
    )

    assert rerun.state == "success"
    again = xcom_value(rerun, "export_to_repository", "return_value")
    assert again["exported"] == [] and sorted(i["uid"] for i in again["already_exported"]) == sorted(uids)
    assert journal_count(emulator, "POST", EXPORT_POST) == 1
