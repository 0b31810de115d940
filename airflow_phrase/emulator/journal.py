"""The request journal: what reached the emulator under ``/web``, for tests to assert on.

Entries carry no secrets: no bodies, no headers except the ``User-Agent`` and the auth *scheme*, and
query values whose names mention a token or password are masked.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

_SECRET_PARAM = re.compile(r"token|password|secret", re.IGNORECASE)
MASK = "***"


class JournalEntry(BaseModel):
    """One request. ``status`` is ``None`` when the connection was dropped without a response."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    seq: int
    time: datetime
    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None
    duration_ms: float
    fault: str | None = None
    user_agent: str | None = None
    auth_scheme: str | None = None

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, if given."""
        values = self.query.get(name)
        return values[0] if values else None


def mask_query(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in items:
        query.setdefault(key, []).append(MASK if _SECRET_PARAM.search(key) else value)
    return query


class Journal:
    """A bounded, thread-safe list of ``JournalEntry`` with increasing ``seq`` numbers (from 1)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, **fields: object) -> JournalEntry:
        with self._lock:
            entry = JournalEntry.model_validate({"seq": next(self._seq), **fields})
            self._entries.append(entry)
            return entry

    def entries(self, since: int = 0) -> list[JournalEntry]:
        """Entries with ``seq`` greater than ``since``, oldest first."""
        with self._lock:
            return [e for e in self._entries if e.seq > since]

    def clear(self) -> None:
        """Forget all entries (``seq`` keeps counting, so ``since`` stays meaningful)."""
        with self._lock:
            self._entries.clear()
