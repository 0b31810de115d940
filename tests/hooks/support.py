"""Constants of the emulator's demo seed and small helpers shared by the hook tests."""

from __future__ import annotations

from typing import Any

from airflow_phrase.hooks.retry import RetryPolicy
from tests.helpers import DEMO_API_TOKEN as DEMO_API_TOKEN  # re-exported for the hook tests
from tests.helpers import poll_until

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_BEARER_TOKEN = "demo-bearer-token-0123456789"
WEBSITE = "prjWebsite000000000001"
DOCS_REVIEW = "prjDocsReview00000001"
DOCS_GIT = "1001"

#: Deterministic and fast: no jitter, short backoff; waits are recorded, never slept.
FAST_POLICY = RetryPolicy(max_attempts=4, initial_wait=0.5, max_wait=60, total_timeout=300, jitter=0)


class SleepRecorder:
    """Stands in for ``time.sleep`` / ``asyncio.sleep``: records each wait, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def journal(emulator: Any, path: str | None = None, method: str | None = None) -> list[Any]:
    """Journal entries, optionally only those for exactly ``path`` and ``method``."""
    return [
        entry
        for entry in emulator.admin.journal()
        if (path is None or entry.path == path) and (method is None or entry.method == method)
    ]


def wait_for_task(hook: Any, task_id: str, project_uid: str = WEBSITE, timeout: float = 20.0) -> Any:
    """Poll the task state until it is finished (a poll with a deadline; the emulator runs on real time)."""
    return poll_until(
        lambda: hook.get_connector_task_state(project_uid, task_id),
        lambda state: state is not None and state.status.is_finished,
        timeout=timeout,
        what=f"connector task {task_id} finished",
    )


def wait_for_async_request(hook: Any, request_id: str, timeout: float = 20.0) -> Any:
    return poll_until(
        lambda: hook.get_async_request(request_id),
        lambda request: request.is_finished,
        timeout=timeout,
        what=f"async request {request_id} finished",
    )
