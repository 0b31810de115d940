"""The Airflow UI as a new user meets it, in Debian's Chromium driven by Playwright, on a real deployment.

Against the end-to-end harness's api-server, scheduler, triggerer and the Phrase emulator process, the test

1. signs in and creates a Phrase TMS connection **through the connection form** (the dropdowns offer no
   literal ``null``), then presses the connection list's **Test** button, which works because the form
   lets the port be stored (see ``test_airflow_3_3_2_test_button_needs_a_stored_port``);
2. triggers ``phrase_manual_ingestion`` **through its trigger form**: a malformed date is refused by the
   form naming the field, blank lines in the language list are ignored;
3. opens the run's **Phrase** tab and checks every figure against the emulator's own jobs, follows a job
   link out of Airflow's sandboxed iframe, and finds the run in the **Phrase TMS** overview;
4. checks what the run page shows without opening a log (Phrase's verdicts as skipped tasks, labelled)
   and that a task that waited twice has both waits in its log.

Screenshots of each step are saved in ``test-artifacts/ui/`` (see the README): look at them.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.e2e.airflow_api import AirflowApiClient, AirflowApiError
from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.emulator_process import EmulatorProcess

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DAG_ID = "phrase_manual_ingestion"
HOURLY_DAG_ID = "phrase_connector_ingestion"
REPORT_DAG_ID = "phrase_new_jobs_report"
INGEST_TASK = "ingest_file"
SUMMARY_TASK = "summarize"
CONN_ID = "phrase_tms_browser"
PROJECT_UID = "prjWebsite000000000001"
TARGET_LANGS = ["de", "fr_fr", "ja"]
CONNECTOR_NAME = "Docs Git"
FOLDER = "docs"
RUN_TIMEOUT = 360.0
UI_TIMEOUT_MS = 30_000
#: Seed outcome → the label Airflow shows for the file's skipped task.
SEED_VERDICTS = {
    ("download", "CONVERTER_ERROR"): "skipped: conversion failed",
    ("download", "ERROR"): "skipped: connector could not fetch the file",
    ("import", "ERROR"): "skipped: import failed",
}


def seed_docs() -> tuple[set[str], dict[str, str]]:
    """The seed's files under ``docs/`` of ``Docs Git``: (all paths, {path: verdict label} of the failing)."""
    seed = json.loads(resources.files("airflow_phrase.emulator").joinpath("seeds/demo.json").read_text())
    (connector,) = [c for c in seed["connectors"] if c["name"] == CONNECTOR_NAME]
    paths, verdicts = set(), {}
    for file in connector["files"]:
        if file["path"].startswith(f"{FOLDER}/"):
            paths.add(file["path"])
            for stage in ("download", "import"):
                if stage in file:
                    verdicts[file["path"]] = SEED_VERDICTS[(stage, file[stage]["status"])]
    return paths, verdicts


@pytest.fixture
def emulator(emulator_process: EmulatorProcess | None) -> EmulatorProcess:
    if emulator_process is None:
        pytest.skip("the Phrase emulator CLI (python -m airflow_phrase.emulator) is not in this checkout")
    emulator_process.reset()
    return emulator_process


@pytest.fixture
def dags_of_this_test(airflow_cluster: AirflowCluster) -> Iterator[AirflowApiClient]:
    """No scheduled run may touch the emulator meanwhile (the hourly DAG paused); the report DAG consumes
    this run's Asset event (one left behind would be bundled into another test's report run). The manual
    DAG is unpaused by its trigger form. All three are paused afterwards."""
    api = airflow_cluster.api
    for dag_id in (DAG_ID, REPORT_DAG_ID, HOURLY_DAG_ID):
        airflow_cluster.wait_for_dag(dag_id, file_hint=dag_id)
    api.set_paused(HOURLY_DAG_ID, True)
    api.set_paused(REPORT_DAG_ID, False)
    try:
        yield api
    finally:
        for dag_id in (DAG_ID, REPORT_DAG_ID):
            api.set_paused(dag_id, True)


@pytest.fixture(scope="module")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def page(airflow_cluster: AirflowCluster, artifacts: Path) -> Iterator[Any]:
    """A signed-in Chromium page (Debian's chromium; Playwright never downloads a browser here)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        try:
            page.goto(f"{airflow_cluster.api_root}/")
            page.fill("input[name=username]", airflow_cluster.config.username)
            page.fill("input[name=password]", airflow_cluster.config.password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{airflow_cluster.api_root}/")
            yield page
        finally:
            context.close()
            browser.close()


def shot(page: Any, name: str, *, full_page: bool = False) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def dropdown_options(page: Any, field: str) -> list[str]:
    """The options of a form dropdown (``element_<field>``), as the list shows them."""
    page.locator(f"input[name=element_{field}]").locator("xpath=..").get_by_role("combobox").click()
    options = page.get_by_role("option").all_inner_texts()
    return [option.strip() for option in options]


def create_connection(page: Any, root: str, emulator: EmulatorProcess) -> None:
    """Add the connection through Admin > Connections > Add Connection, as the README says."""
    port = emulator.root_url.rsplit(":", 1)[1]
    page.goto(f"{root}/connections")
    page.get_by_role("button", name="Add Connection").click()
    page.fill("input[name=connection_id]", CONN_ID)
    conn_type = page.get_by_role("dialog").get_by_role("combobox").first
    conn_type.click()
    conn_type.fill("Phrase TMS")
    page.get_by_role("option", name="Phrase TMS", exact=True).click()
    page.fill("input[name=host]", emulator.base_url)
    page.fill("input[name=port]", port)
    page.fill("input[name=login]", "demo")
    page.fill("input[name=password]", "demo-password")
    page.get_by_role("button", name="Extra Fields", exact=True).click()
    # Friction 2: the dropdowns offered a literal "null".
    assert dropdown_options(page, "data_center") == [
        "EU (cloud.memsource.com)",
        "US (us.cloud.memsource.com)",
    ]
    shot(page, "01-connection-form")
    page.get_by_role("option", name="EU (cloud.memsource.com)").click()
    assert dropdown_options(page, "auth_type") == [
        "User name + password",
        "API token",
        "Bearer token (OAuth 2 / Phrase Platform)",
    ]
    page.get_by_role("option", name="User name + password").click()
    page.fill("#element_contact", "browser test")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("row").filter(has_text=CONN_ID).wait_for()


def press_the_test_button(page: Any) -> None:
    """Friction 1: the connection list's Test button (needs ``[core] test_connection = Enabled``)."""
    row = page.get_by_role("row").filter(has_text=CONN_ID)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    body = answer.value.json()
    assert answer.value.status == 200 and body["status"] is True, body
    assert "Connected to Phrase TMS" in body["message"] and "as demo" in body["message"]
    page.get_by_text("Test Connection Successful").wait_for()
    shot(page, "02-connection-test")


def trigger_manual_ingestion(page: Any, root: str) -> str:
    """Fill the trigger form (a bad date first, refused), trigger, return the run id."""
    page.goto(f"{root}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="What to ingest").click()
    page.fill("#element_pattern", "*")
    page.fill("#element_modified_from", "28/11/2026")  # friction 5: no longer silently dropped
    with page.expect_response(lambda r: r.url.endswith(f"/dags/{DAG_ID}/dagRuns")) as refused:
        dialog.get_by_role("button", name="Trigger").click()
    assert refused.value.status == 400
    assert "Invalid input for param modified_from: '28/11/2026'" in refused.value.json()["detail"]
    dialog.get_by_text("Invalid input for param modified_from").wait_for()
    shot(page, "03-trigger-form-refused", full_page=True)
    page.fill("#element_modified_from", "")
    dialog.get_by_role("button", name="Jobs", exact=True).click()
    page.fill("#element_target_langs", "de\nfr_fr\n\nja\n")  # a blank line and a trailing newline
    page.fill("#element_phrase_conn_id", CONN_ID)
    shot(page, "04-trigger-form", full_page=True)
    with page.expect_response(lambda r: r.url.endswith(f"/dags/{DAG_ID}/dagRuns")) as accepted:
        dialog.get_by_role("button", name="Trigger").click()
    assert accepted.value.status == 200, accepted.value.text()
    run_id: str = accepted.value.json()["dag_run_id"]
    return run_id


def emulator_jobs(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    """The project's jobs in the emulator, each with the connector path it was created from."""
    state = emulator.state()
    path_of_task = {str(task["id"]): task["path"] for task in state["downloadTasks"]}
    return [
        {**job, "path": path_of_task.get(str(job["downloadTaskId"]), "?")}
        for job in state["jobs"]
        if job["projectUid"] == PROJECT_UID
    ]


def figures(frame: Any) -> dict[str, str]:
    cards = frame.locator("[data-figure]")
    return {
        cards.nth(i).get_attribute("data-figure"): cards.nth(i).locator(".n").inner_text()
        for i in range(cards.count())
    }


def test_a_new_user_connects_ingests_from_the_form_and_reads_the_run_in_the_phrase_tab(
    airflow_cluster: AirflowCluster,
    dags_of_this_test: AirflowApiClient,
    emulator: EmulatorProcess,
    page: Any,
) -> None:
    api = dags_of_this_test
    root = airflow_cluster.api_root
    paths, verdicts = seed_docs()
    assert len(verdicts) == 3 and len(paths) > len(verdicts)  # the seed this test is about

    create_connection(page, root, emulator)
    press_the_test_button(page)
    run_id = trigger_manual_ingestion(page, root)
    run = api.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT, interval=2.0)
    assert run["state"] == "success", api.describe_task_states(DAG_ID, run_id)

    # --- what the run page shows without opening a log: Phrase's verdicts are skipped tasks, labelled
    tis = [ti for ti in api.task_instances(DAG_ID, run_id) if ti["task_id"] == INGEST_TASK]
    labels = {ti["rendered_map_index"]: ti["state"] for ti in tis}
    for path, verdict in verdicts.items():
        assert labels.get(f"{path} · {verdict}") == "skipped", labels
    assert {label: state for label, state in labels.items() if state != "skipped"} == {
        path: "success" for path in paths - set(verdicts)
    }
    page.goto(f"{root}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}")
    page.get_by_text(f"{sorted(verdicts)[0]} · {verdicts[sorted(verdicts)[0]]}").wait_for()
    shot(page, "05-run-task-instances")

    # --- the Phrase tab: every figure against the emulator's own jobs
    jobs = emulator_jobs(emulator)
    assert jobs, "the run created no job in the emulator"
    failed_import = {path for path, verdict in verdicts.items() if verdict.endswith("import failed")}
    page.get_by_role("link", name="Phrase", exact=True).click()
    frame = page.frame_locator("iframe[title=Phrase]")
    frame.locator("h1").wait_for()
    shot(page, "06-phrase-tab")
    assert figures(frame) == {
        "files found": str(len(paths)),
        "selected": str(len(paths)),
        "ingested": str(len(paths) - len(verdicts)),
        "already ingested": "0",
        "expected failures": str(len(verdicts)),
        "unexpected failures": "0",
        "jobs created": str(len(jobs)),
        "imports failed": str(sum(1 for job in jobs if job["path"] in failed_import)),
        "API calls": figures(frame)["API calls"],  # checked below against what the tasks recorded
    }
    assert len(jobs) == len(TARGET_LANGS) * (len(paths) - len(verdicts) + len(failed_import))
    # Jobs per target language: the chart's bars add up to the emulator's jobs of each language.
    bars = frame.locator("svg rect[data-lang]")
    charted: Counter[tuple[str, str]] = Counter()
    for i in range(bars.count()):
        bar = bars.nth(i)
        charted[(bar.get_attribute("data-lang"), bar.get_attribute("data-kind"))] += int(
            bar.get_attribute("data-count")
        )
    expected_bars = Counter(
        (job["targetLang"], "import failed" if job["path"] in failed_import else "imported") for job in jobs
    )
    assert charted == expected_bars
    # A link to each job in Phrase.
    rows = frame.locator("tr[data-job]")
    linked = {rows.nth(i).get_attribute("data-job"): rows.nth(i).locator("a").get_attribute("href")
              for i in range(rows.count())}  # fmt: skip
    assert set(linked) == {job["uid"] for job in jobs}
    assert all(href == f"{emulator.base_url}/job/{uid}/translate" for uid, href in linked.items())
    # API calls: what the run's tasks recorded (their XComs), the worker-side calls the emulator saw.
    summary = api.xcom(DAG_ID, run_id, SUMMARY_TASK, key="ingestion_summary")
    recorded = [api.xcom(DAG_ID, run_id, "list_files", key="phrase_api_calls")] + [
        api.xcom(DAG_ID, run_id, INGEST_TASK, key="phrase_api_calls", map_index=ti["map_index"]) for ti in tis
    ]
    assert figures(frame)["API calls"] == str(sum(recorded))
    assert sum(recorded) == summary["listing_api_calls"] + sum(f["api_calls"] for f in summary["files"])
    assert 0 < sum(recorded) < len(emulator.journal())  # the journal also has the triggerer's polls
    # A job link opens Phrase in a new tab, out of Airflow's sandboxed iframe (no allow-popups there).
    first_uid, first_href = sorted(linked.items())[0]
    with page.context.expect_page() as opened:
        frame.locator(f'tr[data-job="{first_uid}"] a').click()
    assert opened.value.url == first_href
    opened.value.close()

    # --- the whole view, opened on its own
    view = page.context.new_page()
    view.goto(f"{root}/phrase/runs/{quote(DAG_ID)}/{quote(run_id, safe='')}")
    view.locator("h1").wait_for()
    view.screenshot(path=str(ARTIFACTS / "07-phrase-view.png"), full_page=True)
    view.close()

    # --- the overview: Browse > Phrase TMS
    page.goto(f"{root}/")
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Phrase TMS").click()
    overview = page.frame_locator("iframe[title='Phrase TMS']")
    overview.locator(f'tr[data-run="{run_id}"]').wait_for()
    run_bars = overview.locator(f'svg rect[data-run="{run_id}"]')
    trend = {
        run_bars.nth(i).get_attribute("data-kind"): run_bars.nth(i).get_attribute("data-count")
        for i in range(run_bars.count())
    }
    assert trend == {"files selected": str(len(paths)), "jobs created": str(len(jobs))}
    shot(page, "08-phrase-overview")

    # --- friction 8: a task that waited twice tells both waits in its log (the triggerer kept only the
    # second wait's own lines: it rewrites attempt=N.log.trigger.<triggerer id>.log for each wait)
    ingested = next(ti for ti in tis if ti["rendered_map_index"] == "docs/guides/install.md")
    log = api.task_log(DAG_ID, run_id, INGEST_TASK, ingested["try_number"], map_index=ingested["map_index"])
    recap = log.split("Waits of this try so far")[-1]
    waited = r": deferred at .* \(waited [\d.]+ s\); outcome: success"
    assert re.search(r"1\. Phrase download task \d+ \(project prjWebsite000000000001\)" + waited, recap), log
    imported = r"2\. the import of Phrase jobs [\w, ]+ \(project prjWebsite000000000001\)"
    assert re.search(imported + waited, recap), log
    trigger_files = [
        p for p in airflow_cluster.task_log_files(DAG_ID, run_id, INGEST_TASK)
        if f"map_index={ingested['map_index']}" in p.parts and ".trigger." in p.name
    ]  # fmt: skip
    trigger_text = "".join(path.read_text(errors="replace") for path in trigger_files)
    if len(trigger_files) == 1:  # both waits in one triggerer: the file holds the last wait only
        assert "Waiting for Phrase to import jobs" in trigger_text
        assert "Waiting for Phrase connector download task" not in trigger_text


def test_the_phrase_view_is_only_for_signed_in_users_who_may_read_the_dag(
    airflow_cluster: AirflowCluster,
) -> None:
    root = airflow_cluster.api_root
    anonymous = requests.get(f"{root}/phrase/overview", timeout=30)
    assert anonymous.status_code == 401
    assert requests.get(f"{root}/phrase/runs/{DAG_ID}/any", timeout=30).status_code == 401
    bogus = requests.get(f"{root}/phrase/overview", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert bogus.status_code in (401, 403)
    token = requests.post(
        f"{root}/auth/token",
        json={"username": airflow_cluster.config.username, "password": airflow_cluster.config.password},
        timeout=30,
    ).json()["access_token"]
    signed_in = requests.get(
        f"{root}/phrase/overview", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert signed_in.status_code == 200 and "latest runs" in signed_in.text
    assert "default-src 'none'" in signed_in.headers["Content-Security-Policy"]
    missing = requests.get(
        f"{root}/phrase/runs/{DAG_ID}/no-such-run", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert missing.status_code == 404


def test_airflow_3_3_2_test_button_needs_a_stored_port(airflow_cluster: AirflowCluster) -> None:
    """Why the connection form shows Port (friction 1), pinned down on the real API: the connection list's
    Test button sends ``port: Number(connection.port)``, i.e. 0 for a connection without a port, with the
    masked password ``***``. Airflow 3.3.2 then treats 0 as another port than the stored NULL and refuses
    to reuse the stored password (apache/airflow#69957; fixed upstream by apache/airflow#73298). With a
    stored port the same request succeeds. If the first assertion fails, Airflow fixed it."""
    api = airflow_cluster.api
    stored = {
        "connection_id": "phrase_tms_no_port",
        "conn_type": "phrase_tms",
        "host": "http://127.0.0.1:9/web",  # nothing listens there: only the API's decision matters
        "login": "demo",
        "password": "demo-password",
        "extra": json.dumps({"auth_type": "login"}),
    }
    api.request("POST", "/connections", json=stored)
    try:
        as_the_button_sends = {**stored, "password": "***", "port": 0, "description": "", "schema": ""}
        with pytest.raises(AirflowApiError) as refused:
            api.request("POST", "/connections/test", json=as_the_button_sends)
        assert refused.value.status == 400
        assert "differs from the stored connection" in str(refused.value)
        api.request("PATCH", "/connections/phrase_tms_no_port", json={**stored, "port": 9})
        answer = api.request("POST", "/connections/test", json={**as_the_button_sends, "port": 9})
        assert answer["status"] is False and "Connection to Phrase TMS failed" in answer["message"]
    finally:
        api.request("DELETE", "/connections/phrase_tms_no_port")
