"""Unit tests of the emulator's state model on a manual clock: lifecycles, single use, visibility, paging."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from airflow_phrase.emulator import EmulatorConfig
from airflow_phrase.emulator.encoding import encode_path, parent_folder
from airflow_phrase.emulator.state import EmulatorState, JobQuery, ManualClock, PhraseError, TaskQuery
from airflow_phrase.models import ConnectorTaskStatus, JobCreateRequest

WEBSITE = "prjWebsite000000000001"
REVIEW = "prjDocsReview00000001"
USER = "demoUser0000000000001"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state(clock: ManualClock) -> EmulatorState:
    return EmulatorState(config=EmulatorConfig(task_delay=2.0, import_delay=1.0, token_ttl=60), clock=clock)


def download(state: EmulatorState, path: str, connector_id: str = "1001", **kwargs: object) -> str:
    folder = parent_folder(path)
    task = state.start_download(connector_id, encode_path(folder), encode_path(path), user_uid=USER, **kwargs)
    return task.id


def jobs_request(*langs: str, **fields: object) -> JobCreateRequest:
    return JobCreateRequest.model_validate({"targetLangs": list(langs) or ["de"], **fields})


def task_status(state: EmulatorState, task_id: str, project: str = WEBSITE) -> ConnectorTaskStatus:
    page = state.list_connector_tasks(TaskQuery(project_uid=project)).page
    return next(t for t in page.items if t.id == task_id).status_at(state.now())


def expect_error(status: int, code: str | None = None, text: str | None = None) -> pytest.RaisesExc:
    return pytest.raises(
        PhraseError,
        check=lambda e: (
            e.status == status
            and (code is None or e.error_code == code)
            and (text is None or text in e.description)
        ),
    )


# ---------------------------------------------------------------------------------------- lifecycles
def test_download_task_is_new_until_the_delay_then_succeeds(state: EmulatorState, clock: ManualClock) -> None:
    task_id = download(state, "docs/guides/install.md")
    assert task_status(state, task_id) is ConnectorTaskStatus.NEW
    clock.advance(1.99)
    assert task_status(state, task_id) is ConnectorTaskStatus.NEW
    clock.advance(0.01)
    assert task_status(state, task_id) is ConnectorTaskStatus.SUCCESS
    task = state.list_connector_tasks(TaskQuery(project_uid=WEBSITE)).page.items[0]
    assert task.date_processed_at(clock.now()) == task.date_created + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("docs/legacy/broken.docx", ConnectorTaskStatus.CONVERTER_ERROR, "not a valid Office Open XML"),
        ("docs/legacy/gone.md", ConnectorTaskStatus.ERROR, "remote file not found"),
    ],
)
def test_download_task_fails_as_the_seed_says(
    state: EmulatorState, clock: ManualClock, path: str, status: ConnectorTaskStatus, message: str
) -> None:
    task_id = download(state, path)
    task = state.list_connector_tasks(TaskQuery(project_uid=WEBSITE)).page.items[0]
    assert task.error_message_at(clock.now()) is None
    clock.advance(2)
    assert task_status(state, task_id) is status
    assert message in (task.error_message_at(clock.now()) or "")


def test_task_keeps_the_delay_in_force_when_it_started(state: EmulatorState, clock: ManualClock) -> None:
    slow = download(state, "docs/guides/install.md")
    state.update_config(task_delay=0.5)
    fast = download(state, "docs/guides/install.md")
    clock.advance(1)
    assert task_status(state, fast) is ConnectorTaskStatus.SUCCESS
    assert task_status(state, slow) is ConnectorTaskStatus.NEW


def test_import_runs_then_succeeds(state: EmulatorState, clock: ManualClock) -> None:
    task_id = download(state, "docs/guides/install.md")
    clock.advance(2)
    created = state.create_jobs(WEBSITE, task_id, jobs_request("de", "ja"), user_uid=USER)
    request = created.async_request
    assert request.action == "IMPORT_JOB"
    assert not request.is_finished_at(clock.now())
    assert [j.import_state_at(clock.now()) for j in created.jobs] == ["RUNNING", "RUNNING"]
    clock.advance(1)
    assert state.get_async_request(request.id).is_finished_at(clock.now())
    assert not request.outcome.failed
    job = state.get_job(WEBSITE, created.jobs[0].uid)
    assert job.import_state_at(clock.now()) == "OK"
    assert job.import_error_at(clock.now()) is None


def test_import_of_bad_file_fails_with_an_error_code(state: EmulatorState, clock: ManualClock) -> None:
    task_id = download(state, "docs/guides/bad-import.md")
    clock.advance(2)
    created = state.create_jobs(WEBSITE, task_id, jobs_request("de"), user_uid=USER)
    clock.advance(1)
    request = state.get_async_request(created.async_request.id)
    assert request.outcome.error_code == "JobImportFailed"
    job = state.get_job(WEBSITE, created.jobs[0].uid)
    assert job.import_state_at(clock.now()) == "ERROR"
    assert "unterminated YAML front matter" in (job.import_error_at(clock.now()) or "")


# ------------------------------------------------------------------------------------- create jobs
def test_task_is_single_use(state: EmulatorState, clock: ManualClock) -> None:
    task_id = download(state, "docs/guides/install.md")
    clock.advance(2)
    state.create_jobs(WEBSITE, task_id, jobs_request("de"), user_uid=USER)
    with expect_error(400, "JobCreateError", "already used"):
        state.create_jobs(WEBSITE, task_id, jobs_request("fr_fr"), user_uid=USER)


def test_unfinished_failed_and_unknown_tasks_are_refused(state: EmulatorState, clock: ManualClock) -> None:
    pending = download(state, "docs/guides/install.md")
    with expect_error(400, "JobCreateError", "not finished"):
        state.create_jobs(WEBSITE, pending, jobs_request(), user_uid=USER)
    failed = download(state, "docs/legacy/gone.md")
    clock.advance(2)
    with expect_error(400, "JobCreateError", "ERROR"):
        state.create_jobs(WEBSITE, failed, jobs_request(), user_uid=USER)
    with expect_error(400, "InvalidArguments", "not found"):
        state.create_jobs(WEBSITE, "999", jobs_request(), user_uid=USER)
    with expect_error(400, "InvalidArguments", "required"):
        state.create_jobs(WEBSITE, None, jobs_request(), user_uid=USER)
    with expect_error(404, "NotFound"):
        state.create_jobs("prjNope", pending, jobs_request(), user_uid=USER)


def finished_task(state: EmulatorState, clock: ManualClock, path: str = "docs/guides/install.md") -> str:
    task_id = download(state, path)
    clock.advance(2)
    return task_id


def test_target_languages_must_belong_to_the_project(state: EmulatorState, clock: ManualClock) -> None:
    task_id = finished_task(state, clock)
    with expect_error(400, "InvalidArguments", "targetLangs must match project"):
        state.create_jobs(WEBSITE, task_id, jobs_request("de", "es"), user_uid=USER)
    # The refused call did not use up the task.
    assert len(state.create_jobs(WEBSITE, task_id, jobs_request("fr-FR"), user_uid=USER).jobs) == 1


def test_one_job_per_language_and_workflow_step(state: EmulatorState, clock: ManualClock) -> None:
    task_id = finished_task(state, clock)
    request = jobs_request(
        "de",
        "es",
        workflowSettings=[
            {
                "id": "7002",
                "due": "2026-12-24T12:00:00Z",
                "assignments": [{"targetLang": "es", "providers": [{"id": "42", "type": "VENDOR"}]}],
            },
        ],
    )
    jobs = state.create_jobs(REVIEW, task_id, request, user_uid=USER).jobs
    assert [(j.target_lang, j.workflow_level) for j in jobs] == [("de", 1), ("de", 2), ("es", 1), ("es", 2)]
    revision_es = jobs[3]
    assert revision_es.workflow_step is not None and revision_es.workflow_step.name == "Revision"
    assert [(p.id, p.type) for p in revision_es.providers] == [("42", "VENDOR")]
    assert revision_es.date_due is not None and revision_es.date_due.day == 24
    assert jobs[2].providers == [] and jobs[2].date_due is None
    assert {j.server_task_id for j in jobs} == {task_id}
    assert {j.async_request_id for j in jobs} == {jobs[0].async_request_id}


def test_project_without_steps_gets_level_1_jobs_with_due_and_assignments(
    state: EmulatorState, clock: ManualClock
) -> None:
    task_id = finished_task(state, clock)
    request = jobs_request(
        "ja",
        due="2026-12-01T10:00:00Z",
        assignments=[
            {"targetLang": "ja", "providers": [{"id": "7", "type": "USER"}]},
        ],
    )
    (job,) = state.create_jobs(WEBSITE, task_id, request, continuous=True, user_uid=USER).jobs
    assert (job.workflow_level, job.workflow_step, job.continuous) == (1, None, True)
    assert [(p.id, p.type) for p in job.providers] == [("7", "USER")]
    assert (job.remote_folder, job.remote_file, job.filename) == (
        "docs/guides",
        "docs/guides/install.md",
        "install.md",
    )


@pytest.mark.parametrize(
    ("project", "fields", "text"),
    [
        (REVIEW, {"due": "2026-12-01T10:00:00Z"}, "due cannot be used"),
        (
            REVIEW,
            {"assignments": [{"targetLang": "de", "providers": [{"id": "7", "type": "USER"}]}]},
            "assignments cannot be used",
        ),
        (REVIEW, {"workflowSettings": [{"id": "9999", "assignments": []}]}, "unknown workflow steps 9999"),
        (WEBSITE, {"workflowSettings": [{"id": "7001", "assignments": []}]}, "has no workflow steps"),
    ],
)
def test_workflow_settings_must_fit_the_project(
    state: EmulatorState, clock: ManualClock, project: str, fields: dict[str, object], text: str
) -> None:
    task_id = finished_task(state, clock)
    with expect_error(400, "InvalidArguments", text):
        state.create_jobs(project, task_id, jobs_request("de", **fields), user_uid=USER)


# -------------------------------------------------------------------------------- connector tasks
def test_unlinked_task_is_visible_under_every_project_then_only_its_own(
    state: EmulatorState, clock: ManualClock
) -> None:
    task_id = finished_task(state, clock)
    visible = {
        p: [t.id for t in state.list_connector_tasks(TaskQuery(project_uid=p)).page.items]
        for p in (WEBSITE, REVIEW)
    }
    assert visible == {WEBSITE: [task_id], REVIEW: [task_id]}
    job = state.create_jobs(REVIEW, task_id, jobs_request("es"), user_uid=USER).jobs[0]
    assert state.list_connector_tasks(TaskQuery(project_uid=WEBSITE)).page.items == []
    (linked,) = state.list_connector_tasks(TaskQuery(project_uid=REVIEW)).page.items
    assert (linked.id, linked.job_uid) == (task_id, job.uid)


def test_task_list_paging_and_counts(state: EmulatorState, clock: ManualClock) -> None:
    ids = [download(state, "docs/guides/install.md") for _ in range(3)]
    ids.append(download(state, "docs/legacy/gone.md"))
    ids.append(download(state, "docs/legacy/broken.docx"))
    clock.advance(2)
    ids.append(download(state, "docs/guides/install.md"))  # still NEW
    pages = [
        state.list_connector_tasks(TaskQuery(project_uid=WEBSITE, page_number=n, page_size=4))
        for n in range(3)
    ]
    assert [len(p.page.items) for p in pages] == [4, 2, 0]
    assert {(p.page.total_elements, p.page.total_pages) for p in pages} == {(6, 2)}
    assert [t.id for p in pages for t in p.page.items] == ids  # by dateCreated, then id
    # The current spec counts "on this page": 3 SUCCESS + ERROR, then CONVERTER_ERROR + NEW.
    assert [(p.success_count, p.error_count) for p in pages] == [(3, 1), (0, 1), (0, 0)]


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"project_uid": None}, "projectUid is required"),
        ({"page_size": 0}, "pageSize must be between 1 and 1000"),
        ({"page_size": 1001}, "pageSize must be between 1 and 1000"),
        ({"page_number": -1}, "pageNumber must be 0 or more"),
        ({"task_types": ("DOWNLOADS",)}, "taskType must be one of"),
        ({"processing_types": ("CLI",)}, "taskProcessingType must be one of"),
    ],
)
def test_task_list_rejects_bad_arguments(state: EmulatorState, fields: dict[str, object], text: str) -> None:
    with expect_error(400, "InvalidArguments", text):
        state.list_connector_tasks(TaskQuery(**{"project_uid": WEBSITE, **fields}))  # type: ignore[arg-type]


def test_task_list_unknown_project_is_404(state: EmulatorState) -> None:
    with expect_error(404, "NotFound"):
        state.list_connector_tasks(TaskQuery(project_uid="prjUnknown"))


def test_task_list_filters(state: EmulatorState, clock: ManualClock) -> None:
    old = download(state, "docs/guides/install.md")
    clock.advance(25 * 3600)  # outside the default window (now-24h .. now+1h)
    recent = download(state, "docs/guides/install.md")

    def ids(**fields: object) -> list[str]:
        query = TaskQuery(**{"project_uid": WEBSITE, **fields})  # type: ignore[arg-type]
        return [t.id for t in state.list_connector_tasks(query).page.items]

    assert ids() == [recent]
    start = state.now() - timedelta(days=2)
    assert ids(created_from=start) == [old, recent]
    assert ids(created_from=start, created_to=start + timedelta(hours=25)) == [old]
    assert ids(created_from=start, processed_from=start) == [old]  # the recent task is not processed yet
    assert ids(task_types=("UPLOAD",)) == []
    assert ids(task_types=("UPLOAD", "DOWNLOAD"), processing_types=("API",)) == [recent]
    assert ids(processing_types=("GUI",)) == []


def test_prepared_file_only_after_success(state: EmulatorState, clock: ManualClock) -> None:
    path = "docs/guides/überblick.md"
    folder, file = encode_path("docs/guides"), encode_path(path)
    task_id = download(state, path)
    with expect_error(400, "InvalidArguments", "not finished"):
        state.prepared_file("1001", folder, file, task_id)
    clock.advance(2)
    name, content = state.prepared_file("1001", folder, file, task_id)
    assert name == "überblick.md"
    assert content.decode("utf-8").startswith("# Überblick")
    with expect_error(404):
        state.prepared_file("1001", folder, encode_path("docs/guides/install.md"), task_id)
    with expect_error(404):
        state.prepared_file("1001", folder, file, "424242")
    gone = download(state, "docs/legacy/gone.md")
    clock.advance(2)
    with expect_error(400, "InvalidArguments", "remote file not found"):
        state.prepared_file("1001", encode_path("docs/legacy"), encode_path("docs/legacy/gone.md"), gone)


def test_download_of_unknown_or_misplaced_file(state: EmulatorState) -> None:
    docs = encode_path("docs")
    with expect_error(404, "NotFound"):
        state.start_download("1001", docs, encode_path("docs/guides/install.md"), user_uid=USER)
    with expect_error(404, "NotFound"):
        state.start_download("1001", docs, encode_path("docs/nope.md"), user_uid=USER)
    with expect_error(404, "NotFound"):
        state.start_download("9999", docs, encode_path("docs/getting started.md"), user_uid=USER)
    with expect_error(400, "InvalidArguments", "not an encoded file name"):
        state.start_download("1001", docs, "getting started.md", user_uid=USER)


# -------------------------------------------------------------------------------------- folders
def test_folder_listing_sorts_and_filters(state: EmulatorState) -> None:
    guides = encode_path("docs/guides")
    names = [e.name for e in state.list_folder("1001", guides).entries]
    assert names == ["bad-import.md", "install.md", "überblick.md"]
    by_date = state.list_folder("1001", guides, sort="DATE_MODIFIED", direction="DESCENDING").entries
    assert [e.name for e in by_date] == ["install.md", "überblick.md", "bad-import.md"]
    docs = encode_path("docs")
    assert [e.name for e in state.list_folder("1001", docs, file_type="FOLDERS_ONLY").entries] == [
        "api",
        "guides",
        "legacy",
        "site",
    ]
    assert [e.name for e in state.list_folder("1001", docs, file_type="FILES_ONLY").entries] == [
        "getting started.md"
    ]
    root = state.list_folder("1001", None)
    assert root.is_root and [e.path for e in root.entries] == ["docs"]
    assert state.list_folder("1001", encode_path("/")).is_root


def test_folder_last_changed_and_folder_dates(state: EmulatorState, clock: ManualClock) -> None:
    docs = state.list_folder("1001", encode_path("docs"))
    recent = [e.path for e in docs.last_changed]
    assert recent[0] == "docs/site/index.html"  # newest first
    assert "docs/api/reference.json" not in recent  # three days old
    guides = next(e for e in docs.entries if e.name == "guides")
    assert guides.last_modified == clock.now() - timedelta(minutes=12)  # its newest file


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"file_type": "EVERYTHING"}, 400),
        ({"sort": "SIZE"}, 400),
        ({"direction": "UP"}, 400),
        ({"project_uid": "prjUnknown"}, 404),
    ],
)
def test_folder_listing_rejects_bad_arguments(
    state: EmulatorState, kwargs: dict[str, str], status: int
) -> None:
    with expect_error(status):
        state.list_folder("1001", None, **kwargs)  # type: ignore[arg-type]


def test_unknown_and_foreign_folders(state: EmulatorState) -> None:
    with expect_error(404, "NotFound"):
        state.list_folder("1001", encode_path("docs/nothing"))
    with expect_error(404, "NotFound"):
        state.list_folder("1001", encode_path("docs/guides/install.md"))  # a file, not a folder
    with expect_error(400, "InvalidArguments"):
        state.list_folder("1001", "docs")


# ----------------------------------------------------------------------------------------- jobs
def test_list_jobs_filters_and_pages(state: EmulatorState, clock: ManualClock) -> None:
    first = finished_task(state, clock)
    state.create_jobs(REVIEW, first, jobs_request("de", "es"), user_uid=USER)
    second = finished_task(state, clock, "docs/getting started.md")
    state.create_jobs(REVIEW, second, jobs_request("de"), user_uid=USER)

    def listed(**fields: object) -> list[tuple[str, str, int]]:
        page = state.list_jobs(REVIEW, JobQuery(**fields))  # type: ignore[arg-type]
        return [(j.filename, j.target_lang, j.workflow_level) for j in page.items]

    assert listed() == [("install.md", "de", 1), ("install.md", "es", 1), ("getting started.md", "de", 1)]
    assert listed(workflow_level=2, target_lang="de") == [
        ("install.md", "de", 2),
        ("getting started.md", "de", 2),
    ]
    assert listed(filename="STARTED") == [("getting started.md", "de", 1)]
    # The first import finished while the second task downloaded (import_delay 1 s < task_delay 2 s).
    assert listed(not_ready=True) == [("getting started.md", "de", 1)]
    assert listed(not_ready=False) == [("install.md", "de", 1), ("install.md", "es", 1)]
    clock.advance(1)
    assert listed(not_ready=True) == []
    page = state.list_jobs(REVIEW, JobQuery(page_size=2, page_number=1))
    assert (len(page.items), page.total_elements, page.total_pages) == (1, 3, 2)
    with expect_error(400, "InvalidArguments", "between 1 and 50"):
        state.list_jobs(REVIEW, JobQuery(page_size=51))
    with expect_error(404):
        state.get_job(WEBSITE, page.items[0].uid)  # belongs to the other project


# ----------------------------------------------------------------------------------------- auth
def test_login_tokens_expire_after_the_ttl(state: EmulatorState, clock: ManualClock) -> None:
    token, user = state.login("demo", "demo-password")
    assert user.uid == USER
    assert token.expires == clock.now() + timedelta(seconds=60)
    assert state.authenticate("ApiToken", token.value).uid == USER
    clock.advance(60)
    with expect_error(401, "AuthUnauthorized"):
        state.authenticate("ApiToken", token.value)


def test_login_rejects_wrong_credentials(state: EmulatorState) -> None:
    for user, password in (("demo", "wrong"), ("nobody", "demo-password")):
        with expect_error(401, "AuthInvalidCredentials"):
            state.login(user, password)


def test_tokens_are_bound_to_their_scheme(state: EmulatorState) -> None:
    assert state.authenticate("ApiToken", "demo-api-token-0123456789").uid == USER
    assert state.authenticate("bearer", "demo-bearer-token-0123456789").uid == USER
    with expect_error(401):
        state.authenticate("Bearer", "demo-api-token-0123456789")
    with expect_error(401):
        state.authenticate("ApiToken", "demo-bearer-token-0123456789")


def test_expire_token(state: EmulatorState) -> None:
    assert state.expire_token("demo-api-token-0123456789")
    with expect_error(401):
        state.authenticate("ApiToken", "demo-api-token-0123456789")
    assert not state.expire_token("no-such-token")
    state.reset()
    assert state.authenticate("ApiToken", "demo-api-token-0123456789").uid == USER


def test_secrets_stay_out_of_reprs(state: EmulatorState) -> None:
    token, user = state.login("demo", "demo-password")
    assert token.value not in repr(token)
    assert "demo-password" not in repr(user)


# ------------------------------------------------------------------------------- reset and config
def test_reset_forgets_everything_but_never_reuses_ids(state: EmulatorState, clock: ManualClock) -> None:
    before = finished_task(state, clock)
    state.create_jobs(WEBSITE, before, jobs_request("de"), user_uid=USER)
    state.reset()
    assert state.snapshot() == {"downloadTasks": [], "jobs": [], "asyncRequests": [], "exports": []}
    after = download(state, "docs/guides/install.md")
    assert int(after) > int(before)


def test_config_changes_are_validated(state: EmulatorState) -> None:
    assert state.update_config(import_delay=0.25).import_delay == 0.25
    with pytest.raises(ValueError, match="only be set when the emulator starts"):
        state.update_config(port=8080)
    with pytest.raises(ValueError):
        state.update_config(task_delay=-1)
    assert state.config.task_delay == 2.0


def test_concurrent_downloads_get_unique_ids(state: EmulatorState) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            task_id = download(state, "docs/guides/install.md")
            with lock:
                ids.append(task_id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 200
    assert len(state.snapshot()["downloadTasks"]) == 200
