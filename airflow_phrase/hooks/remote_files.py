"""Finding connector folders and files by their human-readable names.

Phrase addresses remote folders and files by *encoded* names that clients must never build; they are
taken from folder listings. These helpers pick entries out of listings the hook already fetched and
explain, with close matches, what is there when a name is wrong. No I/O happens here.

Names are compared in Unicode NFC (:func:`same_name`): a name stored decomposed (NFD ``übersetzung``, as
macOS file systems and Git repositories made on them keep it) is the name a user types composed. An exact
match still wins, so two entries that differ only in normalization stay reachable by their exact name.
What is then sent to Phrase is always the entry's own encoded name.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict

from airflow_phrase.exceptions import PhraseNotFoundError
from airflow_phrase.models import FolderListing, RemoteFile

ROOT_PATH = "/"


class ResolvedRemoteFile(BaseModel):
    """One remote file of a connector, with everything needed to download it."""

    model_config = ConfigDict(frozen=True)

    connector_id: str
    #: The encoded folder as Phrase gave it (``encodedCurrentFolder`` of the listing), root included.
    encoded_folder: str
    encoded_name: str
    name: str
    #: Human-readable folder path ("docs/guides"; "/" for the root) when known, else the encoded folder.
    folder_path: str
    remote_file: RemoteFile

    @property
    def path(self) -> str:
        folder = "" if self.folder_path in ("", ROOT_PATH) else self.folder_path.rstrip("/") + "/"
        return f"{folder}{self.name}"


def split_path(path: str) -> list[str]:
    """``"/docs/guides/"`` -> ``["docs", "guides"]``; ``"/"`` and ``""`` -> ``[]``."""
    return [part for part in path.strip().split("/") if part]


def display_path(parts: list[str]) -> str:
    return "/".join(parts) if parts else ROOT_PATH


def _leaf(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]


def normalized_name(name: str) -> str:
    """``name`` in Unicode NFC, the form in which names are compared."""
    return unicodedata.normalize("NFC", name)


def same_name(a: str, b: str) -> bool:
    """Whether two names are equal once both are NFC-normalized (decomposed ``u`` + U+0308 equals ``ü``)."""
    return a == b or normalized_name(a) == normalized_name(b)


def _pick(
    entries: list[RemoteFile], wanted: str, names: Callable[[RemoteFile], Iterable[str]]
) -> RemoteFile | None:
    """The entry one of whose ``names`` is ``wanted``: exactly if one is, else NFC-equal (if unique)."""
    for entry in entries:
        if wanted in names(entry):
            return entry
    key = normalized_name(wanted)
    loose = [entry for entry in entries if any(normalized_name(n) == key for n in names(entry))]
    if len(loose) > 1:
        raise PhraseNotFoundError(
            f"{wanted!r} matches {len(loose)} entries whose names differ only in Unicode normalization "
            f"({', '.join(repr(e.name) for e in loose)}); give the exact name or the encoded name "
            f"({', '.join(e.encoded_name for e in loose)})."
        )
    return loose[0] if loose else None


def _listing_names(entries: list[RemoteFile]) -> str:
    names = sorted(entry.name for entry in entries)
    if not names:
        return "none"
    shown = ", ".join(repr(name) for name in names[:30])
    return shown + (f" and {len(names) - 30} more" if len(names) > 30 else "")


def _close(name: str, entries: list[RemoteFile]) -> list[str]:
    by_key = {normalized_name(entry.name): entry.name for entry in entries}
    close = difflib.get_close_matches(normalized_name(name), list(by_key), n=5, cutoff=0.5)
    return [by_key[key] for key in close]


def find_subfolder(listing: FolderListing, name: str, *, parent: list[str], where: str) -> RemoteFile:
    """The directory entry called ``name`` in ``listing``; :class:`PhraseNotFoundError` if absent."""
    folders = [entry for entry in listing.files if entry.directory]
    found = _pick(folders, name, lambda entry: (entry.name, _leaf(entry.name)))
    if found is not None:
        return found
    close = _close(name, folders)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise PhraseNotFoundError(
        f"Folder {display_path([*parent, name])!r} not found in {where}: "
        f"{display_path(parent)!r} has no subfolder {name!r}.{hint} "
        f"Subfolders there: {_listing_names(folders)}."
    )


def find_file(listing: FolderListing, file: str, *, folder_label: str, where: str) -> RemoteFile:
    """The file called ``file`` (plain or encoded name) in ``listing``; an error with close matches if not."""
    files = [entry for entry in listing.files if not entry.directory]
    found = _pick(files, file, lambda entry: (entry.name, entry.encoded_name, _leaf(entry.name)))
    if found is not None:
        return found
    close = _close(file, files)
    hint = f" Close matches: {', '.join(repr(c) for c in close)}." if close else ""
    raise PhraseNotFoundError(
        f"File {file!r} not found in folder {folder_label!r} of {where}.{hint} "
        f"Files there: {_listing_names(files)}."
    )
