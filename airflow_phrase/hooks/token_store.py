"""Login tokens shared by every process of a machine: one encrypted file per Phrase login.

With ``auth_type=login`` each task process (every mapped task, every retry, the triggerer) would log in
once: 200 mapped ingests cost 200+ logins. The in-process cache
(:data:`~airflow_phrase.hooks.auth.TOKEN_CACHE`) stays in front; behind it this module keeps each login
token in a file that any process of the machine *that knows the password* can use.

How it is kept safe:

* The directory (extra ``login_cache_dir``, default :func:`default_token_cache_dir`) is created ``0700``
  and used only if it is a real directory owned by the current user; files are ``0600``, written
  atomically (temporary file + ``os.replace``), opened without following symlinks, and ignored unless
  they are private regular files of the current user.
* The file name is a hash of the base URL and the user name, never of the password (a fast hash of the
  password would let anyone who can list the directory test password guesses quickly).
* The content is a Fernet token (AES-128-CBC + HMAC-SHA256) of {base URL, user, token, expiry}, with a
  key derived from the password by PBKDF2-HMAC-SHA256 (:data:`KDF_ITERATIONS`, a random salt stored in
  the file). Only a process that knows the password can decrypt it; a leaked file yields neither the
  token nor a fast way to test passwords. A process derives the key once (~60 ms) and keeps it.
* Anything unexpected (a wrong password, a corrupt, foreign or renamed file, another base URL or user
  inside, a token past its safety margin) is ignored: the process logs in as it would without a cache,
  and the file is replaced with the new token.
* One exclusive ``flock`` per login serialises "read the file, else log in and write it" across
  processes, so processes that start together log in once. A process waits for the lock at most
  :data:`LOCK_TIMEOUT` seconds, then logs in by itself.
* When Phrase answers 401 to a token, the file is deleted if it still holds that token.

The token never goes to XCom, logs, exceptions or the metadata database; tokens read from a file are
registered with Airflow's secrets masker like freshly obtained ones. Async callers do the file I/O and
the key derivation in threads (``asyncio.to_thread``) and poll the lock without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr, ValidationError

from airflow_phrase.hooks.auth import TOKEN_CACHE, CachedToken, TokenKey, amask, mask, token_key
from airflow_phrase.hooks.connection import PhraseConnectionConfig, TokenCache

try:
    import fcntl
except ImportError:  # pragma: no cover - no flock (Windows, where Airflow does not run natively)
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

FORMAT_VERSION: Literal[1] = 1
#: PBKDF2-HMAC-SHA256 iterations (OWASP's 2023 recommendation): ~60 ms once per process and password.
KDF_ITERATIONS = 600_000
SALT_BYTES = 16
#: Files larger than this are not ours (a token file is well under 1 KiB).
MAX_FILE_BYTES = 64 * 1024
#: Seconds a process waits for another one's login before logging in by itself.
LOCK_TIMEOUT = 60.0
LOCK_POLL_SECONDS = 0.05
TOKEN_SUFFIX = ".token"
LOCK_SUFFIX = ".lock"


def default_token_cache_dir() -> Path:
    """``$AIRFLOW_HOME/phrase_tms/token_cache`` (``~/airflow`` when ``AIRFLOW_HOME`` is unset, as in Airflow).

    ``$AIRFLOW_HOME`` rather than the system temp dir: it belongs to the Airflow user and is shared by
    that machine's workers and triggerer, whereas a world-writable ``/tmp`` invites pre-created
    directories and services with a private ``/tmp`` (systemd ``PrivateTmp``) would not share it.
    """
    return Path(os.environ.get("AIRFLOW_HOME") or "~/airflow").expanduser() / "phrase_tms" / "token_cache"


class _Envelope(BaseModel):
    """What a token file holds, in clear: nothing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    salt: str
    sealed: str


class _Sealed(BaseModel):
    """What the encrypted part holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    user: str
    token: SecretStr
    expires: AwareDatetime
    use_until: AwareDatetime


class _UnsafeDirectory(Exception):
    pass


# Keys derived in this process: (token key, salt) -> Fernet. The token key holds a fingerprint of the
# password, so a connection with another password never meets this process's keys.
_KEYS: dict[tuple[TokenKey, bytes], Fernet] = {}
_SALTS: dict[TokenKey, bytes] = {}
_KEYS_LOCK = threading.Lock()
_WARNED: set[Path] = set()


def _fernet(key: TokenKey, password: str, salt: bytes) -> Fernet:
    with _KEYS_LOCK:
        known = _KEYS.get((key, salt))
    if known is not None:
        return known
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=KDF_ITERATIONS)
    fernet = Fernet(base64.urlsafe_b64encode(kdf.derive(password.encode("utf-8"))))
    with _KEYS_LOCK:
        _KEYS[(key, salt)] = fernet
        _SALTS[key] = salt
    return fernet


def _writing_key(key: TokenKey, password: str) -> tuple[bytes, Fernet]:
    """The salt and key to seal a token with: the last ones this process used for ``key``, else new."""
    with _KEYS_LOCK:
        salt = _SALTS.get(key)
    if salt is None:
        salt = os.urandom(SALT_BYTES)
    return salt, _fernet(key, password, salt)


def _private_directory(directory: Path) -> None:
    """Create ``directory`` (0700) if needed; :class:`_UnsafeDirectory` unless it is private and ours."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise _UnsafeDirectory("it is not a directory (a symlink?)")
    if info.st_uid != os.geteuid():
        raise _UnsafeDirectory(f"it belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(directory, 0o700)


def _lock_acquired(handle: IO[bytes]) -> bool:
    """Try the exclusive lock without blocking; True when held (or when the file system has no locks)."""
    assert fcntl is not None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # e.g. ENOLCK on a network file system: go on without the lock
        log.debug("The login-token cache cannot lock files here; continuing without the lock")
    return True


def _waits_for_lock(handle: IO[bytes] | None) -> Iterator[None]:
    """Yields each time the caller should wait a moment for the lock; ends once it is held, or (with a
    warning) when :data:`LOCK_TIMEOUT` has passed, or at once without a lock file."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while handle is not None and not _lock_acquired(handle):
        if time.monotonic() > deadline:
            log.warning("Waited %.0f s for another process's Phrase login; logging in", LOCK_TIMEOUT)
            return
        yield


class TokenFileStore:
    """The login-token files of one directory (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __repr__(self) -> str:
        return f"TokenFileStore({str(self.directory)!r})"

    @classmethod
    def for_config(cls, config: PhraseConnectionConfig) -> TokenFileStore | None:
        """The store of a connection, or ``None`` (``login_cache=process``, or the directory is unusable:
        then a warning says why, once per process, and tokens stay in the process)."""
        if config.token_cache is not TokenCache.DISK or fcntl is None:
            return None
        directory = config.token_cache_dir or default_token_cache_dir()
        try:
            _private_directory(directory)
        except (OSError, _UnsafeDirectory) as problem:
            if directory not in _WARNED:
                _WARNED.add(directory)
                reason = problem if isinstance(problem, _UnsafeDirectory) else type(problem).__name__
                log.warning(
                    "Not sharing Phrase login tokens through %s (%s); each process logs in for itself. "
                    "Set the connection extra 'login_cache_dir' to a private directory, or "
                    "'login_cache': 'process' to silence this.",
                    directory,
                    reason,
                )
            return None
        return cls(directory)

    # -- paths ----------------------------------------------------------------------------------------

    def _stem(self, config: PhraseConnectionConfig) -> str:
        identity = f"airflow-phrase login token\n{config.base_url}\n{config.user_name or ''}"
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]

    def token_path(self, config: PhraseConnectionConfig) -> Path:
        return self.directory / f"{self._stem(config)}{TOKEN_SUFFIX}"

    def _lock_path(self, config: PhraseConnectionConfig) -> Path:
        return self.directory / f"{self._stem(config)}{LOCK_SUFFIX}"

    # -- lock -----------------------------------------------------------------------------------------

    def _open_lock(self, config: PhraseConnectionConfig) -> IO[bytes] | None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            return os.fdopen(os.open(self._lock_path(config), flags, 0o600), "r+b")
        except OSError as exc:
            log.debug("Cannot open the login-token lock in %s (%s)", self.directory, type(exc).__name__)
            return None

    @contextlib.contextmanager
    def locked(self, config: PhraseConnectionConfig) -> Iterator[None]:
        """Hold this login's cross-process lock (at most :data:`LOCK_TIMEOUT` s of waiting)."""
        handle = self._open_lock(config)
        try:
            for _ in _waits_for_lock(handle):
                time.sleep(LOCK_POLL_SECONDS)
            yield
        finally:
            if handle is not None:
                handle.close()  # releases the lock

    @contextlib.asynccontextmanager
    async def a_locked(self, config: PhraseConnectionConfig) -> AsyncIterator[None]:
        """:meth:`locked` for event loops: the lock is polled (never a blocking ``flock`` on the loop)."""
        handle = await asyncio.to_thread(self._open_lock, config)
        try:
            for _ in _waits_for_lock(handle):
                await asyncio.sleep(LOCK_POLL_SECONDS)
            yield
        finally:
            if handle is not None:
                handle.close()

    # -- read, write, discard -------------------------------------------------------------------------

    def _read_bytes(self, path: Path) -> bytes | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:  # a symlink (ELOOP), no permission, ...
            log.warning("Ignoring the login-token file %s (%s)", path, type(exc).__name__)
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            private = (
                stat.S_ISREG(info.st_mode)
                and info.st_uid == os.geteuid()
                and not stat.S_IMODE(info.st_mode) & 0o077
            )
            if not private or info.st_size > MAX_FILE_BYTES:
                log.warning("Ignoring the login-token file %s: not a private file of this user", path)
                return None
            return handle.read(MAX_FILE_BYTES + 1)

    def _load(self, config: PhraseConnectionConfig) -> _Sealed | None:
        """The file's content if this connection's password opens it and it is about this login."""
        path = self.token_path(config)
        data = self._read_bytes(path)
        if data is None:
            return None
        try:
            envelope = _Envelope.model_validate_json(data)
            salt = base64.b64decode(envelope.salt, validate=True)
        except (ValidationError, ValueError):
            log.warning("Ignoring the login-token file %s: not a token file of this provider", path)
            return None
        if len(salt) != SALT_BYTES:
            return None
        from cryptography.fernet import InvalidToken

        fernet = _fernet(token_key(config), config.secret.get_secret_value(), salt)
        try:
            sealed = _Sealed.model_validate_json(fernet.decrypt(envelope.sealed.encode("ascii")))
        except (InvalidToken, ValidationError, ValueError):
            # Another password (or a damaged file). Never log the exception: it may quote the content.
            log.info("The login-token file %s does not open with this connection's password", path)
            return None
        if sealed.base_url != config.base_url or sealed.user != (config.user_name or ""):
            log.warning("Ignoring the login-token file %s: it belongs to another login", path)
            return None
        return sealed

    def read(self, config: PhraseConnectionConfig) -> CachedToken | None:
        """A usable token for this login (before its safety margin), or ``None``."""
        sealed = self._load(config)
        if sealed is None:
            return None
        cached = CachedToken(token=sealed.token, expires=sealed.expires, use_until=sealed.use_until)
        return cached if cached.usable() else None

    def write(self, config: PhraseConnectionConfig, cached: CachedToken) -> None:
        """Seal ``cached`` with a key from the password and replace the file atomically (best effort)."""
        salt, fernet = _writing_key(token_key(config), config.secret.get_secret_value())
        content = {
            "base_url": config.base_url,
            "user": config.user_name or "",
            "token": cached.token.get_secret_value(),
            "expires": cached.expires.isoformat(),
            "use_until": cached.use_until.isoformat(),
        }
        envelope = _Envelope(
            version=FORMAT_VERSION,
            salt=base64.b64encode(salt).decode("ascii"),
            sealed=fernet.encrypt(json.dumps(content).encode("utf-8")).decode("ascii"),
        )
        target = self.token_path(config)
        try:
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")  # mode 0600
        except OSError as exc:
            log.warning("Cannot write the login-token file in %s (%s)", self.directory, type(exc).__name__)
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(envelope.model_dump_json().encode("utf-8"))
            os.replace(temporary, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            log.warning("Cannot write the login-token file %s (%s)", target, type(exc).__name__)

    def discard(self, config: PhraseConnectionConfig, token: str) -> None:
        """Delete the file if it still holds ``token`` (another process may have stored a newer one)."""
        sealed = self._load(config)
        if sealed is not None and sealed.token.get_secret_value() == token:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.token_path(config))


# ---------------------------------------------------------------------------------------------------
# What the hook calls: memory first, then the machine's file, then a login.


def shared_login_token(config: PhraseConnectionConfig, login: Callable[[], CachedToken]) -> CachedToken:
    """A usable login token: from this process, else from the machine's token file, else ``login()``
    (whose token is then shared). Logins of one user are serialised across threads and processes."""
    key = token_key(config)
    cached = TOKEN_CACHE.get(key)
    if cached is not None:
        return cached
    with TOKEN_CACHE.login_lock(key):
        cached = TOKEN_CACHE.get(key)
        if cached is not None:
            return cached
        store = TokenFileStore.for_config(config)
        if store is None:
            return TOKEN_CACHE.put_cached(key, login())
        with store.locked(config):
            cached = store.read(config)
            if cached is not None:
                mask(cached.token.get_secret_value())
                _log_shared(config)
            else:
                cached = login()
                store.write(config, cached)
        return TOKEN_CACHE.put_cached(key, cached)


async def a_shared_login_token(
    config: PhraseConnectionConfig, login: Callable[[], Awaitable[CachedToken]]
) -> CachedToken:
    """:func:`shared_login_token` for event loops (the caller serialises its own coroutines)."""
    key = token_key(config)
    cached = TOKEN_CACHE.get(key)
    if cached is not None:
        return cached
    store = await asyncio.to_thread(TokenFileStore.for_config, config)
    if store is None:
        return TOKEN_CACHE.put_cached(key, await login())
    async with store.a_locked(config):
        cached = await asyncio.to_thread(store.read, config)
        if cached is not None:
            await amask(cached.token.get_secret_value())
            _log_shared(config)
        else:
            cached = await login()
            await asyncio.to_thread(store.write, config, cached)
    return TOKEN_CACHE.put_cached(key, cached)


def forget_login_token(config: PhraseConnectionConfig, token: str) -> None:
    """Phrase rejected ``token`` (401): drop it from this process and from the machine's file."""
    TOKEN_CACHE.invalidate(token_key(config), token)
    store = TokenFileStore.for_config(config)
    if store is not None:
        with store.locked(config):
            store.discard(config, token)


async def a_forget_login_token(config: PhraseConnectionConfig, token: str) -> None:
    TOKEN_CACHE.invalidate(token_key(config), token)
    store = await asyncio.to_thread(TokenFileStore.for_config, config)
    if store is not None:
        async with store.a_locked(config):
            await asyncio.to_thread(store.discard, config, token)


def _log_shared(config: PhraseConnectionConfig) -> None:
    log.info(
        "Using the Phrase TMS login token another process of this machine obtained for %s at %s",
        config.user_name,
        config.base_url,
    )
