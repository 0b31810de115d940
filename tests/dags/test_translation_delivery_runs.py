"""``phrase_translation_delivery`` under ``dag.test()`` against the emulator: wait, deliver once, announce.

One story per test (each ``dag.test()`` costs seconds): jobs complete on the emulator's clock, one is
cancelled; the files land under the base path; a rerun delivers nothing again; the repository mode exports;
the new jobs of two projects' Asset events are both delivered; a job completed again is delivered again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.dags.conftest import load_example_dags
from tests.dags.runs import asset_events, task_states, xcom_value
from tests.triggers.jobs_support import WEBSITE, create_jobs

pytestmark = pytest.mark.dagtest

DOWNLOAD_GET = re.compile(r"^/api2/v2/projects/[^/]+/jobs/[^/]+/downloadTargetFile/[^/]+$")
EXPORT_POST = re.compile(r"^/api2/v3/projects/[^/]+/jobs/export$")
STATUS_CHANGES_GET = re.compile(r"^/api2/v1/projects/[^/]+/jobs/[^/]+/statusChanges$")
DOCS_REVIEW = "prjDocsReview00000001"  # targets de, es


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
    exported = xcom_value(run, "export_to_repository", "return_value", map_index=0)
    assert sorted(exported["job_uids"]) == sorted(uids)
    assert journal_count(emulator, "POST", EXPORT_POST) == 1
    assert sorted(xcom_value(run, "announce", "return_value")["languages"]) == ["de", "fr_fr", "ja"]

    # A rerun (a new run, a new task state store): the export record in the asset state store of
    # phrase_tms_export_record says they are exported at this state.
    rerun = delivery_dag.test(
        run_conf={"project_uid": WEBSITE, "job_uids": uids, "delivery_mode": "repository"}
    )

    assert rerun.state == "success"
    again = xcom_value(rerun, "export_to_repository", "return_value", map_index=0)
    assert again["exported"] == [] and sorted(i["uid"] for i in again["already_exported"]) == sorted(uids)
    assert journal_count(emulator, "POST", EXPORT_POST) == 1


def map_index_labels(dag_run: Any, task_id: str) -> list[str | None]:
    return [ti.rendered_map_index for ti in dag_run.get_task_instances() if ti.task_id == task_id]


def first_step_jobs(emulator: Any, uids: list[str]) -> list[str]:
    """The job parts of workflow level 1 among ``uids`` (the delivery waits at one level: the Param's)."""
    levels = {job["uid"]: job["workflowLevel"] for job in emulator.admin.snapshot()["jobs"]}
    return [uid for uid in uids if levels[uid] == 1]


@contextmanager
def triggered_by(monkeypatch: pytest.MonkeyPatch, events: list[dict[str, Any]]) -> Iterator[None]:
    """``dag.test()`` makes a manual run: give it these Asset events (extras) as its triggering events, as
    the scheduler does for a run it makes for events through ``phrase_tms_new_jobs``."""
    import airflow.models.dagrun as dagrun_module
    from airflow import settings
    from airflow.models.asset import AssetEvent, AssetModel
    from sqlalchemy import select

    with settings.Session() as session:  # type: ignore[misc]
        ids = []
        for extra in events:
            uri = f"phrase://emulator/projects/{extra['project_uid']}"
            asset = session.scalar(select(AssetModel).where(AssetModel.uri == uri))
            if asset is None:
                asset = AssetModel(name=uri, uri=uri)
                session.add(asset)
                session.flush()
            event = AssetEvent(asset_id=asset.id, extra=extra, source_dag_id="phrase_connector_ingestion")
            session.add(event)
            session.flush()
            ids.append(event.id)
        session.commit()
    real = dagrun_module.get_or_create_dagrun

    def with_events(**kwargs: Any) -> Any:
        run = real(**kwargs)
        session = kwargs["session"]
        run.consumed_asset_events.extend(session.scalars(select(AssetEvent).where(AssetEvent.id.in_(ids))))
        session.commit()
        return run

    with monkeypatch.context() as patch:
        patch.setattr(dagrun_module, "get_or_create_dagrun", with_events)
        yield


def test_the_new_jobs_of_two_projects_are_both_delivered_once(
    delivery_dag: Any, phrase_emulator_connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = phrase_emulator_connection
    emulator.admin.configure(target_file_delay=0.2)
    website = create_jobs("phrase_tms_default")
    review = first_step_jobs(emulator, create_jobs("phrase_tms_default", project_uid=DOCS_REVIEW))
    for uid in website + review:
        emulator.admin.script_job(uid, status="COMPLETED", after=0.3)
    events = [
        {"project_uid": WEBSITE, "job_uids": website, "target_langs": ["de", "fr_fr", "ja"]},
        {"project_uid": DOCS_REVIEW, "job_uids": review, "target_langs": ["de", "es"]},
    ]
    # Both projects have docs/guides/install.md in German: the project keeps them apart.
    conf = {"base_path": f"file://{tmp_path}", "file_pattern": "{project_uid}/{target_lang}/{path}"}

    with triggered_by(monkeypatch, events):
        run = delivery_dag.test(run_conf=conf)

    assert run.state == "success"
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("install.md"))
    assert written == [
        f"{DOCS_REVIEW}/de/docs/guides/install.md",
        f"{DOCS_REVIEW}/es/docs/guides/install.md",
        f"{WEBSITE}/de/docs/guides/install.md",
        f"{WEBSITE}/fr_fr/docs/guides/install.md",
        f"{WEBSITE}/ja/docs/guides/install.md",
    ]
    assert journal_count(emulator, "GET", DOWNLOAD_GET) == 5  # each job once
    # One wait and one delivery per project (the map index is labelled with the project).
    assert task_states(run, "wait_for_completion") == {0: "success", 1: "success"}
    assert task_states(run, "download_target_files") == {0: "success", 1: "success"}
    assert task_states(run, "export_to_repository") == {-1: "skipped"}
    assert sorted(map(str, map_index_labels(run, "download_target_files"))) == sorted([WEBSITE, DOCS_REVIEW])
    summary = xcom_value(run, "announce", "return_value")
    assert summary["project_uids"] == sorted([WEBSITE, DOCS_REVIEW])
    assert sorted((i["project_uid"], i["uid"]) for i in summary["delivered"]) == sorted(
        [(WEBSITE, uid) for uid in website] + [(DOCS_REVIEW, uid) for uid in review]
    )
    host = emulator.base_url.split("//", 1)[1].split("/", 1)[0]
    assert sorted(uri for uri, _, _ in asset_events(run)) == sorted(
        [f"phrase://{host}/projects/{WEBSITE}/translations/{lang}" for lang in ("de", "fr_fr", "ja")]
        + [f"phrase://{host}/projects/{DOCS_REVIEW}/translations/{lang}" for lang in ("de", "es")]
    )


def test_a_project_with_no_job_completed_is_skipped_and_the_other_delivered(
    delivery_dag: Any, phrase_emulator_connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = phrase_emulator_connection
    website = create_jobs("phrase_tms_default")
    review = first_step_jobs(emulator, create_jobs("phrase_tms_default", project_uid=DOCS_REVIEW))
    for uid in website:
        emulator.admin.script_job(uid, status="COMPLETED")
    for uid in review:
        emulator.admin.script_job(uid, status="CANCELLED")
    events = [{"project_uid": WEBSITE, "job_uids": website}, {"project_uid": DOCS_REVIEW, "job_uids": review}]

    with triggered_by(monkeypatch, events):
        run = delivery_dag.test(run_conf={"base_path": f"file://{tmp_path}", "delivery_mode": "repository"})

    assert run.state == "success"
    summary = xcom_value(run, "announce", "return_value")
    assert sorted(i["uid"] for i in summary["delivered"]) == sorted(website)
    assert sorted(job["uid"] for job in summary["ended_otherwise"]) == sorted(review)
    assert journal_count(emulator, "POST", EXPORT_POST) == 1
    assert {extra["project_uid"] for _, extra, _ in asset_events(run)} == {WEBSITE}
    states = task_states(run, "export_to_repository")
    assert sorted(states.values()) == ["skipped", "success"]


def test_a_job_completed_again_is_delivered_again_by_a_rerun(
    delivery_dag: Any, phrase_emulator_connection: Any, tmp_path: Path
) -> None:
    emulator = phrase_emulator_connection
    emulator.admin.configure(target_file_delay=0.0)
    de, fr, ja = create_jobs("phrase_tms_default")
    for uid in (de, fr, ja):
        emulator.admin.script_job(uid, status="COMPLETED")
    conf = {"project_uid": WEBSITE, "job_uids": [de, fr, ja], "base_path": f"file://{tmp_path}"}
    assert delivery_dag.test(run_conf=conf).state == "success"
    # Re-opened, and completed again a second later (Phrase's dates are whole seconds).
    emulator.admin.script_job(ja, status="NEW")
    emulator.admin.script_job(ja, status="COMPLETED", after=1.0)
    emulator.admin.clear_journal()

    again = delivery_dag.test(run_conf=conf)  # the sensor waits for ja's new completion

    assert again.state == "success"
    summary = xcom_value(again, "announce", "return_value")
    assert [item["uid"] for item in summary["delivered"]] == [ja]
    assert sorted(summary["already_delivered"]) == sorted([de, fr])
    assert journal_count(emulator, "GET", DOWNLOAD_GET) == 1
    assert journal_count(emulator, "GET", STATUS_CHANGES_GET) == 3  # one per job delivered before
    assert [uri.rsplit("/", 1)[1] for uri, _, _ in asset_events(again)] == ["ja"]

    # Nothing changed since: nothing is delivered, one status look per delivered job.
    emulator.admin.clear_journal()
    third = delivery_dag.test(run_conf=conf)

    assert xcom_value(third, "announce", "return_value")["delivered"] == []
    assert journal_count(emulator, "GET", DOWNLOAD_GET) == 0
    assert journal_count(emulator, "GET", STATUS_CHANGES_GET) == 3
    assert asset_events(third) == []


def test_a_project_whose_wait_reached_no_job_is_skipped_saying_why(caplog: pytest.LogCaptureFixture) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from airflow_phrase.operators.delivery_dag import delivery_kwargs, warn_if_projects_share_files

    waited = {"project_uid": WEBSITE, "job_uids": ["j1"], "workflow_level": 2, "reached": [{"uid": "j1"}]}
    assert delivery_kwargs(waited) == {"project_uid": WEBSITE, "job_uids": ["j1"], "workflow_level": 2}
    ended = {
        "project_uid": WEBSITE,
        "job_uids": [],
        "ended_otherwise": [{"uid": "j2", "status": "CANCELLED"}],
    }
    with pytest.raises(AirflowSkipException, match=rf"No job of project {WEBSITE}.*j2 CANCELLED"):
        delivery_kwargs(ended)

    warn_if_projects_share_files({"file_pattern": "{target_lang}/{path}"}, [WEBSITE, DOCS_REVIEW])
    warn_if_projects_share_files(
        {"file_pattern": "{project_uid}/{target_lang}/{path}"}, [WEBSITE, DOCS_REVIEW]
    )
    warn_if_projects_share_files({"file_pattern": "{target_lang}/{path}"}, [WEBSITE])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Projects {WEBSITE}, {DOCS_REVIEW} write under the same base_path")
    assert "add {project_uid} to the pattern" in warnings[0]
