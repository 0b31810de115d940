"""Listing a connector folder (against the emulator) and choosing the files a run ingests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.ingestion.selection import (
    ConnectorFile,
    check_limit,
    ingest_kwargs,
    list_connector_files,
    pick_named_files,
    select_files,
)
from airflow_phrase.ingestion.window import IngestionWindow
from tests.helpers import use_emulator_connection

UTC = timezone.utc
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SEED_DOCS = [
    "docs/api/reference.json",
    "docs/getting started.md",
    "docs/guides/bad-import.md",
    "docs/guides/install.md",
    "docs/guides/überblick.md",
    "docs/legacy/broken.docx",
    "docs/legacy/gone.md",
    "docs/site/index.html",
]


def make_file(relative: str, modified: datetime | None, base: str = "docs") -> ConnectorFile:
    folder, _, name = f"{base}/{relative}".rpartition("/")
    return ConnectorFile(
        connector_id="1001",
        folder=folder,
        encoded_folder=folder.encode().hex(),
        name=name,
        encoded_name=f"{folder}/{name}".encode().hex(),
        relative_path=relative,
        last_modified=modified,
    )


@pytest.fixture
def hook(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> PhraseTmsHook:
    use_emulator_connection(monkeypatch, phrase_emulator.base_url, max_wait_seconds=0.2)
    return PhraseTmsHook()


def test_recursive_listing_finds_every_file_below_the_folder_sorted_by_path(hook: PhraseTmsHook) -> None:
    files = list_connector_files(hook, "1001", "docs", recursive=True)

    assert [f.path for f in files] == SEED_DOCS
    install = next(f for f in files if f.name == "install.md")
    assert (install.folder, install.relative_path) == ("docs/guides", "guides/install.md")
    assert install.last_modified is not None and install.last_modified.tzinfo is not None
    assert install.encoded_name  # as Phrase gave it; never built by the client


def test_non_recursive_listing_stays_in_the_folder(hook: PhraseTmsHook) -> None:
    assert [f.path for f in list_connector_files(hook, "1001", "docs", recursive=False)] == [
        "docs/getting started.md"
    ]
    assert [f.relative_path for f in list_connector_files(hook, "1001", "docs/guides", recursive=False)] == [
        "bad-import.md",
        "install.md",
        "überblick.md",
    ]


def test_listing_the_connector_root(hook: PhraseTmsHook) -> None:
    files = list_connector_files(hook, "1002", "/", recursive=True)

    assert [(f.folder, f.relative_path) for f in files] == [
        ("Campaigns", "Campaigns/newsletter.md"),
        ("Campaigns", "Campaigns/Spring launch.html"),
    ]


def test_the_window_decides_with_its_edges_and_undated_files_are_set_aside() -> None:
    window = IngestionWindow(start=T0, end=T0 + timedelta(hours=1), source="test")
    files = [
        make_file("at-start.md", T0),
        make_file("just-before-end.md", T0 + timedelta(minutes=59, seconds=59)),
        make_file("at-end.md", T0 + timedelta(hours=1)),
        make_file("before.md", T0 - timedelta(seconds=1)),
        make_file("undated.md", None),
    ]

    selection = select_files(files, window=window)

    assert [f.name for f in selection.selected] == ["at-start.md", "just-before-end.md"]
    assert selection.counts() == {
        "listed": 5,
        "selected": 2,
        "outside_window": 2,
        "without_timestamp": 1,
        "filtered_by_pattern": 0,
    }


def test_include_and_exclude_patterns_match_the_path_relative_to_the_folder() -> None:
    files = [make_file(p.removeprefix("docs/"), T0) for p in SEED_DOCS]

    markdown = select_files(files, window=None, include=["*.md"], exclude=["legacy/*"])
    assert [f.relative_path for f in markdown.selected] == [
        "getting started.md",
        "guides/bad-import.md",
        "guides/install.md",
        "guides/überblick.md",
    ]
    assert markdown.filtered_by_pattern == 4

    only_guides = select_files(files, window=None, include=["guides/*"], exclude=["*bad*"])
    assert [f.name for f in only_guides.selected] == ["install.md", "überblick.md"]

    # Case-sensitive, like the remote file names themselves.
    assert select_files(files, window=None, include=["*.MD"]).selected == []


def test_selection_order_does_not_depend_on_the_listing_order() -> None:
    files = [make_file(p.removeprefix("docs/"), T0) for p in SEED_DOCS]

    forwards = select_files(files, window=None).selected
    backwards = select_files(list(reversed(files)), window=None).selected

    assert forwards == backwards
    assert [f.path for f in forwards] == SEED_DOCS


def test_files_are_picked_by_relative_path_full_path_or_unique_name() -> None:
    files = [make_file(p.removeprefix("docs/"), T0) for p in SEED_DOCS]

    picked = pick_named_files(files, ["guides/install.md", "docs/site/index.html", "broken.docx"])

    assert [f.path for f in picked] == [
        "docs/guides/install.md",
        "docs/legacy/broken.docx",
        "docs/site/index.html",
    ]


def test_unknown_or_ambiguous_names_fail_listing_what_is_there() -> None:
    files = [make_file("a/readme.md", T0), make_file("b/readme.md", T0), make_file("guides/install.md", T0)]

    with pytest.raises(AirflowFailException) as error:
        pick_named_files(files, ["readme.md", "instal.md"])

    message = str(error.value)
    assert "'readme.md' matches 2 files (a/readme.md, b/readme.md)" in message
    assert "'instal.md' is not in the folder" in message
    assert "Files there: a/readme.md, b/readme.md, guides/install.md" in message


def test_too_many_files_fail_before_anything_is_ingested() -> None:
    files = [make_file(f"f{i}.md", T0) for i in range(3)]

    check_limit(files, 3)
    with pytest.raises(AirflowFailException, match="3 files selected, more than max_files=2"):
        check_limit(files, 2)


def test_ingest_kwargs_name_the_file_by_its_readable_folder_and_name() -> None:
    file = make_file("guides/überblick.md", T0)

    kwargs = ingest_kwargs(file, {"project_uid": "prj", "target_langs": ["de"]})

    assert kwargs == {
        "project_uid": "prj",
        "target_langs": ["de"],
        "connector": "1001",
        "folder": "docs/guides",
        "file": "überblick.md",
    }
