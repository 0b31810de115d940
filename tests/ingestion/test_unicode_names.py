"""Names that differ only in Unicode normalization (issue 8, case 3), against the emulator over HTTP.

The seed stores one folder and file decomposed (NFD, as macOS and Git repositories made there keep them)
and one composed (NFC). Typed in the other form, each must be found, selected and downloaded, and what is
sent to Phrase must be the encoded names Phrase listed (the emulator's are the hex of the stored bytes, so
a name rebuilt from what the user typed would be refused).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.exceptions import PhraseNotFoundError
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.hooks.remote_files import find_file, normalized_name, same_name
from airflow_phrase.ingestion.selection import (
    ingest_kwargs,
    list_connector_files,
    matches_patterns,
    pick_named_files,
    select_files,
    sort_files,
)
from airflow_phrase.ingestion.window import IngestionWindow
from airflow_phrase.models import FolderListing
from tests.helpers import use_emulator_connection


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


CONNECTOR = "1001"
PROJECT = "prjWebsite000000000001"
#: Stored decomposed; the tests type them composed.
NFD_FOLDER, NFD_FILE = nfd("docs/übersetzung"), nfd("schöne grüße.md")
#: Stored composed; the tests type them decomposed.
NFC_FOLDER, NFC_FILE = nfc("docs/café"), nfc("menü.md")
STORED = [f"{NFD_FOLDER}/{NFD_FILE}", f"{NFC_FOLDER}/{NFC_FILE}", "docs/plain.md"]
CONNECTOR_NAME = nfd("Übersetzungen Git")


def encoded(path: str) -> str:
    """The emulator's encoded name of a stored path (hex of its UTF-8 bytes, see emulator/encoding.py)."""
    return path.encode("utf-8").hex()


@pytest.fixture
def seed_path(tmp_path: Path) -> Path:
    seed = json.loads(resources.files("airflow_phrase.emulator").joinpath("seeds/demo.json").read_text())
    (connector,) = [c for c in seed["connectors"] if c["id"] == CONNECTOR]
    connector["name"] = CONNECTOR_NAME
    connector["files"] = [
        {"path": path, "contentType": "text/markdown", "lastModified": "-10m", "content": f"# {path}\n"}
        for path in STORED
    ]
    path = tmp_path / "unicode-seed.json"
    path.write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
    assert nfd("ü") in path.read_text(encoding="utf-8")  # the decomposed form survives the round trip
    return path


@pytest.fixture
def emulator(phrase_emulator_factory: Callable[..., Any], seed_path: Path) -> Any:
    return phrase_emulator_factory(seed=seed_path)


@pytest.fixture
def hook(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> PhraseTmsHook:
    use_emulator_connection(monkeypatch, emulator.base_url, max_wait_seconds=0.2)
    return PhraseTmsHook()


def download_posts(emulator: Any) -> list[str]:
    return [e.path for e in emulator.admin.journal() if e.method == "POST" and "/files/" in e.path]


@pytest.mark.parametrize(
    ("typed_folder", "typed_file", "stored_folder", "stored_file"),
    [
        pytest.param(nfc(NFD_FOLDER), nfc(NFD_FILE), NFD_FOLDER, NFD_FILE, id="stored-NFD-typed-NFC"),
        pytest.param(nfd(NFC_FOLDER), nfd(NFC_FILE), NFC_FOLDER, NFC_FILE, id="stored-NFC-typed-NFD"),
    ],
)
def test_resolved_and_downloaded_with_phrases_encoded_names(
    hook: PhraseTmsHook,
    emulator: Any,
    typed_folder: str,
    typed_file: str,
    stored_folder: str,
    stored_file: str,
) -> None:
    assert typed_folder != stored_folder and typed_file != stored_file  # they differ as strings
    remote = hook.resolve_remote_file(CONNECTOR, typed_folder, typed_file)
    assert remote.encoded_folder == encoded(stored_folder)
    assert remote.encoded_name == encoded(f"{stored_folder}/{stored_file}")
    assert remote.name == stored_file  # Phrase's own name, as listed

    started = hook.start_connector_download(remote.connector_id, remote.encoded_folder, remote.encoded_name)
    [post] = download_posts(emulator)
    assert post.endswith(
        f"/folders/{encoded(stored_folder)}/files/{encoded(f'{stored_folder}/{stored_file}')}"
    )
    [task] = [t for t in emulator.admin.snapshot()["downloadTasks"] if str(t["id"]) == str(started.id)]
    assert task["path"] == f"{stored_folder}/{stored_file}"


def test_connector_found_by_its_name_typed_composed(hook: PhraseTmsHook) -> None:
    assert hook.resolve_connector(nfc(CONNECTOR_NAME)).id == CONNECTOR


def test_a_misspelt_name_still_gets_its_close_match(hook: PhraseTmsHook) -> None:
    with pytest.raises(PhraseNotFoundError) as err:
        hook.resolve_remote_file(CONNECTOR, nfc("docs/übersetzungen"), "x.md")
    message = str(err.value)
    assert "has no subfolder" in message and "Did you mean" in message
    assert repr(NFD_FOLDER.rsplit("/", 1)[-1]) in message  # the close match as Phrase lists it


def test_selection_patterns_and_names_in_either_form(hook: PhraseTmsHook) -> None:
    files = list_connector_files(hook, CONNECTOR, nfc("docs"), recursive=True)
    assert sorted(f.path for f in files) == sorted(STORED)
    now = datetime.now(timezone.utc)
    window = IngestionWindow(start=now - timedelta(hours=1), end=now + timedelta(minutes=1), source="test")

    by_pattern = select_files(files, window=window, include=[nfc("übersetzung/*"), nfd("café/*")])
    assert [f.path for f in by_pattern.selected] == [f"{NFC_FOLDER}/{NFC_FILE}", f"{NFD_FOLDER}/{NFD_FILE}"]
    excluded = select_files(files, window=window, exclude=[nfc("*grüße*")])
    assert [f.path for f in excluded.selected] == [f"{NFC_FOLDER}/{NFC_FILE}", "docs/plain.md"]

    named = pick_named_files(files, [nfc("übersetzung/schöne grüße.md"), nfd("menü.md")])
    assert [(f.encoded_folder, f.encoded_name) for f in named] == [
        (encoded(NFC_FOLDER), encoded(f"{NFC_FOLDER}/{NFC_FILE}")),
        (encoded(NFD_FOLDER), encoded(f"{NFD_FOLDER}/{NFD_FILE}")),
    ]
    # What a mapped ingest task receives resolves back to the same encoded names.
    for file in named:
        kwargs = ingest_kwargs(file, {})
        remote = hook.resolve_remote_file(kwargs["connector"], kwargs["folder"], kwargs["file"])
        assert (remote.encoded_folder, remote.encoded_name) == (file.encoded_folder, file.encoded_name)


def test_a_name_matching_no_file_still_fails_with_a_hint(hook: PhraseTmsHook) -> None:
    files = list_connector_files(hook, CONNECTOR, "docs", recursive=True)
    with pytest.raises(AirflowFailException) as err:
        pick_named_files(files, [nfc("grüße.md")])
    assert nfc("is not in the folder; did you mean 'übersetzung/schöne grüße.md'?") in nfc(str(err.value))


# -- pure helpers ---------------------------------------------------------------------------------------


def test_same_name_and_patterns() -> None:
    assert nfd("ü") != nfc("ü") and same_name(nfd("ü"), nfc("ü"))
    assert not same_name("u", nfc("ü"))
    assert normalized_name(nfd("schöne")) == nfc("schöne")
    assert matches_patterns(nfd("übersetzung/a.md"), [nfc("übersetzung/*")], [])
    assert not matches_patterns(nfc("übersetzung/a.md"), [], [nfd("über*")])


def test_sorting_does_not_depend_on_the_stored_form() -> None:
    """NFD ``ü`` (``u`` + U+0308) sorted before ``v``, NFC ``ü`` after ``z``; now both sort alike."""
    from tests.ingestion.test_selection import make_file

    for form in (nfc, nfd):
        files = [make_file(form("über.md"), None), make_file("v.md", None), make_file("a.md", None)]
        assert [normalized_name(f.name) for f in sort_files(files)] == ["a.md", "v.md", nfc("über.md")]


def test_exact_name_wins_over_a_normalization_twin() -> None:
    """A folder holding both forms of one name: each stays reachable by its exact name, and a third form
    of it (``ǘ`` as ``ü`` + U+0301: neither NFC nor NFD) is refused as ambiguous, naming both."""
    both = [nfc("\u01d8.md"), nfd("\u01d8.md")]
    listing = FolderListing.model_validate(
        {"files": [{"name": n, "encodedName": encoded(n), "directory": False} for n in both]}
    )
    for name in both:
        assert find_file(listing, name, folder_label="/", where="c").encoded_name == encoded(name)
    third = "\u00fc\u0301.md"
    assert third not in both and nfc(third) == both[0]
    with pytest.raises(PhraseNotFoundError, match="differ only in Unicode normalization") as err:
        find_file(listing, third, folder_label="/", where="c")
    assert all(encoded(name) in str(err.value) for name in both)
