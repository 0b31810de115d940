"""The window of a run: ``[start, end)`` from explicit params, a lookback, the data interval, or now."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.ingestion.window import IngestionWindow, resolve_window

UTC = timezone.utc
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
END = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 12, 34, tzinfo=UTC)


def test_a_scheduled_run_takes_its_data_interval() -> None:
    window = resolve_window(data_interval_start=START, data_interval_end=END, now=NOW)

    assert (window.start, window.end, window.source) == (START, END, "data interval")


def test_the_window_is_half_open_so_neighbouring_intervals_never_share_a_file() -> None:
    first = resolve_window(data_interval_start=START, data_interval_end=END, now=NOW)
    second = resolve_window(data_interval_start=END, data_interval_end=END + timedelta(hours=1), now=NOW)

    assert first.contains(START)
    assert first.contains(END - timedelta(microseconds=1))
    assert not first.contains(END)
    assert second.contains(END)
    assert not first.contains(START - timedelta(microseconds=1))


def test_explicit_start_and_end_override_the_data_interval_and_naive_means_utc() -> None:
    window = resolve_window(
        data_interval_start=START,
        data_interval_end=END,
        now=NOW,
        window_start="2026-11-01T00:00:00",
        window_end="2026-11-02T00:00:00+01:00",
    )

    assert window.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 1, 23, 0, tzinfo=UTC)


def test_window_start_alone_runs_to_the_data_interval_end() -> None:
    window = resolve_window(
        data_interval_start=START, data_interval_end=END, now=NOW, window_start="2026-11-27T00:00:00Z"
    )

    assert (window.start, window.end) == (datetime(2026, 11, 27, tzinfo=UTC), END)


def test_lookback_counts_back_from_the_window_end_the_interval_end_or_now() -> None:
    from_interval = resolve_window(
        data_interval_start=START, data_interval_end=END, now=NOW, lookback_hours=24
    )
    assert (from_interval.start, from_interval.end) == (END - timedelta(hours=24), END)

    from_end = resolve_window(
        data_interval_start=START,
        data_interval_end=END,
        now=NOW,
        lookback_hours="1.5",
        window_end="2026-11-28T06:00:00Z",
    )
    assert from_end.start == datetime(2026, 11, 28, 4, 30, tzinfo=UTC)

    from_now = resolve_window(data_interval_start=None, data_interval_end=None, now=NOW, lookback_hours=2)
    assert (from_now.start, from_now.end) == (NOW - timedelta(hours=2), NOW)


@pytest.mark.parametrize("interval", [(None, None), (END, END)], ids=["no interval", "zero-length"])
def test_without_a_usable_interval_a_run_takes_the_hour_before(interval: tuple) -> None:
    window = resolve_window(data_interval_start=interval[0], data_interval_end=interval[1], now=NOW)

    expected_end = interval[1] or NOW
    assert (window.start, window.end) == (expected_end - timedelta(hours=1), expected_end)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_start": "yesterday"}, "window_start: 'yesterday' is not a date-time"),
        ({"lookback_hours": -3}, "lookback_hours: -3 is not a positive number"),
        ({"lookback_hours": "many"}, "lookback_hours: 'many' is not a positive number"),
        ({"window_start": "2026-11-29T00:00:00Z"}, "is not before its end"),
    ],
)
def test_bad_window_params_fail_naming_the_param(kwargs: dict, message: str) -> None:
    with pytest.raises(AirflowFailException, match=message):
        resolve_window(data_interval_start=START, data_interval_end=END, now=NOW, **kwargs)


def test_window_serialises_for_the_report() -> None:
    window = IngestionWindow(start=START, end=END, source="data interval")

    assert window.to_json() == {"start": START.isoformat(), "end": END.isoformat(), "source": "data interval"}
    assert "2026-11-28 09:00:00 UTC" in window.describe()
