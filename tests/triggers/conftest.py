"""Fixtures of the trigger tests (the emulator fixtures come from the emulator's pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_phrase.hooks.auth import TOKEN_CACHE


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    # The emulator is re-seeded before each test, which invalidates the tokens it issued earlier.
    TOKEN_CACHE.clear()
    yield
    TOKEN_CACHE.clear()
