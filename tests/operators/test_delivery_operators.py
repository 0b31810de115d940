"""The delivery operators against the emulator: export to the repository, target files to object storage.

Each operator runs as Airflow runs it: ``execute`` on the worker, the deferral's trigger in an event loop,
``execute_complete`` with its event. The journal tells what reached Phrase; the files tell what was written.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_phrase.operators.export import PhraseExportJobsToRepositoryOperator
from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator, render_file_name
from tests.helpers import wait_until
from tests.operators.conftest import MemoryTaskStateStore, RecordingTaskInstance, calls
from tests.triggers.jobs_support import WEBSITE, create_jobs

TARGET_FILE_PUT = re.compile(r"^/api2/v3/projects/[^/]+/jobs/[^/]+/targetFile$")
DOWNLOAD_GET = re.compile(r"^/api2/v2/projects/[^/]+/jobs/[^/]+/downloadTargetFile/[^/]+$")
EXPORT_POST = re.compile(r"^/api2/v3/projects/[^/]+/jobs/export$")


class AssetStores:
    """Stands in for ``context["asset_state_store"]``: one store per Asset, kept across runs."""

    def __init__(self) -> None:
        self.stores: dict[str, MemoryTaskStateStore] = {}

    def __getitem__(self, asset: Any) -> MemoryTaskStateStore:
        return self.stores.setdefault(asset.name, MemoryTaskStateStore())


def run_context(asset_stores: AssetStores | None = None) -> dict[str, Any]:
    """A new task instance of a new run (its own task state store), sharing the asset stores."""
    ti = RecordingTaskInstance()
    context: dict[str, Any] = {"ti": ti, "task_instance": ti, "task_state_store": MemoryTaskStateStore()}
    if asset_stores is not None:
        context["asset_state_store"] = asset_stores
    return context


def run_to_the_end(operator: Any, context: dict[str, Any]) -> Any:
    """``execute``, then every deferral's trigger and ``execute_complete``, as the triggerer would."""
    try:
        return operator.execute(context)
    except TaskDeferred as deferred:
        while True:
            event = asyncio.run(anext(deferred.trigger.run()))
            kwargs = dict(deferred.kwargs or {})
            try:
                return operator.resume_execution(
                    deferred.method_name, {**kwargs, "event": event.payload}, context
                )
            except TaskDeferred as again:
                deferred = again


def count(emulator: Any, pattern: re.Pattern[str], method: str) -> int:
    return sum(1 for m, path in calls(emulator) if m == method and pattern.match(path))


def complete_all(emulator: Any, uids: list[str]) -> None:
    for uid in uids:
        emulator.admin.script_job(uid, status="COMPLETED", after=0.0)


def download_op(base: Path, uids: list[str], **kwargs: Any) -> PhraseDownloadTargetFileOperator:
    return PhraseDownloadTargetFileOperator(
        task_id="download_translations",
        project_uid=WEBSITE,
        job_uids=uids,
        base_path=str(base),
        poll_interval=0.2,
        deferrable=kwargs.pop("deferrable", True),
        **kwargs,
    )


def test_target_files_are_written_once_by_pattern_and_a_rerun_downloads_nothing(
    emulator: Any, tmp_path: Path
) -> None:
    emulator.admin.configure(target_file_delay=0.3)
    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)

    first = run_to_the_end(download_op(tmp_path, uids), run_context())

    assert sorted(item["targetLang"] for item in first["delivered"]) == ["de", "fr_fr", "ja"]
    for item in first["delivered"]:
        written = tmp_path / item["path"]
        assert item["path"] == f"{item['targetLang']}/docs/guides/install.md"
        assert written.read_bytes() and len(written.read_bytes()) == item["size"]
        record = json.loads((tmp_path / ".phrase-delivery" / WEBSITE / f"{item['uid']}.json").read_text())
        assert record["fingerprint"] == f"{item['uid']}:COMPLETED:1" and record["sha256"] == item["sha256"]
    assert not list(tmp_path.rglob("*.part"))  # nothing half-written left behind
    assert count(emulator, DOWNLOAD_GET, "GET") == 3

    # A rerun (a new DAG run: a new task state store), then a cleared task: nothing is downloaded again.
    emulator.admin.clear_journal()
    again = run_to_the_end(download_op(tmp_path, uids), run_context())

    assert again["delivered"] == []
    assert sorted(item["uid"] for item in again["already_delivered"]) == sorted(uids)
    assert count(emulator, TARGET_FILE_PUT, "PUT") == 0 and count(emulator, DOWNLOAD_GET, "GET") == 0


def test_a_cleared_task_keeps_its_task_state_store_and_still_downloads_nothing_again(
    emulator: Any, tmp_path: Path
) -> None:
    # A clear keeps the task instance's task state store: what the first try left there (its requests,
    # single use and spent since) must not be taken up again; the delivery records decide.
    emulator.admin.configure(target_file_delay=0.3)
    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)
    context = run_context()
    run_to_the_end(download_op(tmp_path, uids), context)
    emulator.admin.clear_journal()

    cleared = run_to_the_end(
        download_op(tmp_path, uids), {**context, "ti": RecordingTaskInstance(try_number=2)}
    )

    assert cleared["delivered"] == [] and len(cleared["already_delivered"]) == 3
    assert count(emulator, TARGET_FILE_PUT, "PUT") == 0 and count(emulator, DOWNLOAD_GET, "GET") == 0


def test_a_retry_waits_for_the_requests_its_earlier_try_started(emulator: Any, tmp_path: Path) -> None:
    emulator.admin.configure(target_file_delay=0.5)
    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)
    context = run_context()
    with pytest.raises(TaskDeferred):  # the try ends while waiting (a worker lost, a timeout...)
        download_op(tmp_path, uids).execute(context)
    assert count(emulator, TARGET_FILE_PUT, "PUT") == 3

    retried = run_to_the_end(
        download_op(tmp_path, uids), {**context, "ti": RecordingTaskInstance(try_number=2)}
    )

    assert len(retried["delivered"]) == 3
    assert count(emulator, TARGET_FILE_PUT, "PUT") == 3  # no second request started
    assert count(emulator, DOWNLOAD_GET, "GET") == 3


def test_a_deleted_file_or_a_changed_status_is_delivered_again(emulator: Any, tmp_path: Path) -> None:
    emulator.admin.configure(target_file_delay=0.0)
    de, fr, ja = create_jobs("phrase_tms_default")
    complete_all(emulator, [de, fr, ja])
    first = run_to_the_end(download_op(tmp_path, [de, fr, ja], deferrable=False), run_context())
    (tmp_path / next(i["path"] for i in first["delivered"] if i["uid"] == de)).unlink()
    emulator.admin.script_job(fr, status="DELIVERED", after=0.0)
    emulator.admin.clear_journal()

    again = run_to_the_end(download_op(tmp_path, [de, fr, ja], deferrable=False), run_context())

    assert sorted(item["uid"] for item in again["delivered"]) == sorted([de, fr])
    assert [item["uid"] for item in again["already_delivered"]] == [ja]
    assert count(emulator, DOWNLOAD_GET, "GET") == 2


def test_a_failed_download_leaves_no_half_written_file(
    emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.admin.configure(target_file_delay=0.0)
    uids = create_jobs("phrase_tms_default")[:1]
    complete_all(emulator, uids)
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    real = PhraseTmsHook.download_target_file

    def broken(self: Any, project_uid: str, job_uid: str, request_id: str, write: Any, **kwargs: Any) -> Any:
        def half(chunks: Any) -> None:
            write(iter([b"half of it"]))
            raise OSError("connection dropped mid-file")

        return real(self, project_uid, job_uid, request_id, half, **kwargs)

    monkeypatch.setattr(PhraseTmsHook, "download_target_file", broken)
    with pytest.raises(OSError, match="mid-file"):
        run_to_the_end(download_op(tmp_path, uids, deferrable=False), run_context())

    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_bad_arguments_fail_before_any_call_naming_the_field(emulator: Any, tmp_path: Path) -> None:
    with pytest.raises(AirflowFailException, match="job_uids"):
        run_to_the_end(download_op(tmp_path, []), run_context())
    with pytest.raises(AirflowFailException, match=r"file_pattern.*\{lang\}"):
        run_to_the_end(download_op(tmp_path, ["jobPart1"], file_pattern="{lang}/{path}"), run_context())
    with pytest.raises(AirflowFailException, match="job_uids"):
        run_to_the_end(
            PhraseExportJobsToRepositoryOperator(task_id="export", project_uid=WEBSITE, job_uids=["a b"]),
            run_context(),
        )
    assert calls(emulator) == []


def test_the_file_pattern_placeholders() -> None:
    from airflow_phrase.operators.delivery import DeliveryJob

    job = DeliveryJob(uid="j1", status="COMPLETED", target_lang="fr_fr", filename="install.md",
                      remote_folder="/docs/guides", remote_file="install.md")  # fmt: skip
    assert render_file_name("{target_lang}/{path}", job, "p1") == "fr_fr/docs/guides/install.md"
    assert (
        render_file_name("/{folder}/{stem}.{target_lang}{ext}", job, "p1") == "docs/guides/install.fr_fr.md"
    )
    with pytest.raises(ValueError, match="leaves the base path"):
        render_file_name("../{filename}", job, "p1")


def test_export_runs_once_per_job_state_across_reruns(emulator: Any) -> None:
    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)
    stores = AssetStores()

    def export() -> Any:
        op = PhraseExportJobsToRepositoryOperator(
            task_id="export", project_uid=WEBSITE, job_uids=uids, poll_interval=0.2, deferrable=True
        )
        return run_to_the_end(op, run_context(stores))

    first = export()

    assert sorted(first["job_uids"]) == sorted(uids)
    assert first["target_langs"] == ["de", "fr_fr", "ja"] and first["file_names"] == ["install.md"]
    assert count(emulator, EXPORT_POST, "POST") == 1

    second = export()  # a rerun: the record in the asset state store says they are exported

    assert second["exported"] == [] and sorted(i["uid"] for i in second["already_exported"]) == sorted(uids)
    assert count(emulator, EXPORT_POST, "POST") == 1


STATUS_CHANGES_GET = re.compile(r"^/api2/v1/projects/[^/]+/jobs/[^/]+/statusChanges$")


def complete_again(emulator: Any, uid: str) -> None:
    """Re-open ``uid`` now and complete it again a second later (Phrase's dates are whole seconds: the new
    completion is dated after the listing that delivered it); return once Phrase lists it completed."""
    emulator.admin.script_job(uid, status="NEW", after=0.0)
    emulator.admin.script_job(uid, status="COMPLETED", after=1.0)
    wait_until(lambda: job_status(emulator, uid) == "COMPLETED", timeout=10)


def job_status(emulator: Any, uid: str) -> str:
    return next(job["status"] for job in emulator.admin.snapshot()["jobs"] if job["uid"] == uid)


def test_a_job_completed_again_after_its_delivery_is_delivered_again_once(
    emulator: Any, tmp_path: Path
) -> None:
    emulator.admin.configure(target_file_delay=0.0)
    de, fr, ja = create_jobs("phrase_tms_default")
    complete_all(emulator, [de, fr, ja])
    emulator.admin.clear_journal()
    run_to_the_end(download_op(tmp_path, [de, fr, ja], deferrable=False), run_context())
    assert count(emulator, STATUS_CHANGES_GET, "GET") == 0  # a first delivery costs no extra call
    complete_again(emulator, de)
    emulator.admin.clear_journal()

    again = run_to_the_end(download_op(tmp_path, [de, fr, ja], deferrable=False), run_context())

    assert [item["uid"] for item in again["delivered"]] == [de]
    assert sorted(item["uid"] for item in again["already_delivered"]) == sorted([fr, ja])
    assert count(emulator, DOWNLOAD_GET, "GET") == 1
    assert count(emulator, STATUS_CHANGES_GET, "GET") == 3  # one per job the records show delivered
    record = json.loads((tmp_path / ".phrase-delivery" / WEBSITE / f"{de}.json").read_text())
    assert record["fingerprint"].startswith(f"{de}:COMPLETED:1@")  # the date Phrase gave

    # Unchanged since: nothing is downloaded; the same one look per delivered job.
    emulator.admin.clear_journal()
    third = run_to_the_end(download_op(tmp_path, [de, fr, ja], deferrable=False), run_context())

    assert third["delivered"] == [] and len(third["already_delivered"]) == 3
    assert count(emulator, DOWNLOAD_GET, "GET") == 0 and count(emulator, TARGET_FILE_PUT, "PUT") == 0
    assert count(emulator, STATUS_CHANGES_GET, "GET") == 3


def test_a_record_without_a_date_is_compared_by_state_only(emulator: Any, tmp_path: Path) -> None:
    # Records written before dates were recorded: {"fingerprint": "<uid>:<status>:<level>", ...}.
    emulator.admin.configure(target_file_delay=0.0)
    uids = create_jobs("phrase_tms_default")[:1]
    complete_all(emulator, uids)
    run_to_the_end(download_op(tmp_path, uids, deferrable=False), run_context())
    record_path = tmp_path / ".phrase-delivery" / WEBSITE / f"{uids[0]}.json"
    record = json.loads(record_path.read_text())
    del record["listed_at"]
    record_path.write_text(json.dumps(record))
    complete_again(emulator, uids[0])
    emulator.admin.clear_journal()

    again = run_to_the_end(download_op(tmp_path, uids, deferrable=False), run_context())

    assert again["delivered"] == [] and [i["uid"] for i in again["already_delivered"]] == uids
    assert calls(emulator) == [("GET", f"/api2/v2/projects/{WEBSITE}/jobs")]


def test_an_export_is_repeated_for_a_job_completed_again_and_only_for_it(emulator: Any) -> None:
    de, fr, ja = create_jobs("phrase_tms_default")
    complete_all(emulator, [de, fr, ja])
    stores = AssetStores()

    def export() -> Any:
        op = PhraseExportJobsToRepositoryOperator(
            task_id="export", project_uid=WEBSITE, job_uids=[de, fr, ja], poll_interval=0.2
        )
        return run_to_the_end(op, run_context(stores))

    export()
    complete_again(emulator, ja)
    emulator.admin.clear_journal()

    again = export()

    assert again["job_uids"] == [ja]
    assert sorted(i["uid"] for i in again["already_exported"]) == sorted([de, fr])
    assert count(emulator, EXPORT_POST, "POST") == 1
    exports = sorted(e["jobUid"] for e in emulator.admin.snapshot()["exports"])
    assert exports == sorted([de, fr, ja, ja])  # ja twice, the others once
    assert count(emulator, STATUS_CHANGES_GET, "GET") == 3

    emulator.admin.clear_journal()
    third = export()  # unchanged since

    assert third["exported"] == [] and len(third["already_exported"]) == 3
    assert count(emulator, EXPORT_POST, "POST") == 0
    assert count(emulator, STATUS_CHANGES_GET, "GET") == 3
