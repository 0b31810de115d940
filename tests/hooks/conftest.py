"""Fixtures for the hook tests: connections as ``AIRFLOW_CONN_*`` env vars and observable sleeps.

Integration tests talk to the real emulator over loopback HTTP (``phrase_emulator`` fixture from
``airflow_phrase.emulator.pytest_plugin``); nothing of the hook is mocked. Waits between retries go
through recording fakes, so a test sees the exact wait without spending wall time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_phrase.hooks.auth import TOKEN_CACHE
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from tests.hooks.support import DEMO_API_TOKEN, DEMO_PASSWORD, DEMO_USER, FAST_POLICY, SleepRecorder


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    # The emulator is re-seeded before each test, which invalidates tokens it issued earlier.
    TOKEN_CACHE.clear()
    yield
    TOKEN_CACHE.clear()


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """``set_connection("phrase_x", host=..., login=..., password=..., extra={...})`` -> the conn id."""

    def _set(conn_id: str, **fields: Any) -> str:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "phrase_tms", **fields})
        )
        return conn_id

    return _set


@pytest.fixture
def login_conn(phrase_emulator: Any, set_connection: Callable[..., str]) -> str:
    return set_connection(
        "phrase_login",
        host=phrase_emulator.base_url,
        login=DEMO_USER,
        password=DEMO_PASSWORD,
        extra={"contact": "l10n-team@example.com"},
    )


@pytest.fixture
def token_conn(phrase_emulator: Any, set_connection: Callable[..., str]) -> str:
    return set_connection(
        "phrase_token",
        host=phrase_emulator.base_url,
        password=DEMO_API_TOKEN,
        extra={"auth_type": "api_token"},
    )


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_hook(sleeps: SleepRecorder) -> Iterator[Callable[..., PhraseTmsHook]]:
    """Hooks with recorded sleeps and ``FAST_POLICY`` unless given; closed after the test."""
    hooks: list[PhraseTmsHook] = []

    def _make(conn_id: str, **kwargs: Any) -> PhraseTmsHook:
        kwargs.setdefault("retry_policy", FAST_POLICY)
        kwargs.setdefault("request_timeout", 10)
        hook = PhraseTmsHook(conn_id, sleep=sleeps, async_sleep=sleeps.asleep, **kwargs)
        hooks.append(hook)
        return hook

    yield _make
    for hook in hooks:
        hook.close()
