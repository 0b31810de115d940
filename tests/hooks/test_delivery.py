"""The hook's delivery verbs against the emulator over HTTP (issue 11): job statuses, export to the
repository, the single-use target-file pair; argument checks before any call; the retry table's rows for
the new requests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseResponseLostError,
    PhraseTargetFileRequestGoneError,
)
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import JobCreateRequest, JobStatus
from tests.helpers import poll_until
from tests.hooks.support import DOCS_GIT, WEBSITE, journal, wait_for_async_request, wait_for_task

MakeHook = Callable[..., PhraseTmsHook]
EXPORT_PATH = f"/api2/v3/projects/{WEBSITE}/jobs/export"


def imported_jobs(hook: PhraseTmsHook, folder: str, file: str, *langs: str) -> list[str]:
    """Jobs of a seed file (one per language), created and imported."""
    remote = hook.resolve_remote_file(DOCS_GIT, folder, file)
    task_id = hook.start_connector_download(DOCS_GIT, remote.encoded_folder, remote.encoded_name).id
    wait_for_task(hook, task_id)
    created = hook.create_job_from_connector_task(
        WEBSITE, task_id, JobCreateRequest(target_langs=list(langs))
    )
    assert created.async_request is not None
    wait_for_async_request(hook, created.async_request.id)
    return [job.uid for job in created.jobs]


def sink() -> tuple[io.BytesIO, Callable[[Iterator[bytes]], None]]:
    buffer = io.BytesIO()

    def write(chunks: Iterator[bytes]) -> None:
        for chunk in chunks:
            buffer.write(chunk)

    return buffer, write


@pytest.mark.parametrize(
    ("job_uids", "problem"),
    [
        ([], "is empty"),
        (["jobA"] * 2, "more than once"),
        ([f"job{i}" for i in range(1001)], "at most 1000"),
        (["ok1", "../etc"], "job_uids[1]"),
        (["None"], "renders from an XCom"),
        ("jobA", "not a single string"),
    ],
)
def test_export_refuses_bad_job_uids_before_any_call(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook, job_uids: Any, problem: str
) -> None:
    with pytest.raises(ValueError, match="job_uids") as caught:
        make_hook(token_conn).export_jobs_to_repository(WEBSITE, job_uids)
    assert problem in str(caught.value)
    assert journal(phrase_emulator) == []


def test_other_verbs_refuse_bad_arguments_before_any_call(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(token_conn)
    with pytest.raises(ValueError, match="async_request_id"):
        hook.download_target_file(WEBSITE, "jobA", "12ab", lambda chunks: None)
    with pytest.raises(ValueError, match="status: 'DONE'"):
        hook.set_job_status(WEBSITE, "jobA", "DONE")
    with pytest.raises(ValueError, match="job_uid"):
        hook.start_target_file_download(WEBSITE, "a/b")
    with pytest.raises(ValueError, match="project_uid"):
        hook.export_jobs_to_repository("", ["jobA"])
    assert journal(phrase_emulator) == []


def test_status_set_listed_and_its_history(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(token_conn)
    de, ja = imported_jobs(hook, "docs/guides", "install.md", "de", "ja")
    hook.set_job_status(WEBSITE, de, JobStatus.COMPLETED)
    hook.set_job_status(WEBSITE, ja, "cancelled")
    completed = list(hook.iter_jobs(WEBSITE, statuses=[JobStatus.COMPLETED, "DELIVERED"]))
    assert [(job.uid, job.status) for job in completed] == [(de, "COMPLETED")]
    ended = list(hook.iter_jobs(WEBSITE, statuses=["CANCELLED", "DECLINED", "REJECTED"]))
    assert [job.uid for job in ended] == [ja]
    changes = hook.get_job_status_changes(WEBSITE, de)
    assert [c.status for c in changes.status_changes] == ["NEW", "COMPLETED"]
    assert changes.latest is not None and changes.latest.status == "COMPLETED"
    assert changes.latest.changed_date is not None


@pytest.mark.parametrize("phrase_emulator", [{"job_completion_delay": 0.3}], indirect=True)
async def test_jobs_complete_on_the_emulator_clock_seen_by_the_async_listing(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    sync_hook = make_hook(token_conn)
    de, ja = imported_jobs(sync_hook, "docs/guides", "install.md", "de", "ja")
    phrase_emulator.admin.script_job(ja, status=None)  # this one is never finished

    async def completed() -> list[str]:
        async with make_hook(token_conn) as hook:
            return [job.uid async for job in hook.a_iter_jobs(WEBSITE, statuses=["COMPLETED"])]

    import asyncio
    import time

    deadline = time.monotonic() + 20
    found = await completed()
    while found != [de] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        found = await completed()
    assert found == [de]
    assert [job.status for job in sync_hook.iter_jobs(WEBSITE) if job.uid == ja] == ["NEW"]


def test_export_reaches_the_connector_tree(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(token_conn)
    de, ja = imported_jobs(hook, "docs/guides", "install.md", "de", "ja")
    exported = hook.export_jobs_to_repository(WEBSITE, [de, ja])
    assert exported.job_uids == [de, ja] and exported.async_request_id is None  # the spec's answer

    def delivered() -> dict[str, str]:
        reader = make_hook(token_conn)  # a fresh hook: listings are cached per hook
        found = {}
        for lang in ("de", "ja"):
            try:
                listing = reader.browse_path(DOCS_GIT, f"docs/guides/{lang}")
            except Exception:
                continue
            found[lang] = [f.name for f in listing.files]
        return found

    assert poll_until(delivered, lambda d: len(d) == 2, what="exported files") == {
        "de": ["install.md"],
        "ja": ["install.md"],
    }
    assert [e.status for e in journal(phrase_emulator, EXPORT_PATH, "POST")] == [200]


def test_target_file_pair_streams_once_then_is_gone(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(token_conn)
    (job,) = imported_jobs(hook, "docs/api", "reference.json", "ja")
    async_request_id = hook.start_target_file_download(WEBSITE, job)
    assert isinstance(async_request_id, str) and async_request_id.isdigit()  # a number in live quirks too
    wait_for_async_request(hook, async_request_id)
    buffer, write = sink()
    target = hook.download_target_file(WEBSITE, job, async_request_id, write)
    assert target.file_name == "reference.json" and target.content_type == "application/octet-stream"
    assert target.size == len(buffer.getvalue()) > 0
    assert json.loads(buffer.getvalue())["title"] == "[ja] Acme Widgets API"

    with pytest.raises(PhraseTargetFileRequestGoneError) as gone:
        hook.download_target_file(WEBSITE, job, async_request_id, sink()[1])
    assert gone.value.status == 410 and gone.value.rejected and gone.value.attempts == 1
    assert "start a new target-file request" in str(gone.value)
    fresh = hook.start_target_file_download(WEBSITE, job)
    assert fresh != async_request_id


class TestRetryTable:
    def test_export_is_retried_after_a_transient_failure_only(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        (job,) = imported_jobs(hook, "docs/guides", "install.md", "de")
        phrase_emulator.admin.set_faults(
            [{"method": "POST", "path": ".*/jobs/export", "sequence": [{"status": 503}]}]
        )
        assert hook.export_jobs_to_repository(WEBSITE, [job]).job_uids == [job]
        assert [e.status for e in journal(phrase_emulator, EXPORT_PATH, "POST")] == [503, 200]

        phrase_emulator.admin.clear_journal()
        phrase_emulator.admin.set_faults(
            [
                {
                    "method": "POST",
                    "path": ".*/jobs/export",
                    "sequence": [{"status": 500, "afterHandler": True}],
                }
            ]
        )
        with pytest.raises(PhraseApiError) as caught:
            hook.export_jobs_to_repository(WEBSITE, [job])
        assert caught.value.ambiguous and caught.value.attempts == 1
        assert [e.status for e in journal(phrase_emulator, EXPORT_PATH, "POST")] == [500]

    def test_a_lost_download_is_not_repeated_and_the_id_is_then_spent(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        (job,) = imported_jobs(hook, "docs/guides", "install.md", "de")
        phrase_emulator.admin.set_faults(
            [{"method": "PUT", "path": ".*/targetFile", "sequence": [{"status": 502}]}]
        )
        async_request_id = hook.start_target_file_download(WEBSITE, job)  # ambiguous PUT: retried
        wait_for_async_request(hook, async_request_id)
        phrase_emulator.admin.set_faults(
            [
                {
                    "method": "GET",
                    "path": ".*/downloadTargetFile/.*",
                    "sequence": [{"drop": True, "afterHandler": True}],
                }
            ]
        )
        with pytest.raises(PhraseResponseLostError):
            hook.download_target_file(WEBSITE, job, async_request_id, sink()[1])
        downloads = [e for e in journal(phrase_emulator) if "/downloadTargetFile/" in e.path]
        assert [e.status for e in downloads] == [None]
        with pytest.raises(PhraseTargetFileRequestGoneError):
            hook.download_target_file(WEBSITE, job, async_request_id, sink()[1])
