"""Settings of the example ingestion DAGs: Params > Variable > ``PHRASE_INGEST_*`` > defaults."""

from __future__ import annotations

import json

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.ingestion.settings import IngestionSettings, resolve_settings


def test_defaults_point_at_the_demo_seed() -> None:
    settings = resolve_settings(params={}, variable=None, environ={})

    assert settings == IngestionSettings()
    assert (settings.connector, settings.folder, settings.recursive) == ("Docs Git", "docs", True)
    assert settings.project_uid == "prjWebsite000000000001"
    assert settings.target_langs == ["de", "fr_fr", "ja"]
    assert settings.phrase_conn_id == "phrase_tms_default"


def test_params_beat_the_variable_which_beats_the_environment() -> None:
    environ = {
        "PHRASE_INGEST_FOLDER": "from-env",
        "PHRASE_INGEST_CONNECTOR": "env-connector",
        "PHRASE_INGEST_PROJECT_UID": "prjEnv",
        "UNRELATED": "x",
    }
    variable = json.dumps({"folder": "from-variable", "connector": "variable-connector"})
    params = {"folder": "from-params", "window_start": "2026-01-01T00:00:00Z"}

    settings = resolve_settings(params=params, variable=variable, environ=environ)

    assert settings.folder == "from-params"
    assert settings.connector == "variable-connector"
    assert settings.project_uid == "prjEnv"
    assert settings.target_langs == ["de", "fr_fr", "ja"]  # default


def test_empty_values_do_not_override_lower_layers() -> None:
    settings = resolve_settings(
        params={"folder": None, "connector": "  ", "target_langs": None},
        variable={"folder": "", "connector": "Marketing Drive"},
        environ={"PHRASE_INGEST_FOLDER": "Campaigns"},
    )

    assert (settings.folder, settings.connector) == ("Campaigns", "Marketing Drive")


@pytest.mark.parametrize(
    "raw",
    ["de, fr-FR", '["de", "fr_fr"]', ["de", "fr_fr"]],
    ids=["comma-separated", "json-string", "list"],
)
def test_lists_are_accepted_in_every_form_and_languages_normalised(raw: object) -> None:
    settings = resolve_settings(params={"target_langs": raw, "include": "*.md, guides/*"}, environ={})

    assert settings.target_langs == ["de", "fr_fr"]
    assert settings.include == ["*.md", "guides/*"]


def test_environment_booleans_and_numbers_are_parsed() -> None:
    settings = resolve_settings(
        params={},
        environ={
            "PHRASE_INGEST_RECURSIVE": "false",
            "PHRASE_INGEST_POLL_INTERVAL": "0.5",
            "PHRASE_INGEST_DEFERRABLE": "False",
        },
    )

    assert settings.recursive is False
    assert settings.poll_interval == 0.5
    assert settings.deferrable is False


@pytest.mark.parametrize("value", ["yes", "0", "1", "TRUE", "on"])
def test_flags_are_true_or_false_and_nothing_else(value: str) -> None:
    with pytest.raises(AirflowFailException) as error:
        resolve_settings(params={}, environ={"PHRASE_INGEST_RECURSIVE": value})
    assert "recursive (from the environment PHRASE_INGEST_RECURSIVE): must be true or false" in str(
        error.value
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"target_langs": ["de", "de"]}, "target_langs (from Params): lists de more than once", id="dup"
        ),
        pytest.param(
            {"target_langs": "de, DE"}, "target_langs (from Params): lists de more than once", id="dup-case"
        ),
        pytest.param(
            {"include": ["[unclosed"]},
            "include (from Params)[0]: '[unclosed' opens a character class with '[' that is never closed",
            id="unclosed",
        ),
        pytest.param(
            {"exclude": "*.md, draft[!"},
            "exclude (from Params)[1]: 'draft[!' opens a character class",
            id="unclosed-neg",
        ),
        pytest.param({"include": "[z-a].md"}, "has an empty character class", id="empty-range"),
        pytest.param({"poll_interval": 0}, "poll_interval (from Params): Value error, poll_interval", id="0"),
        pytest.param({"project_uid": "../../etc"}, "'../../etc' is not a Phrase uid", id="uid"),
        pytest.param(
            {"pre_translate": "yes"}, "pre_translate (from Params): must be true or false", id="yes"
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_field(params: dict[str, object], message: str) -> None:
    with pytest.raises(AirflowFailException) as error:
        resolve_settings(params=params, environ={})
    assert message.replace("Value error, ", "") in str(error.value)


def test_valid_patterns_with_brackets_pass() -> None:
    settings = resolve_settings(params={"include": "[[]draft].md, [!_]*.md, guide[0-9].md"}, environ={})
    assert settings.include == ["[[]draft].md", "[!_]*.md", "guide[0-9].md"]


def test_the_poll_interval_floor_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "1")
    with pytest.raises(AirflowFailException) as error:
        resolve_settings(params={"poll_interval": 0.2}, environ={})
    assert "poll_interval (from Params): poll_interval must be at least 1 seconds (got 0.2)" in str(
        error.value
    )
    assert resolve_settings(params={"poll_interval": 1}, environ={}).poll_interval == 1.0


def test_a_bad_value_names_the_field_and_where_it_came_from() -> None:
    with pytest.raises(AirflowFailException) as params_error:
        resolve_settings(params={"target_langs": ["de", "xx-"]}, environ={})
    assert "target_langs (from Params)" in str(params_error.value)
    assert "'xx_' is not a Phrase language code" in str(params_error.value)

    with pytest.raises(AirflowFailException) as env_error:
        resolve_settings(params={}, environ={"PHRASE_INGEST_MAX_FILES": "zero"})
    assert "max_files (from the environment PHRASE_INGEST_MAX_FILES)" in str(env_error.value)


def test_the_variable_must_be_a_json_object_with_known_keys() -> None:
    with pytest.raises(AirflowFailException, match="not valid JSON"):
        resolve_settings(params={}, variable="{folder: docs}", environ={})
    with pytest.raises(AirflowFailException, match="must hold a JSON object"):
        resolve_settings(params={}, variable="[1, 2]", environ={})
    with pytest.raises(AirflowFailException, match="unknown keys 'fodler'"):
        resolve_settings(params={}, variable={"fodler": "docs"}, environ={})


def test_task_kwargs_are_what_every_mapped_task_shares() -> None:
    plain = IngestionSettings().task_kwargs()
    assert plain == {
        "phrase_conn_id": "phrase_tms_default",
        "project_uid": "prjWebsite000000000001",
        "target_langs": ["de", "fr_fr", "ja"],
        "poll_interval": 10.0,
        "deferrable": True,
    }
    assert IngestionSettings(pre_translate=True).task_kwargs()["pre_translate"] is True
