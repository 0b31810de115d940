"""Encoding of remote folder and file paths as Phrase's opaque ``encodedName`` values.

Phrase only says these values are "hex-encoded" remote paths; the emulator uses the lower-case hex of
the UTF-8 bytes of the full path (``"docs/guides/install.md"``), with the root folder written ``"/"``
(``"2f"``). Clients must never build these values; the emulator rejects anything it could not have issued.
"""

from __future__ import annotations

import re

ROOT = "/"
_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})+")


def encode_path(path: str) -> str:
    """The ``encodedName`` of a remote path (``"/"`` for the root folder)."""
    return path.encode("utf-8").hex()


def decode_path(encoded: str) -> str:
    """The remote path behind an ``encodedName``.

    Raises ``ValueError`` for anything that is not lower-case hex of valid UTF-8, i.e. for any value the
    emulator cannot have issued (such as a plain, human-readable name).
    """
    if not _LOWER_HEX.fullmatch(encoded):
        raise ValueError(f"{encoded!r} is not an encoded name")
    try:
        return bytes.fromhex(encoded).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{encoded!r} is not an encoded name") from exc


def parent_folder(path: str) -> str:
    """The folder that holds ``path`` (``"/"`` for a top-level entry)."""
    head, sep, _ = path.rpartition("/")
    return head if sep and head else ROOT


def base_name(path: str) -> str:
    """The last segment of a remote path."""
    return path.rpartition("/")[2]
