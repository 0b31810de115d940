"""Connectors, folders and remote files: resolving human-readable names to Phrase's encoded names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_phrase.exceptions import PhraseNotFoundError
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from tests.hooks.support import DOCS_GIT, journal

MakeHook = Callable[..., PhraseTmsHook]


class TestConnectors:
    def test_list_and_filter_by_type(self, token_conn: str, make_hook: MakeHook) -> None:
        hook = make_hook(token_conn)
        assert {(c.id, c.name, c.type) for c in hook.list_connectors()} == {
            ("1001", "Docs Git", "GIT"),
            ("1002", "Marketing Drive", "GOOGLE_DRIVE2"),
        }
        assert [c.id for c in hook.list_connectors("GOOGLE_DRIVE2")] == ["1002"]
        assert hook.get_connector("1001").local_token

    @pytest.mark.parametrize(
        ("wanted", "expected_id"), [("Docs Git", "1001"), ("1002", "1002"), (" 1001 ", "1001")]
    )
    def test_resolve_by_id_or_exact_name(
        self, token_conn: str, make_hook: MakeHook, wanted: str, expected_id: str
    ) -> None:
        assert make_hook(token_conn).resolve_connector(wanted).id == expected_id

    def test_resolve_unknown_lists_what_exists(self, token_conn: str, make_hook: MakeHook) -> None:
        with pytest.raises(PhraseNotFoundError) as err:
            make_hook(token_conn).resolve_connector("docs git")  # names are matched exactly
        message = str(err.value)
        assert (
            "'docs git'" in message
            and "'Docs Git' (id 1001, GIT)" in message
            and "'Marketing Drive'" in message
        )


class TestFolders:
    def test_root_and_nested_paths(self, token_conn: str, make_hook: MakeHook) -> None:
        hook = make_hook(token_conn)
        root = hook.browse_path(DOCS_GIT, "/")
        assert root.root_folder and "docs" in {f.name for f in root.files if f.directory}
        guides = hook.browse_path(DOCS_GIT, "/docs/guides/")
        assert guides.current_folder == "docs/guides"
        assert {f.name for f in guides.files} >= {"install.md", "überblick.md", "bad-import.md"}

    def test_listings_cached_per_hook(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        hook.browse_path(DOCS_GIT, "docs/guides")
        calls = len(journal(phrase_emulator))
        hook.browse_path(DOCS_GIT, "docs/guides")
        hook.resolve_remote_file(DOCS_GIT, "docs/guides", "install.md")
        assert len(journal(phrase_emulator)) == calls == 3  # root, docs, docs/guides
        make_hook(token_conn).browse_path(DOCS_GIT, "docs")  # another hook instance lists again
        assert len(journal(phrase_emulator)) == 5

    def test_missing_folder_names_the_level_and_suggests(self, token_conn: str, make_hook: MakeHook) -> None:
        with pytest.raises(PhraseNotFoundError) as err:
            make_hook(token_conn).browse_path(DOCS_GIT, "docs/guidez/deep")
        message = str(err.value)
        assert "'docs/guidez'" in message and "'guides'" in message and "'legacy'" in message


class TestRemoteFiles:
    @pytest.mark.parametrize(
        ("folder", "file", "path"),
        [
            ("docs", "getting started.md", "docs/getting started.md"),
            ("docs/guides", "überblick.md", "docs/guides/überblick.md"),
            ("/docs/api/", "reference.json", "docs/api/reference.json"),
        ],
    )
    def test_resolve_by_human_readable_names(
        self, token_conn: str, make_hook: MakeHook, folder: str, file: str, path: str
    ) -> None:
        resolved = make_hook(token_conn).resolve_remote_file(DOCS_GIT, folder, file)
        assert resolved.path == path and resolved.name == file
        assert resolved.connector_id == DOCS_GIT
        assert resolved.encoded_name == resolved.remote_file.encoded_name and resolved.encoded_name != file
        assert not resolved.remote_file.directory

    def test_resolve_by_encoded_folder_and_encoded_name(self, token_conn: str, make_hook: MakeHook) -> None:
        hook = make_hook(token_conn)
        first = hook.resolve_remote_file(DOCS_GIT, "docs/guides", "überblick.md")
        again = make_hook(token_conn).resolve_remote_file(DOCS_GIT, first.encoded_folder, first.encoded_name)
        assert again.encoded_name == first.encoded_name and again.name == "überblick.md"
        assert again.folder_path == "docs/guides"

    def test_missing_file_names_folder_and_close_matches(self, token_conn: str, make_hook: MakeHook) -> None:
        with pytest.raises(PhraseNotFoundError) as err:
            make_hook(token_conn).resolve_remote_file(DOCS_GIT, "docs/guides", "instal.md")
        message = str(err.value)
        assert "'instal.md'" in message and "'docs/guides'" in message
        assert "Close matches: 'install.md'" in message

    def test_unknown_folder_that_is_not_an_encoded_name_either(
        self, token_conn: str, make_hook: MakeHook
    ) -> None:
        with pytest.raises(PhraseNotFoundError, match="'nowhere'"):
            make_hook(token_conn).resolve_remote_file(DOCS_GIT, "nowhere", "install.md")
