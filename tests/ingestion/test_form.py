"""The trigger form of ``phrase_manual_ingestion``: what it shows, what it refuses, what its answers mean.

Refusals are checked with the JSON Schema validation the API server runs when a run is triggered (the
``jsonschema`` check of each Param, as ``POST /dags/{dag_id}/dagRuns`` does); the browser test in
``tests/e2e/test_ui_e2e.py`` fills the real form.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from jsonschema import FormatChecker, ValidationError, validate

from airflow_phrase.ingestion.form import form_request, manual_form_params
from airflow_phrase.ingestion.manual import validate_manual_request

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
PARAMS = manual_form_params()


def accepted(field: str, value: Any) -> bool:
    try:
        validate(value, PARAMS[field].schema, format_checker=FormatChecker())
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("field", ["modified_from", "modified_to", "due"])
@pytest.mark.parametrize(
    "value",
    [
        "2026-11-28",
        "2026-11-28T09:00",
        "2026-11-28 09:00:00",
        "2026-11-28T09:00:00Z",
        "2026-11-28T09:00:00+01:00",
    ],
)
def test_iso_dates_are_accepted(field: str, value: str) -> None:
    assert accepted(field, value)


@pytest.mark.parametrize("value", ["28/11/2026", "yesterday", "2026-11-28T9", "2026-11-28T09:00:00 CET"])
def test_a_malformed_date_is_refused_by_the_form(value: str) -> None:
    """Reported bug: the date-time picker silently dropped a date it could not parse."""
    assert not accepted("modified_from", value)
    assert "format" not in PARAMS["modified_from"].schema  # a text field: what was typed is what is checked


def test_target_languages_one_code_per_line() -> None:
    # Blank lines are fine (what the UI's textarea sends for an empty line and a trailing newline).
    assert accepted("target_langs", ["de", "fr_fr", "", "pt-BR", "zh_hans_cn", ""])
    assert not accepted("target_langs", ["de", "klingon!"])


def test_lookback_must_be_positive() -> None:
    assert accepted("modified_within_hours", 168)
    assert not accepted("modified_within_hours", 0)
    assert not accepted("modified_within_hours", "a week")


def test_empty_fields_say_what_they_fall_back_to() -> None:
    assert "de, fr_fr, ja" in PARAMS["target_langs"].description
    for field in ("connector", "folder", "project_uid", "phrase_conn_id", "target_langs"):
        assert PARAMS[field].value is None, field  # pre-filling would override the Variable
        assert "built-in" in PARAMS[field].description, field
    assert PARAMS["connector"].schema["examples"][-1] == "Docs Git"
    assert PARAMS["project_uid"].schema["examples"][-1] == "prjWebsite000000000001"


def test_yes_no_fields_are_dropdowns_that_default_to_the_configuration() -> None:
    for field in ("recursive", "pre_translate"):
        schema = PARAMS[field].schema
        assert PARAMS[field].value is None
        assert schema["enum"] == [None, "yes", "no"]
        assert schema["values_display"]["null"].startswith("As configured")


def test_environment_settings_are_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHRASE_INGEST_CONNECTOR", "Website Git")
    assert manual_form_params()["connector"].schema["examples"] == ["Website Git", "Docs Git"]


def test_blank_lines_are_ignored_and_answers_become_settings() -> None:
    request = form_request(
        {
            "files": ["guides/install.md", "", "  "],
            "pattern": [""],
            "target_langs": ["de", "", "ja", ""],
            "recursive": "no",
            "pre_translate": None,
        }
    )
    assert request["files"] == ["guides/install.md"]
    assert request["pattern"] is None
    assert request["target_langs"] == ["de", "ja"]
    assert request["recursive"] is False and request["pre_translate"] is None

    validated = validate_manual_request(request, environ={}, now=NOW)
    assert validated.settings.target_langs == ["de", "ja"]
    assert validated.settings.recursive is False


def test_modified_within_hours_is_a_start_date() -> None:
    request = form_request({"modified_within_hours": 168}, now=NOW)
    assert request["modified_from"] == "2026-11-21T12:00:00+00:00"
    assert "modified_within_hours" not in request
    window = validate_manual_request(request, environ={}, now=NOW).window()
    assert window is not None and window.start == datetime(2026, 11, 21, 12, tzinfo=timezone.utc)


def test_a_given_start_date_wins_over_the_lookback() -> None:
    request = form_request({"modified_within_hours": 2, "modified_from": "2026-01-01"}, now=NOW)
    assert request["modified_from"] == "2026-01-01"


def test_a_bad_lookback_passed_with_conf_names_the_field() -> None:
    with pytest.raises(AirflowFailException, match="modified_within_hours: -3 is not a positive number"):
        form_request({"modified_within_hours": -3})
