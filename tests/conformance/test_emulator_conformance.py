"""The emulator against the independent oracle, over real HTTP, in both modes.

Drives every endpoint the provider and the example DAGs call (see ``ENDPOINTS`` and docs/emulator.md),
success and error answers, and checks each JSON body with :func:`tests.conformance.oracle.check` against
the schema of ``phrasetms-client`` (or the current-spec correction) for that endpoint. In the spec mode
nothing may deviate; in the live-quirks mode only the catalogued live quirks may, and every one of them
must show up somewhere (else the mode would not test what it claims to).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from phrasetms_client.models.abstract_project_dto import AbstractProjectDto
from phrasetms_client.models.async_file_op_response_dto import AsyncFileOpResponseDto
from phrasetms_client.models.async_request_wrapper_v2_dto import AsyncRequestWrapperV2Dto
from phrasetms_client.models.job_export_response_dto import JobExportResponseDto
from phrasetms_client.models.job_part_status_changes_dto import JobPartStatusChangesDto
from phrasetms_client.models.login_response_v3_dto import LoginResponseV3Dto
from phrasetms_client.models.login_user_dto import LoginUserDto
from phrasetms_client.models.page_dto_abstract_project_dto import PageDtoAbstractProjectDto
from phrasetms_client.models.search_jobs_dto import SearchJobsDto
from pydantic import BaseModel

from airflow_phrase.emulator import EmulatorConfig, EmulatorHandle, running_emulator
from airflow_phrase.emulator.state import ManualClock
from tests.conformance import current_spec as current
from tests.conformance.oracle import LIVE_QUIRKS, Report, check

API_TOKEN = "demo-api-token-0123456789"
WEBSITE = "prjWebsite000000000001"
REVIEW = "prjDocsReview00000001"
TASK_DELAY = 5.0
IMPORT_DELAY = 3.0
EXPORT_DELAY = 2.0
TARGET_FILE_DELAY = 2.0

#: Every endpoint the provider (hook) and the example DAGs call, with the schema its answer is checked
#: against (documented in docs/emulator.md; keep the two in step).
ENDPOINTS: dict[str, type[BaseModel]] = {
    "POST /api2/v3/auth/login": LoginResponseV3Dto,
    "GET /api2/v1/auth/whoAmI": LoginUserDto,
    "GET /api2/v1/connectors": current.ConnectorListDtoCurrent,
    "GET /api2/v1/connectors/{connectorId}": current.ConnectorDtoCurrent,
    "GET /api2/v1/connectors/{connectorId}/folders": current.FileListDtoCurrent,
    "GET /api2/v1/connectors/{connectorId}/folders/{folder}": current.FileListDtoCurrent,
    "POST /api2/v2/connectors/{connectorId}/folders/{folder}/files/{file}": AsyncFileOpResponseDto,
    "GET /api2/v1/connectorAsyncTasks": current.ConnectorAsyncTaskStatesDto,
    "POST /api2/v1/projects/{projectUid}/jobs/connectorTask": current.JobListDtoCurrent,
    "GET /api2/v1/async/{asyncRequestId}": current.AsyncRequestDtoCurrent,
    "GET /api2/v1/projects/{projectUid}/jobs/{jobUid}": current.JobPartExtendedDtoCurrent,
    "GET /api2/v2/projects/{projectUid}/jobs": current.PageDtoJobPartReferenceV2Current,
    "GET /api2/v1/projects/{projectUid}": AbstractProjectDto,
    "GET /api2/v1/projects": PageDtoAbstractProjectDto,
    "GET /api2/v1/projects/{projectUid}/jobs/{jobUid}/statusChanges": JobPartStatusChangesDto,
    "POST /api2/v3/projects/{projectUid}/jobs/export": JobExportResponseDto,
    "POST /api2/v1/projects/{projectUid}/jobs/search": SearchJobsDto,
    "PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile": AsyncRequestWrapperV2Dto,
    "error answers (4xx, 5xx)": current.ErrorBody,
}
#: Answers that are not JSON.
BINARY_ENDPOINTS = (
    "GET /api2/v2/connectors/{connectorId}/folders/{folder}/files/{file}/tasks/{taskId}",
    "GET /api2/v2/projects/{projectUid}/jobs/{jobUid}/downloadTargetFile/{asyncRequestId}",
)
#: Answers without a body (204).
NO_BODY_ENDPOINTS = ("POST /api2/v1/projects/{projectUid}/jobs/{jobUid}/setStatus",)


class Session:
    """Calls the emulator and checks every JSON answer against the oracle, keeping the reports."""

    def __init__(self, emulator: EmulatorHandle, clock: ManualClock, live_quirks: bool) -> None:
        self.emulator = emulator
        self.clock = clock
        self.live_quirks = live_quirks
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"ApiToken {API_TOKEN}"
        self.reports: list[tuple[str, int, Report]] = []
        self.covered: set[str] = set()

    def call(self, endpoint: str, path: str, *, status: int = 200, auth: bool = True, **kwargs: Any) -> Any:
        method = endpoint.split(" ", 1)[0]
        headers = {**kwargs.pop("headers", {}), **({} if auth else {"Authorization": ""})}
        response = self.http.request(method, self.emulator.url(path), timeout=10, headers=headers, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        schema = ENDPOINTS[endpoint] if status < 400 else ENDPOINTS["error answers (4xx, 5xx)"]
        self.covered.add(endpoint if status < 400 else "error answers (4xx, 5xx)")
        body = response.json()
        self.reports.append(
            (f"{method} {path} → {status}", status, check(schema, body, live_quirks=self.live_quirks))
        )
        return body

    def encoded(self, connector_id: str, path: str) -> tuple[str, str]:
        """``(encodedFolder, encodedName)`` of a file, browsing as a client would."""
        listing = self.call(
            "GET /api2/v1/connectors/{connectorId}/folders", f"/api2/v1/connectors/{connector_id}/folders"
        )
        *folders, name = path.split("/")
        for folder in folders:
            entry = next(f for f in listing["files"] if f["name"] == folder and f["directory"])
            listing = self.call(
                "GET /api2/v1/connectors/{connectorId}/folders/{folder}",
                f"/api2/v1/connectors/{connector_id}/folders/{entry['encodedName']}",
            )
        entry = next(f for f in listing["files"] if f["name"] == name and not f["directory"])
        return listing["encodedCurrentFolder"], entry["encodedName"]

    def download(self, path: str, connector_id: str = "1001") -> tuple[str, str, str]:
        folder, file = self.encoded(connector_id, path)
        started = self.call(
            "POST /api2/v2/connectors/{connectorId}/folders/{folder}/files/{file}",
            f"/api2/v2/connectors/{connector_id}/folders/{folder}/files/{file}",
            json={"targetLang": "de"},
        )
        return str(started["id"]), folder, file


@pytest.fixture(scope="module", params=[False, True], ids=["spec", "live_quirks"])
def _server(request: pytest.FixtureRequest) -> Iterator[tuple[EmulatorHandle, ManualClock, EmulatorConfig]]:
    clock = ManualClock(datetime.now(timezone.utc))
    config = EmulatorConfig(
        task_delay=TASK_DELAY,
        import_delay=IMPORT_DELAY,
        export_delay=EXPORT_DELAY,
        target_file_delay=TARGET_FILE_DELAY,
        live_quirks=request.param,
    )
    with running_emulator(config, clock=clock) as emulator:
        yield emulator, clock, config


@pytest.fixture
def session(_server: tuple[EmulatorHandle, ManualClock, EmulatorConfig]) -> Session:
    emulator, clock, config = _server
    emulator.state.replace_config(config)
    emulator.reset()
    return Session(emulator, clock, config.live_quirks)


def assert_conforms(session: Session) -> None:
    failures = [f"{call}: {report}" for call, _, report in session.reports if not report.ok]
    assert not failures, "\n".join(failures)


def test_every_answer_of_the_provider_flow_conforms(session: Session) -> None:
    s = session
    login = s.call(
        "POST /api2/v3/auth/login",
        "/api2/v3/auth/login",
        auth=False,
        json={"userName": "demo", "password": "demo-password"},
    )
    s.http.headers["Authorization"] = f"ApiToken {login['token']}"
    s.call("GET /api2/v1/auth/whoAmI", "/api2/v1/auth/whoAmI")
    s.call("GET /api2/v1/connectors", "/api2/v1/connectors")
    s.call("GET /api2/v1/connectors", "/api2/v1/connectors", params={"type": "GOOGLE_DRIVE2"})
    s.call("GET /api2/v1/connectors/{connectorId}", "/api2/v1/connectors/1002")

    # The download, its task states while it runs and after, the prepared file.
    task_id, folder, file = s.download("docs/guides/install.md")
    failing_id, _, _ = s.download("docs/legacy/broken.docx")
    tasks = "GET /api2/v1/connectorAsyncTasks"
    s.call(tasks, "/api2/v1/connectorAsyncTasks", params={"projectUid": WEBSITE})
    s.clock.advance(TASK_DELAY)
    page = s.call(
        tasks,
        "/api2/v1/connectorAsyncTasks",
        params={"projectUid": WEBSITE, "taskType": "DOWNLOAD", "pageSize": 1000},
    )
    assert {task_id, failing_id} <= {str(task["id"]) for task in page["content"]}
    prepared = s.http.get(
        s.emulator.url(f"/api2/v2/connectors/1001/folders/{folder}/files/{file}/tasks/{task_id}")
    )
    assert prepared.status_code == 200 and prepared.headers["Content-Type"] == "application/octet-stream"

    # Jobs: created (both projects, the second with workflow steps), the import's async request while
    # running and when done, each job, the job lists per workflow level.
    created = s.call(
        "POST /api2/v1/projects/{projectUid}/jobs/connectorTask",
        f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask",
        status=201,
        params={"downloadTaskId": task_id},
        json={"targetLangs": ["de", "ja"], "due": "2030-01-01T10:00:00Z"},
    )
    review_task, _, _ = s.download("docs/getting started.md")
    s.clock.advance(TASK_DELAY)
    s.call(
        "POST /api2/v1/projects/{projectUid}/jobs/connectorTask",
        f"/api2/v1/projects/{REVIEW}/jobs/connectorTask",
        status=201,
        params={"downloadTaskId": review_task},
        json={"targetLangs": ["de"]},
    )
    async_id = created["asyncRequest"]["id"]
    s.call("GET /api2/v1/async/{asyncRequestId}", f"/api2/v1/async/{async_id}")
    s.clock.advance(IMPORT_DELAY)
    s.call("GET /api2/v1/async/{asyncRequestId}", f"/api2/v1/async/{async_id}")
    for job in created["jobs"]:
        s.call(
            "GET /api2/v1/projects/{projectUid}/jobs/{jobUid}",
            f"/api2/v1/projects/{WEBSITE}/jobs/{job['uid']}",
        )
    jobs = "GET /api2/v2/projects/{projectUid}/jobs"
    s.call(jobs, f"/api2/v2/projects/{WEBSITE}/jobs")
    for level in (1, 2):
        listed = s.call(jobs, f"/api2/v2/projects/{REVIEW}/jobs", params={"workflowLevel": level})
        assert len(listed["content"]) == 1
    s.call(tasks, "/api2/v1/connectorAsyncTasks", params={"projectUid": WEBSITE})

    # Projects: each, and the list with the filters users pass.
    for uid in (WEBSITE, REVIEW):
        s.call("GET /api2/v1/projects/{projectUid}", f"/api2/v1/projects/{uid}")
    s.call("GET /api2/v1/projects", "/api2/v1/projects")
    s.call(
        "GET /api2/v1/projects",
        "/api2/v1/projects",
        params={"name": "web", "targetLangs": "de", "pageSize": 1},
    )
    assert_conforms(s)


def test_every_error_answer_conforms(session: Session) -> None:
    s = session
    error = "GET /api2/v1/auth/whoAmI"
    s.call(error, "/api2/v1/auth/whoAmI", status=401, auth=False)
    s.http.headers["Authorization"] = "ApiToken not-a-token"
    s.call(error, "/api2/v1/auth/whoAmI", status=401)
    s.http.headers["Authorization"] = f"ApiToken {API_TOKEN}"
    s.call(
        "POST /api2/v3/auth/login",
        "/api2/v3/auth/login",
        status=401,
        auth=False,
        json={"userName": "demo", "password": "wrong"},
    )
    s.call("GET /api2/v1/connectors/{connectorId}", "/api2/v1/connectors/9999", status=404)
    s.call("GET /api2/v1/connectors", "/api2/v1/connectors", status=400, params={"type": "NOPE"})
    s.call("GET /api2/v1/projects/{projectUid}", "/api2/v1/projects/nope", status=404)
    s.call("GET /api2/v1/projects", "/api2/v1/projects", status=400, params={"pageSize": 0})
    s.call("GET /api2/v1/async/{asyncRequestId}", "/api2/v1/async/123", status=404)
    s.call(
        "POST /api2/v1/projects/{projectUid}/jobs/connectorTask",
        f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask",
        status=400,
        params={"downloadTaskId": "1"},
        json={"targetLangs": ["de"]},
    )
    s.call(
        "POST /api2/v1/projects/{projectUid}/jobs/connectorTask",
        f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask",
        status=415,
        params={"downloadTaskId": "1"},
        data="targetLangs=de",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    s.call(
        "GET /api2/v2/projects/{projectUid}/jobs",
        f"/api2/v2/projects/{WEBSITE}/jobs",
        status=400,
        params={"pageSize": 51},
    )
    s.call(
        "GET /api2/v1/projects/{projectUid}/jobs/{jobUid}",
        f"/api2/v1/projects/{WEBSITE}/jobs/nope",
        status=404,
    )
    s.emulator.state.update_config(rate_limit_per_minute=1)  # this token made more calls in this minute
    s.call("GET /api2/v1/connectors", "/api2/v1/connectors", status=429)
    assert_conforms(s)


def test_every_answer_of_the_delivery_flow_conforms(session: Session) -> None:
    """Job statuses, export to the repository and the target-file pair (issue 11), errors included."""
    s = session
    task_id, _, _ = s.download("docs/api/reference.json")
    s.clock.advance(TASK_DELAY)
    created = s.call(
        "POST /api2/v1/projects/{projectUid}/jobs/connectorTask",
        f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask",
        status=201,
        params={"downloadTaskId": task_id},
        json={"targetLangs": ["de", "ja"]},
    )
    de_job, ja_job = (job["uid"] for job in created["jobs"])
    job_path = f"/api2/v1/projects/{WEBSITE}/jobs/{de_job}"
    export = "POST /api2/v3/projects/{projectUid}/jobs/export"
    target = "PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile"
    # Not imported yet: neither exportable nor downloadable.
    s.call(export, f"/api2/v3/projects/{WEBSITE}/jobs/export", status=400, json={"jobs": [{"uid": de_job}]})
    s.call(target, f"/api2/v3/projects/{WEBSITE}/jobs/{de_job}/targetFile", status=400)
    s.clock.advance(IMPORT_DELAY)

    set_status = s.http.post(s.emulator.url(job_path + "/setStatus"), json={"requestedStatus": "COMPLETED"})
    assert set_status.status_code == 204 and not set_status.content
    s.covered.add(NO_BODY_ENDPOINTS[0])
    changes = "GET /api2/v1/projects/{projectUid}/jobs/{jobUid}/statusChanges"
    history = s.call(changes, job_path + "/statusChanges")
    assert [c["status"] for c in history["statusChanges"]] == ["NEW", "COMPLETED"]
    s.call(changes, job_path + "/statusChanges", params={"order": "DESC"})
    listed = s.call(
        "GET /api2/v2/projects/{projectUid}/jobs",
        f"/api2/v2/projects/{WEBSITE}/jobs",
        params={"status": ["COMPLETED", "DELIVERED"]},
    )
    assert [job["uid"] for job in listed["content"]] == [de_job]

    search = "POST /api2/v1/projects/{projectUid}/jobs/search"
    found = s.call(
        search,
        f"/api2/v1/projects/{WEBSITE}/jobs/search",
        json={"jobs": [{"uid": de_job}, {"uid": "jobUnknown0000000001"}, {"uid": ja_job}]},
    )
    assert [(job["uid"], job["status"]) for job in found["jobs"]] == [(de_job, "COMPLETED"), (ja_job, "NEW")]
    too_many = [{"uid": f"job{n}"} for n in range(51)]
    s.call(search, f"/api2/v1/projects/{WEBSITE}/jobs/search", status=400, json={"jobs": too_many})
    s.call(search, f"/api2/v1/projects/{WEBSITE}/jobs/search", status=400, json={"jobs": []})

    exported = s.call(export, f"/api2/v3/projects/{WEBSITE}/jobs/export", json={"jobs": [{"uid": de_job}]})
    assert [job["uid"] for job in exported["jobs"]] == [de_job]

    started = s.call(target, f"/api2/v3/projects/{WEBSITE}/jobs/{ja_job}/targetFile")
    async_id = started["asyncRequest"]["id"]
    download = f"/api2/v2/projects/{WEBSITE}/jobs/{ja_job}/downloadTargetFile/{async_id}"
    early = "GET /api2/v1/projects/{projectUid}/jobs/{jobUid}"  # any endpoint: the error body is checked
    s.call(early, download, status=400)
    s.call("GET /api2/v1/async/{asyncRequestId}", f"/api2/v1/async/{async_id}")
    s.clock.advance(TARGET_FILE_DELAY)
    s.call("GET /api2/v1/async/{asyncRequestId}", f"/api2/v1/async/{async_id}")
    first = s.http.get(s.emulator.url(download))
    assert first.status_code == 200 and first.headers["Content-Type"] == "application/octet-stream"
    s.call(early, download, status=410)
    s.call(changes, f"/api2/v1/projects/{WEBSITE}/jobs/nope/statusChanges", status=404)
    s.call(
        "GET /api2/v2/projects/{projectUid}/jobs",
        f"/api2/v2/projects/{WEBSITE}/jobs",
        status=400,
        params={"status": "FINISHED"},
    )
    assert_conforms(s)


def test_every_endpoint_is_driven(session: Session) -> None:
    """The flows above cover the whole table (run them here once more, in this session)."""
    test_every_answer_of_the_provider_flow_conforms(session)
    session.emulator.reset()
    session.http.headers["Authorization"] = f"ApiToken {API_TOKEN}"
    test_every_error_answer_conforms(session)
    session.emulator.reset()
    session.emulator.state.update_config(rate_limit_per_minute=6000)  # the error flow lowered it
    test_every_answer_of_the_delivery_flow_conforms(session)
    assert session.covered == set(ENDPOINTS) | set(NO_BODY_ENDPOINTS)


def test_live_quirks_mode_sends_every_catalogued_quirk_and_spec_mode_none(session: Session) -> None:
    test_every_answer_of_the_provider_flow_conforms(session)
    seen = set().union(*(report.quirks for _, _, report in session.reports))
    assert seen == (LIVE_QUIRKS if session.live_quirks else set())
