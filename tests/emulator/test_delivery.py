"""The emulator's delivery half (issue 11), on a manual clock: job statuses, export into the connector's
tree, the single-use target file, and the translated files for each format of the seed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests

from airflow_phrase.emulator import EmulatorConfig
from airflow_phrase.emulator.__main__ import parse_args
from airflow_phrase.emulator.encoding import encode_path
from airflow_phrase.emulator.state import EmulatorState, JobQuery, ManualClock
from airflow_phrase.emulator.translate import translate
from tests.emulator.test_state import USER, WEBSITE, download, expect_error, jobs_request


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state(clock: ManualClock) -> EmulatorState:
    config = EmulatorConfig(task_delay=2.0, import_delay=1.0, export_delay=3.0, target_file_delay=2.0)
    return EmulatorState(config=config, clock=clock)


def imported_jobs(state: EmulatorState, clock: ManualClock, path: str, *langs: str) -> list[str]:
    """Jobs of ``path`` (one per language), created and imported."""
    task_id = download(state, path)
    clock.advance(2.0)
    created = state.create_jobs(WEBSITE, task_id, jobs_request(*langs), user_uid=USER)
    clock.advance(1.0)
    return [job.uid for job in created.jobs]


def statuses(state: EmulatorState, *wanted: str) -> list[str]:
    page = state.list_jobs(WEBSITE, JobQuery(statuses=wanted))
    return [job.uid for job in page.items]


# ------------------------------------------------------------------------------------- job status
def test_jobs_complete_after_the_configured_delay_read_lazily(
    state: EmulatorState, clock: ManualClock
) -> None:
    (job,) = imported_jobs(state, clock, "docs/guides/install.md", "de")
    assert state.get_job(WEBSITE, job).status == "NEW"
    state.update_config(job_completion_delay=5.0)  # applies to existing jobs: read at each look
    clock.advance(4.99)
    assert statuses(state, "COMPLETED") == [] and statuses(state, "NEW") == [job]
    clock.advance(0.01)
    assert statuses(state, "COMPLETED") == [job] and statuses(state, "NEW") == []
    history = state.job_status_changes(WEBSITE, job)
    assert [c.status for c in history] == ["NEW", "COMPLETED"]
    assert history[1].at - history[0].at == timedelta(seconds=6)  # 1 s import + 5 s


def test_a_failed_import_never_completes(state: EmulatorState, clock: ManualClock) -> None:
    state.update_config(job_completion_delay=0.0)
    (job,) = imported_jobs(state, clock, "docs/guides/bad-import.md", "de")
    clock.advance(3600)
    assert state.get_job(WEBSITE, job).status == "NEW"


def test_script_and_set_status_take_over_and_keep_the_history(
    state: EmulatorState, clock: ManualClock
) -> None:
    state.update_config(job_completion_delay=1.0)
    de, ja = imported_jobs(state, clock, "docs/guides/install.md", "de", "ja")
    state.script_job(ja, status="CANCELLED", after=2.0)
    state.script_job(de, status=None)  # never changes
    clock.advance(1.5)
    assert state.get_job(WEBSITE, de).status == "NEW" and state.get_job(WEBSITE, ja).status == "NEW"
    clock.advance(0.5)
    assert statuses(state, "CANCELLED", "DECLINED", "REJECTED") == [ja]
    state.set_job_status(WEBSITE, de, "DELIVERED", user_uid=USER)
    assert [(c.status, c.by_uid) for c in state.job_status_changes(WEBSITE, de)] == [
        ("NEW", None),
        ("DELIVERED", USER),
    ]
    with expect_error(400, text="COMPLETED"):
        state.script_job(de, status="FINISHED")
    with expect_error(400, text="status must be one of"):
        state.list_jobs(WEBSITE, JobQuery(statuses=("DONE",)))


def test_a_completion_that_happened_stays_when_the_status_is_set_later(
    state: EmulatorState, clock: ManualClock
) -> None:
    state.update_config(job_completion_delay=0.5)
    (job,) = imported_jobs(state, clock, "docs/guides/install.md", "de")
    clock.advance(1.0)
    state.set_job_status(WEBSITE, job, "DELIVERED", user_uid=USER)
    assert [c.status for c in state.job_status_changes(WEBSITE, job)] == ["NEW", "COMPLETED", "DELIVERED"]


# ------------------------------------------------------------------------------------------ export
def _listing(state: EmulatorState, folder: str) -> dict[str, bytes]:
    view = state.list_folder("1001", encode_path(folder), file_type="FILES_ONLY")
    connector = state.get_connector("1001")
    return {entry.name: connector.files[entry.path].content for entry in view.entries}


def test_export_lands_in_the_language_folder_after_the_delay(
    state: EmulatorState, clock: ManualClock
) -> None:
    de, ja = imported_jobs(state, clock, "docs/guides/install.md", "de", "ja")
    exported = state.export_jobs(WEBSITE, [de, ja])
    assert [job.uid for job in exported] == [de, ja]
    with expect_error(404):
        state.list_folder("1001", encode_path("docs/guides/de"))  # not there yet
    clock.advance(3.0)
    files = _listing(state, "docs/guides/de")
    assert list(files) == ["install.md"] and files["install.md"].startswith(b"# [de] Installing the CLI")
    assert _listing(state, "docs/guides/ja")["install.md"].startswith(b"# [ja] ")
    exports = state.snapshot()["exports"]
    assert [(e["path"], e["jobStatus"], e["landed"]) for e in exports] == [
        ("docs/guides/de/install.md", "NEW", True),
        ("docs/guides/ja/install.md", "NEW", True),
    ]


def test_export_checks_every_job_first(state: EmulatorState, clock: ManualClock) -> None:
    (ready,) = imported_jobs(state, clock, "docs/guides/install.md", "de")
    task_id = download(state, "docs/api/reference.json")
    clock.advance(2.0)
    importing = state.create_jobs(WEBSITE, task_id, jobs_request("de"), user_uid=USER).jobs[0].uid
    with expect_error(400, "JOB_NOT_READY", importing):
        state.export_jobs(WEBSITE, [ready, importing])
    with expect_error(404):
        state.export_jobs(WEBSITE, [ready, "jobPartUnknown"])
    clock.advance(10)
    assert state.snapshot()["exports"] == []  # nothing exported by a refused request


# ------------------------------------------------------------------------------------- target file
def test_target_file_is_single_use(state: EmulatorState, clock: ManualClock) -> None:
    de, ja = imported_jobs(state, clock, "docs/api/reference.json", "de", "ja")
    request = state.start_target_file(WEBSITE, ja, user_uid=USER)
    assert request.action == "EXPORT_COMPLETE_FILE" and request.id.isdigit()
    with expect_error(400, text="not finished"):
        state.download_target_file(WEBSITE, ja, request.id)
    clock.advance(2.0)
    with expect_error(404):
        state.download_target_file(WEBSITE, de, request.id)  # another job's request
    record = state.download_target_file(WEBSITE, ja, request.id)
    assert record.file_name == "reference.json"
    assert json.loads(record.content or b"")["title"] == "[ja] Acme Widgets API"
    with expect_error(410, "AsyncRequestUsed"):
        state.download_target_file(WEBSITE, ja, request.id)


# ------------------------------------------------------------------------------------ translations
@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("a.json", '{"t": "Hi", "n": 2, "l": ["Yes", ""]}', {"t": "[de] Hi", "n": 2, "l": ["[de] Yes", ""]}),
        ("a.yml", 'title: Hello\ncount: 3\nquoted: "Hi"\nitems:\n  - One\n', None),
        ("a.properties", "# comment\ngreeting=Hello\nbye: Bye\n", None),
        ("a.md", "# Title\n\n- item\n\n```sh\npip install x\n```\n", None),
        ("a.html", '<html lang="en"><body><h1>Hi</h1><script>var x = 1;</script></body></html>', None),
        ("a.xliff", '<xliff><file target-language="fr"><source>Hi</source></file></xliff>', None),
        ("a.po", 'msgid "Hello"\nmsgstr ""\n', None),
    ],
)
def test_each_format_is_translated_in_its_own_syntax(name: str, source: str, expected: Any) -> None:
    out = translate(source.encode(), name, "de").decode()
    if expected is not None:
        assert json.loads(out) == expected
        return
    wanted = {
        "a.yml": 'title: [de] Hello\ncount: 3\nquoted: "[de] Hi"\nitems:\n  - [de] One\n',
        "a.properties": "# comment\ngreeting=[de] Hello\nbye: [de] Bye\n",
        "a.md": "# [de] Title\n\n- [de] item\n\n```sh\npip install x\n```\n",
        "a.html": '<html lang="de"><body><h1>[de] Hi</h1><script>var x = 1;</script></body></html>',
        "a.xliff": (
            '<xliff><file target-language="de"><source>Hi</source><target>[de] Hi</target></file></xliff>'
        ),
        "a.po": 'msgid "Hello"\nmsgstr "[de] Hello"\n',
    }
    assert out == wanted[name]


def test_binary_files_are_delivered_as_they_came() -> None:
    data = b"PK\x03\x04\xff\xfe binary"
    assert translate(data, "a.docx", "de") == data


# ------------------------------------------------------------------------------ HTTP, admin and CLI
@pytest.mark.parametrize("phrase_emulator", [{"export_delay": 0.0, "target_file_delay": 0.0}], indirect=True)
def test_script_job_over_the_admin_api_and_the_job_list_filter(phrase_emulator: Any) -> None:
    state = phrase_emulator.state
    task_id = download(state, "docs/guides/install.md")
    job = _wait_created(phrase_emulator, task_id)
    assert phrase_emulator.admin.script_job(job, status="REJECTED") == {"uid": job, "status": "REJECTED"}
    http = requests.Session()
    http.headers["Authorization"] = "ApiToken demo-api-token-0123456789"
    listed = http.get(phrase_emulator.url(f"/api2/v2/projects/{WEBSITE}/jobs"), params={"status": "REJECTED"})
    assert [j["uid"] for j in listed.json()["content"]] == [job]
    assert [e.path for e in phrase_emulator.admin.journal()][-1] == f"/api2/v2/projects/{WEBSITE}/jobs"
    with pytest.raises(Exception, match="HTTP 400"):
        phrase_emulator.admin.script_job(job, status="LATE")


def _wait_created(emulator: Any, task_id: str) -> str:
    from tests.helpers import poll_until

    def create() -> str | None:
        try:
            created = emulator.state.create_jobs(WEBSITE, task_id, jobs_request("de"), user_uid=USER)
        except Exception:
            return None
        return str(created.jobs[0].uid)

    return poll_until(create, lambda uid: uid is not None, timeout=20, what="jobs created") or ""


def test_cli_takes_the_delivery_delays() -> None:
    args = parse_args(["--job-completion-delay", "4", "--export-delay", "0.5", "--target-file-delay", "0"])
    assert (args.job_completion_delay, args.export_delay, args.target_file_delay) == (4.0, 0.5, 0.0)
    assert parse_args([]).job_completion_delay is None
