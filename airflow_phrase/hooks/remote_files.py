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

import hashlib
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from pydantic import AwareDatetime, BaseModel, ConfigDict

from airflow_phrase.exceptions import PhraseNotFoundError
from airflow_phrase.models import FolderListing, RemoteFile

ROOT_PATH = "/"


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC; a naive one is taken to be UTC (how Phrase means a timestamp without offset)."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class RemoteFileVersion(BaseModel):
    """One version of one remote file, by Phrase's encoded names: everything needed to ingest it without
    listing a folder again. Plain JSON (it crosses XCom and deferrals).

    :ivar connector_id: the connector's id (for ``/connectors/{connectorId}`` paths).
    :ivar encoded_folder: the folder as Phrase encodes it (``encodedCurrentFolder``; ``"/"`` for the root).
    :ivar encoded_name: the file as Phrase encodes it (``encodedName``).
    :ivar name: the file name (``"install.md"``); ``folder_path`` the readable folder (``"docs/guides"``).
    :ivar last_modified: the file's ``lastModified`` (UTC); ``size`` its size in bytes, when listed.
    """

    model_config = ConfigDict(frozen=True)

    connector_id: str
    encoded_folder: str
    encoded_name: str
    name: str
    folder_path: str
    last_modified: AwareDatetime | None = None
    size: int | None = None

    @property
    def path(self) -> str:
        """``"docs/guides/install.md"`` (``"install.md"`` in the root)."""
        folder = "" if self.folder_path in ("", ROOT_PATH) else self.folder_path.rstrip("/") + "/"
        return f"{folder}{self.name}"

    @property
    def file_key(self) -> str:
        """A short stable key of the file (connector, encoded folder, encoded name), not of its version."""
        raw = "\x1f".join((self.connector_id, self.encoded_folder, self.encoded_name))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]

    @property
    def version_key(self) -> str:
        """What tells two versions of the file apart in a listing: ``lastModified`` and size."""
        modified = self.last_modified.isoformat() if self.last_modified else "-"
        return f"{modified}|{self.size if self.size is not None else '-'}"

    def at(self, last_modified: datetime | None) -> RemoteFileVersion:
        return self.model_copy(update={"last_modified": last_modified})


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

    @property
    def version(self) -> RemoteFileVersion:
        """This file as a :class:`RemoteFileVersion` (its current version)."""
        return RemoteFileVersion(
            connector_id=self.connector_id,
            encoded_folder=self.encoded_folder,
            encoded_name=self.encoded_name,
            name=self.name,
            folder_path=self.folder_path,
            last_modified=as_utc(self.remote_file.last_modified),
            size=self.remote_file.size,
        )


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


def same_name(a: str | None, b: str | None) -> bool:
    """Whether two names are equal once both are NFC-normalized (decomposed ``u`` + U+0308 equals ``ü``);
    never for a missing name."""
    if a is None or b is None:
        return False
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
    import difflib  # only for a name that is not there

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
