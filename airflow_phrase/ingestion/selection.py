"""Listing a connector folder and choosing which files a run ingests.

Listing walks the folder (and, if asked, its subfolders) with the hook, descending only through the
encoded names Phrase returned. Selection is pure: the same listing, window and patterns always give the
same files in the same order (sorted by path), so a retried, cleared or backfilled run maps the same
files to the same map indexes.

Patterns are :mod:`fnmatch` patterns matched against the path *relative to the listed folder*
(``guides/install.md`` when listing ``docs``), case-sensitively; ``*`` also matches ``/``, so ``*.md``
matches Markdown files at any depth and ``legacy/*`` everything under ``legacy``. No include pattern means
every file; an exclude pattern always wins. Paths, patterns and names are compared in Unicode NFC
(:func:`~airflow_phrase.hooks.remote_files.normalized_name`), so a name stored decomposed (NFD) is found
typed composed, and the other way round; files keep Phrase's own names and encoded names.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException
from pydantic import AwareDatetime, BaseModel, ConfigDict

from airflow_phrase.hooks.remote_files import ROOT_PATH, RemoteFileVersion, normalized_name, split_path
from airflow_phrase.ingestion.window import IngestionWindow

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook


class ConnectorFile(BaseModel):
    """One file of a connector folder listing, with the names needed to ingest it."""

    model_config = ConfigDict(frozen=True)

    connector_id: str
    #: Human-readable folder of the file ("docs/guides"; "/" for the root).
    folder: str
    #: Encoded folder as Phrase gave it (``"/"``: the root).
    encoded_folder: str
    name: str
    encoded_name: str
    #: Path relative to the listed folder ("guides/install.md"): what patterns match against.
    relative_path: str
    last_modified: AwareDatetime | None = None
    size: int | None = None

    @property
    def path(self) -> str:
        """Full path in the connector ("docs/guides/install.md")."""
        return self.name if self.folder == ROOT_PATH else f"{self.folder}/{self.name}"

    @property
    def version(self) -> RemoteFileVersion:
        """The file's current version, with Phrase's encoded names (what an ingest task needs)."""
        return RemoteFileVersion(
            connector_id=self.connector_id,
            encoded_folder=self.encoded_folder,
            encoded_name=self.encoded_name,
            name=self.name,
            folder_path=self.folder,
            last_modified=self.last_modified,
            size=self.size,
        )

    @classmethod
    def of(cls, file: RemoteFileVersion, base_folder: str) -> ConnectorFile:
        """``file`` with its path relative to ``base_folder`` (the listed folder)."""
        base = split_path(base_folder)
        parts = split_path(file.folder_path)
        return cls(
            connector_id=file.connector_id,
            folder=file.folder_path,
            encoded_folder=file.encoded_folder,
            name=file.name,
            encoded_name=file.encoded_name,
            relative_path="/".join([*parts[len(base) :], file.name]),
            last_modified=file.last_modified,
            size=file.size,
        )


class FileSelection(BaseModel):
    """The files a run ingests, and how many were set aside and why (for the report)."""

    model_config = ConfigDict(frozen=True)

    selected: list[ConnectorFile]
    listed: int
    outside_window: int = 0
    without_timestamp: int = 0
    filtered_by_pattern: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "listed": self.listed,
            "selected": len(self.selected),
            "outside_window": self.outside_window,
            "without_timestamp": self.without_timestamp,
            "filtered_by_pattern": self.filtered_by_pattern,
        }


def list_connector_files(
    hook: PhraseTmsHook, connector_id: str, folder: str, *, recursive: bool
) -> list[ConnectorFile]:
    """Every file in ``folder`` of the connector (and below it if ``recursive``), sorted by path."""
    return sort_files(
        ConnectorFile.of(file, folder)
        for file in hook.list_folder_files(connector_id, folder, recursive=recursive)
    )


def sort_files(files: Iterable[ConnectorFile]) -> list[ConnectorFile]:
    """Deterministic order: by NFC path, case-insensitively, ties broken by the exact path."""
    return sorted(files, key=lambda f: (normalized_name(f.path).casefold(), f.path))


def matches_patterns(relative_path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a path passes the include patterns (none: all pass) and no exclude pattern (NFC-compared)."""
    path = normalized_name(relative_path)
    if include and not any(fnmatch.fnmatchcase(path, normalized_name(pattern)) for pattern in include):
        return False
    return not any(fnmatch.fnmatchcase(path, normalized_name(pattern)) for pattern in exclude)


def select_files(
    files: Iterable[ConnectorFile],
    *,
    window: IngestionWindow | None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> FileSelection:
    """The files that pass the patterns and, if a window is given, were modified within it."""
    listed = sort_files(files)
    selected: list[ConnectorFile] = []
    outside = undated = filtered = 0
    for file in listed:
        if not matches_patterns(file.relative_path, include, exclude):
            filtered += 1
        elif window is None:
            selected.append(file)
        elif file.last_modified is None:
            undated += 1
        elif window.contains(file.last_modified):
            selected.append(file)
        else:
            outside += 1
    return FileSelection(
        selected=selected,
        listed=len(listed),
        outside_window=outside,
        without_timestamp=undated,
        filtered_by_pattern=filtered,
    )


def split_delivered_translations(
    files: Iterable[ConnectorFile], target_langs: Iterable[str]
) -> tuple[list[ConnectorFile], list[ConnectorFile]]:
    """(sources, translations): the files that are not, and those that are, translations Phrase exported
    into the listed folder.

    Exporting jobs to the repository (``PhraseExportJobsToRepositoryOperator``) writes each translation
    into the connector's tree, ``<folder>/<targetLang>/<file name>`` beside the source
    ``<folder>/<file name>`` (the emulator's convention; where a real connector writes them depends on
    its settings). Ingesting those again would make jobs of translations. A file is a delivered
    translation when its parent folder is named after one of ``target_langs`` (language codes compared
    with :func:`~airflow_phrase.languages.normalise_language`, names in NFC) and a file of the same name
    is listed one folder up. Other layouts are kept out with ``exclude`` patterns.
    """
    from airflow_phrase.languages import normalise_language

    listed = list(files)
    langs = {normalise_language(lang) for lang in target_langs}
    paths = {normalized_name(file.path) for file in listed}
    sources: list[ConnectorFile] = []
    translations: list[ConnectorFile] = []
    for file in listed:
        folders = split_path(file.folder)
        source = "/".join([*folders[:-1], file.name])
        is_translation = (
            bool(folders)
            and normalise_language(normalized_name(folders[-1])) in langs
            and normalized_name(source) in paths
        )
        (translations if is_translation else sources).append(file)
    return sources, translations


def pick_named_files(files: Sequence[ConnectorFile], names: Sequence[str]) -> list[ConnectorFile]:
    """The files called ``names``: each a path relative to the folder, a full path, or a unique file name.

    Fails naming every name that matches no file (or more than one), with what the folder holds.
    """
    chosen: dict[str, ConnectorFile] = {}
    problems: list[str] = []
    for raw in names:
        name = raw.strip().strip("/")
        hits = _named(files, name, lambda text: text) or _named(files, normalized_name(name), normalized_name)
        if len(hits) == 1:
            chosen[hits[0].path] = hits[0]
        elif hits:
            problems.append(
                f"{raw!r} matches {len(hits)} files ({', '.join(f.relative_path for f in hits)}); "
                "give its path relative to the folder"
            )
        else:
            wanted = normalized_name(name.rsplit("/", 1)[-1])
            close = [
                f.relative_path
                for f in files
                if fnmatch.fnmatchcase(normalized_name(f.relative_path), f"*{wanted}*")
            ]
            hint = f"; did you mean {', '.join(map(repr, close[:3]))}?" if close else ""
            problems.append(f"{raw!r} is not in the folder{hint}")
    if problems:
        available = ", ".join(f.relative_path for f in files[:20]) or "none"
        raise AirflowFailException(
            "files: "
            + "; ".join(problems)
            + f". Files there: {available}"
            + (" ..." if len(files) > 20 else "")
        )
    return sort_files(chosen.values())


def _named(files: Sequence[ConnectorFile], name: str, form: Callable[[str], str]) -> list[ConnectorFile]:
    """Files whose relative or full path, else whose file name, is ``name`` once put in ``form``."""
    by_path = [f for f in files if name in (form(f.relative_path), form(f.path))]
    return by_path or [f for f in files if form(f.name) == name]


def check_limit(selection: Sequence[ConnectorFile], max_files: int) -> None:
    """Refuse a run that would start more ingestions than ``max_files`` (a window or pattern too wide)."""
    if len(selection) > max_files:
        raise AirflowFailException(
            f"{len(selection)} files selected, more than max_files={max_files}: narrow the window or the "
            "include patterns, or raise max_files (Params or the 'phrase_ingestion' Variable)."
        )


def ingest_kwargs(file: ConnectorFile, shared: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of one mapped ``PhraseIngestConnectorFileOperator`` task."""
    return {**shared, "connector": file.connector_id, "folder": file.folder, "file": file.name}


def file_record(file: ConnectorFile) -> dict[str, Any]:
    """Plain-JSON record of a selected file (XCom)."""
    return {
        "path": file.path,
        "relative_path": file.relative_path,
        "connector_id": file.connector_id,
        "folder": file.folder,
        "name": file.name,
        "last_modified": file.last_modified.isoformat() if file.last_modified else None,
    }
