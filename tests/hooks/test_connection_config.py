"""Parsing the Airflow connection into the hook's settings, and the errors for wrong settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_phrase.exceptions import PhraseConfigurationError
from airflow_phrase.hooks.connection import AuthType, parse_connection
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.hooks.retry import RetryPolicy

SECRET = "s3cr3t-token-value-0123456789"


def parse(
    host: str | None = None,
    login: str | None = None,
    password: str | None = SECRET,
    port: int | str | None = None,
    **extra: Any,
):
    return parse_connection(
        conn_id="phrase_x", host=host, login=login, password=password, extra=extra, port=port
    )


class TestBaseUrl:
    def test_default_is_eu(self) -> None:
        assert parse().base_url == "https://cloud.memsource.com/web"

    @pytest.mark.parametrize(
        ("dc", "url"),
        [("eu", "https://cloud.memsource.com/web"), ("US", "https://us.cloud.memsource.com/web")],
    )
    def test_data_center(self, dc: str, url: str) -> None:
        assert parse(data_center=dc).base_url == url

    def test_host_wins_and_trailing_slash_dropped(self) -> None:
        assert (
            parse(host="http://127.0.0.1:8080/web/", data_center="us").base_url == "http://127.0.0.1:8080/web"
        )

    @pytest.mark.parametrize("host", ["cloud.memsource.com/web", "127.0.0.1:8080", "ftp://x/web"])
    def test_host_without_http_scheme_rejected_with_fix(self, host: str) -> None:
        with pytest.raises(PhraseConfigurationError) as err:
            parse(host=host)
        message = str(err.value)
        assert (
            "phrase_x" in message
            and "Base URL (host)" in message
            and "https://cloud.memsource.com/web" in message
        )

    def test_unknown_data_center(self) -> None:
        with pytest.raises(PhraseConfigurationError, match=r"data_center.*'apac'.*'eu'.*'us'"):
            parse(data_center="apac")


class TestPort:
    """Port is optional and only ever agrees with the base URL (it exists for Airflow's Test button)."""

    @pytest.mark.parametrize("port", [443, "443"])
    def test_data_centre_on_443(self, port: int | str) -> None:
        assert parse(port=port, data_center="us").base_url == "https://us.cloud.memsource.com/web"

    def test_data_centre_on_another_port_names_the_fix(self) -> None:
        expected = r"Port is 8443 .*data centre 'eu'.* Set Port to 443"
        with pytest.raises(PhraseConfigurationError, match=expected):
            parse(port=8443)

    def test_host_without_port_gets_it(self) -> None:
        assert parse(host="http://127.0.0.1/web", port=8080).base_url == "http://127.0.0.1:8080/web"

    @pytest.mark.parametrize(
        ("host", "port"), [("http://127.0.0.1:8080/web", 8080), ("https://proxy.example.com/web", 443)]
    )
    def test_host_on_the_same_port_is_unchanged(self, host: str, port: int) -> None:
        assert parse(host=host, port=port).base_url == host

    def test_host_on_another_port_names_both(self) -> None:
        expected = r"Port is 9000 but Base URL .*8080.* Set Port to 8080"
        with pytest.raises(PhraseConfigurationError, match=expected):
            parse(host="http://127.0.0.1:8080/web", port=9000)

    @pytest.mark.parametrize("port", [0, -1, 70000, "http"])
    def test_invalid_port(self, port: int | str) -> None:
        with pytest.raises(PhraseConfigurationError, match="Port is"):
            parse(port=port)

    def test_hook_reads_the_port_of_the_connection(self, monkeypatch: pytest.MonkeyPatch) -> None:
        conn = {"conn_type": "phrase_tms", "host": "http://127.0.0.1/web", "port": 8181, "password": SECRET}
        monkeypatch.setenv("AIRFLOW_CONN_PHRASE_PORTED", json.dumps(conn))
        assert PhraseTmsHook("phrase_ported").web_app_url == "http://127.0.0.1:8181/web"


class TestAuth:
    def test_login_is_default_when_login_set(self) -> None:
        config = parse(login="demo")
        assert config.auth_type is AuthType.LOGIN and config.user_name == "demo"

    def test_api_token_is_default_without_login(self) -> None:
        assert parse().auth_type is AuthType.API_TOKEN

    @pytest.mark.parametrize("auth_type", ["bearer", "Bearer", " api_token "])
    def test_explicit(self, auth_type: str) -> None:
        assert parse(login="demo", auth_type=auth_type).auth_type.value == auth_type.strip().lower()

    def test_login_mode_needs_login(self) -> None:
        with pytest.raises(PhraseConfigurationError, match="Login"):
            parse(auth_type="login")

    @pytest.mark.parametrize("auth_type", ["login", "api_token", "bearer"])
    def test_password_required(self, auth_type: str) -> None:
        with pytest.raises(PhraseConfigurationError, match="Password"):
            parse(login="demo", password="", auth_type=auth_type)

    def test_unknown_auth_type(self) -> None:
        with pytest.raises(PhraseConfigurationError, match=r"auth_type.*'oauth'"):
            parse(auth_type="oauth")

    def test_secret_not_in_repr_or_dump(self) -> None:
        config = parse(login="demo")
        assert SECRET not in repr(config)
        assert SECRET not in str(config.model_dump())
        assert config.secret.get_secret_value() == SECRET


class TestSettings:
    def test_retry_and_timeout_from_extra_strings(self) -> None:
        config = parse(
            max_attempts="3", max_wait_seconds="2.5", retry_total_seconds=30, request_timeout_seconds="9"
        )
        assert config.retry_policy == RetryPolicy(max_attempts=3, max_wait=2.5, total_timeout=30)
        assert config.request_timeout == 9.0

    def test_blank_values_use_defaults(self) -> None:
        config = parse(max_attempts="", max_wait_seconds=None, request_timeout_seconds="")
        assert config.retry_policy == RetryPolicy()
        assert config.request_timeout == 60.0

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("max_attempts", 0),
            ("max_attempts", "many"),
            ("max_wait_seconds", -1),
            ("request_timeout_seconds", "0"),
            ("request_timeout_seconds", "x"),
        ],
    )
    def test_bad_numbers_name_the_field(self, key: str, value: object) -> None:
        with pytest.raises(PhraseConfigurationError) as err:
            parse(**{key: value})
        assert repr(key) in str(err.value) or key in str(err.value)
        assert SECRET not in str(err.value)

    def test_user_agent(self) -> None:
        from airflow_phrase import __version__

        assert (
            parse().user_agent("3.3.2") == f"airflow-provider-phrase-tms/{__version__} (Apache Airflow 3.3.2)"
        )
        assert (
            parse(contact="l10n@example.com")
            .user_agent("3.3.2")
            .endswith("(Apache Airflow 3.3.2; l10n@example.com)")
        )


class TestHookReadsConnectionLazily:
    def test_no_lookup_in_init(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # The connection does not exist: constructing must still work (DAG parsing, test button).
        monkeypatch.delenv("AIRFLOW_CONN_NOT_THERE", raising=False)
        hook = PhraseTmsHook("not_there")
        assert repr(hook) == "PhraseTmsHook(phrase_conn_id='not_there')"

    def test_sync_and_async_lookups_give_the_same_settings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import asyncio

        conn = {
            "conn_type": "phrase_tms",
            "host": "http://127.0.0.1:9/web",
            "login": "demo",
            "password": SECRET,
            "extra": {"max_attempts": 2, "contact": "ops@example.com"},
        }
        monkeypatch.setenv("AIRFLOW_CONN_PHRASE_LAZY", json.dumps(conn))
        sync_config = PhraseTmsHook("phrase_lazy")._connection_config()

        async def read() -> Any:
            return await PhraseTmsHook("phrase_lazy")._a_connection_config()

        assert asyncio.run(read()) == sync_config
        assert sync_config.retry_policy.max_attempts == 2
        assert SECRET not in repr(PhraseTmsHook("phrase_lazy"))

    def test_configuration_error_surfaces_on_first_use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        conn = {"conn_type": "phrase_tms", "host": "127.0.0.1:8080", "password": SECRET}
        monkeypatch.setenv("AIRFLOW_CONN_PHRASE_BAD", json.dumps(conn))
        hook = PhraseTmsHook("phrase_bad")
        with pytest.raises(PhraseConfigurationError, match=r"not a full http\(s\) URL"):
            hook.who_am_i()
        ok, message = hook.test_connection()
        assert not ok and "Base URL" in message and SECRET not in message
