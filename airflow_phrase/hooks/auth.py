"""Authorization headers, the process-wide login-token cache and secret masking.

Phrase accepts three credentials (see :class:`~airflow_phrase.hooks.connection.AuthType`):

* ``login``: user name + password are exchanged for a token (``POST /api2/v3/auth/login``), sent as
  ``Authorization: ApiToken <token>``. Tokens live 24 h on Phrase; logging in for every task would be
  wasteful, so tokens are cached in :data:`TOKEN_CACHE`, shared by all hook instances of the process,
  and behind it in an encrypted file shared by every process of the machine
  (:mod:`~airflow_phrase.hooks.token_store`).
* ``api_token``: the password field is sent as ``Authorization: ApiToken <token>``.
* ``bearer``: the password field is sent as ``Authorization: Bearer <token>``.

The HTTP call of the login itself lives in the hook (it goes through the same retry policy); this
module only stores and hands out tokens.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pydantic import SecretStr

from airflow_phrase.hooks.connection import AuthType, PhraseConnectionConfig

#: Never use a cached token closer than this to its expiry ...
MAX_SAFETY_MARGIN = timedelta(minutes=5)
#: ... nor later than this fraction of its lifetime before expiry (matters for short-lived tokens).
SAFETY_MARGIN_FRACTION = 0.1

_SCHEMES = {AuthType.LOGIN: "ApiToken", AuthType.API_TOKEN: "ApiToken", AuthType.BEARER: "Bearer"}

TokenKey = tuple[str, str, str]


def authorization_value(auth_type: AuthType, token: str) -> str:
    return f"{_SCHEMES[auth_type]} {token}"


def static_authorization(config: PhraseConnectionConfig) -> str:
    """The ``Authorization`` value for ``api_token`` / ``bearer`` connections."""
    if config.auth_type is AuthType.LOGIN:
        raise ValueError("login connections get their token from the login call")
    return authorization_value(config.auth_type, config.secret.get_secret_value())


def token_key(config: PhraseConnectionConfig) -> TokenKey:
    """Cache key: base URL, user, and a fingerprint of the password.

    The fingerprint keeps a connection with a wrong (or changed) password from borrowing a token
    another connection obtained for the same user.
    """
    fingerprint = hashlib.sha256(config.secret.get_secret_value().encode("utf-8")).hexdigest()
    return (config.base_url, config.user_name or "", fingerprint)


@dataclass(frozen=True)
class CachedToken:
    token: SecretStr
    expires: datetime
    use_until: datetime

    def usable(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(timezone.utc)) < self.use_until


def new_cached_token(token: str, expires: datetime) -> CachedToken:
    """A fresh login token, usable until the safety margin before ``expires`` (naive means UTC)."""
    now = datetime.now(timezone.utc)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    lifetime = max(expires - now, timedelta(0))
    margin = min(MAX_SAFETY_MARGIN, lifetime * SAFETY_MARGIN_FRACTION)
    return CachedToken(token=SecretStr(token), expires=expires, use_until=expires - margin)


@dataclass
class LoginTokenCache:
    """Login tokens per (base URL, user, password fingerprint); thread-safe.

    ``login_lock(key)`` serialises logins for one key in threads, so that concurrent tasks in one
    process log in once. Async callers must not block on it; they check, log in and :meth:`put`.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tokens: dict[TokenKey, CachedToken] = field(default_factory=dict)
    _login_locks: dict[TokenKey, threading.Lock] = field(default_factory=dict)

    def get(self, key: TokenKey) -> CachedToken | None:
        with self._lock:
            cached = self._tokens.get(key)
        return cached if cached is not None and cached.usable() else None

    def put(self, key: TokenKey, token: str, expires: datetime) -> CachedToken:
        return self.put_cached(key, new_cached_token(token, expires))

    def put_cached(self, key: TokenKey, cached: CachedToken) -> CachedToken:
        """Keep a token whose ``use_until`` was computed elsewhere (e.g. read from the shared file)."""
        with self._lock:
            self._tokens[key] = cached
        return cached

    def invalidate(self, key: TokenKey, token: str) -> None:
        """Forget ``token`` if it is still the cached one (another thread may already have replaced it)."""
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.token.get_secret_value() == token:
                del self._tokens[key]

    def login_lock(self, key: TokenKey) -> threading.Lock:
        with self._lock:
            return self._login_locks.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def __repr__(self) -> str:
        return f"LoginTokenCache({len(self._tokens)} tokens)"


#: The process-wide cache shared by every PhraseTmsHook.
TOKEN_CACHE = LoginTokenCache()


def mask(secret: str) -> None:
    """Register a secret with Airflow's secrets masker (task logs, supervisor) from sync code."""
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


async def amask(secret: str) -> None:
    """Register a secret with Airflow's secrets masker from inside an event loop, without blocking it."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # Airflow < 3.3: only the sync variant exists; it blocks on supervisor comms
        from asgiref.sync import sync_to_async

        await sync_to_async(mask)(secret)
        return
    await amask_secret(secret)
