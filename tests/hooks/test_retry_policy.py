"""The retry policy alone: what is retried, how long it waits, when it stops (no HTTP involved)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import tenacity
from pydantic import ValidationError

from airflow_phrase.classification import RequestKind
from airflow_phrase.hooks.retry import RetryPolicy, is_retryable, parse_retry_after
from airflow_phrase.hooks.transport import FailureKind, HttpStatusFailure, TransportFailure

NOW = datetime(2026, 11, 28, 10, 0, 0, tzinfo=timezone.utc)


def status(code: int, retry_after: str | None = None) -> HttpStatusFailure:
    return HttpStatusFailure(
        status=code,
        method="GET",
        path="/x",
        error_code=None,
        error_description=None,
        retry_after_raw=retry_after,
    )


def transport(kind: FailureKind) -> TransportFailure:
    return TransportFailure(kind=kind, method="GET", path="/x", detail="test")


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("3", 3.0), (" 120 ", 120.0), ("0", 0.0), ("1.5", 1.5), ("-4", 0.0)],
    )
    def test_delta_seconds(self, value: str, expected: float) -> None:
        assert parse_retry_after(value, now=NOW) == expected

    def test_http_date_in_the_future(self) -> None:
        header = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
        assert header.endswith("GMT")
        assert parse_retry_after(header, now=NOW) == 42.0

    def test_http_date_in_the_past_means_no_wait(self) -> None:
        header = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
        assert parse_retry_after(header, now=NOW) == 0.0

    @pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf", "Thu, 99 Foo 2026"])
    def test_absent_or_unreadable(self, value: str | None) -> None:
        assert parse_retry_after(value, now=NOW) is None


READ, LOGIN, START, CREATE = (
    RequestKind.READ,
    RequestKind.LOGIN,
    RequestKind.START_DOWNLOAD,
    RequestKind.CREATE_JOBS,
)


class TestIsRetryable:
    """The one table (airflow_phrase.classification), row by row."""

    @pytest.mark.parametrize("code", [429, 503])
    @pytest.mark.parametrize("kind", list(RequestKind))
    def test_transient_statuses_for_every_request(self, code: int, kind: RequestKind) -> None:
        assert is_retryable(status(code), kind=kind)

    @pytest.mark.parametrize("code", [408, 500, 502, 504, 599])
    def test_ambiguous_statuses_for_every_request_but_create_jobs(self, code: int) -> None:
        assert is_retryable(status(code), kind=READ)
        assert is_retryable(status(code), kind=LOGIN)
        assert is_retryable(status(code), kind=START)  # a spare download task at worst
        assert not is_retryable(status(code), kind=CREATE)  # jobs twice: reconcile instead

    @pytest.mark.parametrize("code", [400, 401, 403, 404, 405, 409, 415, 422, 501])
    @pytest.mark.parametrize("kind", list(RequestKind))
    def test_rejected_statuses_never(self, code: int, kind: RequestKind) -> None:
        assert not is_retryable(status(code), kind=kind)

    @pytest.mark.parametrize(
        ("failure_kind", "request_kind", "expected"),
        [
            (FailureKind.CONNECT, READ, True),
            (FailureKind.CONNECT, CREATE, True),
            (FailureKind.TIMEOUT, READ, True),
            (FailureKind.TIMEOUT, START, True),
            (FailureKind.TIMEOUT, CREATE, False),
            (FailureKind.DROPPED, LOGIN, True),
            (FailureKind.DROPPED, CREATE, False),
            (FailureKind.TLS, READ, False),
        ],
    )
    def test_transport_failures(
        self, failure_kind: FailureKind, request_kind: RequestKind, expected: bool
    ) -> None:
        assert is_retryable(transport(failure_kind), kind=request_kind) is expected

    def test_foreign_exceptions_are_not_retried(self) -> None:
        assert not is_retryable(ValueError("bug"), kind=READ)


def run(
    policy: RetryPolicy,
    failures: list[BaseException],
    *,
    method: str = "GET",
    kind: RequestKind = RequestKind.READ,
):
    """Drive tenacity with the policy over a scripted sequence of failures; return (waits, calls, outcome)."""
    waits: list[float] = []
    calls = 0

    def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls <= len(failures):
            raise failures[calls - 1]
        return "ok"

    retrying = tenacity.Retrying(
        sleep=waits.append, **policy.tenacity_kwargs(method=method, path="/x", kind=kind)
    )
    try:
        outcome: object = retrying(attempt)
    except Exception as exc:
        outcome = exc
    return waits, calls, outcome


class TestPolicyWithTenacity:
    def test_exponential_backoff_without_jitter(self) -> None:
        policy = RetryPolicy(max_attempts=5, initial_wait=1, max_wait=5, jitter=0)
        waits, calls, outcome = run(policy, [status(503)] * 4)
        assert outcome == "ok" and calls == 5
        assert waits == [1, 2, 4, 5]

    def test_jitter_stays_within_bounds(self) -> None:
        policy = RetryPolicy(max_attempts=30, initial_wait=0.5, max_wait=100, jitter=0.25)
        waits, _, _ = run(policy, [status(503)] * 4)
        for n, wait in enumerate(waits):
            assert 0.5 * 2**n <= wait <= 0.5 * 2**n + 0.25

    def test_retry_after_replaces_backoff(self) -> None:
        policy = RetryPolicy(initial_wait=0.1, max_wait=60, jitter=0)
        waits, _, outcome = run(policy, [status(429, "7"), status(429, "2")])
        assert outcome == "ok"
        assert waits == [7.0, 2.0]

    def test_retry_after_capped_by_max_wait(self) -> None:
        waits, _, _ = run(RetryPolicy(max_wait=5, jitter=0), [status(429, "120")])
        assert waits == [5.0]

    def test_waits_capped_by_remaining_budget_then_stop(self) -> None:
        policy = RetryPolicy(max_attempts=50, initial_wait=4, max_wait=60, total_timeout=10, jitter=0)
        waits, calls, outcome = run(policy, [status(503)] * 10)
        assert isinstance(outcome, HttpStatusFailure)
        assert waits == [4, 6]  # 4, then only 6 s of the 10 s budget are left
        assert calls == 3

    def test_stops_after_max_attempts_and_reraises_last_failure(self) -> None:
        waits, calls, outcome = run(RetryPolicy(max_attempts=3, initial_wait=0, jitter=0), [status(502)] * 9)
        assert calls == 3 and len(waits) == 2
        assert isinstance(outcome, HttpStatusFailure) and outcome.status == 502

    def test_not_retryable_failure_raises_at_once(self) -> None:
        waits, calls, outcome = run(RetryPolicy(), [status(404)])
        assert calls == 1 and waits == []
        assert isinstance(outcome, HttpStatusFailure) and outcome.status == 404

    def test_create_jobs_post_not_retried_on_502(self) -> None:
        waits, calls, outcome = run(RetryPolicy(), [status(502)], method="POST", kind=CREATE)
        assert calls == 1 and waits == []
        assert isinstance(outcome, HttpStatusFailure)

    def test_async_retrying_gets_the_same_decisions(self) -> None:
        import asyncio

        waits: list[float] = []
        calls = 0

        async def fake_sleep(seconds: float) -> None:
            waits.append(seconds)

        async def attempt() -> str:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise status(429, "3")
            if calls == 2:
                raise transport(FailureKind.CONNECT)
            return "ok"

        policy = RetryPolicy(initial_wait=0.5, jitter=0)
        retrying = tenacity.AsyncRetrying(
            sleep=fake_sleep, **policy.tenacity_kwargs(method="GET", path="/x", kind=READ)
        )
        assert asyncio.run(retrying(attempt)) == "ok"
        assert waits == [3.0, 1.0]  # Retry-After, then backoff for the second attempt

    def test_each_retry_logged_with_method_path_status_and_wait(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level("WARNING", logger="airflow_phrase.hooks.retry"):
            run(RetryPolicy(jitter=0), [status(429, "3")])
        [record] = [r for r in caplog.records if r.name == "airflow_phrase.hooks.retry"]
        assert record.levelname == "WARNING"
        message = record.getMessage()
        assert "GET /x" in message and "HTTP 429" in message and "3.00 s" in message


class TestPolicyModel:
    def test_defaults_match_the_connection_form(self) -> None:
        from airflow_phrase.get_provider_info import CONNECTION_FIELDS

        policy = RetryPolicy()
        assert policy.max_attempts == CONNECTION_FIELDS["max_attempts"]["schema"]["default"]
        assert policy.max_wait == CONNECTION_FIELDS["max_wait_seconds"]["schema"]["default"]
        assert policy.total_timeout == CONNECTION_FIELDS["retry_total_seconds"]["schema"]["default"]

    @pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"max_wait": -1}, {"jitter": -0.1}, {"retries": 3}])
    def test_rejects_nonsense(self, bad: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            RetryPolicy(**bad)  # type: ignore[arg-type]

    def test_immutable(self) -> None:
        with pytest.raises(ValidationError):
            RetryPolicy().max_attempts = 2  # type: ignore[misc]
