"""Assertions and deadline-bounded waits shared by test modules."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def assert_exact_model(model: BaseModel, where: str = "") -> None:
    """Fail if ``model`` or any model nested in it kept unknown fields (``model_extra`` not empty).

    Response models accept unknown fields (``extra="allow"``); this checks that a payload, e.g. one the
    emulator produced, has no field the models do not declare.
    """
    extra = model.model_extra or {}
    assert not extra, f"{type(model).__name__} at {where or '<root>'} has unknown fields {sorted(extra)}"
    for name in type(model).model_fields:
        _check_nested(getattr(model, name), f"{where}.{name}" if where else name)


def _check_nested(value: Any, where: str) -> None:
    if isinstance(value, BaseModel):
        assert_exact_model(value, where)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_nested(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested(item, f"{where}.{key}")


def parse_exact(model: type[M], payload: Any) -> M:
    """Parse ``payload`` into ``model`` and check it carries exactly the declared fields, no more."""
    parsed = model.model_validate(payload)
    assert_exact_model(parsed)
    return parsed


def poll_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "",
) -> T:
    """Call ``fetch`` until ``done(value)``; return that value, or fail after ``timeout`` seconds.

    The tests' one poll-with-a-deadline: the emulator and Airflow run on real time, so tests wait on a
    condition, never for a fixed while.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout} s (last: {value!r})")
        time.sleep(interval)


def wait_until(predicate: Callable[[], bool], *, timeout: float = 20.0, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    poll_until(predicate, bool, timeout=timeout, interval=interval)


async def async_wait_until(
    predicate: Callable[[], bool], *, timeout: float = 20.0, interval: float = 0.02
) -> None:
    """``wait_until`` for code running in an event loop."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


#: The emulator seed's public demo credentials (see docs/emulator.md).
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"
DEMO_API_TOKEN = "demo-api-token-0123456789"


def use_emulator_connection(
    monkeypatch: pytest.MonkeyPatch,
    base_url: str,
    *,
    login: bool = False,
    conn_id: str = "phrase_tms_default",
    **extra: Any,
) -> str:
    """Point the Airflow connection ``conn_id`` (an ``AIRFLOW_CONN_*`` variable) at the emulator.

    Authenticates with the seed's API token, or as the demo user with ``login=True``; ``extra`` adds
    connection extras (retry settings). Returns ``conn_id``.
    """
    conn: dict[str, Any] = {"conn_type": "phrase_tms", "host": base_url}
    if login:
        conn.update(login=DEMO_USER, password=DEMO_PASSWORD, extra={"auth_type": "login", **extra})
    else:
        conn.update(password=DEMO_API_TOKEN, extra={"auth_type": "api_token", **extra})
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id
