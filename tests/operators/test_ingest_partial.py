"""PhraseIngestConnectorFileOperator when only some requested languages have jobs for the file's version.

Say a DAG's language list grew from de, fr_fr to de, fr_fr, ja: the second ingest must create the ja job
only (from a new download task: each is single-use) and return all three. The journal has no bodies, so
"the create call asked only for ja" is read from the emulator's state: the one job made from the second
download task is the ja job.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_phrase.exceptions import PhraseImportFailedError
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from tests.operators.conftest import (
    REVIEW,
    WEBSITE,
    MemoryTaskStateStore,
    RecordingTaskInstance,
    finished_state,
    jobs_in,
    posts,
)

FIRST_LANGS = ["de", "fr_fr"]
GROWN_LANGS = ["de", "fr_fr", "ja"]


def _operator(**kwargs: Any) -> PhraseIngestConnectorFileOperator:
    kwargs.setdefault("connector", "Docs Git")
    kwargs.setdefault("folder", "docs/guides")
    kwargs.setdefault("file", "install.md")
    kwargs.setdefault("project_uid", WEBSITE)
    kwargs.setdefault("deferrable", False)
    kwargs.setdefault("poll_interval", 0.05)
    return PhraseIngestConnectorFileOperator(task_id="ingest", **kwargs)


def _ctx(store: MemoryTaskStateStore | None = None) -> dict[str, Any]:
    """A task instance's context; each ingest its own task instance unless ``store`` is shared."""
    ti = RecordingTaskInstance()
    return {"ti": ti, "task_instance": ti, "task_state_store": store or MemoryTaskStateStore()}


def _create_posts(emulator: Any) -> list[str]:
    return posts(emulator, "/jobs/connectorTask")


def _download_posts(emulator: Any) -> list[str]:
    return posts(emulator, "/api2/v2/connectors/")


def _assert_one_job_per_language(emulator: Any, project_uid: str, levels: int = 1) -> list[dict[str, Any]]:
    jobs = jobs_in(emulator, project_uid)
    assert Counter(job["targetLang"] for job in jobs) == {lang: levels for lang in GROWN_LANGS}
    return jobs


def _finished_event(project_uid: str, download_task_id: str) -> dict[str, Any]:
    """The trigger's success event, once Phrase really finished the download (bounded wait)."""
    state = finished_state(project_uid, download_task_id)
    return {
        "status": "success",
        "project_uid": project_uid,
        "download_task_id": state.id,
        "task_state": state.to_wire(),
        "message": "done",
    }


def _assert_only_ja_created_from(emulator: Any, first: dict[str, Any], download_task_id: str) -> None:
    """The second create call made exactly the ja job, from ``download_task_id``; de/fr_fr are untouched."""
    jobs = _assert_one_job_per_language(emulator, WEBSITE)
    by_task: dict[str, list[str]] = {}
    for job in jobs:
        by_task.setdefault(job["downloadTaskId"], []).append(job["targetLang"])
    assert by_task == {first["download_task_id"]: FIRST_LANGS, download_task_id: ["ja"]}
    assert len(_create_posts(emulator)) == 2
    (task,) = [t for t in emulator.admin.snapshot()["downloadTasks"] if t["id"] == download_task_id]
    assert task["jobUid"] == next(job["uid"] for job in jobs if job["targetLang"] == "ja")


def _assert_union(result: dict[str, Any], first: dict[str, Any]) -> None:
    assert result["reused"] == "partial"
    assert [job["targetLang"] for job in result["jobs"]] == GROWN_LANGS
    assert result["job_uids"] == [job["uid"] for job in result["jobs"]]
    assert result["job_uids"][:2] == first["job_uids"]
    # Which of them are new: the ja job only; de and fr_fr were there.
    assert result["existing_job_uids"] == first["job_uids"]
    assert result["new_job_uids"] == result["job_uids"][2:]
    assert json.loads(json.dumps(result)) == result


# --------------------------------------------------------------------------- poke


def test_a_grown_language_list_creates_only_the_new_language(
    emulator: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """The operators log through Airflow's structlog (to the task log; stdout here), not to caplog."""
    first = _operator(target_langs=FIRST_LANGS).execute(_ctx())
    capfd.readouterr()

    second = _operator(target_langs=GROWN_LANGS).execute(_ctx())

    _assert_union(second, first)
    assert second["download_task_id"] != first["download_task_id"]  # a new download: tasks are single-use
    assert second["async_request_id"]
    assert len(_download_posts(emulator)) == 2
    _assert_only_ja_created_from(emulator, first, second["download_task_id"])
    logged = "".join(capfd.readouterr())
    assert (
        f"already has jobs in project {WEBSITE} for de, fr_fr ({', '.join(first['job_uids'])}); "
        "creating jobs only for ja" in logged
    )

    third = _operator(target_langs=GROWN_LANGS).execute(_ctx())  # now everything exists

    assert third["reused"] == "jobs"
    assert third["job_uids"] == second["job_uids"]
    assert (third["new_job_uids"], third["existing_job_uids"]) == ([], second["job_uids"])
    assert len(_create_posts(emulator)) == 2 and len(_download_posts(emulator)) == 2


def test_a_shrunk_language_list_is_already_ingested(emulator: Any) -> None:
    first = _operator(target_langs=GROWN_LANGS).execute(_ctx())

    again = _operator(target_langs=["ja", "de"]).execute(_ctx())

    assert again["reused"] == "jobs"
    assert [job["targetLang"] for job in again["jobs"]] == ["ja", "de"]
    assert set(again["job_uids"]) < set(first["job_uids"])
    assert len(_create_posts(emulator)) == 1


def test_assignments_are_narrowed_to_the_new_languages_in_a_workflow_project(emulator: Any) -> None:
    """Assignments for de (already there) would make the es-only request invalid: they are dropped."""

    def settings(*langs: str) -> list[dict[str, Any]]:
        return [
            {
                "id": step,
                "assignments": [
                    {"targetLang": lang, "providers": [{"id": f"{step}{index}", "type": "USER"}]}
                    for index, lang in enumerate(langs)
                ],
            }
            for step in ("7001", "7002")
        ]

    first = _operator(project_uid=REVIEW, target_langs=["de"], workflow_settings=settings("de"))
    first_result = first.execute(_ctx())

    second = _operator(
        project_uid=REVIEW, target_langs=["de", "es"], workflow_settings=settings("de", "es")
    ).execute(_ctx())

    assert second["reused"] == "partial"
    assert [(job["targetLang"], job["workflowLevel"]) for job in second["jobs"]] == [
        ("de", 1),
        ("de", 2),
        ("es", 1),
        ("es", 2),
    ]
    assert second["job_uids"][:2] == first_result["job_uids"]
    assert second["existing_job_uids"] == first_result["job_uids"]
    assert second["new_job_uids"] == second["job_uids"][2:]  # es at both workflow levels
    jobs = jobs_in(emulator, REVIEW)
    assert Counter(job["targetLang"] for job in jobs) == {"de": 2, "es": 2}
    new = [job for job in jobs if job["downloadTaskId"] == second["download_task_id"]]
    assert sorted(job["targetLang"] for job in new) == ["es", "es"]
    hook = PhraseTmsHook()
    created = [hook.get_job(REVIEW, job["uid"]) for job in new]
    providers = {job.workflow_level: [provider.id for provider in job.providers] for job in created}
    assert providers == {1: ["70011"], 2: ["70021"]}  # es: the second language of the request


def test_a_partial_ingest_waits_for_the_import_of_every_job(emulator: Any) -> None:
    _operator(target_langs=FIRST_LANGS).execute(_ctx())

    result = _operator(target_langs=GROWN_LANGS, wait_for_import=True).execute(_ctx())

    assert result["reused"] == "partial"
    hook = PhraseTmsHook()
    assert {hook.get_job(WEBSITE, uid).import_status.status for uid in result["job_uids"]} == {"OK"}  # type: ignore[union-attr]


def test_a_failed_import_of_an_existing_job_fails_a_partial_ingest_that_waits(emulator: Any) -> None:
    """The new job's async request covers only the new job: the existing ones are checked too."""
    first = _operator(file="bad-import.md", target_langs=FIRST_LANGS).execute(_ctx())  # import fails later

    with pytest.raises(PhraseImportFailedError) as raised:
        _operator(file="bad-import.md", target_langs=GROWN_LANGS, wait_for_import=True).execute(_ctx())

    assert set(first["job_uids"]) <= set(raised.value.job_uids)  # the jobs that were there failed too

    _assert_one_job_per_language(emulator, WEBSITE)


# --------------------------------------------------------------------------- deferrable


def test_the_deferrable_path_carries_the_missing_languages_through_the_deferral(emulator: Any) -> None:
    first = _operator(target_langs=FIRST_LANGS).execute(_ctx())
    emulator.admin.configure(task_delay=1.0)  # still running when the operator looks: it defers

    with pytest.raises(TaskDeferred) as deferred:
        _operator(target_langs=GROWN_LANGS, deferrable=True).execute(_ctx())

    kwargs = deferred.value.kwargs
    assert json.loads(json.dumps(kwargs)) == kwargs  # trigger kwargs must serialise
    progress = kwargs["progress"]
    assert progress["missing_langs"] == ["ja"]
    assert [job["uid"] for job in progress["existing_jobs"]] == first["job_uids"]
    assert progress["reused"] == "partial"
    assert len(_create_posts(emulator)) == 1  # nothing created before the deferral
    event = _finished_event(WEBSITE, progress["download_task_id"])

    resumed = _operator(target_langs=GROWN_LANGS, deferrable=True)  # rebuilt, as Airflow does on resume
    result = resumed.execute_complete(_ctx(), event=event, progress=json.loads(json.dumps(progress)))

    _assert_union(result, first)
    assert result["download_task_id"] == progress["download_task_id"]
    _assert_only_ja_created_from(emulator, first, progress["download_task_id"])


def test_resumed_without_kwargs_the_missing_languages_come_from_the_state_store(emulator: Any) -> None:
    """dag.test() of Airflow <= 3.3.2 resumes with the event only; a second such resume (an earlier one
    created the ja job and died) creates nothing more."""
    first = _operator(target_langs=FIRST_LANGS).execute(_ctx())
    emulator.admin.configure(task_delay=1.0)
    store = MemoryTaskStateStore()
    with pytest.raises(TaskDeferred) as deferred:
        _operator(target_langs=GROWN_LANGS, deferrable=True).execute(_ctx(store))
    task_id = deferred.value.kwargs["progress"]["download_task_id"]
    event = _finished_event(WEBSITE, task_id)

    result = _operator(target_langs=GROWN_LANGS, deferrable=True).execute_complete(
        _ctx(store), event=event, progress=None
    )

    _assert_union(result, first)
    assert result["download_task_id"] == task_id
    _assert_only_ja_created_from(emulator, first, task_id)

    again = _operator(target_langs=GROWN_LANGS, deferrable=True).execute_complete(
        _ctx(store), event=event, progress=None
    )

    assert again["job_uids"] == result["job_uids"]
    assert again["reused"] == "partial"  # the ja job is this task's, not one that was there before
    assert again["download_task_id"] == task_id
    _assert_only_ja_created_from(emulator, first, task_id)


def test_resumed_without_the_import_kwargs_the_new_jobs_are_told_from_the_existing(emulator: Any) -> None:
    """dag.test() of Airflow <= 3.3.2 resumes the import wait with the event only: the progress kept in the
    task state store tells the jobs created (the ja job) from those that were there."""
    first = _operator(target_langs=FIRST_LANGS).execute(_ctx())
    store = MemoryTaskStateStore()
    second = _operator(target_langs=GROWN_LANGS).execute(_ctx(store))
    event = {"status": "success", "project_uid": WEBSITE, "job_uids": second["job_uids"], "message": ""}

    rebuilt = _operator(target_langs=GROWN_LANGS).execute_complete_import(
        _ctx(store), event=event, progress=None
    )

    assert rebuilt["reused"] == "partial"
    assert rebuilt["job_uids"] == second["job_uids"]
    assert rebuilt["existing_job_uids"] == first["job_uids"]
    assert rebuilt["new_job_uids"] == second["new_job_uids"]
    assert rebuilt["download_task_id"] == second["download_task_id"]
