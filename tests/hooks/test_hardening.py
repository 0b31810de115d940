"""Configuration and authentication failures fail at once, and no credential reaches a message.

Against the emulator over HTTP: the journal shows how many requests each mistake cost (none for a
mistake the connection itself shows, one for wrong credentials).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
import requests
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.classification import FailureClass
from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseAuthenticationError,
    PhraseConfigurationError,
    PhraseRequestRejectedError,
    phrase_api_error,
)
from airflow_phrase.hooks.connection import parse_connection
from airflow_phrase.hooks.phrase_tms import LOGIN_PATH, PhraseTmsHook
from airflow_phrase.hooks.transport import HttpCall, check_header_values, send_sync
from tests.hooks.support import DEMO_API_TOKEN, DEMO_USER, journal

MakeHook = Callable[..., PhraseTmsHook]
SECRET = "Secret-Value-0123456789"


class TestFailAtOnce:
    def test_wrong_password_is_an_authentication_error_that_fails_the_task(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        conn = set_connection("phrase_wrong", host=phrase_emulator.base_url, login=DEMO_USER, password=SECRET)
        with pytest.raises(PhraseAuthenticationError) as err:
            make_hook(conn).who_am_i()
        assert isinstance(err.value, AirflowFailException)  # Airflow does not retry it
        assert err.value.status == 401 and err.value.error_code == "AuthInvalidCredentials"
        assert "Check the Airflow connection's Login and Password" in str(err.value)
        assert SECRET not in str(err.value)
        assert [(e.path, e.status) for e in journal(phrase_emulator)] == [(LOGIN_PATH, 401)]

    async def test_wrong_token_fails_at_once_on_the_async_path(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        conn = set_connection(
            "phrase_wrong", host=phrase_emulator.base_url, password=SECRET, extra={"auth_type": "api_token"}
        )
        async with make_hook(conn) as hook:
            with pytest.raises(PhraseAuthenticationError) as err:
                await hook.a_who_am_i()
        assert err.value.attempts == 1 and SECRET not in str(err.value)

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            pytest.param({"login": DEMO_USER}, "Password is empty", id="missing-password"),
            pytest.param({"login": DEMO_USER, "password": "  \n"}, "Password is empty", id="blank-password"),
            pytest.param(
                {"password": "tok en-with-space"}, "holds a token with a space", id="space-inside-token"
            ),
            pytest.param({"password": f"{SECRET}\nsecond-line"}, "line break", id="line-break-inside-token"),
            pytest.param({"password": DEMO_API_TOKEN, "conn_type": "http"}, "Connection Type", id="http"),
            pytest.param(
                {"password": DEMO_API_TOKEN, "extra": {"contact": "me\r\nX-Evil: 1"}},
                "extra 'contact'",
                id="contact-with-line-break",
            ),
        ],
    )
    def test_connection_mistakes_fail_before_any_request(
        self,
        phrase_emulator: Any,
        set_connection: Callable[..., str],
        make_hook: MakeHook,
        fields: dict[str, Any],
        expected: str,
    ) -> None:
        conn = set_connection("phrase_bad", host=phrase_emulator.base_url, **fields)
        with pytest.raises(PhraseConfigurationError) as err:
            make_hook(conn).who_am_i()
        assert isinstance(err.value, AirflowFailException)
        assert expected in str(err.value) and "phrase_bad" in str(err.value)
        assert SECRET not in str(err.value)
        assert journal(phrase_emulator) == []

    async def test_a_connection_of_another_type_fails_on_the_async_path_too(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        conn = set_connection(
            "phrase_http", host=phrase_emulator.base_url, password=DEMO_API_TOKEN, conn_type="http"
        )
        async with make_hook(conn) as hook:
            with pytest.raises(PhraseConfigurationError, match="Connection Type is 'http', not 'phrase_tms'"):
                await hook.a_who_am_i()
        assert journal(phrase_emulator) == []


class TestSecretsStayOut:
    def test_a_token_pasted_with_a_trailing_line_break_works(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        conn = set_connection(
            "phrase_pasted",
            host=phrase_emulator.base_url,
            password=f"  {DEMO_API_TOKEN}\n",
            extra={"auth_type": "api_token"},
        )
        assert make_hook(conn).who_am_i().user.user_name == DEMO_USER
        assert [e.status for e in journal(phrase_emulator)] == [200]

    def test_the_stripped_token_is_what_gets_masked(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        from airflow.sdk.log import _secrets_masker

        conn = set_connection(
            "phrase_pasted",
            host=phrase_emulator.base_url,
            password=f"{SECRET}\n",
            extra={"auth_type": "bearer"},
        )
        with pytest.raises(PhraseAuthenticationError):
            make_hook(conn).who_am_i()
        assert SECRET not in _secrets_masker().redact(f"Authorization: 'Bearer {SECRET}'")

    @pytest.mark.parametrize(
        "host",
        [f"http://user:{SECRET}@127.0.0.1:8080/web", f"https://{SECRET}@cloud.memsource.com/web"],
    )
    def test_userinfo_in_the_base_url_is_refused_without_echoing_it(self, host: str) -> None:
        with pytest.raises(PhraseConfigurationError) as err:
            parse_connection(conn_id="phrase_x", host=host, login=None, password=DEMO_API_TOKEN, extra={})
        assert "contains a user name or password" in str(err.value) and "Login" in str(err.value)
        assert SECRET not in str(err.value)

    def test_a_malformed_url_with_at_sign_is_not_echoed(self) -> None:
        with pytest.raises(PhraseConfigurationError) as err:
            parse_connection(
                conn_id="phrase_x", host=f"user:{SECRET}@host/web", login=None, password="t", extra={}
            )
        assert "is not a full http(s) URL" in str(err.value) and SECRET not in str(err.value)

    @pytest.mark.parametrize(
        "value", [f"ApiToken {SECRET}\n", f"ApiToken {SECRET}\r\nX: y", f"Bearer {SECRET}\u2019"]
    )
    def test_header_values_are_checked_before_sending_and_never_quoted(self, value: str) -> None:
        call = HttpCall(method="GET", base_url="http://127.0.0.1:9/web", path="/api2/v1/auth/whoAmI")
        with pytest.raises(PhraseConfigurationError) as err:
            check_header_values({"Authorization": value}, call)
        assert "Authorization header" in str(err.value) and SECRET not in str(err.value)
        with requests.Session() as session, pytest.raises(PhraseConfigurationError) as sent:
            send_sync(session, call, headers={"Authorization": value}, timeout=1)
        assert SECRET not in str(sent.value) and sent.value.__cause__ is None

    def test_unexpected_http_library_errors_lose_their_text(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """requests quotes header values in some errors: such an error is replaced, not chained."""

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise requests.exceptions.InvalidHeader(f"Invalid header value 'ApiToken {SECRET}'")

        call = HttpCall(method="GET", base_url="http://127.0.0.1:9/web", path="/x")
        with requests.Session() as session:
            monkeypatch.setattr(session, "request", boom)
            with pytest.raises(Exception) as err:
                send_sync(session, call, headers={}, timeout=1)
        assert "InvalidHeader" in str(err.value) and SECRET not in str(err.value)
        assert err.value.__cause__ is None and err.value.__suppress_context__


class TestClassification:
    @pytest.mark.parametrize(
        ("status", "code", "cls", "failure_class"),
        [
            (401, "AuthInvalidCredentials", PhraseAuthenticationError, FailureClass.REJECTED),
            (403, "AuthAccountInactive", PhraseAuthenticationError, FailureClass.REJECTED),
            (403, "ApiLimitReached", PhraseRequestRejectedError, FailureClass.REJECTED),
            (404, "NotFound", PhraseRequestRejectedError, FailureClass.REJECTED),
            (429, None, PhraseApiError, FailureClass.TRANSIENT),
            (500, "InternalError", PhraseApiError, FailureClass.AMBIGUOUS),
            (504, None, PhraseApiError, FailureClass.AMBIGUOUS),
        ],
    )
    def test_the_exception_carries_its_class_and_survives_pickling(
        self, status: int, code: str | None, cls: type[PhraseApiError], failure_class: FailureClass
    ) -> None:
        error = phrase_api_error(status=status, method="GET", path="/x", error_code=code)
        assert type(error) is cls and error.failure_class is failure_class
        assert (error.transient, error.ambiguous, error.rejected) == (
            failure_class is FailureClass.TRANSIENT,
            failure_class is FailureClass.AMBIGUOUS,
            failure_class is FailureClass.REJECTED,
        )
        assert isinstance(error, AirflowFailException) is error.rejected
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is cls and str(copy) == str(error)

    def test_connection_errors_carry_their_class_too(self) -> None:
        from airflow_phrase.exceptions import PhraseConnectionError, PhraseResponseLostError, PhraseTlsError

        assert PhraseConnectionError("refused").transient
        assert PhraseResponseLostError("timed out").ambiguous
        tls = PhraseTlsError("certificate verify failed")
        assert tls.rejected and isinstance(tls, AirflowFailException)
