"""Selecting what a run ingests (change detection against the baseline) and deciding it against Phrase."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.ingestion.baseline import Baseline, source_key
from airflow_phrase.ingestion.planning import Candidate, check_project_languages, reconcile, select_changes
from airflow_phrase.ingestion.selection import ConnectorFile, list_connector_files
from airflow_phrase.ingestion.window import IngestionWindow
from tests.helpers import use_emulator_connection

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LANGS = ["de", "fr_fr", "ja"]


def file(relative: str, modified: datetime | None, size: int = 10) -> ConnectorFile:
    folder, _, name = f"docs/{relative}".rpartition("/")
    return ConnectorFile(
        connector_id="1001",
        folder=folder,
        encoded_folder=folder.encode().hex(),
        name=name,
        encoded_name=f"{folder}/{name}".encode().hex(),
        relative_path=relative,
        last_modified=modified,
        size=size,
    )


def baseline_of(files: list[ConnectorFile], *, at: datetime = NOW - DAY) -> Baseline:
    return Baseline.of(
        files, listed_at=at - timedelta(minutes=5), target_langs=LANGS, run_id="r1"
    ).model_copy(update={"recorded_at": at})


def selected(selection: Any) -> dict[str, tuple[str, datetime | None]]:
    return {c.file.relative_path: (c.why, c.version_after) for c in selection.candidates}


def test_a_first_run_takes_only_the_initial_look_back() -> None:
    files = [
        file("new.md", NOW - timedelta(hours=2)),
        file("old.md", NOW - 3 * DAY),
        file("undated.md", None),
    ]

    selection = select_changes(files, baseline=None, now=NOW, initial_lookback=DAY)

    assert selected(selection) == {"new.md": ("initial look-back", NOW - timedelta(hours=2))}
    assert (selection.older_than_lookback, selection.without_timestamp) == (1, 1)
    assert [f.relative_path for f in selection.considered] == ["new.md", "old.md", "undated.md"]


def test_new_and_changed_files_are_taken_whatever_their_last_modified() -> None:
    before = [
        file("same.md", NOW - 5 * DAY),
        file("revert.md", NOW - 2 * DAY),
        file("gone.md", NOW - 9 * DAY),
    ]
    base = baseline_of(before)
    after = [
        file("same.md", NOW - 5 * DAY),
        file("revert.md", NOW - 7 * DAY),  # lastModified went back: a revert, or a copy keeping its mtime
        file("merged.md", NOW - 4 * DAY),  # arrives late with an old lastModified
        file("resized.md", NOW - 6 * DAY, size=99),
    ]
    base = base.model_copy(update={"files": {**base.files, after[3].version.file_key: "other|1"}})

    selection = select_changes(after, baseline=base, now=NOW, initial_lookback=DAY)

    assert selected(selection) == {
        # A version the baseline did not see: its jobs are newer than the baseline, not its lastModified.
        "revert.md": ("changed", base.recorded_at),
        "merged.md": ("new", NOW - 4 * DAY),
        "resized.md": ("changed", base.recorded_at),
    }
    assert selection.unchanged == 1


def test_a_window_given_by_hand_adds_the_files_modified_in_it() -> None:
    files = [file("a.md", NOW - 3 * DAY), file("b.md", NOW - 9 * DAY)]
    base = baseline_of(files)
    window = IngestionWindow(start=NOW - 4 * DAY, end=NOW, source="window_start")

    selection = select_changes(files, baseline=base, now=NOW, initial_lookback=DAY, window=window)

    assert selected(selection) == {"a.md": ("window", NOW - 3 * DAY)}
    assert selection.unchanged == 1


def test_patterns_apply_before_anything_else() -> None:
    files = [file("a.md", NOW), file("legacy/b.md", NOW), file("c.docx", NOW)]

    selection = select_changes(
        files, baseline=None, now=NOW, initial_lookback=DAY, include=["*.md"], exclude=["legacy/*"]
    )

    assert list(selected(selection)) == ["a.md"]
    assert selection.filtered_by_pattern == 2
    assert [f.relative_path for f in selection.considered] == ["a.md"]


def test_the_baseline_key_separates_phrase_instances_connectors_and_folders() -> None:
    keys = {
        source_key(base_url=url, connector_id=connector, folder=folder, recursive=True)
        for url in ("https://cloud.memsource.com/web", "http://127.0.0.1:8080/web")
        for connector in ("1001", "1002")
        for folder in ("docs", "/")
    }
    assert len(keys) == 8
    assert source_key(base_url="h/", connector_id="1", folder="/docs/", recursive=True) == source_key(
        base_url="h", connector_id="1", folder="docs", recursive=True
    )


# ------------------------------------------------------------------------------- against Phrase's record


@pytest.fixture
def hook(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> PhraseTmsHook:
    use_emulator_connection(monkeypatch, phrase_emulator.base_url, max_wait_seconds=0.2)
    return PhraseTmsHook()


def _ingest(hook: PhraseTmsHook, listed: ConnectorFile, langs: list[str]) -> None:
    from airflow_phrase.models import JobCreateRequest

    version = listed.version
    started = hook.start_connector_download(
        version.connector_id, version.encoded_folder, version.encoded_name
    )
    hook.wait_for_download(
        "prjWebsite000000000001", started.id, created_after=None, poll_interval=0.05, deadline=None
    )
    hook.create_job_from_connector_task(
        "prjWebsite000000000001", started.id, JobCreateRequest(target_langs=langs)
    )


def test_a_used_download_of_the_version_is_the_record_and_costs_one_listing(
    phrase_emulator: Any, hook: PhraseTmsHook
) -> None:
    phrase_emulator.admin.configure(task_delay=0)
    files = list_connector_files(hook, "1001", "docs", recursive=True)
    install = next(f for f in files if f.name == "install.md")
    getting = next(f for f in files if f.name == "getting started.md")
    _ingest(hook, install, LANGS)
    mark = phrase_emulator.admin.journal()[-1].seq
    candidates = [
        Candidate(file=f, why="new", version_after=f.last_modified - timedelta(minutes=1))
        for f in (install, getting)
    ]

    decisions = reconcile(
        hook,
        "prjWebsite000000000001",
        candidates,
        target_langs=LANGS,
        all_names=[f.name for f in files],
        trusted_langs=LANGS,
        now=datetime.now(UTC),
    )

    assert [(d.candidate.file.name, d.decision, d.evidence) for d in decisions] == [
        ("install.md", "ingested", "task listing"),
        ("getting started.md", "ingest", "nothing found"),
    ]
    calls = [(e.method, e.path) for e in phrase_emulator.admin.journal(since=mark)]
    assert calls == [("GET", "/api2/v1/connectorAsyncTasks")]


def test_without_trusted_languages_the_files_jobs_decide(phrase_emulator: Any, hook: PhraseTmsHook) -> None:
    """A used download says some jobs exist; which languages, only the jobs tell (e.g. a first run)."""
    phrase_emulator.admin.configure(task_delay=0)
    files = list_connector_files(hook, "1001", "docs", recursive=True)
    install = next(f for f in files if f.name == "install.md")
    _ingest(hook, install, ["de"])
    candidate = Candidate(file=install, why="new", version_after=install.last_modified)

    (decision,) = reconcile(
        hook,
        "prjWebsite000000000001",
        [candidate],
        target_langs=LANGS,
        all_names=[f.name for f in files],
        trusted_langs=None,
        now=datetime.now(UTC),
    )

    assert (decision.decision, decision.evidence) == ("ingest", "jobs lookup")
    assert [job.target_lang for job in decision.existing_jobs] == ["de"]  # only fr_fr and ja are missing


def test_a_project_without_a_target_language_fails_the_run_before_any_download(
    phrase_emulator: Any, hook: PhraseTmsHook
) -> None:
    with pytest.raises(AirflowFailException) as raised:
        check_project_languages(hook, "prjWebsite000000000001", ["de", "es", "ko"])

    message = str(raised.value)
    assert "target_langs: es, ko are not among the target languages of project" in message
    assert "(de, fr_fr, ja)" in message
    assert not [e for e in phrase_emulator.admin.journal() if e.method == "POST"]
