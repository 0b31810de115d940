"""The hook's job search (``POST /api2/v1/projects/{p}/jobs/search``) against the emulator over HTTP:
chunks of 50, unknown uids left out, arguments checked before any call, retried like a read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from tests.hooks.support import WEBSITE, journal
from tests.triggers.jobs_support import clone_jobs, create_jobs

MakeHook = Callable[..., PhraseTmsHook]
SEARCH_PATH = f"/api2/v1/projects/{WEBSITE}/jobs/search"


def test_search_finds_the_known_jobs_fifty_uids_a_call(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    de, fr, _ = create_jobs(token_conn)
    phrase_emulator.admin.script_job(fr, status="CANCELLED")
    uids = [de, fr, *clone_jobs(phrase_emulator, de, 100), "jobUnknown0000000001"]
    phrase_emulator.admin.clear_journal()

    found = make_hook(token_conn).search_jobs(WEBSITE, uids)

    assert [job.uid for job in found] == uids[:-1]  # the unknown uid is left out
    assert {job.uid: job.status for job in found[:2]} == {de: "NEW", fr: "CANCELLED"}
    assert found[0].target_lang == "de" and found[0].workflow_level == 1 and found[0].filename
    assert [e.status for e in journal(phrase_emulator, SEARCH_PATH, "POST")] == [200, 200, 200]  # 103 uids


def test_async_search_counts_each_call(phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
    de, _, ja = create_jobs(token_conn)
    calls: list[None] = []

    async def search() -> list[Any]:
        async with make_hook(token_conn) as hook:
            return await hook.a_search_jobs(WEBSITE, [ja, de], on_page=lambda: calls.append(None))

    found = asyncio.run(search())

    assert [job.uid for job in found] == [ja, de]
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("job_uids", "problem"),
    [
        ([], "is empty"),
        (["jobA"] * 2, "more than once"),
        (["ok1", "../etc"], "job_uids[1]"),
        ("jobA", "not a single string"),
    ],
)
def test_search_refuses_bad_job_uids_before_any_call(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook, job_uids: Any, problem: str
) -> None:
    phrase_emulator.admin.clear_journal()
    with pytest.raises(ValueError, match="job_uids") as caught:
        make_hook(token_conn).search_jobs(WEBSITE, job_uids)
    assert problem in str(caught.value)
    with pytest.raises(ValueError, match="project_uid"):
        make_hook(token_conn).search_jobs("prj/../x", ["jobA"])
    assert journal(phrase_emulator) == []


def test_search_is_retried_like_a_read(phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
    de, _, _ = create_jobs(token_conn)
    phrase_emulator.admin.clear_journal()
    phrase_emulator.admin.set_faults(
        [{"method": "POST", "path": ".*/jobs/search", "sequence": [{"status": 500, "afterHandler": True}]}]
    )

    found = make_hook(token_conn).search_jobs(WEBSITE, [de])

    assert [job.uid for job in found] == [de]
    assert [e.status for e in journal(phrase_emulator, SEARCH_PATH, "POST")] == [500, 200]
