"""The hex encoding of remote paths: round trip, and refusal of values the emulator cannot have issued."""

from __future__ import annotations

import pytest

from airflow_phrase.emulator.encoding import base_name, decode_path, encode_path, parent_folder


@pytest.mark.parametrize(
    "path",
    ["/", "docs", "docs/getting started.md", "docs/guides/überblick.md", "日本語/ファイル 1.md", "a\tb"],
)
def test_round_trip(path: str) -> None:
    encoded = encode_path(path)
    assert encoded == encoded.lower()
    assert decode_path(encoded) == path


def test_known_values() -> None:
    assert encode_path("/") == "2f"
    assert encode_path("docs/guides/install.md") == b"docs/guides/install.md".hex()
    assert encode_path("ü") == "c3bc"  # UTF-8 bytes, not code points


@pytest.mark.parametrize("value", ["", "2", "2F", "zz", "docs", "install.md", "ff", "c3"])
def test_refuses_what_was_never_issued(value: str) -> None:
    with pytest.raises(ValueError, match="not an encoded name"):
        decode_path(value)


def test_path_helpers() -> None:
    assert parent_folder("docs/guides/install.md") == "docs/guides"
    assert parent_folder("top.md") == "/"
    assert base_name("docs/guides/überblick.md") == "überblick.md"
