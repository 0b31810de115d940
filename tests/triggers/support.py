"""Helpers shared by the trigger and sensor tests: start real downloads, read the journal, run triggers.

Everything goes over loopback HTTP to the emulator; nothing of the hook or the triggers is mocked.
"""

from __future__ import annotations

from typing import Any

from airflow.triggers.base import BaseTrigger

from airflow_phrase.hooks.auth import TOKEN_CACHE
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import AsyncFileOpResponse

WEBSITE = "prjWebsite000000000001"
DOCS_REVIEW = "prjDocsReview00000001"
DOCS_GIT = "1001"
TASKS_PATH = "/api2/v1/connectorAsyncTasks"
OK_FILE = "docs/guides/install.md"
#: Seed files whose download task ends badly, and how.
ERROR_FILE = "docs/legacy/gone.md"
CONVERTER_ERROR_FILE = "docs/legacy/broken.docx"
SECRETS = ("demo-password", "demo-api-token-0123456789", "demo-bearer-token-0123456789")

#: Trigger retry policy for tests: quick, deterministic backoff.
FAST_RETRY: dict[str, Any] = {
    "max_attempts": 4,
    "initial_wait": 0.05,
    "max_wait": 0.2,
    "total_timeout": 10,
    "jitter": 0,
}


def start_downloads(conn_id: str, path: str, count: int = 1) -> list[AsyncFileOpResponse]:
    """Start ``count`` connector downloads of the seed file ``path`` (of connector "Docs Git")."""
    folder, _, name = path.rpartition("/")
    hook = PhraseTmsHook(conn_id)
    try:
        remote = hook.resolve_remote_file(DOCS_GIT, folder, name)
        return [
            hook.start_connector_download(remote.connector_id, remote.encoded_folder, remote.encoded_name)
            for _ in range(count)
        ]
    finally:
        hook.close()


def start_download(conn_id: str, path: str = OK_FILE) -> AsyncFileOpResponse:
    return start_downloads(conn_id, path)[0]


def task_calls(emulator: Any, since: int = 0) -> list[Any]:
    """``GET connectorAsyncTasks`` journal entries with ``seq > since``."""
    return [e for e in emulator.admin.journal(since=since) if e.method == "GET" and e.path == TASKS_PATH]


def started_at(entry: Any) -> float:
    """When the emulator began handling a journal entry, in epoch seconds (it records the end and the
    duration; the emulator runs on this machine's clock)."""
    return float(entry.time.timestamp() - entry.duration_ms / 1000)


def last_seq(emulator: Any) -> int:
    entries = emulator.admin.journal()
    return entries[-1].seq if entries else 0


async def all_events(trigger: BaseTrigger) -> list[dict[str, Any]]:
    """Run the trigger to its end and return the payloads of every event it yielded."""
    return [event.payload async for event in trigger.run()]


def cached_login_tokens() -> list[str]:
    """The login tokens the hooks of this process hold (to expire them in the emulator)."""
    return [cached.token.get_secret_value() for cached in TOKEN_CACHE._tokens.values()]
