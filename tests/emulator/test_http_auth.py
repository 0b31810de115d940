"""Authentication over HTTP: login, the two header schemes, and every way a token can be refused."""

from __future__ import annotations

import pytest
import requests

from airflow_phrase.emulator import EmulatorHandle
from airflow_phrase.emulator.state import ManualClock
from tests.emulator.conftest import API_TOKEN, BEARER_TOKEN, PhraseApi
from tests.emulator.test_http_endpoints import assert_error

WHO_AM_I = "/api2/v1/auth/whoAmI"
LOGIN = "/api2/v3/auth/login"


def call(emu: EmulatorHandle, authorization: str | None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return requests.get(emu.url(WHO_AM_I), headers=headers, timeout=10)


def login(emu: EmulatorHandle, **body: object) -> requests.Response:
    return requests.post(emu.url(LOGIN), json=body, timeout=10)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "ApiToken",
        API_TOKEN,  # no scheme
        "ApiToken not-a-token",
        f"Bearer {API_TOKEN}",  # an API token is not a bearer token
        f"ApiToken {BEARER_TOKEN}",  # and the other way round
        f"Basic {API_TOKEN}",
    ],
)
def test_refused_authorization(emu: EmulatorHandle, authorization: str | None) -> None:
    assert_error(call(emu, authorization), 401, "AuthUnauthorized")


@pytest.mark.parametrize(
    ("scheme", "token"), [("ApiToken", API_TOKEN), ("Bearer", BEARER_TOKEN), ("apitoken", API_TOKEN)]
)
def test_accepted_authorization(emu: EmulatorHandle, scheme: str, token: str) -> None:
    response = call(emu, f"{scheme} {token}")
    assert response.status_code == 200, response.text
    assert response.json()["user"]["userName"] == "demo"


def test_every_route_but_login_needs_a_token(emu: EmulatorHandle) -> None:
    for path in (
        "/api2/v1/connectors",
        "/api2/v1/connectorAsyncTasks",
        "/api2/v1/async/1",
        "/api2/v2/projects/prjWebsite000000000001/jobs",
    ):
        assert_error(requests.get(emu.url(path), timeout=10), 401, "AuthUnauthorized")


def test_login_token_expires_after_the_ttl(emu: EmulatorHandle, clock: ManualClock) -> None:
    emu.state.update_config(token_ttl=60)
    token = login(emu, userName="demo", password="demo-password").json()["token"]
    assert call(emu, f"ApiToken {token}").status_code == 200
    assert_error(call(emu, f"Bearer {token}"), 401, "AuthUnauthorized")
    clock.advance(60)
    assert_error(call(emu, f"ApiToken {token}"), 401, "AuthUnauthorized")
    fresh = login(emu, userName="demo", password="demo-password").json()["token"]
    assert fresh != token
    assert call(emu, f"ApiToken {fresh}").status_code == 200


def test_admin_can_expire_a_token(emu: EmulatorHandle) -> None:
    emu.admin.expire_token(API_TOKEN)
    assert_error(call(emu, f"ApiToken {API_TOKEN}"), 401, "AuthUnauthorized")
    assert call(emu, f"Bearer {BEARER_TOKEN}").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "text"),
    [
        ({"userName": "demo", "password": "wrong"}, 401, "AuthInvalidCredentials", ""),
        ({"userName": "nobody", "password": "demo-password"}, 401, "AuthInvalidCredentials", ""),
        ({"userName": "demo"}, 400, "InvalidArguments", "password"),
        (
            {"userName": "demo", "password": "demo-password", "remember": True},
            400,
            "InvalidArguments",
            "remember",
        ),
        (
            {"userName": "demo", "password": "demo-password", "userUid": "someoneElse"},
            400,
            "InvalidArguments",
            "userUid",
        ),
    ],
)
def test_login_failures(
    emu: EmulatorHandle, body: dict[str, object], status: int, code: str, text: str
) -> None:
    error = assert_error(login(emu, **body), status, code, text)
    assert "demo-password" not in (error.error_description or "")


def test_login_needs_a_json_body(emu: EmulatorHandle) -> None:
    assert_error(requests.post(emu.url(LOGIN), timeout=10), 400, "InvalidArguments", "body is required")
    response = requests.post(
        emu.url(LOGIN),
        data="userName=demo",
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "UnsupportedMediaType")


def test_journal_shows_the_scheme_never_the_token(emu: EmulatorHandle) -> None:
    PhraseApi(emu).get(WHO_AM_I, params={"token": API_TOKEN})
    PhraseApi(emu, BEARER_TOKEN, "Bearer").get(WHO_AM_I)
    call(emu, API_TOKEN)
    login(emu, userName="demo", password="demo-password")
    entries = emu.admin.journal()
    assert [(e.path, e.auth_scheme, e.status) for e in entries] == [
        (WHO_AM_I, "ApiToken", 200),
        (WHO_AM_I, "Bearer", 200),
        (WHO_AM_I, "invalid", 401),
        (LOGIN, None, 200),
    ]
    assert entries[0].query == {"token": ["***"]}
    assert entries[0].user_agent == "airflow-phrase emulator tests (tests@example.com)"
    dumped = str([e.model_dump() for e in entries])
    assert API_TOKEN not in dumped and BEARER_TOKEN not in dumped and "demo-password" not in dumped
