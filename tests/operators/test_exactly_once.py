"""Exactly once per file version and language, whatever else is ingesting at the same time.

Against the emulator over HTTP. Which file each job was made from is read from the emulator's record: the
job's download task, and the path that task downloaded.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.ingest_state import PROGRESS_KEY, IngestPlan, IngestProgress
from tests.operators.conftest import WEBSITE, MemoryTaskStateStore, RecordingTaskInstance, posts

A_README = "docs/a/README.md"
B_README = "docs/b/README.md"


def _ctx(store: MemoryTaskStateStore | None = None) -> dict[str, Any]:
    ti = RecordingTaskInstance()
    return {"ti": ti, "task_instance": ti, "task_state_store": store or MemoryTaskStateStore()}


def _operator(path: str, **kwargs: Any) -> PhraseIngestConnectorFileOperator:
    folder, _, name = path.rpartition("/")
    kwargs.setdefault("target_langs", ["de"])
    kwargs.setdefault("deferrable", False)
    kwargs.setdefault("poll_interval", 0.1)
    return PhraseIngestConnectorFileOperator(
        task_id="ingest", connector="1001", folder=folder, file=name, project_uid=WEBSITE, **kwargs
    )


def _plan(path: str) -> dict[str, Any]:
    folder, _, name = path.rpartition("/")
    hook = PhraseTmsHook()
    try:
        version = hook.resolve_remote_file("1001", folder, name).version
    finally:
        hook.close()
    return IngestPlan(
        file=version,
        version_after=version.last_modified,
        languages_checked=True,
        planned_at=datetime.now(timezone.utc),
    ).model_dump(mode="json")


def _source_of_each_job(emulator: Any) -> list[tuple[str, str]]:
    """``(path the job was made from, target language)`` of every job."""
    snapshot = emulator.admin.snapshot()
    paths = {task["id"]: task["path"] for task in snapshot["downloadTasks"]}
    return sorted((paths[job["downloadTaskId"]], job["targetLang"]) for job in snapshot["jobs"])


@pytest.fixture
def two_readmes(emulator: Any) -> Any:
    """Two files of the same name in two folders, each with its own content."""
    for path in (A_README, B_README):
        emulator.admin.put_file("1001", path, content=f"# {path}\n", lastModified="-5m")
    return emulator


def test_two_files_of_the_same_name_never_take_each_others_download(two_readmes: Any) -> None:
    """a's ingest started its download (and is still at it); b's ingest must not use a's download."""
    emulator = two_readmes
    a_store = MemoryTaskStateStore()
    emulator.admin.configure(task_delay=0.5)
    hook = PhraseTmsHook()
    plan_a = _plan(A_README)
    file_a = IngestPlan.model_validate(plan_a).file
    started = hook.start_connector_download(file_a.connector_id, file_a.encoded_folder, file_a.encoded_name)
    hook.close()
    # As a's mapped ingest records its claim right after the download POST.
    a_store.set(
        PROGRESS_KEY,
        IngestProgress(
            project_uid=WEBSITE,
            file=file_a,
            version_after=file_a.last_modified,
            download_task_id=started.id,
            download_created=started.date_created,
            missing_langs=["de"],
        ).model_dump(mode="json"),
    )

    def ingest_a_a_little_later() -> None:
        _operator(A_README, plan=plan_a).execute(_ctx(a_store))

    later = threading.Timer(1.0, ingest_a_a_little_later)
    later.start()
    b = _operator(B_README).execute(_ctx())  # b sees a's earlier download of a "README.md" and waits
    later.join(timeout=60)

    a_result = a_store.get(PROGRESS_KEY)
    assert a_result["stage"] == "done"
    assert a_result["download_task_id"] == started.id  # a used its own download
    assert b["download_task_id"] != started.id  # b did not take a's
    assert len(posts(emulator, "/api2/v2/connectors/")) == 2  # a's (started above, continued by a) and b's
    assert _source_of_each_job(emulator) == [(A_README, "de"), (B_README, "de")]


def test_same_named_files_ingested_at_the_same_moment_each_get_their_own_jobs(two_readmes: Any) -> None:
    emulator = two_readmes
    emulator.admin.configure(task_delay=0.5)
    results: dict[str, dict[str, Any]] = {}

    def ingest(path: str) -> None:
        results[path] = _operator(path, target_langs=["de", "fr_fr"]).execute(_ctx())

    threads = [threading.Thread(target=ingest, args=(path,)) for path in (A_README, B_README)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert set(results) == {A_README, B_README}
    assert len(posts(emulator, "/api2/v2/connectors/")) == 2
    assert _source_of_each_job(emulator) == [
        (A_README, "de"),
        (A_README, "fr_fr"),
        (B_README, "de"),
        (B_README, "fr_fr"),
    ]


def test_two_ingests_of_one_file_at_the_same_moment_make_one_job_per_language(emulator: Any) -> None:
    """Two tries of one file racing (a zombie beside a cleared try, two runs): one job per language."""
    emulator.admin.configure(task_delay=0.5)
    plan = _plan("docs/guides/install.md")
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def ingest() -> None:
        barrier.wait(timeout=30)
        results.append(
            _operator("docs/guides/install.md", target_langs=["de", "fr_fr"], plan=plan).execute(_ctx())
        )

    threads = [threading.Thread(target=ingest) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == 2
    assert len(posts(emulator, "/api2/v2/connectors/")) == 2  # both claimed the file
    assert Counter(lang for _, lang in _source_of_each_job(emulator)) == {"de": 1, "fr_fr": 1}
    assert {frozenset(r["job_uids"]) for r in results} == {frozenset(results[0]["job_uids"])}
    assert len(posts(emulator, "/jobs/connectorTask")) == 1  # the later claim waited and found the jobs


def test_a_create_that_phrase_did_but_answered_503_succeeds_with_those_jobs(emulator: Any) -> None:
    """The create POST is processed, then answered 503; the retried POST finds the task used: success."""
    emulator.admin.set_faults(
        [
            {
                "method": "POST",
                "path": r"/api2/v1/projects/[^/]+/jobs/connectorTask",
                "sequence": [{"status": 503, "afterHandler": True}],
            }
        ]
    )

    result = _operator("docs/guides/install.md", target_langs=["de", "fr_fr"]).execute(_ctx())

    jobs = _source_of_each_job(emulator)
    assert jobs == [("docs/guides/install.md", "de"), ("docs/guides/install.md", "fr_fr")]
    snapshot = emulator.admin.snapshot()
    assert sorted(result["job_uids"]) == sorted(job["uid"] for job in snapshot["jobs"])
    assert len(posts(emulator, "/jobs/connectorTask")) >= 2  # the 503'd POST, then the one Phrase refused
