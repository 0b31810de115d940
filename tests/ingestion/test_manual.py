"""The manual ingestion form, validated before anything reaches Phrase."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.ingestion.manual import ManualIngestionRequest, validate_manual_request

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def test_a_complete_form() -> None:
    request = validate_manual_request(
        {
            "connector": "Docs Git",
            "folder": "docs",
            "files": ["guides/install.md", "site/index.html"],
            "pattern": None,
            "recursive": True,
            "project_uid": "prjDocsReview00000001",
            "target_langs": ["de", "ES"],
            "pre_translate": True,
            "due": "2026-12-24T17:00:00",
            "modified_from": "",
        },
        environ={},
        now=NOW,
    )

    assert request.files == ["guides/install.md", "site/index.html"]
    assert request.settings.project_uid == "prjDocsReview00000001"
    assert request.settings.target_langs == ["de", "es"]
    assert request.window() is None
    assert request.extra_job_kwargs() == {"due": "2026-12-24T17:00:00+00:00"}
    assert request.settings.task_kwargs()["pre_translate"] is True


def test_pattern_is_the_include_setting_and_a_date_range_is_a_window() -> None:
    request = validate_manual_request(
        {"pattern": ["*.md"], "modified_from": "2026-11-01T00:00:00Z", "modified_to": "2026-11-08T00:00:00Z"},
        environ={},
        now=NOW,
    )

    assert request.settings.include == ["*.md"]
    window = request.window()
    assert window is not None
    assert (window.start.day, window.end.day) == (1, 8)


def test_the_request_survives_the_xcom_round_trip() -> None:
    request = validate_manual_request({"files": "guides/install.md"}, environ={}, now=NOW)

    assert ManualIngestionRequest.model_validate(request.model_dump(mode="json")) == request


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "choose what to ingest: give files, a pattern, or a date range"),
        ({"files": ["a.md"], "target_langs": ["de", "not a language"]}, "target_langs (from Params)"),
        ({"files": ["a.md"], "project_uid": "   "}, None),  # blank means "use the default"
        (
            {"modified_from": "2026-11-08T00:00:00Z", "modified_to": "2026-11-01T00:00:00Z"},
            "modified_from must be before modified_to",
        ),
        ({"modified_from": "last week"}, "modified_from"),
        ({"files": ["a.md"], "due": "2026-11-01T00:00:00Z"}, "due: 2026-11-01T00:00:00+00:00 is in the past"),
        (
            {"files": ["a.md"], "target_langs": ["de", "de"]},
            "target_langs (from Params): lists de more than once",
        ),
        ({"pattern": "[unclosed"}, "pattern (from Params)[0]: '[unclosed' opens a character class"),
        ({"pattern": ["*.md", "[unclosed"]}, "pattern (from Params)[1]: '[unclosed' opens a character class"),
    ],
    ids=[
        "nothing-chosen",
        "bad-language",
        "blank-project",
        "reversed-range",
        "bad-date",
        "past-due",
        "duplicate-language",
        "unclosed-pattern",
        "unclosed-pattern-in-list",
    ],
)
def test_bad_forms_fail_naming_the_field(form: dict, message: str | None) -> None:
    if message is None:
        assert (
            validate_manual_request(form, environ={}, now=NOW).settings.project_uid
            == "prjWebsite000000000001"
        )
        return
    with pytest.raises(AirflowFailException) as error:
        validate_manual_request(form, environ={}, now=NOW)
    assert message in str(error.value)
    assert "Invalid arguments for task 'validate_request'" in str(error.value)
