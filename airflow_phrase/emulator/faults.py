"""Failure injection: fault rules (a sequence, or a seeded probability) and the per-token rate limit.

Matching: for each request under ``/web``, the rules are tried in order and the *first* rule whose
``method`` and ``path`` (a regex, full match against the path under ``/web``) match and that is not
exhausted decides. A sequence rule consumes one entry per matching request (``null`` = pass through)
and passes everything through once exhausted; a probability rule never runs out and draws from its own
``random.Random(seed)``, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections import deque
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from airflow_phrase.emulator.state.clock import Clock


class _WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Fault(_WireModel):
    """What to do to a request: answer ``status``, drop the connection, and/or answer late."""

    status: int | None = Field(default=None, ge=400, le=599)
    #: ``Retry-After`` header value (seconds or an HTTP date); ``None``: no header.
    retry_after: str | None = None
    #: Wait this long first (alone: a slow response, then normal handling).
    delay_seconds: float = Field(default=0.0, ge=0, le=300)
    #: Close the connection without any response.
    drop: bool = False
    #: Run the real handler first (its state changes happen), then replace or drop its response.
    after_handler: bool = False
    #: Send the error as an HTML page (as a gateway would) instead of Phrase's JSON error body.
    html: bool = False

    @model_validator(mode="after")
    def _does_something(self) -> Fault:
        if self.status is None and not self.drop and self.delay_seconds == 0:
            raise ValueError("a fault needs a status, drop=true or a delaySeconds")
        if self.status is not None and self.drop:
            raise ValueError("a fault either answers a status or drops the connection, not both")
        return self

    def describe(self) -> str:
        parts = []
        if self.delay_seconds:
            parts.append(f"delay {self.delay_seconds:g}s")
        if self.drop:
            parts.append("drop")
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.retry_after is not None:
            parts.append(f"Retry-After {self.retry_after}")
        if self.after_handler:
            parts.append("after handler")
        return ", ".join(parts)


class FaultRule(_WireModel):
    method: str = "*"
    path: str
    sequence: list[Fault | None] | None = None
    probability: float | None = Field(default=None, ge=0, le=1)
    fault: Fault | None = None
    seed: int | None = None

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> FaultRule:
        if (self.sequence is None) == (self.probability is None):
            raise ValueError("a fault rule has either a sequence or a probability (with a fault)")
        if self.probability is not None and self.fault is None:
            raise ValueError("a probability rule needs a fault")
        if self.sequence is not None and (self.fault is not None or self.seed is not None):
            raise ValueError("fault and seed belong to probability rules; a sequence lists its faults")
        return self


class _ActiveRule:
    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.pattern = re.compile(rule.path)
        self.remaining: deque[Fault | None] = deque(rule.sequence or [])
        self.random = random.Random(rule.seed)

    def matches(self, method: str, path: str) -> bool:
        if self.rule.method not in ("*", method) or not self.pattern.fullmatch(path):
            return False
        return self.rule.probability is not None or bool(self.remaining)

    def draw(self) -> Fault | None:
        if self.rule.probability is None:
            return self.remaining.popleft()
        return self.rule.fault if self.random.random() < self.rule.probability else None


class FaultInjector:
    """The active fault rules (thread-safe)."""

    def __init__(self) -> None:
        self._rules: list[_ActiveRule] = []
        self._lock = threading.Lock()

    def set_rules(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules = [_ActiveRule(r) for r in rules]

    def clear(self) -> None:
        self.set_rules([])

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, consuming one step of the first matching rule."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    return rule.draw()
            return None


class RateLimiter:
    """A sliding one-minute window of accepted requests per token. Rejected requests are not counted."""

    WINDOW_SECONDS = 60.0

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def admit(self, key: str, limit: int) -> tuple[bool, int]:
        """``(True, 0)`` if the request may go on, else ``(False, seconds until a slot frees)``."""
        now = self._clock.now()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and (now - seen[0]).total_seconds() >= self.WINDOW_SECONDS:
                seen.popleft()
            if len(seen) >= limit:
                wait = self.WINDOW_SECONDS - (now - seen[0]).total_seconds()
                return False, max(1, math.ceil(wait))
            seen.append(now)
            return True, 0
