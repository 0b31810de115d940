"""Change detection of the scheduled ingestion: what the folder looked like after the last good run.

A run ingests every file that is **new to the pipeline or changed since the last run that succeeded**,
whatever its ``lastModified``: a file that arrives with an old ``lastModified`` (a Git merge of commits
authored days ago, a copy that kept its mtime), a file whose ``lastModified`` went *back* (a revert), the
changes of the hours the scheduler was down or of a run that failed. It compares the folder's listing
with the **baseline**: the versions (``lastModified`` and size) of the files the last successful run
listed, kept in Airflow's asset state store (``context["asset_state_store"]``, Airflow 3.3+) of the DAG's
:data:`WATERMARK_ASSET`, and written by the run's ``summarize`` step only when the run has no unexpected
failure. A failed run leaves the baseline as it was, so the next run covers its changes too.

The very first run (no baseline for this source yet) ingests the files modified within the **initial
look-back** (the ``initial_lookback_hours`` setting, 24 h by default) and records every file: it never
ingests a whole history by surprise.

A baseline is kept per *source*: the Phrase connection's base URL, the connector, the folder and whether
subfolders are included. Include/exclude patterns are applied before recording, so files a pattern
excluded are new to the pipeline when a pattern change lets them in.

Phrase stays the record against duplicates: a file selected here is still checked against Phrase's record
(see :mod:`airflow_phrase.ingestion.planning`) before anything is created.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from airflow_phrase.ingestion.selection import ConnectorFile

log = logging.getLogger(__name__)

#: Name and URI of the Asset whose state store keeps the baselines of ``phrase_connector_ingestion``.
WATERMARK_ASSET_NAME = "phrase_connector_ingestion_watermark"
WATERMARK_ASSET_URI = "phrase-ingestion://phrase_connector_ingestion/watermark"


class Baseline(BaseModel):
    """The versions of a source's files as listed by the last successful run.

    ``files`` maps :attr:`~airflow_phrase.hooks.remote_files.RemoteFileVersion.file_key` to
    :attr:`~airflow_phrase.hooks.remote_files.RemoteFileVersion.version_key`.
    """

    model_config = ConfigDict(frozen=True)

    listed_at: AwareDatetime
    #: When the run that listed it ended well and recorded it: every job that run created is older. A
    #: version the baseline did not see is newer than this (its jobs are created later).
    recorded_at: AwareDatetime | None = None
    target_langs: list[str] = Field(default_factory=list)
    run_id: str | None = None
    files: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(
        cls,
        files: Iterable[ConnectorFile],
        *,
        listed_at: datetime,
        target_langs: Iterable[str],
        run_id: str | None,
    ) -> Baseline:
        return cls(
            listed_at=listed_at,
            target_langs=list(target_langs),
            run_id=run_id,
            files={file.version.file_key: file.version.version_key for file in files},
        )

    @property
    def jobs_before(self) -> datetime:
        """Jobs created before this moment were created by runs up to the one that recorded this baseline."""
        return self.recorded_at or self.listed_at

    def version_of(self, file: ConnectorFile) -> str | None:
        """The version the baseline recorded for ``file`` (``None``: new to the pipeline)."""
        return self.files.get(file.version.file_key)


def source_key(*, base_url: str, connector_id: str, folder: str, recursive: bool) -> str:
    """The key of a source's baseline in the watermark Asset's state store."""
    raw = "\x1f".join((base_url.rstrip("/"), str(connector_id), folder.strip("/") or "/", str(recursive)))
    return "baseline:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def _store(context: Mapping[str, Any]) -> Any:
    stores = context.get("asset_state_store")
    if stores is None:
        return None
    from airflow.sdk import Asset

    try:
        return stores[Asset(name=WATERMARK_ASSET_NAME, uri=WATERMARK_ASSET_URI)]
    except (KeyError, TypeError):
        return None


def load_baseline(context: Mapping[str, Any], key: str) -> Baseline | None:
    """The baseline of the source ``key``, or ``None`` (first run, no state store, or unreadable)."""
    store = _store(context)
    if store is None:
        log.warning("No asset state store (Airflow < 3.3?): every run is treated as the first")
        return None
    raw = store.get(key)
    if raw is None:
        return None
    try:
        return Baseline.model_validate(raw)
    except ValidationError:
        log.warning("The stored baseline %s is unreadable; treating this run as the first", key)
        return None


def save_baseline(context: Mapping[str, Any], key: str, baseline: Baseline) -> bool:
    """Record ``baseline`` for the source ``key``; ``False`` when there is no state store."""
    store = _store(context)
    if store is None:
        return False
    store.set(key, baseline.model_dump(mode="json"))
    return True


__all__ = [
    "WATERMARK_ASSET_NAME",
    "WATERMARK_ASSET_URI",
    "Baseline",
    "load_baseline",
    "save_baseline",
    "source_key",
]
