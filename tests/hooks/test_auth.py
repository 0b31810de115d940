"""Authentication against the emulator: login (cached, shared, renewed on 401), API token, bearer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from airflow_phrase import __version__
from airflow_phrase.exceptions import PhraseApiError
from airflow_phrase.hooks.auth import TOKEN_CACHE, token_key
from airflow_phrase.hooks.phrase_tms import LOGIN_PATH, WHO_AM_I_PATH, PhraseTmsHook
from tests.hooks.support import (
    DEMO_API_TOKEN,
    DEMO_BEARER_TOKEN,
    DEMO_PASSWORD,
    DEMO_USER,
    SleepRecorder,
    journal,
)

MakeHook = Callable[..., PhraseTmsHook]


def login_token(hook: PhraseTmsHook) -> str:
    cached = TOKEN_CACHE.get(token_key(hook._connection_config()))
    assert cached is not None
    return cached.token.get_secret_value()


class TestLogin:
    def test_logs_in_then_sends_the_token(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook
    ) -> None:
        me = make_hook(login_conn).who_am_i()
        assert me.user.user_name == DEMO_USER
        entries = journal(phrase_emulator)
        assert [(e.method, e.path, e.status) for e in entries] == [
            ("POST", LOGIN_PATH, 200),
            ("GET", WHO_AM_I_PATH, 200),
        ]
        assert entries[0].auth_scheme is None and entries[1].auth_scheme == "ApiToken"

    def test_token_shared_across_hook_instances(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook
    ) -> None:
        make_hook(login_conn).who_am_i()
        make_hook(login_conn).get_project("prjWebsite000000000001")
        assert len(journal(phrase_emulator, LOGIN_PATH)) == 1

    def test_concurrent_threads_log_in_once(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook
    ) -> None:
        hooks = [make_hook(login_conn) for _ in range(4)]
        barrier = threading.Barrier(len(hooks))
        errors: list[BaseException] = []

        def work(hook: PhraseTmsHook) -> None:
            try:
                barrier.wait(timeout=10)
                hook.who_am_i()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(hook,)) for hook in hooks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors
        assert len(journal(phrase_emulator, LOGIN_PATH)) == 1
        assert len(journal(phrase_emulator, WHO_AM_I_PATH)) == 4

    def test_expired_token_triggers_exactly_one_relogin(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(login_conn)
        hook.who_am_i()
        first_token = login_token(hook)
        phrase_emulator.admin.expire_token(first_token)
        phrase_emulator.admin.clear_journal()

        assert hook.who_am_i().user.user_name == DEMO_USER
        assert [(e.method, e.path, e.status) for e in journal(phrase_emulator)] == [
            ("GET", WHO_AM_I_PATH, 401),
            ("POST", LOGIN_PATH, 200),
            ("GET", WHO_AM_I_PATH, 200),
        ]
        assert login_token(hook) != first_token

    async def test_expired_token_relogin_async(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook
    ) -> None:
        async with make_hook(login_conn) as hook:
            await hook.a_who_am_i()
            phrase_emulator.admin.expire_token(login_token(hook))
            phrase_emulator.admin.clear_journal()
            assert (await hook.a_who_am_i()).user.user_name == DEMO_USER
        assert [(e.path, e.status) for e in journal(phrase_emulator)] == [
            (WHO_AM_I_PATH, 401),
            (LOGIN_PATH, 200),
            (WHO_AM_I_PATH, 200),
        ]

    def test_wrong_password_fails_once_without_relogin_loop(
        self,
        phrase_emulator: Any,
        set_connection: Callable[..., str],
        make_hook: MakeHook,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        wrong = "wrong-password-XYZ-123"
        conn = set_connection("phrase_wrong", host=phrase_emulator.base_url, login=DEMO_USER, password=wrong)
        hook = make_hook(conn)
        with caplog.at_level("DEBUG"), pytest.raises(PhraseApiError) as err:
            hook.who_am_i()
        assert err.value.status == 401 and err.value.attempts == 1
        assert [(e.path, e.status) for e in journal(phrase_emulator)] == [(LOGIN_PATH, 401)]
        for text in (str(err.value), repr(err.value), repr(hook), caplog.text):
            assert wrong not in text

    def test_wrong_password_does_not_borrow_a_cached_token(
        self, phrase_emulator: Any, login_conn: str, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        make_hook(login_conn).who_am_i()  # caches a token for user "demo"
        conn = set_connection("phrase_wrong", host=phrase_emulator.base_url, login=DEMO_USER, password="nope")
        ok, message = make_hook(conn).test_connection()
        assert not ok and "401" in message

    async def test_async_login(self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook) -> None:
        async with make_hook(login_conn) as hook:
            assert (await hook.a_who_am_i()).user.user_name == DEMO_USER
            assert (await hook.a_who_am_i()).user.user_name == DEMO_USER
        assert [e.path for e in journal(phrase_emulator)] == [LOGIN_PATH, WHO_AM_I_PATH, WHO_AM_I_PATH]


class TestStaticTokens:
    @pytest.mark.parametrize(
        ("auth_type", "token", "scheme"),
        [("api_token", DEMO_API_TOKEN, "ApiToken"), ("bearer", DEMO_BEARER_TOKEN, "Bearer")],
    )
    def test_token_sent_with_its_scheme(
        self,
        phrase_emulator: Any,
        set_connection: Callable[..., str],
        make_hook: MakeHook,
        auth_type: str,
        token: str,
        scheme: str,
    ) -> None:
        conn = set_connection(
            "phrase_static", host=phrase_emulator.base_url, password=token, extra={"auth_type": auth_type}
        )
        assert make_hook(conn).who_am_i().user.user_name == DEMO_USER
        [entry] = journal(phrase_emulator)
        assert (entry.path, entry.status, entry.auth_scheme) == (WHO_AM_I_PATH, 200, scheme)

    async def test_async_bearer(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        conn = set_connection(
            "phrase_static",
            host=phrase_emulator.base_url,
            password=DEMO_BEARER_TOKEN,
            extra={"auth_type": "bearer"},
        )
        async with make_hook(conn) as hook:
            assert (await hook.a_who_am_i()).organization is not None
        assert [e.auth_scheme for e in journal(phrase_emulator)] == ["Bearer"]

    def test_api_token_with_bearer_scheme_is_rejected(
        self, phrase_emulator: Any, set_connection: Callable[..., str], make_hook: MakeHook
    ) -> None:
        conn = set_connection(
            "phrase_static",
            host=phrase_emulator.base_url,
            password=DEMO_API_TOKEN,
            extra={"auth_type": "bearer"},
        )
        with pytest.raises(PhraseApiError) as err:
            make_hook(conn).who_am_i()
        assert err.value.status == 401
        assert len(journal(phrase_emulator)) == 1  # a static token is not retried or renewed


class TestTestConnection:
    def test_success_names_user_and_organisation(self, login_conn: str, make_hook: MakeHook) -> None:
        ok, message = make_hook(login_conn).test_connection()
        assert ok
        assert "demo" in message and "Acme Localization" in message

    def test_failure_explains_without_secret(
        self,
        phrase_emulator: Any,
        set_connection: Callable[..., str],
        make_hook: MakeHook,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        bad_token = "not-a-valid-token-SECRET-42"
        conn = set_connection(
            "phrase_bad", host=phrase_emulator.base_url, password=bad_token, extra={"auth_type": "api_token"}
        )
        hook = make_hook(conn)
        with caplog.at_level("DEBUG"):
            ok, message = hook.test_connection()
        assert not ok
        assert "401" in message and "whoAmI" in message
        for text in (message, repr(hook), caplog.text):
            assert bad_token not in text

    def test_unreachable_server(
        self, set_connection: Callable[..., str], sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
    ) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        conn = set_connection("phrase_down", host=f"http://127.0.0.1:{port}/web", password=DEMO_API_TOKEN)
        hook = PhraseTmsHook(conn, sleep=sleeps)
        with caplog.at_level("WARNING"):
            ok, message = hook.test_connection()
        assert not ok and "PhraseConnectionError" in message and "after 2 attempts" in message
        assert len(sleeps.waits) == 1  # the connection test's own short policy: two attempts
        assert DEMO_API_TOKEN not in message + caplog.text


def test_user_agent_names_provider_airflow_and_contact(
    phrase_emulator: Any, login_conn: str, make_hook: MakeHook
) -> None:
    import airflow

    make_hook(login_conn).who_am_i()
    details = f"Apache Airflow {airflow.__version__}; l10n-team@example.com"
    expected = f"airflow-provider-phrase-tms/{__version__} ({details})"
    assert {e.user_agent for e in journal(phrase_emulator)} == {expected}


async def test_async_user_agent(phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
    async with make_hook(token_conn) as hook:
        await hook.a_who_am_i()
    [entry] = journal(phrase_emulator)
    assert entry.user_agent is not None and entry.user_agent.startswith(
        f"airflow-provider-phrase-tms/{__version__} ("
    )


def test_password_is_registered_with_the_secrets_masker(login_conn: str, make_hook: MakeHook) -> None:
    from airflow.sdk.log import _secrets_masker

    hook = make_hook(login_conn)
    hook.who_am_i()
    masker = _secrets_masker()
    assert DEMO_PASSWORD not in masker.redact(f"password is {DEMO_PASSWORD}")
    token = login_token(hook)
    assert token not in masker.redact(f"token is {token}")
