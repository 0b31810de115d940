"""The time window a run ingests: files whose ``lastModified`` falls in ``[start, end)``.

The window is half-open so that consecutive hourly runs never both take a file modified exactly on
the hour: the run for 09:00-10:00 takes 09:59:59, the run for 10:00-11:00 takes 10:00:00.

Where it comes from, first match wins:

1. ``window_start`` (and optionally ``window_end``) given explicitly (Params), e.g. for a backfill by hand;
2. ``lookback_hours`` given: the hours before ``window_end``, the data interval's end, or now;
3. the run's data interval (scheduled, backfilled and cleared runs: the interval they stand for);
4. a run with no usable data interval (a zero-length one, or none): the hour before now.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk.exceptions import AirflowFailException
from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

DEFAULT_LOOKBACK = timedelta(hours=1)


class IngestionWindow(BaseModel):
    """``[start, end)`` in UTC, and how it was chosen (for the run's report)."""

    model_config = ConfigDict(frozen=True)

    start: AwareDatetime
    end: AwareDatetime
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> IngestionWindow:
        if self.start >= self.end:
            raise ValueError(
                f"window start {self.start.isoformat()} is not before its end {self.end.isoformat()}"
            )
        return self

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> str:
        return f"[{_fmt(self.start)}, {_fmt(self.end)}) ({self.source})"

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "source": self.source}


def _fmt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


_DATETIME = TypeAdapter(datetime)


def parse_moment(value: Any, name: str) -> datetime | None:
    """A datetime, or an ISO 8601 string (a naive one is taken as UTC); ``None``/``""`` → ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        moment = _DATETIME.validate_python(value.strip() if isinstance(value, str) else value)
    except ValidationError:
        raise AirflowFailException(
            f"{name}: {value!r} is not a date-time; use ISO 8601, e.g. 2026-11-28T09:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_hours(value: Any, name: str) -> timedelta | None:
    """A positive number of hours (int, float or numeric string); ``None``/``""`` → ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = float("nan")
    if not hours > 0 or hours == float("inf"):
        raise AirflowFailException(f"{name}: {value!r} is not a positive number of hours, e.g. 24 or 0.5")
    return timedelta(hours=hours)


def resolve_window(
    *,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    now: datetime,
    window_start: Any = None,
    window_end: Any = None,
    lookback_hours: Any = None,
) -> IngestionWindow:
    """Pick the window of a run (see the module docstring for the order)."""
    start = parse_moment(window_start, "window_start")
    end = parse_moment(window_end, "window_end")
    lookback = parse_hours(lookback_hours, "lookback_hours")
    interval_end = data_interval_end.astimezone(timezone.utc) if data_interval_end else None
    has_interval = bool(data_interval_start and interval_end and data_interval_start < interval_end)
    if end is None and start is None and lookback is None and has_interval:
        assert data_interval_start is not None and interval_end is not None
        return _window(data_interval_start, interval_end, "data interval")
    anchor = end or interval_end or now.astimezone(timezone.utc)
    if start is not None:
        return _window(start, anchor, "window_start/window_end" if end else "window_start")
    if lookback is not None:
        return _window(anchor - lookback, anchor, f"lookback_hours={lookback_hours}")
    if end is not None:
        return _window(end - DEFAULT_LOOKBACK, end, "window_end, 1 hour before it")
    return _window(anchor - DEFAULT_LOOKBACK, anchor, "no data interval: the hour before now")


def _window(start: datetime, end: datetime, source: str) -> IngestionWindow:
    try:
        return IngestionWindow(
            start=start.astimezone(timezone.utc), end=end.astimezone(timezone.utc), source=source
        )
    except ValidationError as exc:
        raise AirflowFailException(
            f"Invalid ingestion window: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
        ) from None
