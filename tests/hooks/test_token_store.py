"""Login tokens shared by the processes of a machine (``hooks/token_store.py``), against the emulator.

The headline property is measured where it matters: separate Python processes (real subprocesses, each
with its own in-memory cache) logging in as one user against the emulator produce one login POST in its
journal. The rest checks that the shared file is only ever a shortcut, never a leak: a wrong password
never reads it, damaged, foreign or loose files are ignored, permissions are private, secrets stay out of
the file's clear parts and out of logs, and a 401 removes a rejected token.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from airflow_phrase.exceptions import PhraseApiError, PhraseConfigurationError
from airflow_phrase.hooks import token_store
from airflow_phrase.hooks.auth import TOKEN_CACHE, CachedToken, token_key
from airflow_phrase.hooks.connection import TokenCache, parse_connection
from airflow_phrase.hooks.phrase_tms import LOGIN_PATH, WHO_AM_I_PATH, PhraseTmsHook
from airflow_phrase.hooks.token_store import TokenFileStore
from tests.helpers import poll_until
from tests.hooks.support import DEMO_PASSWORD, DEMO_USER, journal

MakeHook = Callable[..., PhraseTmsHook]
REAL_DEFAULT_DIR = token_store.default_token_cache_dir


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "tokens"


LoginConn = Callable[..., str]


@pytest.fixture
def login_with_cache(set_connection: Callable[..., str], cache_dir: Path) -> LoginConn:
    """``login_with_cache(conn_id, base_url, password=..., **extra)``: a login connection of the demo
    user sharing tokens through ``cache_dir`` (unless ``extra`` says otherwise)."""

    def make(conn_id: str, base_url: str, *, password: str = DEMO_PASSWORD, **extra: Any) -> str:
        extra = {"auth_type": "login", "login_cache_dir": str(cache_dir), **extra}
        return set_connection(conn_id, host=base_url, login=DEMO_USER, password=password, extra=extra)

    return make


@pytest.fixture
def shared_conn(phrase_emulator: Any, login_with_cache: LoginConn) -> str:
    return login_with_cache("phrase_shared", phrase_emulator.base_url)


def config_of(hook: PhraseTmsHook) -> Any:
    return hook._connection_config()


def token_file(hook: PhraseTmsHook) -> Path:
    config = config_of(hook)
    return TokenFileStore(config.token_cache_dir).token_path(config)


def new_process(*, also: Callable[[], None] | None = None) -> None:
    """Forget what this process knows, as a freshly started task process would not know it."""
    TOKEN_CACHE.clear()
    if also is not None:
        also()


def logins(emulator: Any) -> list[Any]:
    return journal(emulator, LOGIN_PATH, "POST")


# -- across real processes ----------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import asyncio, pathlib, sys, time
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    ready, go, mode = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    hook = PhraseTmsHook("phrase_shared")
    hook._connection_config()  # read the connection before the start line, not after
    ready.touch()
    deadline = time.monotonic() + 60
    while not go.exists():  # a start barrier across processes, with a deadline
        if time.monotonic() > deadline:
            sys.exit("no start signal")
        time.sleep(0.01)

    async def main():
        async with hook:
            return await hook.a_who_am_i()

    me = asyncio.run(main()) if mode == "async" else hook.who_am_i()
    # Whether it logged in or read the shared file, the token is registered with the secrets masker.
    from airflow.sdk.log import _secrets_masker
    from airflow_phrase.hooks.auth import TOKEN_CACHE, token_key

    token = TOKEN_CACHE.get(token_key(hook._connection_config())).token.get_secret_value()
    print("masked" if token not in _secrets_masker().redact(f"token {token}") else "NOT MASKED")
    print(me.user.user_name)
    """
)


def test_separate_processes_log_in_once(
    phrase_emulator_factory: Callable[..., Any], login_with_cache: LoginConn, tmp_path: Path
) -> None:
    """Three task-like processes (two sync, one async like the triggerer) start together: one login."""
    emulator = phrase_emulator_factory()  # its own server: no straggler of an earlier test in its journal
    login_with_cache("phrase_shared", emulator.base_url)
    go = tmp_path / "go"
    modes = ["sync", "sync", "async"]
    readies = [tmp_path / f"ready-{i}" for i in range(len(modes))]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(ready), str(go), mode],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ready, mode in zip(readies, modes, strict=True)
    ]
    try:
        poll_until(
            lambda: [r.exists() for r in readies] + [c.poll() is None for c in children],
            lambda flags: all(flags[: len(readies)]) or not all(flags[len(readies) :]),
            timeout=120,
            what="every child process ready",
        )
        go.touch()
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-3000:]
        assert out.strip().splitlines()[-2:] == ["masked", DEMO_USER]
        assert DEMO_PASSWORD not in out + err
    everything = journal(emulator)
    assert len(logins(emulator)) == 1, everything
    calls = journal(emulator, WHO_AM_I_PATH)
    assert [(c.status, c.auth_scheme) for c in calls] == [(200, "ApiToken")] * 3, everything


# -- in one process, standing in for several ----------------------------------------------------------


def test_a_second_process_reuses_the_file(
    phrase_emulator: Any, shared_conn: str, make_hook: MakeHook
) -> None:
    make_hook(shared_conn).who_am_i()
    new_process()
    make_hook(shared_conn).get_project("prjWebsite000000000001")
    assert len(logins(phrase_emulator)) == 1
    assert [e.status for e in journal(phrase_emulator) if e.path != LOGIN_PATH] == [200, 200]


async def test_async_path_reads_and_writes_the_file(
    phrase_emulator: Any, shared_conn: str, make_hook: MakeHook
) -> None:
    async with make_hook(shared_conn) as hook:
        await hook.a_who_am_i()
    assert token_file(hook).is_file()
    new_process()
    async with make_hook(shared_conn) as hook:
        await hook.a_who_am_i()
    new_process()
    make_hook(shared_conn).who_am_i()  # the sync path reads what the async path wrote
    assert len(logins(phrase_emulator)) == 1


def test_wrong_password_never_reads_the_token(
    phrase_emulator: Any,
    shared_conn: str,
    login_with_cache: LoginConn,
    make_hook: MakeHook,
    cache_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = make_hook(shared_conn)
    good.who_am_i()
    stored = token_file(good).read_bytes()
    wrong_password = "not-the-password-77"
    wrong = login_with_cache("phrase_wrong", phrase_emulator.base_url, password=wrong_password)
    new_process()
    hook = make_hook(wrong)
    assert TokenFileStore(cache_dir).read(config_of(hook)) is None
    with caplog.at_level("DEBUG"), pytest.raises(PhraseApiError) as err:
        hook.who_am_i()
    assert err.value.status == 401
    # Its own login was refused; it never sent a request with the stored token.
    assert [(e.path, e.status) for e in journal(phrase_emulator)] == [
        (LOGIN_PATH, 200),
        (WHO_AM_I_PATH, 200),
        (LOGIN_PATH, 401),
    ]
    assert token_file(good).read_bytes() == stored  # and it did not disturb the good file
    assert wrong_password not in caplog.text


def test_a_rejected_token_is_removed_and_replaced(
    phrase_emulator: Any, shared_conn: str, make_hook: MakeHook
) -> None:
    first = make_hook(shared_conn)
    first.who_am_i()
    old = TOKEN_CACHE.get(token_key(config_of(first)))
    assert old is not None
    phrase_emulator.admin.expire_token(old.token.get_secret_value())
    new_process()
    phrase_emulator.admin.clear_journal()
    hook = make_hook(shared_conn)
    hook.who_am_i()
    assert [(e.path, e.status) for e in journal(phrase_emulator)] == [
        (WHO_AM_I_PATH, 401),
        (LOGIN_PATH, 200),
        (WHO_AM_I_PATH, 200),
    ]
    renewed = TokenFileStore(config_of(hook).token_cache_dir).read(config_of(hook))
    assert renewed is not None and renewed.token.get_secret_value() != old.token.get_secret_value()
    new_process()
    make_hook(shared_conn).who_am_i()  # the next process takes the renewed token from the file
    assert len(logins(phrase_emulator)) == 1


def test_secrets_never_in_logs(
    phrase_emulator: Any, shared_conn: str, make_hook: MakeHook, caplog: pytest.LogCaptureFixture
) -> None:
    """Log in and share, read the share, get a 401, renew: no password or token in any log record."""
    with caplog.at_level("DEBUG"):
        first = make_hook(shared_conn)
        first.who_am_i()
        old = TOKEN_CACHE.get(token_key(config_of(first)))
        assert old is not None
        new_process()
        make_hook(shared_conn).who_am_i()
    phrase_emulator.admin.expire_token(old.token.get_secret_value())  # (the test's own call logs it)
    with caplog.at_level("DEBUG"):
        new_process()
        hook = make_hook(shared_conn)
        hook.who_am_i()
    new = TOKEN_CACHE.get(token_key(config_of(hook)))
    assert new is not None and len(logins(phrase_emulator)) == 2
    assert "another process of this machine" in caplog.text  # the share was used, and said so
    for secret in (DEMO_PASSWORD, old.token.get_secret_value(), new.token.get_secret_value()):
        assert secret not in caplog.text


def test_a_token_past_its_safety_margin_is_not_used(
    phrase_emulator: Any, shared_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(shared_conn)
    config = config_of(hook)
    store = TokenFileStore(config.token_cache_dir)
    store.directory.mkdir(mode=0o700, parents=True)
    now = datetime.now(timezone.utc)
    stale = CachedToken(
        token=SecretStr("stale-token"),
        expires=now + timedelta(minutes=2),
        use_until=now - timedelta(seconds=1),
    )
    store.write(config, stale)
    assert store.read(config) is None
    hook.who_am_i()
    assert len(logins(phrase_emulator)) == 1
    assert [e.status for e in journal(phrase_emulator, WHO_AM_I_PATH)] == [200]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.write_bytes(b"\x00garbage\xff"), id="not-json"),
        pytest.param(
            lambda path: path.write_text('{"version": 1, "salt": "AAAA", "sealed": "x"}'), id="bad-salt"
        ),
        pytest.param(
            lambda path: path.write_text(
                json.dumps({**json.loads(path.read_text()), "sealed": "gAAAAABtampered"}), encoding="utf-8"
            ),
            id="tampered",
        ),
        pytest.param(lambda path: path.write_text('{"version": 2}'), id="other-version"),
        pytest.param(lambda path: path.chmod(0o644), id="readable-by-others"),
        pytest.param(
            lambda path: (path.rename(path.with_suffix(".real")), path.symlink_to(path.with_suffix(".real"))),
            id="symlink",
        ),
    ],
)
def test_damaged_or_loose_files_are_ignored(
    phrase_emulator: Any,
    shared_conn: str,
    make_hook: MakeHook,
    damage: Callable[[Path], object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = make_hook(shared_conn)
    hook.who_am_i()
    path = token_file(hook)
    damage(path)
    new_process()
    with caplog.at_level("DEBUG"):
        make_hook(shared_conn).who_am_i()
    assert len(logins(phrase_emulator)) == 2  # logged in again instead of trusting the file
    assert [e.status for e in journal(phrase_emulator, WHO_AM_I_PATH)] == [200, 200]
    assert DEMO_PASSWORD not in caplog.text
    # The file is a private regular file again, holding the new token.
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    new_process()
    make_hook(shared_conn).who_am_i()
    assert len(logins(phrase_emulator)) == 2


def test_a_file_of_another_server_is_ignored(
    phrase_emulator: Any,
    phrase_emulator_factory: Callable[..., Any],
    login_with_cache: LoginConn,
    shared_conn: str,
    make_hook: MakeHook,
) -> None:
    """Same user and password on another server: its file, renamed to this login's name, opens with the
    password but says it belongs to another login, so it is not used."""
    other = phrase_emulator_factory()
    other_conn = login_with_cache("phrase_other", other.base_url)
    other_hook = make_hook(other_conn)
    other_hook.who_am_i()
    hook = make_hook(shared_conn)
    assert token_file(hook) != token_file(other_hook)
    token_file(other_hook).rename(token_file(hook))
    new_process()
    hook.who_am_i()
    assert len(logins(phrase_emulator)) == 1  # logged in here, not fooled by the other server's token
    assert [e.status for e in journal(phrase_emulator, WHO_AM_I_PATH)] == [200]


def test_permissions_and_nothing_secret_in_clear(
    phrase_emulator: Any, shared_conn: str, make_hook: MakeHook, cache_dir: Path
) -> None:
    hook = make_hook(shared_conn)
    hook.who_am_i()
    cached = TOKEN_CACHE.get(token_key(config_of(hook)))
    assert cached is not None
    token = cached.token.get_secret_value()
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    entries = sorted(cache_dir.iterdir())
    assert {p.suffix for p in entries} == {".token", ".lock"}  # no temporary file left behind
    for path in entries:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        content = path.read_bytes()
        for secret in (token, DEMO_PASSWORD, DEMO_USER, phrase_emulator.base_url):
            assert secret.encode() not in content
            assert secret not in path.name
    assert set(json.loads(token_file(hook).read_text())) == {"version", "salt", "sealed"}


def test_loose_directory_is_tightened(shared_conn: str, make_hook: MakeHook, cache_dir: Path) -> None:
    cache_dir.mkdir(mode=0o755)
    cache_dir.chmod(0o755)
    make_hook(shared_conn).who_am_i()
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_unusable_directory_falls_back_to_the_process(
    phrase_emulator: Any,
    login_with_cache: LoginConn,
    make_hook: MakeHook,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    conn = login_with_cache("phrase_linked", phrase_emulator.base_url, login_cache_dir=str(link))
    with caplog.at_level("WARNING"):
        make_hook(conn).who_am_i()
        make_hook(conn).who_am_i()
    assert list(real.iterdir()) == []  # nothing written through the symlink
    assert len(logins(phrase_emulator)) == 1  # the in-memory cache still serves the process
    assert "Not sharing Phrase login tokens" in caplog.text


def test_process_mode_writes_nothing(
    phrase_emulator: Any, login_with_cache: LoginConn, make_hook: MakeHook, cache_dir: Path
) -> None:
    conn = login_with_cache("phrase_process", phrase_emulator.base_url, login_cache="process")
    make_hook(conn).who_am_i()
    new_process()
    make_hook(conn).who_am_i()
    assert not cache_dir.exists()
    assert len(logins(phrase_emulator)) == 2


def test_default_directory_is_under_airflow_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    # The real default (the suite's autouse fixture replaces it with a directory per test).
    assert REAL_DEFAULT_DIR() == tmp_path / "phrase_tms" / "token_cache"


def test_static_tokens_need_no_file(phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
    make_hook(token_conn).who_am_i()
    assert not logins(phrase_emulator)
    assert not list(token_store.default_token_cache_dir().glob("*"))


class TestSettings:
    def parse(self, **extra: Any) -> Any:
        return parse_connection(
            conn_id="phrase_x", host=None, login="demo", password="pw", extra={"auth_type": "login", **extra}
        )

    def test_defaults(self) -> None:
        config = self.parse()
        assert config.token_cache is TokenCache.DISK and config.token_cache_dir is None

    def test_values(self, tmp_path: Path) -> None:
        config = self.parse(login_cache=" Process ", login_cache_dir=str(tmp_path))
        assert config.token_cache is TokenCache.PROCESS and config.token_cache_dir == tmp_path

    def test_unknown_mode_names_the_field(self) -> None:
        with pytest.raises(PhraseConfigurationError, match=r"extra 'login_cache' is 'shared'.*'disk'"):
            self.parse(login_cache="shared")

    def test_relative_directory_names_the_field(self) -> None:
        with pytest.raises(PhraseConfigurationError, match=r"extra 'login_cache_dir'.*absolute"):
            self.parse(login_cache_dir="tokens")
