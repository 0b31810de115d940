"""The Phrase TMS settings read from an Airflow Connection (``conn_type="phrase_tms"``).

Parsed once into :class:`PhraseConnectionConfig`, a validated, immutable model. Every mistake becomes a
:class:`~airflow_phrase.exceptions.PhraseConfigurationError` that names the field and says how to fix it,
and never echoes the password or token (it is a ``SecretStr`` from the first moment).

Field mapping (see ``CONNECTION_FIELDS`` in :mod:`airflow_phrase.get_provider_info`):

* ``host``: optional full base URL, e.g. ``http://127.0.0.1:8080/web``; overrides ``data_center``.
* ``port``: optional; the port of the base URL. A URL without a port gets it; a URL (or data centre,
  always 443) with a different one is an error. Setting it is what lets the connection list's **Test**
  button of Airflow 3.3.1-3.3.2 reuse the stored password (see docs/connection.md).
* extra ``data_center``: ``eu`` (default, ``https://cloud.memsource.com/web``) or ``us``.
* extra ``auth_type``: ``login`` (``login`` + ``password``), ``api_token`` or ``bearer`` (``password`` is
  the token). Default: ``login`` when a login is set, else ``api_token``.
* extra ``contact``: added to the User-Agent, as Phrase asks.
* extra ``max_attempts``, ``max_wait_seconds``, ``retry_total_seconds``, ``request_timeout_seconds``.
* extra ``login_cache``: ``disk`` (default: login tokens shared by the machine's processes, encrypted) or
  ``process`` (each process logs in for itself); extra ``login_cache_dir``: an absolute directory for
  ``disk`` (see :mod:`airflow_phrase.hooks.token_store`).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from airflow_phrase import __version__
from airflow_phrase.exceptions import PhraseConfigurationError
from airflow_phrase.hooks.retry import RetryPolicy

#: The connection type this hook reads (``Connection.conn_type``).
CONN_TYPE = "phrase_tms"

DATA_CENTER_URLS = {
    "eu": "https://cloud.memsource.com/web",
    "us": "https://us.cloud.memsource.com/web",
}
DEFAULT_REQUEST_TIMEOUT = 60.0

#: extra key -> RetryPolicy field
_RETRY_EXTRA_FIELDS = {
    "max_attempts": "max_attempts",
    "max_wait_seconds": "max_wait",
    "retry_total_seconds": "total_timeout",
}


class AuthType(str, Enum):
    LOGIN = "login"
    API_TOKEN = "api_token"
    BEARER = "bearer"


class TokenCache(str, Enum):
    """Where login tokens are kept between processes."""

    DISK = "disk"
    PROCESS = "process"


class PhraseConnectionConfig(BaseModel):
    """Everything the hook needs from the Airflow connection, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conn_id: str
    base_url: str
    auth_type: AuthType
    user_name: str | None = None
    secret: SecretStr = Field(repr=False)
    contact: str | None = None
    retry_policy: RetryPolicy = Field(default_factory=RetryPolicy)
    request_timeout: float = Field(default=DEFAULT_REQUEST_TIMEOUT, gt=0)
    token_cache: TokenCache = TokenCache.DISK
    #: ``None``: the default directory (:func:`airflow_phrase.hooks.token_store.default_token_cache_dir`).
    token_cache_dir: Path | None = None

    @property
    def web_app_url(self) -> str:
        return self.base_url

    def user_agent(self, airflow_version: str) -> str:
        details = f"Apache Airflow {airflow_version}"
        if self.contact:
            details += f"; {self.contact}"
        return f"airflow-provider-phrase-tms/{__version__} ({details})"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fail(conn_id: str, field: str, problem: str, fix: str) -> PhraseConfigurationError:
    return PhraseConfigurationError(f"Phrase TMS connection '{conn_id}': {field} {problem}. {fix}")


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _port(conn_id: str, port: Any) -> int | None:
    if _blank(port):
        return None
    try:
        value = int(str(port).strip())
    except ValueError:
        value = -1
    if not 0 < value < 65536:
        raise _fail(
            conn_id, "Port", f"is {port!r}", "Give the port of the Phrase base URL (443), or leave it empty."
        )
    return value


def _with_port(conn_id: str, url: str, port: int | None, *, where: str) -> str:
    """``url`` on ``port``: a URL without a port gets it; a URL on another port is an error."""
    if port is None:
        return url
    parts = urlsplit(url)
    current = parts.port or _default_port(parts.scheme)
    if parts.port is None and port != current:
        host = parts.netloc.rsplit("@", 1)[-1]
        return parts._replace(netloc=f"{host}:{port}").geturl()
    if port != current:
        raise _fail(
            conn_id,
            "Port",
            f"is {port} but {where} {url!r} is on port {current}",
            f"Set Port to {current} or leave it empty.",
        )
    return url


def _shown(url: str) -> str:
    """``url`` for a message: never what may be userinfo (``user:password@``)."""
    return "(not shown: it contains '@', which may hold a password)" if "@" in url else repr(url)


def _base_url(conn_id: str, host: str | None, extra: dict[str, Any], port: int | None = None) -> str:
    if not _blank(host):
        assert host is not None
        url = host.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and "@" in parts.netloc:
            raise _fail(
                conn_id,
                "Base URL (host)",
                "contains a user name or password ('user:password@host'), which would end up in links, "
                "logs and the UI",
                "Remove it from the URL: put the Phrase user name in Login and the password or token in "
                "Password.",
            )
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _fail(
                conn_id,
                "Base URL (host)",
                f"{_shown(url)} is not a full http(s) URL",
                "Give the scheme and host, e.g. 'https://cloud.memsource.com/web' or "
                "'http://127.0.0.1:8080/web', or leave it empty and set extra 'data_center' to 'eu' or 'us'.",
            )
        if parts.query or parts.fragment:
            raise _fail(conn_id, "Base URL (host)", "must not contain a query or fragment", "Remove them.")
        return _with_port(conn_id, url, port, where="Base URL")
    data_center = extra.get("data_center")
    key = "eu" if _blank(data_center) else str(data_center).strip().lower()
    if key not in DATA_CENTER_URLS:
        raise _fail(
            conn_id,
            "extra 'data_center'",
            f"is {data_center!r}",
            "Use 'eu' (cloud.memsource.com) or 'us' (us.cloud.memsource.com), or set Base URL (host).",
        )
    url = DATA_CENTER_URLS[key]
    if port is not None and port != _default_port("https"):
        raise _fail(
            conn_id,
            "Port",
            f"is {port} but data centre {key!r} ({url}) is on port 443",
            "Set Port to 443 or leave it empty.",
        )
    return url


def _auth_type(conn_id: str, login: str | None, extra: dict[str, Any]) -> AuthType:
    raw = extra.get("auth_type")
    if _blank(raw):
        return AuthType.LOGIN if not _blank(login) else AuthType.API_TOKEN
    try:
        return AuthType(str(raw).strip().lower())
    except ValueError:
        raise _fail(
            conn_id,
            "extra 'auth_type'",
            f"is {raw!r}",
            "Use 'login' (user name + password), 'api_token' or 'bearer' (token in the Password field).",
        ) from None


def _retry_policy(conn_id: str, extra: dict[str, Any]) -> RetryPolicy:
    values = {
        policy_field: extra[extra_key]
        for extra_key, policy_field in _RETRY_EXTRA_FIELDS.items()
        if not _blank(extra.get(extra_key))
    }
    try:
        return RetryPolicy.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        policy_field = str(error["loc"][0]) if error["loc"] else "?"
        extra_key = next((k for k, v in _RETRY_EXTRA_FIELDS.items() if v == policy_field), policy_field)
        raise _fail(
            conn_id,
            f"extra {extra_key!r}",
            f"is {extra.get(extra_key)!r}: {error['msg']}",
            "Give a number within the documented range, or remove it to use the default.",
        ) from None


def _request_timeout(conn_id: str, extra: dict[str, Any]) -> float:
    raw = extra.get("request_timeout_seconds")
    if _blank(raw):
        return DEFAULT_REQUEST_TIMEOUT
    try:
        value = float(str(raw))
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise _fail(
            conn_id,
            "extra 'request_timeout_seconds'",
            f"is {raw!r}",
            "Give a positive number of seconds, or remove it to use the default (60).",
        )
    return value


def _token_cache(conn_id: str, extra: dict[str, Any]) -> tuple[TokenCache, Path | None]:
    raw = extra.get("login_cache")
    try:
        mode = TokenCache.DISK if _blank(raw) else TokenCache(str(raw).strip().lower())
    except ValueError:
        raise _fail(
            conn_id,
            "extra 'login_cache'",
            f"is {raw!r}",
            "Use 'disk' (login tokens shared by the processes of a machine, encrypted) or 'process'.",
        ) from None
    raw_dir = extra.get("login_cache_dir")
    if _blank(raw_dir):
        return mode, None
    directory = Path(str(raw_dir).strip()).expanduser()
    if not directory.is_absolute():
        raise _fail(
            conn_id,
            "extra 'login_cache_dir'",
            f"is {raw_dir!r}, a relative path",
            "Give an absolute directory (every worker and triggerer process must resolve it alike), "
            "or remove it to use the default under $AIRFLOW_HOME.",
        )
    return mode, directory


def _check_conn_type(conn_id: str, conn_type: str | None) -> None:
    if conn_type != CONN_TYPE:
        raise _fail(
            conn_id,
            "Connection Type",
            f"is {conn_type!r}, not {CONN_TYPE!r}",
            f"Set the connection type to 'Phrase TMS' ({CONN_TYPE!r}): the hook reads the Base URL, Login, "
            "Password and extras of a Phrase TMS connection, which other types do not have.",
        )


def _check_token(conn_id: str, token: str) -> None:
    """A token goes into the ``Authorization`` header: printable ASCII without spaces (never echoed)."""
    if not all(0x21 <= ord(char) <= 0x7E for char in token):
        raise _fail(
            conn_id,
            "Password",
            "holds a token with a space, line break, control or non-ASCII character inside (not shown)",
            "Paste the token again, exactly as Phrase issued it.",
        )


def parse_connection(
    *,
    conn_id: str,
    host: str | None,
    login: str | None,
    password: str | None,
    extra: dict[str, Any] | None,
    port: int | str | None = None,
    conn_type: str | None = CONN_TYPE,
) -> PhraseConnectionConfig:
    """Validate the connection fields (``extra`` already decoded) into a :class:`PhraseConnectionConfig`.

    ``conn_type`` must be ``phrase_tms``. Surrounding whitespace is stripped from the password or token
    (pasted from a file, it often ends with a line break); what remains is never part of a message.
    """
    _check_conn_type(conn_id, conn_type)
    extra = dict(extra or {})
    password = password.strip() if password is not None else None
    base_url = _base_url(conn_id, host, extra, _port(conn_id, port))
    auth_type = _auth_type(conn_id, login, extra)
    if auth_type is AuthType.LOGIN and _blank(login):
        raise _fail(
            conn_id,
            "Login (user name)",
            "is empty but extra 'auth_type' is 'login'",
            "Set the Phrase user name in Login, or use auth_type 'api_token' / 'bearer' with a token.",
        )
    if _blank(password):
        what = "the password of the Phrase user" if auth_type is AuthType.LOGIN else "the token"
        raise _fail(
            conn_id,
            "Password",
            f"is empty (auth_type {auth_type.value!r})",
            f"Put {what} in the Password field.",
        )
    assert password is not None  # not blank, checked above
    if auth_type is not AuthType.LOGIN:
        _check_token(conn_id, password)
    contact = extra.get("contact")
    if not _blank(contact) and any(ord(char) < 0x20 or ord(char) > 0x7E for char in str(contact).strip()):
        raise _fail(
            conn_id,
            "extra 'contact'",
            "holds a line break, control or non-ASCII character",
            "Give one line of plain text, e.g. 'loc-team@example.com'; it is sent in the User-Agent header.",
        )
    token_cache, token_cache_dir = _token_cache(conn_id, extra)
    return PhraseConnectionConfig(
        conn_id=conn_id,
        base_url=base_url,
        auth_type=auth_type,
        user_name=login.strip() if auth_type is AuthType.LOGIN and login else None,
        secret=SecretStr(password),
        contact=None if _blank(contact) else str(contact).strip(),
        retry_policy=_retry_policy(conn_id, extra),
        request_timeout=_request_timeout(conn_id, extra),
        token_cache=token_cache,
        token_cache_dir=token_cache_dir,
    )
