"""The provider's whole path against the emulator: download → poll task states → create job → import.

Also paging of task states and jobs, and the prepared-file download (streamed, atomic, exact bytes).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from airflow_phrase.emulator.state import CANCELLED_TASK_ID
from airflow_phrase.hooks.phrase_tms import CONNECTOR_TASKS_PATH, PhraseTmsHook
from airflow_phrase.models import ConnectorTaskStatus, DownloadFileRequest, JobCreateRequest
from tests.hooks.support import (
    DOCS_GIT,
    WEBSITE,
    journal,
    wait_for_async_request,
    wait_for_task,
)

MakeHook = Callable[..., PhraseTmsHook]


def seed_content(path: str) -> str:
    seed = json.loads(
        resources.files("airflow_phrase.emulator").joinpath("seeds/demo.json").read_text("utf-8")
    )
    for connector in seed["connectors"]:
        for entry in connector["files"]:
            if entry["path"] == path:
                return str(entry["content"])
    raise KeyError(path)


def start(hook: PhraseTmsHook, folder: str, file: str) -> tuple[Any, str]:
    remote = hook.resolve_remote_file(DOCS_GIT, folder, file)
    return remote, hook.start_connector_download(DOCS_GIT, remote.encoded_folder, remote.encoded_name).id


def test_full_flow_sync(phrase_emulator: Any, login_conn: str, make_hook: MakeHook, tmp_path: Path) -> None:
    hook = make_hook(login_conn)
    remote = hook.resolve_remote_file(DOCS_GIT, "docs", "getting started.md")
    started = hook.start_connector_download(
        DOCS_GIT, remote.encoded_folder, remote.encoded_name, DownloadFileRequest(source_lang="en")
    )
    assert started.file_name == "getting started.md" and started.action == "API_DOWNLOAD"

    state = wait_for_task(hook, started.id)
    assert state.status is ConnectorTaskStatus.SUCCESS and state.date_processed is not None

    target = hook.download_prepared_file(
        DOCS_GIT,
        remote.encoded_folder,
        remote.encoded_name,
        started.id,
        tmp_path / "out" / "getting started.md",
    )
    assert target.read_text("utf-8") == seed_content("docs/getting started.md")
    assert sorted(p.name for p in target.parent.iterdir()) == ["getting started.md"]  # no partial file left

    created = hook.create_job_from_connector_task(
        WEBSITE, started.id, JobCreateRequest(target_langs=["de", "fr-FR"], path="docs")
    )
    assert sorted(job.target_lang or "" for job in created.jobs) == ["de", "fr_fr"]
    assert created.async_request is not None and created.async_request.action == "IMPORT_JOB"

    finished = wait_for_async_request(hook, created.async_request.id)
    assert finished.is_finished and not finished.is_failed
    for job in created.jobs:
        detail = hook.get_job(WEBSITE, job.uid)
        assert detail.import_status is not None and detail.import_status.status == "OK"
        assert detail.filename == "getting started.md"

    linked = hook.get_connector_task_state(WEBSITE, started.id)
    assert linked is not None and linked.job_uid in {job.uid for job in created.jobs}
    assert hook.get_project(WEBSITE).target_langs == ["de", "fr_fr", "ja"]
    assert hook.project_url(WEBSITE) == f"{phrase_emulator.base_url}/project2/show/{WEBSITE}"
    assert hook.job_url(WEBSITE, "abc") == f"{phrase_emulator.base_url}/job/abc/translate"


async def test_full_flow_async(phrase_emulator: Any, login_conn: str, make_hook: MakeHook) -> None:
    sync_hook = make_hook(login_conn)
    _, task_id = start(sync_hook, "docs/guides", "überblick.md")
    async with make_hook(login_conn) as hook:
        deadline = time.monotonic() + 20
        state = None
        while time.monotonic() < deadline:
            state = await hook.a_get_connector_task_state(WEBSITE, task_id)
            if state is not None and state.status.is_finished:
                break
            await asyncio.sleep(0.05)
        assert state is not None and state.status is ConnectorTaskStatus.SUCCESS

        created = sync_hook.create_job_from_connector_task(
            WEBSITE, task_id, JobCreateRequest(target_langs=["ja"])
        )
        assert created.async_request is not None
        request = await hook.a_get_async_request(created.async_request.id)
        while not request.is_finished and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            request = await hook.a_get_async_request(created.async_request.id)
        assert request.is_finished and not request.is_failed
        job = await hook.a_get_job(WEBSITE, created.jobs[0].uid)
        assert job.import_status is not None and job.import_status.status == "OK"
    assert hook._a_session is None  # closed by "async with"


def test_failed_download_reports_the_error(token_conn: str, make_hook: MakeHook) -> None:
    hook = make_hook(token_conn)
    _, task_id = start(hook, "docs/legacy", "broken.docx")
    state = wait_for_task(hook, task_id)
    assert state.status is ConnectorTaskStatus.CONVERTER_ERROR
    assert state.error_message and "broken.docx" in state.error_message


def test_failed_import_is_visible_on_the_async_request(token_conn: str, make_hook: MakeHook) -> None:
    hook = make_hook(token_conn)
    _, task_id = start(hook, "docs/guides", "bad-import.md")
    assert wait_for_task(hook, task_id).status is ConnectorTaskStatus.SUCCESS
    created = hook.create_job_from_connector_task(WEBSITE, task_id, JobCreateRequest(target_langs=["de"]))
    assert created.async_request is not None
    request = wait_for_async_request(hook, created.async_request.id)
    assert request.is_failed and request.async_response is not None
    assert request.async_response.error_code == "JobImportFailed"


def test_unknown_task_is_none_and_the_window_is_sent(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    since = datetime.now(timezone.utc) - timedelta(hours=30)
    assert make_hook(token_conn).get_connector_task_state(WEBSITE, "999999", created_after=since) is None
    [entry] = journal(phrase_emulator, CONNECTOR_TASKS_PATH)
    sent = datetime.fromisoformat(str(entry.param("dateCreatedFrom")).replace("Z", "+00:00"))
    assert abs((sent - since).total_seconds()) < 0.001  # a 30 h window, wider than Phrase's default 24 h


class TestPaging:
    def test_task_states_all_pages(self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
        hook = make_hook(token_conn)
        files = ["install.md", "überblick.md", "bad-import.md"]
        ids = {start(hook, "docs/guides", name)[1] for name in files}
        ids |= {start(hook, "docs", "getting started.md")[1], start(hook, "docs/api", "reference.json")[1]}
        phrase_emulator.admin.clear_journal()

        listed = [state.id for state in hook.iter_connector_task_states(WEBSITE, page_size=2)]
        # The live-quirks mode adds a task cancelled earlier (status CANCELLED, outside the spec).
        assert (CANCELLED_TASK_ID in listed) is phrase_emulator.state.live_quirks
        seen = [task_id for task_id in listed if task_id != CANCELLED_TASK_ID]
        assert sorted(seen) == sorted(ids)
        pages = [e.param("pageNumber") for e in journal(phrase_emulator, CONNECTOR_TASKS_PATH)]
        assert pages == ["0", "1", "2"]
        [query] = {
            json.dumps(e.query["taskType"] + e.query["taskProcessingType"]) for e in journal(phrase_emulator)
        }
        assert json.loads(query) == ["DOWNLOAD", "API"]

    async def test_task_states_all_pages_async(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        ids = {
            start(hook, "docs/guides", name)[1] for name in ("install.md", "überblick.md", "bad-import.md")
        }
        phrase_emulator.admin.clear_journal()
        async with make_hook(token_conn) as async_hook:
            listed = [s.id async for s in async_hook.a_iter_connector_task_states(WEBSITE, page_size=2)]
        seen = [task_id for task_id in listed if task_id != CANCELLED_TASK_ID]
        assert sorted(seen) == sorted(ids)
        assert len(journal(phrase_emulator, CONNECTOR_TASKS_PATH)) == 2

    def test_jobs_all_pages_and_filters(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        langs = ["de", "fr_fr", "ja"]
        for folder, name in (("docs/guides", "install.md"), ("docs", "getting started.md")):
            _, task_id = start(hook, folder, name)
            wait_for_task(hook, task_id)
            hook.create_job_from_connector_task(WEBSITE, task_id, JobCreateRequest(target_langs=langs))
        phrase_emulator.admin.clear_journal()

        jobs = list(hook.iter_jobs(WEBSITE, page_size=4))
        assert len(jobs) == 6 and len({job.uid for job in jobs}) == 6
        assert [e.param("pageNumber") for e in journal(phrase_emulator)] == ["0", "1"]

        german = list(hook.iter_jobs(WEBSITE, filename="install.md", target_lang="de"))
        assert [(job.filename, job.target_lang) for job in german] == [("install.md", "de")]


class TestPreparedFileDownload:
    def test_retried_after_a_dropped_response_and_written_once(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, tmp_path: Path
    ) -> None:
        hook = make_hook(token_conn)
        remote, task_id = start(hook, "docs/guides", "überblick.md")
        wait_for_task(hook, task_id)
        phrase_emulator.admin.set_faults(
            [{"method": "GET", "path": r".*/tasks/.*", "sequence": [{"drop": True, "afterHandler": True}]}]
        )
        target = hook.download_prepared_file(
            DOCS_GIT, remote.encoded_folder, remote.encoded_name, task_id, str(tmp_path / "überblick.md")
        )
        assert target.read_bytes() == seed_content("docs/guides/überblick.md").encode("utf-8")
        assert [p.name for p in tmp_path.iterdir()] == ["überblick.md"]
        assert [e.status for e in journal(phrase_emulator) if e.path.endswith(f"/tasks/{task_id}")] == [
            None,
            200,
        ]

    def test_error_leaves_no_file(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, tmp_path: Path
    ) -> None:
        from airflow_phrase.exceptions import PhraseApiError

        hook = make_hook(token_conn)
        remote = hook.resolve_remote_file(DOCS_GIT, "docs/guides", "install.md")
        try:
            hook.download_prepared_file(
                DOCS_GIT, remote.encoded_folder, remote.encoded_name, "424242", tmp_path / "x.md"
            )
        except PhraseApiError as error:
            assert 400 <= error.status < 500 and error.attempts == 1
        else:
            raise AssertionError("downloading an unknown task must fail")
        assert list(tmp_path.iterdir()) == []


def test_single_filter_values_and_enums(phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
    from airflow_phrase.models import ConnectorTaskProcessingType, ConnectorTaskType

    hook = make_hook(token_conn)
    list(hook.iter_connector_task_states(WEBSITE, task_types="DOWNLOAD", processing_types="API"))
    list(
        hook.iter_connector_task_states(
            WEBSITE,
            task_types=[ConnectorTaskType.DOWNLOAD, ConnectorTaskType.UPLOAD],
            processing_types=[ConnectorTaskProcessingType.API],
        )
    )
    first, second = journal(phrase_emulator, CONNECTOR_TASKS_PATH)
    assert first.query["taskType"] == ["DOWNLOAD"] and first.query["taskProcessingType"] == ["API"]
    assert second.query["taskType"] == ["DOWNLOAD", "UPLOAD"]
