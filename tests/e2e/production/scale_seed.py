"""The production-shape suite's seed: the shipped demo seed plus one connector holding many files in nested
folders, with names and contents in several languages, and the project that receives them.

Generated per session (the file counts are parameters) into the session's temp dir and given to the
emulator with ``--seed``; the expectations of every test are derived from the same :class:`ScaleSeed`. Every
file ingests cleanly, and was modified 2 to 25 hours before the emulator (re)started: never within the
hour before a scheduled run of the hourly DAG, so a scheduled run the scheduler makes on its own finds none
of them (the tests' runs choose their window explicitly).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

FILES_ENV = "AIRFLOW_PHRASE_E2E_FILES"
FAULT_FILES_ENV = "AIRFLOW_PHRASE_E2E_FAULT_FILES"
DEFAULT_FILES = 200
DEFAULT_FAULT_FILES = 12
CONNECTOR_ID = "1901"
CONNECTOR_NAME = "Scale Git"
PROJECT_UID = "prjScaleSite0000000001"
TARGET_LANGS = ("de", "es", "fr_fr", "ja")
SCALE_FOLDER = "site"
#: Folders of the fault tests, each with its own files (a test ingests one folder).
FAULT_FOLDERS = {
    "worker-kill": "ops/worker-kill",
    "triggerer-kill": "ops/triggerer-kill",
    "scheduler-restart": "ops/scheduler-restart",
}
#: Sub-folders under a folder (nesting up to four levels) and file stems in several languages.
SUBFOLDERS = (
    "guides",
    "guides/getting-started",
    "api/v2/reference",
    "blog/2026/11",
    "de/anleitungen/über-uns",
    "fr/équipe",
    "ja/ドキュメント",
    "legal",
)
STEMS = ("overview", "überblick", "présentation", "概要", "release-notes", "FAQ and tips")
KINDS = (
    ("md", "text/markdown", "# {title}\n\nPage {n} of the Acme docs. Übersetzung, traduction, 翻訳.\n"),
    ("html", "text/html", "<h1>{title}</h1>\n<p>Page {n}: widgets for every team.</p>\n"),
    ("json", "application/json", '{{"title": "{title}", "page": {n}}}\n'),
)


@dataclass(frozen=True)
class ScaleSeed:
    """A written seed file and what it holds."""

    path: Path
    folders: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Folder → full connector paths of its files (recursively)."""
    connector_id: str = CONNECTOR_ID
    connector_name: str = CONNECTOR_NAME
    project_uid: str = PROJECT_UID
    target_langs: tuple[str, ...] = TARGET_LANGS

    def files(self, folder: str) -> tuple[str, ...]:
        return self.folders[folder]


def _count(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: give a positive number of files")
    return int(value)


def scale_file_count() -> int:
    """Files in the scale test's folder: ``AIRFLOW_PHRASE_E2E_FILES`` (default 200)."""
    return _count(FILES_ENV, DEFAULT_FILES)


def fault_file_count() -> int:
    """Files in each fault test's folder: ``AIRFLOW_PHRASE_E2E_FAULT_FILES`` (default 12)."""
    return _count(FAULT_FILES_ENV, DEFAULT_FAULT_FILES)


def _files(folder: str, count: int) -> list[dict[str, Any]]:
    files = []
    for n in range(count):
        extension, content_type, template = KINDS[n % len(KINDS)]
        subfolder = SUBFOLDERS[n % len(SUBFOLDERS)]
        stem = STEMS[(n // len(SUBFOLDERS)) % len(STEMS)]
        title = f"{stem} {n}"
        files.append(
            {
                "path": f"{folder}/{subfolder}/{stem}-{n:04d}.{extension}",
                "contentType": content_type,
                "lastModified": f"-{2 + (n % 47) / 2:g}h",
                "content": template.format(title=title, n=n),
            }
        )
    return files


def build_seed(*, scale_files: int, fault_files: int) -> dict[str, Any]:
    """The demo seed plus connector ``Scale Git`` (``scale_files`` under ``site/``, ``fault_files`` under each
    fault folder) and project ``prjScaleSite0000000001`` (en → de, es, fr_fr, ja)."""
    seed: dict[str, Any] = json.loads(
        resources.files("airflow_phrase.emulator").joinpath("seeds/demo.json").read_text(encoding="utf-8")
    )
    user = seed["users"][0]["userName"]
    files = _files(SCALE_FOLDER, scale_files)
    for folder in FAULT_FOLDERS.values():
        files += _files(folder, fault_files)
    seed["connectors"].append(
        {
            "id": CONNECTOR_ID,
            "name": CONNECTOR_NAME,
            "type": "GIT",
            "localToken": "c0nn-scale-git-5e1d7c0a9b42",
            "createdAt": "-90d",
            "createdBy": user,
            "files": files,
        }
    )
    seed["projects"].append(
        {
            "uid": PROJECT_UID,
            "id": "2901",
            "internalId": 9,
            "name": "Scale site",
            "sourceLang": "en",
            "targetLangs": list(TARGET_LANGS),
            "dateCreated": "-30d",
            "owner": user,
            "client": "Acme Platform",
        }
    )
    return seed


def write_seed(path: Path, *, scale_files: int, fault_files: int) -> ScaleSeed:
    """Write the seed to ``path`` (validated as the emulator will read it) and describe it."""
    from airflow_phrase.emulator.seed import load_seed

    seed = build_seed(scale_files=scale_files, fault_files=fault_files)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(seed, ensure_ascii=False, indent=1), encoding="utf-8")
    load_seed(path)  # fail here, naming the problem, rather than in the emulator's startup
    (connector,) = [c for c in seed["connectors"] if c["id"] == CONNECTOR_ID]
    folders = {
        folder: tuple(f["path"] for f in connector["files"] if f["path"].startswith(f"{folder}/"))
        for folder in (SCALE_FOLDER, *FAULT_FOLDERS.values())
    }
    return ScaleSeed(path=path, folders=folders)
