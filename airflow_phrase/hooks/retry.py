"""The one retry policy of the Phrase TMS hook, shared by the sync (requests) and async (aiohttp) paths.

:class:`RetryPolicy` holds the numbers (attempts, backoff, budget, jitter) and builds the keyword
arguments for ``tenacity.Retrying`` *and* ``tenacity.AsyncRetrying``, so both transports retry exactly
alike. What is worth retrying is decided by :func:`is_retryable` from the failures the transports raise
(:class:`~airflow_phrase.hooks.failures.HttpStatusFailure`,
:class:`~airflow_phrase.hooks.failures.TransportFailure`), their class (transient, ambiguous, rejected)
and the kind of request, all read from the one table in :mod:`airflow_phrase.classification`: transient
failures are retried for every request, ambiguous ones for every request but the create-job POST (the
operators reconcile instead of creating twice), the export POST (it would export twice) and the
single-use target-file download (its ``asyncRequestId`` may be spent), rejected ones never.

The wait honours ``Retry-After`` (delta-seconds or HTTP-date) when the server sends it, capped by
``max_wait`` and by what is left of ``total_timeout``; otherwise it backs off exponentially with jitter.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import tenacity
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState

from airflow_phrase.classification import RequestKind, retried
from airflow_phrase.hooks.failures import HttpStatusFailure, TransportFailure

log = logging.getLogger(__name__)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value, or ``None`` if absent or unreadable.

    Accepts delta-seconds (``"3"``; a fractional value is tolerated) and an HTTP-date
    (``"Wed, 21 Oct 2026 07:28:00 GMT"``). A date in the past or a negative number gives ``0.0``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / infinity
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        when = when.replace(tzinfo=timezone.utc)
    reference = now or datetime.now(timezone.utc)
    return max(0.0, (when - reference).total_seconds())


def is_retryable(failure: BaseException, *, kind: RequestKind) -> bool:
    """Whether one failed attempt of a request of ``kind`` may be repeated (see the module docstring)."""
    if isinstance(failure, (HttpStatusFailure, TransportFailure)):
        return retried(failure.failure_class, kind)
    return False


def _budget_spent(retry_state: RetryCallState) -> float:
    # Wall time since the first attempt, but never less than the waits already requested: with an
    # injected (fake) sleep no wall time passes, and the budget must still be consumed by the waits.
    return max(retry_state.seconds_since_start or 0.0, retry_state.idle_for)


def _describe(failure: BaseException | None) -> str:
    if isinstance(failure, HttpStatusFailure):
        extra = f", Retry-After {failure.retry_after_raw!r}" if failure.retry_after_raw else ""
        return f"HTTP {failure.status}{extra}"
    if isinstance(failure, TransportFailure):
        return f"{failure.kind.value} ({failure.detail})"
    return type(failure).__name__


class _PolicyWait(tenacity.wait.wait_base):
    """Retry-After if the server sent one, else exponential backoff plus jitter; capped by the budget."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait)
        self.jitter = tenacity.wait_random(0, policy.jitter) if policy.jitter > 0 else tenacity.wait_none()

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = (
            parse_retry_after(failure.retry_after_raw) if isinstance(failure, HttpStatusFailure) else None
        )
        if retry_after is not None:
            wait = min(retry_after, self.policy.max_wait)
        else:
            wait = min(self.backoff(retry_state) + self.jitter(retry_state), self.policy.max_wait)
        remaining = self.policy.total_timeout - _budget_spent(retry_state)
        return max(0.0, min(wait, remaining))


class _PolicyStop(tenacity.stop.stop_base):
    """Stop after ``max_attempts`` attempts or once the ``total_timeout`` budget is used up."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.attempt_number >= self.policy.max_attempts:
            return True
        return _budget_spent(retry_state) >= self.policy.total_timeout


class RetryPolicy(BaseModel):
    """How persistently one Phrase request is retried. Immutable; build a new one to change it.

    Set per connection (extra ``max_attempts``, ``max_wait_seconds``, ``retry_total_seconds``), per hook
    (``PhraseTmsHook(retry_policy=...)``) or per call (``retry_policy=`` on every public hook method).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=6, ge=1, le=50, description="Attempts in total, the first included.")
    initial_wait: float = Field(default=1.0, ge=0, description="Backoff before the second attempt (s).")
    max_wait: float = Field(default=60.0, ge=0, description="Upper bound of one wait, Retry-After included.")
    total_timeout: float = Field(
        default=300.0, ge=0, description="No new attempt once this much time has passed since the first (s)."
    )
    jitter: float = Field(default=1.0, ge=0, description="Random extra of up to this many seconds per wait.")

    @classmethod
    def no_retry(cls) -> RetryPolicy:
        """A policy with a single attempt (useful for probes such as a connection test)."""
        return cls(max_attempts=1)

    def tenacity_kwargs(
        self,
        *,
        method: str,
        path: str,
        kind: RequestKind,
        logger: logging.Logger | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for ``tenacity.Retrying`` / ``tenacity.AsyncRetrying`` (add ``sleep=``).

        ``reraise=True``: when attempts run out, the last failure itself is raised, so the caller can
        turn it into a :class:`~airflow_phrase.exceptions.PhraseApiError` with the attempt count.
        """
        retry_logger = logger or log
        max_attempts = self.max_attempts

        def _retry(retry_state: RetryCallState) -> bool:
            if retry_state.outcome is None or not retry_state.outcome.failed:
                return False
            failure = retry_state.outcome.exception()
            return failure is not None and is_retryable(failure, kind=kind)

        def _before_sleep(retry_state: RetryCallState) -> None:
            failure = retry_state.outcome.exception() if retry_state.outcome else None
            wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
            retry_logger.warning(
                "Phrase TMS %s %s failed with %s; retrying in %.2f s (attempt %d of %d)",
                method,
                path,
                _describe(failure),
                wait,
                retry_state.attempt_number,
                max_attempts,
            )

        return {
            "stop": _PolicyStop(self),
            "wait": _PolicyWait(self),
            "retry": _retry,
            "before_sleep": _before_sleep,
            "reraise": True,
        }
