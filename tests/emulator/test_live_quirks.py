"""The live-quirks mode: the same organisation and lifecycles, in the off-spec shapes Phrase is known to
send (``emulator/quirks.py``, model assumption 18)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airflow_phrase.emulator import EmulatorConfig, EmulatorHandle, quirks, running_emulator
from airflow_phrase.emulator.__main__ import parse_args
from airflow_phrase.emulator.seed import DEMO_SEED_PATH, Seed, load_seed
from airflow_phrase.emulator.state import CANCELLED_TASK_ID, EmulatorState, ManualClock, TaskQuery
from airflow_phrase.models import (
    AsyncRequest,
    ConnectorTaskStatesPage,
    FolderListing,
    JobList,
    JobPartsPage,
    LoginResponse,
    UnknownValue,
)
from tests.emulator.conftest import REVIEW, TASK_DELAY, WEBSITE, PhraseApi

MOMENT = datetime(2026, 8, 5, 6, 3, 1, tzinfo=timezone.utc)


def test_apply_rewrites_timestamps_ids_nulls_and_references() -> None:
    spec = {
        "id": "310001",
        "uid": "0042",  # a leading zero is not a number
        "innerId": "1/3",
        "lastModified": "2026-08-05T06:03:01Z",
        "dateCreated": "2026-08-05T06:03:01Z",
        "dateProcessed": "2026-08-05T06:03:01Z",
        "dateDue": "2026-08-05T06:03:01Z",
        "expires": "2026-08-05T06:03:01Z",
        "updateSourceDate": "2026-08-05T06:03:01Z",
        "errorMessage": None,
        "createdBy": {"id": "1001", "uid": "u1", "userName": "demo", "email": None},
        "project": {"uid": "p1", "name": "Website"},
        "workflowStep": {"id": "7001", "name": "Translation", "order": 1, "workflowLevel": 1},
        "user": {"id": "1001", "userName": "demo"},
        "jobPartIds": ["11", "12"],
        "content": [{"serverTaskId": "310001", "name": "x"}],
    }
    assert quirks.apply(spec) == {
        "id": 310001,
        "uid": "0042",
        "innerId": "1/3",
        "lastModified": {"epochSecond": 1785909781, "nano": 0},
        "dateCreated": "2026-08-05T06:03:01+0000",
        "dateProcessed": 1785909781000,
        "dateDue": 1785909781.0,
        "expires": "2026-08-05T06:03:01",
        "updateSourceDate": "2026-08-05T06:03:01+0000",
        "createdBy": {"id": 1001, "uid": "u1"},
        "project": {"uid": "p1"},
        "workflowStep": {"id": 7001},
        "user": {"id": 1001, "userName": "demo"},
        "jobPartIds": [11, 12],
        "content": [{"serverTaskId": 310001, "name": "x"}],
    }
    assert quirks.instant(MOMENT.replace(microsecond=785484)) == {
        "epochSecond": 1785909781,
        "nano": 785484000,
    }


def test_the_mode_is_on_from_the_config_the_seed_or_the_cli() -> None:
    assert not EmulatorState().live_quirks
    assert EmulatorState(config=EmulatorConfig(live_quirks=True)).live_quirks
    seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    assert EmulatorState(Seed.model_validate({**seed, "liveQuirks": True})).live_quirks
    assert parse_args(["--live-quirks"]).live_quirks and not parse_args([]).live_quirks


def test_a_cancelled_task_exists_only_in_the_live_quirks_mode() -> None:
    clock = ManualClock(MOMENT)
    spec = EmulatorState(load_seed(), clock=clock)
    live = EmulatorState(load_seed(), config=EmulatorConfig(live_quirks=True), clock=clock)
    assert spec.list_connector_tasks(TaskQuery(WEBSITE)).page.items == []
    for project in (WEBSITE, REVIEW):  # an unused task: listed under every project
        (cancelled,) = live.list_connector_tasks(TaskQuery(project)).page.items
        assert (cancelled.id, cancelled.status_at(clock.now())) == (CANCELLED_TASK_ID, "CANCELLED")
        assert cancelled.job_uid is None and cancelled.date_processed_at(clock.now()) is not None
    # It was there before the reset: not among what the admin snapshot lists as created since.
    assert live.snapshot()["downloadTasks"] == []


def _flow(emulator: EmulatorHandle, clock: ManualClock) -> dict[str, Any]:
    """The provider's main calls, parsed with the provider's models."""
    api = PhraseApi(emulator)
    login = api.ok("POST", "/api2/v3/auth/login", json={"userName": "demo", "password": "demo-password"})
    folder, _ = api.find("docs/guides/install.md")
    listing = api.folder("1001", folder)
    task_id = api.start_download("docs/guides/install.md")
    clock.advance(TASK_DELAY)
    tasks = api.tasks(pageSize=1000)
    created = api.ok(
        "POST",
        f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask",
        status=201,
        params={"downloadTaskId": str(task_id)},
        json={"targetLangs": ["de"]},
    )
    return {
        "raw_listing": listing,
        "raw_tasks": tasks,
        "task_id": str(task_id),
        "login": LoginResponse.model_validate(login),
        "listing": FolderListing.model_validate(listing),
        "tasks": ConnectorTaskStatesPage.model_validate(tasks),
        "created": JobList.model_validate(created),
        "async": AsyncRequest.model_validate(
            api.ok("GET", f"/api2/v1/async/{created['asyncRequest']['id']}")
        ),
        "jobs": JobPartsPage.model_validate(api.ok("GET", f"/api2/v2/projects/{WEBSITE}/jobs")),
    }


def test_over_http_the_provider_models_read_the_same_values_in_both_modes() -> None:
    start = datetime.now(timezone.utc).replace(microsecond=0)
    results = []
    for live_quirks in (False, True):
        clock = ManualClock(start)
        config = EmulatorConfig(task_delay=TASK_DELAY, live_quirks=live_quirks)
        with running_emulator(config, clock=clock) as emulator:
            results.append(_flow(emulator, clock))
    spec, live = results
    # What goes over the wire differs...
    entry = next(f for f in live["raw_listing"]["files"] if f["name"] == "install.md")
    assert set(entry["lastModified"]) == {"epochSecond", "nano"}
    assert isinstance(live["raw_tasks"]["content"][-1]["id"], int)
    # ...what the provider reads does not.
    assert live["task_id"] == spec["task_id"]
    assert live["login"].expires == spec["login"].expires
    assert live["listing"].files == spec["listing"].files
    mine = [t for t in live["tasks"].content if t.id != CANCELLED_TASK_ID]
    assert [(t.id, t.status, t.date_created, t.date_processed) for t in mine] == [
        (t.id, t.status, t.date_created, t.date_processed) for t in spec["tasks"].content
    ]
    assert [(j.uid, j.date_created, j.workflow_level) for j in live["created"].jobs] == [
        (j.uid, j.date_created, j.workflow_level) for j in spec["created"].jobs
    ]
    assert live["async"].date_created == spec["async"].date_created
    assert live["async"].project is not None and live["async"].project.name is None  # reference trimmed
    assert [(j.uid, j.server_task_id, j.date_created) for j in live["jobs"].content] == [
        (j.uid, j.server_task_id, j.date_created) for j in spec["jobs"].content
    ]
    # The cancelled task: processed, status outside the spec, a failure of its own.
    (cancelled,) = [t for t in live["tasks"].content if t.id == CANCELLED_TASK_ID]
    assert cancelled.status == UnknownValue("CANCELLED") and cancelled.has_unknown_status
    assert cancelled.is_finished and cancelled.is_failure and cancelled.date_processed is not None
