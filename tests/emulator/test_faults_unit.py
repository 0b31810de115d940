"""Fault rules, the rate limiter and the journal, without HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from airflow_phrase.emulator.faults import Fault, FaultInjector, FaultRule, RateLimiter
from airflow_phrase.emulator.journal import Journal, mask_query
from airflow_phrase.emulator.state import ManualClock

TASKS = "/api2/v1/connectorAsyncTasks"


def rule(**fields: object) -> FaultRule:
    return FaultRule.model_validate(fields)


def test_sequence_is_consumed_then_passes_through() -> None:
    injector = FaultInjector()
    injector.set_rules(
        [rule(method="get", path=r"/api2/v1/connector.*", sequence=[{"status": 503}, None, {"drop": True}])]
    )
    picks = [injector.pick("GET", TASKS) for _ in range(5)]
    assert [p.describe() if p else None for p in picks] == ["status 503", None, "drop", None, None]


def test_rules_match_method_and_full_path() -> None:
    injector = FaultInjector()
    injector.set_rules(
        [rule(method="POST", path="/api2/v1/projects/[^/]+/jobs/connectorTask", sequence=[{"status": 500}])]
    )
    assert injector.pick("GET", "/api2/v1/projects/p/jobs/connectorTask") is None
    assert injector.pick("POST", "/api2/v1/projects/p/jobs/connectorTask/extra") is None  # fullmatch
    fault = injector.pick("POST", "/api2/v1/projects/p/jobs/connectorTask")
    assert fault is not None and fault.status == 500


def test_first_matching_rule_that_is_not_exhausted_decides() -> None:
    injector = FaultInjector()
    injector.set_rules(
        [
            rule(path=TASKS, sequence=[{"status": 429, "retryAfter": "3"}]),
            rule(path=".*", sequence=[{"status": 502}, {"status": 503}]),
        ]
    )
    statuses = [getattr(injector.pick("GET", TASKS), "status", None) for _ in range(4)]
    assert statuses == [429, 502, 503, None]


def test_probability_rule_is_reproducible_with_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        injector = FaultInjector()
        injector.set_rules([rule(path=".*", probability=0.3, fault={"status": 500}, seed=seed)])
        return [injector.pick("GET", TASKS) is not None for _ in range(200)]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 30 <= sum(first) <= 90  # about 30 % of 200


def test_clear_removes_all_rules() -> None:
    injector = FaultInjector()
    injector.set_rules([rule(path=".*", probability=1, fault={"status": 500})])
    injector.clear()
    assert injector.pick("GET", TASKS) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"path": ".*"}, "either a sequence or a probability"),
        ({"path": ".*", "sequence": [], "probability": 0.5, "fault": {"status": 500}}, "either a sequence"),
        ({"path": ".*", "probability": 0.5}, "needs a fault"),
        ({"path": ".*", "sequence": [], "fault": {"status": 500}}, "belong to probability rules"),
        ({"path": "(", "sequence": []}, "path"),
        ({"path": ".*", "probability": 1.5, "fault": {"status": 500}}, "probability"),
        ({"path": ".*", "sequence": [{}]}, "a fault needs a status"),
        ({"path": ".*", "sequence": [{"status": 500, "drop": True}]}, "not both"),
        ({"path": ".*", "sequence": [{"status": 302}]}, "status"),
    ],
)
def test_invalid_rules_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FaultRule.model_validate(fields)


def test_fault_accepts_snake_and_camel_case() -> None:
    assert Fault(delay_seconds=0.5, after_handler=True) == Fault.model_validate(
        {"delaySeconds": 0.5, "afterHandler": True}
    )


def test_rate_limiter_sliding_window() -> None:
    clock = ManualClock()
    limiter = RateLimiter(clock)
    assert [limiter.admit("a", 3)[0] for _ in range(3)] == [True, True, True]
    clock.advance(20)
    assert limiter.admit("a", 3) == (False, 40)  # the oldest request leaves the window in 40 s
    assert limiter.admit("b", 3) == (True, 0)  # per key
    clock.advance(39.5)
    assert limiter.admit("a", 3) == (False, 1)
    clock.advance(0.5)
    assert limiter.admit("a", 3) == (True, 0)
    limiter.clear()
    assert all(limiter.admit("a", 3)[0] for _ in range(3))


def test_journal_since_clear_and_masking() -> None:
    journal = Journal(max_entries=3)
    now = datetime.now(timezone.utc)

    def record(path: str) -> int:
        return journal.record(time=now, method="GET", path=path, query={}, status=200, duration_ms=1.0).seq

    seqs = [record(f"/p{i}") for i in range(4)]
    assert seqs == [1, 2, 3, 4]
    assert [e.path for e in journal.entries()] == ["/p1", "/p2", "/p3"]  # bounded
    assert [e.seq for e in journal.entries(since=3)] == [4]
    journal.clear()
    assert journal.entries() == []
    assert record("/p5") == 5
    masked = mask_query([("projectUid", "p"), ("token", "secret"), ("taskType", "A"), ("taskType", "B")])
    assert masked == {"projectUid": ["p"], "token": ["***"], "taskType": ["A", "B"]}
