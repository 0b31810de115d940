"""``narrow_job_request``: a create-job request for only the languages still missing jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from airflow_phrase.hooks.job_matching import missing_languages, order_jobs
from airflow_phrase.hooks.results import JobSummary
from airflow_phrase.models import JobCreateRequest
from airflow_phrase.operators.params import narrow_job_request

DUE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _assign(lang: str, provider: str) -> dict[str, Any]:
    return {"targetLang": lang, "providers": [{"id": provider, "type": "USER"}]}


def test_drops_the_assignments_of_languages_not_created() -> None:
    request = JobCreateRequest.model_validate(
        {
            "targetLangs": ["de", "fr_fr", "ja"],
            "assignments": [_assign("de", "1"), _assign("ja", "3"), _assign("fr_fr", "2")],
            "path": "docs/guides",
            "preTranslate": True,
            "due": DUE,
        }
    )

    narrowed = narrow_job_request(request, ["ja", "fr_fr"])

    wire = narrowed.to_wire()
    assert wire["targetLangs"] == ["fr_fr", "ja"]  # the request's order, not the argument's
    assert wire["assignments"] == [_assign("ja", "3"), _assign("fr_fr", "2")]
    assert wire["path"] == "docs/guides" and wire["preTranslate"] is True
    assert wire["due"] == request.to_wire()["due"]
    assert request.target_langs == ["de", "fr_fr", "ja"]  # the original is left alone


def test_no_assignment_left_means_none_sent() -> None:
    request = JobCreateRequest.model_validate(
        {"targetLangs": ["de", "ja"], "assignments": [_assign("de", "1")]}
    )

    narrowed = narrow_job_request(request, ["ja"])

    assert narrowed.assignments is None
    assert narrowed.to_wire() == {"targetLangs": ["ja"]}


def test_keeps_every_workflow_step_and_narrows_the_assignments_inside() -> None:
    notify = {"organizationEmailTemplate": {"id": "55"}, "notificationIntervalInMinutes": 30}
    request = JobCreateRequest.model_validate(
        {
            "targetLangs": ["de", "es"],
            "workflowSettings": [
                {"id": "7001", "due": DUE, "assignments": [_assign("de", "1"), _assign("es", "2")]},
                {"id": "7002", "assignments": [_assign("de", "3")], "notifyProvider": notify},
            ],
        }
    )

    narrowed = narrow_job_request(request, ["es"])

    steps = narrowed.to_wire()["workflowSettings"]
    assert [step["id"] for step in steps] == ["7001", "7002"]
    assert steps[0]["assignments"] == [_assign("es", "2")]
    assert steps[0]["due"] == request.to_wire()["workflowSettings"][0]["due"]
    assert steps[1]["assignments"] == []
    assert steps[1]["notifyProvider"] == notify
    assert narrowed.target_langs == ["es"]


def test_the_unnarrowed_assignments_would_be_refused() -> None:
    """Why narrowing is needed: the request model refuses assignments for languages it does not create."""
    with pytest.raises(ValidationError, match="assignments name target languages de"):
        JobCreateRequest.model_validate({"targetLangs": ["es"], "assignments": [_assign("de", "1")]})


def test_languages_match_in_any_spelling() -> None:
    request = JobCreateRequest.model_validate({"targetLangs": ["de", "fr_fr"]})

    assert narrow_job_request(request, ["fr-FR"]).target_langs == ["fr_fr"]


def test_nothing_to_create_is_an_error() -> None:
    request = JobCreateRequest.model_validate({"targetLangs": ["de"]})

    with pytest.raises(ValueError, match="none of ja is among the request's target languages de"):
        narrow_job_request(request, ["ja"])


def _job(uid: str, lang: str, level: int | None = 1) -> JobSummary:
    return JobSummary(uid=uid, target_lang=lang, workflow_level=level)


def test_missing_languages_keeps_the_requested_order() -> None:
    jobs = [_job("a", "fr_fr"), _job("b", "DE")]

    assert missing_languages(["ja", "de", "es", "fr_fr"], jobs) == ["ja", "es"]
    assert missing_languages(["de"], jobs) == []


def test_job_order_is_requested_language_then_workflow_level() -> None:
    jobs = [
        _job("1", "de", 2),
        _job("2", "xx", 1),
        _job("3", "ja", 2),
        _job("4", "de", 1),
        _job("5", "ja", None),
    ]

    ordered = order_jobs(["ja", "de"], jobs)

    assert [(job.target_lang, job.workflow_level) for job in ordered] == [
        ("ja", None),
        ("ja", 2),
        ("de", 1),
        ("de", 2),
        ("xx", 1),
    ]
    assert order_jobs(["de"], [*jobs, jobs[0]]) == order_jobs(["de"], jobs)  # each job once
