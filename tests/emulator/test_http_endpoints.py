"""Every Phrase endpoint over real HTTP: happy paths parse into the models with no unknown field, and
the error statuses and bodies Phrase uses."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
import requests

from airflow_phrase.emulator import EmulatorHandle
from airflow_phrase.emulator.state import ManualClock
from airflow_phrase.models import (
    AsyncFileOpResponse,
    AsyncRequest,
    Connector,
    ConnectorList,
    ConnectorTaskStatesPage,
    ConnectorTaskStatus,
    ErrorBody,
    FolderListing,
    JobList,
    JobPart,
    JobPartsPage,
    LoginResponse,
    Project,
    WhoAmI,
)
from tests.emulator.conftest import IMPORT_DELAY, REVIEW, TASK_DELAY, WEBSITE, PhraseApi
from tests.helpers import parse_exact


def assert_error(response: requests.Response, status: int, code: str, text: str = "") -> ErrorBody:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"errorCode", "errorDescription"}
    body = parse_exact(ErrorBody, response.json())
    assert body.error_code == code
    assert text in (body.error_description or ""), body.error_description
    return body


def finished_download(api: PhraseApi, clock: ManualClock, path: str = "docs/guides/install.md") -> str:
    task_id = api.start_download(path)
    clock.advance(TASK_DELAY)
    return task_id


# -------------------------------------------------------------------------------------------- auth
def test_login_and_who_am_i(emu: EmulatorHandle, clock: ManualClock) -> None:
    response = requests.post(
        emu.url("/api2/v3/auth/login"), json={"userName": "demo", "password": "demo-password"}, timeout=10
    )
    login = parse_exact(LoginResponse, response.json())
    assert response.status_code == 200
    assert login.user is not None and login.user.uid == "demoUser0000000000001"
    assert int((login.expires - clock.now()).total_seconds()) in (86399, 86400)
    me = parse_exact(WhoAmI, PhraseApi(emu, login.token).ok("GET", "/api2/v1/auth/whoAmI"))
    assert me.user.user_name == "demo"
    assert me.organization is not None and me.organization.name == "Acme Localization"


# -------------------------------------------------------------------------------------- connectors
def test_list_and_get_connectors(api: PhraseApi) -> None:
    listed = parse_exact(ConnectorList, api.ok("GET", "/api2/v1/connectors"))
    assert [(c.id, c.name, c.type) for c in listed.connectors] == [
        ("1001", "Docs Git", "GIT"),
        ("1002", "Marketing Drive", "GOOGLE_DRIVE2"),
    ]
    assert listed.total_count == 2
    drive = parse_exact(ConnectorList, api.ok("GET", "/api2/v1/connectors", params={"type": "GOOGLE_DRIVE2"}))
    assert [c.id for c in drive.connectors] == ["1002"]
    assert (
        parse_exact(
            ConnectorList, api.ok("GET", "/api2/v1/connectors", params={"type": "DROPBOX"})
        ).total_count
        == 0
    )
    one = parse_exact(Connector, api.ok("GET", "/api2/v1/connectors/1001"))
    assert one.local_token == "c0nn-docs-git-7f3a9e21b4d8"
    assert_error(api.get("/api2/v1/connectors/4040"), 404, "NotFound")
    assert_error(api.get("/api2/v1/connectors", params={"type": "FLOPPY"}), 400, "InvalidArguments", "type")


def test_browse_folders_to_a_non_ascii_file(api: PhraseApi) -> None:
    root = parse_exact(FolderListing, api.folder())
    assert (root.root_folder, root.current_folder, root.encoded_current_folder) == (True, "/", "2f")
    docs = parse_exact(FolderListing, api.folder("1001", root.files[0].encoded_name))
    assert (docs.root_folder, docs.current_folder) == (False, "docs")
    guides = next(f for f in docs.files if f.name == "guides")
    assert guides.directory
    listing = parse_exact(
        FolderListing,
        api.folder(
            "1001", guides.encoded_name, sort="DATE_MODIFIED", direction="DESCENDING", fileType="FILES_ONLY"
        ),
    )
    assert [f.name for f in listing.files] == ["install.md", "überblick.md", "bad-import.md"]
    umlaut = listing.files[1]
    assert bytes.fromhex(umlaut.encoded_name).decode() == "docs/guides/überblick.md"
    assert umlaut.size and umlaut.last_modified and not umlaut.directory


def test_folder_listing_errors(api: PhraseApi) -> None:
    base = "/api2/v1/connectors/1001/folders"
    assert_error(api.get(base, params={"fileType": "ANY"}), 400, "InvalidArguments", "fileType")
    assert_error(api.get(base, params={"sort": "SIZE"}), 400, "InvalidArguments", "sort")
    assert_error(api.get(base, params={"direction": "asc"}), 400, "InvalidArguments", "direction")
    assert_error(api.get(base, params={"projectUid": "prjNope"}), 404, "NotFound")
    assert_error(api.get(base + "/" + b"docs/nothing".hex()), 404, "NotFound")
    assert_error(api.get(base + "/docs"), 400, "InvalidArguments", "not an encoded folder name")
    assert_error(api.get("/api2/v1/connectors/4040/folders"), 404, "NotFound")
    parse_exact(FolderListing, api.folder(projectUid=WEBSITE, sourceLocale="en"))


# ------------------------------------------------------------------------------- download and tasks
def test_start_download(api: PhraseApi) -> None:
    folder, file = api.find("docs/getting started.md")
    url = f"/api2/v2/connectors/1001/folders/{folder}/files/{file}"
    started = parse_exact(AsyncFileOpResponse, api.ok("POST", url))
    assert started.id.isdigit()
    assert (started.action, started.file_name) == ("API_DOWNLOAD", "getting started.md")
    assert started.created_by is not None and started.created_by.user_name == "demo"
    with_body = api.ok(
        "POST", url, json={"sourceLang": "en", "targetLang": "de", "callbackUrl": "https://example.com/cb"}
    )
    assert int(with_body["id"]) > int(started.id)
    assert_error(api.post(url, json={"projectUid": WEBSITE}), 400, "InvalidArguments", "projectUid")
    assert_error(
        api.post(url, data="{", headers={"Content-Type": "application/json"}),
        400,
        "InvalidArguments",
        "Malformed JSON",
    )
    assert_error(
        api.post(url, data="sourceLang=en", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        415,
        "UnsupportedMediaType",
    )
    other = b"docs/api/reference.json".hex()
    assert_error(api.post(f"/api2/v2/connectors/1001/folders/{folder}/files/{other}"), 404, "NotFound")
    assert_error(api.post(f"/api2/v2/connectors/1002/folders/{folder}/files/{file}"), 404, "NotFound")


def test_task_states_through_the_lifecycle(api: PhraseApi, clock: ManualClock) -> None:
    task_id = api.start_download("docs/guides/install.md", targetLang="de")
    failed_id = api.start_download("docs/legacy/broken.docx")
    pending = parse_exact(ConnectorTaskStatesPage, api.tasks(taskType="DOWNLOAD", taskProcessingType="API"))
    assert [(t.id, t.status) for t in pending.content] == [
        (task_id, ConnectorTaskStatus.NEW),
        (failed_id, ConnectorTaskStatus.NEW),
    ]
    assert (pending.project_uid, pending.project_name, pending.success_count, pending.error_count) == (
        WEBSITE,
        "Website",
        0,
        0,
    )
    assert pending.content[0].date_processed is None and pending.content[0].target_lang == "de"
    clock.advance(TASK_DELAY)
    done = parse_exact(ConnectorTaskStatesPage, api.tasks(pageSize=1, pageNumber=1))
    assert (done.total_elements, done.total_pages, done.number_of_elements, done.page_size) == (2, 2, 1, 1)
    (broken,) = done.content
    assert broken.status is ConnectorTaskStatus.CONVERTER_ERROR and broken.error_message
    assert (done.success_count, done.error_count) == (0, 1)  # counted on this page (current spec)
    repeated = api.get(
        "/api2/v1/connectorAsyncTasks?projectUid=" + WEBSITE + "&taskType=UPLOAD&taskType=DOWNLOAD"
    )
    assert repeated.json()["totalElements"] == 2


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({}, 400, "projectUid is required"),
        ({"projectUid": "prjNope"}, 404, ""),
        ({"projectUid": WEBSITE, "pageSize": "0"}, 400, "pageSize"),
        ({"projectUid": WEBSITE, "pageSize": "1001"}, 400, "pageSize"),
        ({"projectUid": WEBSITE, "pageNumber": "-1"}, 400, "pageNumber"),
        ({"projectUid": WEBSITE, "pageSize": "ten"}, 400, "pageSize must be an integer"),
        ({"projectUid": WEBSITE, "taskType": "DOWNLOADS"}, 400, "taskType"),
        ({"projectUid": WEBSITE, "dateCreatedFrom": "yesterday"}, 400, "dateCreatedFrom"),
    ],
)
def test_task_states_argument_errors(api: PhraseApi, params: dict[str, str], status: int, text: str) -> None:
    assert_error(
        api.get("/api2/v1/connectorAsyncTasks", params=params),
        status,
        "NotFound" if status == 404 else "InvalidArguments",
        text,
    )


def test_task_states_date_filters_over_http(api: PhraseApi, clock: ManualClock) -> None:
    task_id = api.start_download("docs/guides/install.md")
    now = clock.now()
    after = (now.replace(microsecond=0)).strftime("%Y-%m-%dT%H:%M:%S") + "+0000"
    assert api.tasks(dateCreatedTo="2020-01-01T00:00:00Z")["content"] == []
    assert [t["id"] for t in api.tasks(dateCreatedFrom="2020-01-01T00:00:00.000Z")["content"]] == [task_id]
    assert api.tasks(dateProcessedFrom=after)["content"] == []  # not processed yet


def test_prepared_file(api: PhraseApi, clock: ManualClock) -> None:
    folder, file = api.find("docs/guides/überblick.md")
    task_id = api.start_download("docs/guides/überblick.md")
    url = f"/api2/v2/connectors/1001/folders/{folder}/files/{file}/tasks/{task_id}"
    assert_error(api.get(url), 400, "InvalidArguments", "not finished")
    clock.advance(TASK_DELAY)
    response = api.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "überblick.md"
    assert response.content.decode("utf-8").startswith("# Überblick")
    assert_error(api.get(url.rsplit("/", 1)[0] + "/777777"), 404, "NotFound")


# ---------------------------------------------------------------------------------------- jobs
def test_create_jobs_and_follow_the_import(api: PhraseApi, clock: ManualClock) -> None:
    task_id = finished_download(api, clock)
    response = api.create_jobs(
        REVIEW, task_id, {"targetLangs": ["de", "es"], "path": "guides"}, continuous="false"
    )
    assert response.status_code == 201, response.text
    created = parse_exact(JobList, response.json())
    assert [(j.target_lang, j.workflow_level) for j in created.jobs] == [
        ("de", 1),
        ("de", 2),
        ("es", 1),
        ("es", 2),
    ]
    assert created.async_request is not None and created.async_request.action == "IMPORT_JOB"
    assert all(j.workflow_step is not None for j in created.jobs)
    async_url = f"/api2/v1/async/{created.async_request.id}"
    pending = parse_exact(AsyncRequest, api.ok("GET", async_url))
    assert pending.async_response is None and not pending.is_finished
    assert pending.project is not None and pending.project.uid == REVIEW
    job_url = f"/api2/v1/projects/{REVIEW}/jobs/{created.jobs[0].uid}"
    running = parse_exact(JobPart, api.ok("GET", job_url))
    assert running.import_status is not None and running.import_status.status == "RUNNING"
    assert (running.server_task_id, running.imported, running.original_file_directory) == (
        task_id,
        False,
        "guides",
    )
    clock.advance(IMPORT_DELAY)
    finished = parse_exact(AsyncRequest, api.ok("GET", async_url))
    assert finished.is_finished and not finished.is_failed
    job = parse_exact(JobPart, api.ok("GET", job_url))
    assert job.import_status is not None and job.import_status.status == "OK" and job.imported
    assert job.words_count and job.words_count > 10
    linked = api.tasks(REVIEW)["content"]
    assert [(t["id"], t["jobUid"]) for t in linked] == [(task_id, created.jobs[0].uid)]


def test_failed_import(api: PhraseApi, clock: ManualClock) -> None:
    task_id = finished_download(api, clock, "docs/guides/bad-import.md")
    created = api.create_jobs(WEBSITE, task_id, {"targetLangs": ["ja"]}).json()
    clock.advance(IMPORT_DELAY)
    request = parse_exact(AsyncRequest, api.ok("GET", f"/api2/v1/async/{created['asyncRequest']['id']}"))
    assert request.is_failed
    assert request.async_response is not None and request.async_response.error_code == "JobImportFailed"
    job = parse_exact(JobPart, api.ok("GET", f"/api2/v1/projects/{WEBSITE}/jobs/{created['jobs'][0]['uid']}"))
    assert job.import_status is not None and job.import_status.status == "ERROR"
    assert "front matter" in (job.import_status.error_message or "")


@pytest.mark.parametrize(
    ("body", "params", "status", "code", "text"),
    [
        ({"targetLangs": []}, {}, 400, "InvalidArguments", "targetLangs"),
        ({}, {}, 400, "InvalidArguments", "targetLangs"),
        ({"targetLangs": ["de"], "targetLanguage": "x"}, {}, 400, "InvalidArguments", "targetLanguage"),
        ({"targetLangs": ["de"], "path": "x" * 256}, {}, 400, "InvalidArguments", "path"),
        ({"targetLangs": ["es"]}, {}, 400, "InvalidArguments", "targetLangs must match project"),
        ({"targetLangs": ["de"]}, {"continuous": "maybe"}, 400, "InvalidArguments", "continuous"),
        (
            {"targetLangs": ["de"]},
            {"downloadTaskId": ""},
            400,
            "InvalidArguments",
            "downloadTaskId is required",
        ),
        ({"targetLangs": ["de"]}, {"downloadTaskId": "abc"}, 400, "InvalidArguments", "downloadTaskId"),
        ({"targetLangs": ["de"]}, {"downloadTaskId": "5200001"}, 400, "InvalidArguments", "not found"),
    ],
)
def test_create_jobs_argument_errors(
    api: PhraseApi,
    clock: ManualClock,
    body: dict[str, Any],
    params: dict[str, str],
    status: int,
    code: str,
    text: str,
) -> None:
    task_id = finished_download(api, clock)
    assert_error(api.create_jobs(WEBSITE, task_id, body, **params), status, code, text)
    # None of these used up the task.
    assert api.create_jobs(WEBSITE, task_id).status_code == 201


def test_create_jobs_task_state_errors(api: PhraseApi, clock: ManualClock) -> None:
    pending = api.start_download("docs/guides/install.md")
    assert_error(api.create_jobs(WEBSITE, pending), 400, "JobCreateError", "not finished")
    clock.advance(TASK_DELAY)
    assert api.create_jobs(WEBSITE, pending).status_code == 201
    assert_error(api.create_jobs(WEBSITE, pending), 400, "JobCreateError", "already used")
    gone = finished_download(api, clock, "docs/legacy/gone.md")
    assert_error(api.create_jobs(WEBSITE, gone), 400, "JobCreateError", "remote file not found")
    assert_error(api.create_jobs("prjNope", pending), 404, "NotFound")
    response = api.post(f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask", params={"downloadTaskId": pending})
    assert_error(response, 400, "InvalidArguments", "body is required")


def test_workflow_rules_over_http(api: PhraseApi, clock: ManualClock) -> None:
    task_id = finished_download(api, clock)
    assert_error(
        api.create_jobs(REVIEW, task_id, {"targetLangs": ["de"], "due": "2026-12-01T00:00:00Z"}),
        400,
        "InvalidArguments",
        "due cannot be used",
    )
    assert_error(
        api.create_jobs(
            REVIEW, task_id, {"targetLangs": ["de"], "workflowSettings": [{"id": "1", "assignments": []}]}
        ),
        400,
        "InvalidArguments",
        "unknown workflow steps",
    )
    # The spec requires each step's assignments (JobCreateRequestDtoWorkflowStepConfiguration).
    assert_error(
        api.create_jobs(REVIEW, task_id, {"targetLangs": ["de"], "workflowSettings": [{"id": "7001"}]}),
        400,
        "InvalidArguments",
        "workflowSettings[0].assignments: Field required",
    )


def test_async_request_errors(api: PhraseApi, clock: ManualClock) -> None:
    assert_error(api.get("/api2/v1/async/abc"), 400, "InvalidArguments", "asyncRequestId")
    assert_error(api.get("/api2/v1/async/99"), 404, "NotFound")
    task_id = finished_download(api, clock)
    assert_error(api.get(f"/api2/v1/async/{task_id}"), 404, "NotFound")  # a task id is not an async id


def test_project_and_job_lookups(api: PhraseApi, clock: ManualClock) -> None:
    project = parse_exact(Project, api.ok("GET", f"/api2/v1/projects/{REVIEW}"))
    assert (project.name, project.source_lang, project.target_langs) == (
        "Docs with review",
        "en",
        ["de", "es"],
    )
    assert [(s.id, s.name, s.workflow_level) for s in project.workflow_steps] == [
        ("7001", "Translation", 1),
        ("7002", "Revision", 2),
    ]
    assert parse_exact(Project, api.ok("GET", f"/api2/v1/projects/{WEBSITE}")).workflow_steps == []
    assert_error(api.get("/api2/v1/projects/prjNope"), 404, "NotFound")
    assert_error(api.get(f"/api2/v1/projects/{WEBSITE}/jobs/jobNope"), 404, "NotFound")


def test_list_jobs(api: PhraseApi, clock: ManualClock) -> None:
    first = finished_download(api, clock)
    api.create_jobs(WEBSITE, first, {"targetLangs": ["de", "fr_fr", "ja"]})
    second = finished_download(api, clock, "docs/getting started.md")
    api.create_jobs(WEBSITE, second, {"targetLangs": ["de"]})
    base = f"/api2/v2/projects/{WEBSITE}/jobs"
    everything = parse_exact(JobPartsPage, api.ok("GET", base))
    assert (everything.total_elements, everything.page_size) == (4, 50)
    job = everything.content[0]
    assert job.remote_file is not None
    assert (job.remote_file.human_readable_file_name, job.remote_file.human_readable_folder) == (
        "install.md",
        "docs/guides",
    )
    assert bytes.fromhex(job.remote_file.encoded_file_name or "").decode() == "docs/guides/install.md"
    assert job.server_task_id == first
    filtered = parse_exact(
        JobPartsPage, api.ok("GET", base, params={"filename": "getting", "targetLang": "de"})
    )
    assert [(j.filename, j.server_task_id) for j in filtered.content] == [("getting started.md", second)]
    page = parse_exact(JobPartsPage, api.ok("GET", base, params={"pageSize": 3, "pageNumber": 1}))
    assert (page.number_of_elements, page.total_pages) == (1, 2)
    assert api.ok("GET", base, params={"workflowLevel": 2})["content"] == []
    assert api.ok("GET", base, params={"status": "COMPLETED,DELIVERED"})["content"] == []
    assert_error(api.get(base, params={"pageSize": 51}), 400, "InvalidArguments", "pageSize")
    assert_error(api.get(base, params={"workflowLevel": 0}), 400, "InvalidArguments", "workflowLevel")
    assert_error(api.get("/api2/v2/projects/prjNope/jobs"), 404, "NotFound")


# ------------------------------------------------------------------------------------- routing
def test_unknown_route_and_wrong_method(api: PhraseApi) -> None:
    assert_error(api.get("/api2/v1/nothing/here"), 404, "NotFound")
    response = api.session.delete(api.emulator.url("/api2/v1/connectors"), timeout=10)
    assert_error(response, 405, "MethodNotAllowed")
    assert "GET" in response.headers["Allow"]
    assert_error(api.get("/api2/v3/auth/login"), 405, "MethodNotAllowed")


def test_unexpected_errors_become_a_phrase_500(
    emu: EmulatorHandle, api: PhraseApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug in the emulator")

    monkeypatch.setattr(emu.state, "list_connectors", boom)
    assert_error(api.get("/api2/v1/connectors"), 500, "InternalError")
