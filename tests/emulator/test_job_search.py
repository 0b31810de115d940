"""The emulator's job search (``POST /api2/v1/projects/{projectUid}/jobs/search``, assumption 22): the
project's jobs among the uids, statuses on the clock, 1 to 50 uids."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_phrase.emulator import EmulatorConfig
from airflow_phrase.emulator.state import EmulatorState, ManualClock
from tests.emulator.conftest import PhraseApi
from tests.emulator.test_state import REVIEW, USER, WEBSITE, download, expect_error, jobs_request


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state(clock: ManualClock) -> EmulatorState:
    return EmulatorState(config=EmulatorConfig(task_delay=2.0, import_delay=1.0), clock=clock)


def created(state: EmulatorState, clock: ManualClock, project_uid: str, *langs: str) -> list[str]:
    task_id = download(state, "docs/guides/install.md")
    clock.advance(2.0)
    jobs = state.create_jobs(project_uid, task_id, jobs_request(*langs), user_uid=USER).jobs
    return [job.uid for job in jobs]


def test_search_answers_the_projects_jobs_among_the_uids_with_their_status_now(
    state: EmulatorState, clock: ManualClock
) -> None:
    de, fr = created(state, clock, WEBSITE, "de", "fr_fr")
    elsewhere = created(state, clock, REVIEW, "de")[0]  # a project with workflow steps: a job a level
    state.script_job(fr, status="COMPLETED", after=5.0)

    def search() -> dict[str, str]:
        found = state.search_jobs(WEBSITE, [fr, "jobUnknown0000000001", elsewhere, de, fr])
        return {job.uid: job.status for job in found}

    assert search() == {fr: "NEW", de: "NEW"}  # unknown and other project's jobs left out; fr once
    assert list(search()) == [fr, de]  # the request's order
    clock.advance(5.0)
    assert search() == {fr: "COMPLETED", de: "NEW"}


def test_search_takes_one_to_fifty_uids_of_a_known_project(state: EmulatorState, clock: ManualClock) -> None:
    with expect_error(400, "InvalidArguments", "1 to 50 jobs, not 51"):
        state.search_jobs(WEBSITE, [f"job{n}" for n in range(51)])
    with expect_error(400, "InvalidArguments", "not 0"):
        state.search_jobs(WEBSITE, [])
    with expect_error(404, "NotFound"):
        state.search_jobs("prjNope", ["job1"])


def test_search_over_http_refuses_bad_bodies_with_phrases_error_body(emu: Any) -> None:
    api = PhraseApi(emu)
    path = f"/api2/v1/projects/{WEBSITE}/jobs/search"
    for body in ({"jobs": []}, {"jobs": [{"uid": f"job{n}"} for n in range(51)]}, {}):
        error = api.ok("POST", path, status=400, json=body)
        assert error["errorCode"] == "InvalidArguments" and "jobs" in error["errorDescription"]
    assert api.ok("POST", path, json={"jobs": [{"uid": "jobUnknown0000000001"}]}) == {"jobs": []}
    assert api.ok("POST", "/api2/v1/projects/prjNope/jobs/search", status=404, json={"jobs": []})
