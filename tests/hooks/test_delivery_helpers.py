"""Unit tests of the delivery verbs' helpers: Content-Disposition names, counting writer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_phrase.hooks.delivery import CountingWriter, content_disposition_file_name, target_file_info


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('attachment; filename="guide.md"', "guide.md"),
        ("attachment; filename=\"_berblick.md\"; filename*=UTF-8''%C3%BCberblick.md", "überblick.md"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename=".."', None),
        ("inline", None),
        (None, None),
    ],
)
def test_file_name_from_content_disposition(header: str | None, name: str | None) -> None:
    assert content_disposition_file_name(header) == name


def test_target_file_info_and_counting_writer() -> None:
    seen: list[bytes] = []

    def write(chunks: Iterator[bytes]) -> None:
        seen.extend(chunks)

    writer = CountingWriter(write)
    writer(iter([b"ab", b"", b"cde"]))
    assert writer.size == 5 and b"".join(seen) == b"abcde"
    info = target_file_info(
        {"content-type": "text/plain; charset=utf-8", "Content-Disposition": 'attachment; filename="a.txt"'},
        5,
    )
    assert (info.file_name, info.content_type, info.size) == ("a.txt", "text/plain", 5)
