"""Small helpers shared by the Phrase triggers: kwargs normalisation, deadlines, error classes."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timezone
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from airflow_phrase.classification import worth_polling_again
from airflow_phrase.hooks.retry import RetryPolicy

_AWARE_DATETIME: TypeAdapter[AwareDatetime] = TypeAdapter(AwareDatetime)


def retry_policy_kwarg(value: dict[str, Any] | RetryPolicy | None) -> dict[str, Any] | None:
    """Validate a trigger's ``retry_policy`` kwarg and return it as a plain (serializable) dict."""
    if value is None:
        return None
    policy = value if isinstance(value, RetryPolicy) else RetryPolicy.model_validate(value)
    return policy.model_dump(mode="json")


def retry_policy_of(value: dict[str, Any] | None) -> RetryPolicy | None:
    return RetryPolicy.model_validate(value) if value is not None else None


def created_after_kwarg(value: str | datetime | None) -> str | None:
    """Validate ``created_after`` (timezone-aware ISO 8601) and return it as an ISO string in UTC."""
    if value is None:
        return None
    try:
        parsed = _AWARE_DATETIME.validate_python(value)
    except ValidationError:
        raise ValueError(
            f"created_after must be a timezone-aware ISO 8601 date-time "
            f"(e.g. '2026-11-28T10:00:00+00:00'), got {value!r}"
        ) from None
    return parsed.astimezone(timezone.utc).isoformat()


def parse_created_after(value: str | None) -> datetime | None:
    return _AWARE_DATETIME.validate_python(value) if value is not None else None


def not_before_kwarg(value: float | None, poll_interval: float) -> float:
    """A trigger's ``not_before`` (absolute epoch seconds): ``value``, or one ``poll_interval`` from now.

    Computed once, when the trigger is built (in the worker, at the deferral), and serialized with the
    trigger: a trigger rebuilt by a restarted triggerer keeps its original time instead of waiting again.
    """
    if value is None:
        return time.time() + poll_interval
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"not_before must be absolute epoch seconds (a finite number), got {value!r}")
    return float(value)


def first_event_time(not_before: float, deadline: float | None) -> float:
    """The earliest epoch time a trigger may fire: ``not_before``, or the deadline when that comes first."""
    return not_before if deadline is None else min(not_before, deadline)


async def sleep_until(epoch: float) -> None:
    """Sleep until the absolute epoch time ``epoch`` (at once when it has passed)."""
    delay = epoch - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


def seconds_left(deadline: float | None) -> float | None:
    """Seconds until the absolute epoch ``deadline`` (never negative), or ``None`` without one."""
    if deadline is None:
        return None
    return max(0.0, deadline - time.time())


def epoch_text(epoch: float) -> str:
    """Absolute epoch seconds as ISO 8601 in UTC, for log lines and messages."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds")


def deadline_text(deadline: float | None) -> str:
    return "no deadline" if deadline is None else epoch_text(deadline)


def is_transient(error: BaseException) -> bool:
    """Whether polling again later may succeed where the hook's retries did not: a transient or ambiguous
    failure (the one table: :mod:`airflow_phrase.classification`). A wait that lasts minutes or hours
    should outlive a bad minute of the API."""
    return worth_polling_again(error)


def describe(error: BaseException) -> str:
    """A one-line description. This provider's exceptions never carry credentials."""
    return f"{type(error).__name__}: {error}"
