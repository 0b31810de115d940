"""The production shape's backing services, on the machine's own servers: a throwaway PostgreSQL database and
one Redis database number, touched only within what a test session created.

* PostgreSQL (``AIRFLOW_PHRASE_E2E_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``,
  trust auth): :func:`postgres_database` creates a database with a unique name for the session and drops it
  afterwards (``WITH (FORCE)``: processes killed by a test may leave connections behind), even when the
  session fails. Nothing else on the server is touched.
* Redis (``AIRFLOW_PHRASE_E2E_REDIS_URL``, default ``redis://127.0.0.1:6379/9``): the Celery broker lives in
  that one database number, which nothing else on this machine should use. Other test sessions may share
  it, so a session never flushes it: each deployment has its own queue and worker names (carrying its
  marker), and :meth:`RedisDatabase.remove_keys_of` deletes only the keys and entries naming that marker.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import redis

POSTGRES_URL_ENV = "AIRFLOW_PHRASE_E2E_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL_ENV = "AIRFLOW_PHRASE_E2E_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
START_HINT = (
    "start it as .ci/run does: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` / "
    '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`'
)
_SAFE_NAME = re.compile(r"^[a-z0-9_]+$")


class BackingServiceUnavailable(RuntimeError):
    """PostgreSQL or Redis does not answer where the suite expects it."""


@dataclass(frozen=True)
class PostgresDatabase:
    """One database on the server of ``admin_url``."""

    admin_url: str
    """A URL of the server's maintenance database, e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``."""
    name: str

    def url(self, scheme: str = "postgresql+psycopg2") -> str:
        """The database's SQLAlchemy URL, e.g. ``postgresql+psycopg2://postgres@127.0.0.1:5432/<name>``."""
        parts = urlsplit(self.admin_url)
        return urlunsplit((scheme, parts.netloc, f"/{self.name}", parts.query, ""))

    def server_major_version(self) -> int:
        """The PostgreSQL server's major version, e.g. 15."""
        with _admin_cursor(self.admin_url) as cursor:
            cursor.execute("SHOW server_version_num")
            (version_num,) = cursor.fetchone()
        return int(version_num) // 10000

    def exists(self) -> bool:
        with _admin_cursor(self.admin_url) as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,))
            return cursor.fetchone() is not None


def postgres_admin_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


@contextlib.contextmanager
def _admin_cursor(admin_url: str) -> Iterator:
    import psycopg2

    try:
        connection = psycopg2.connect(admin_url, connect_timeout=10)
    except psycopg2.OperationalError as error:
        raise BackingServiceUnavailable(
            f"PostgreSQL does not answer at {admin_url} ({str(error).strip()}): set {POSTGRES_URL_ENV} or "
            f"{START_HINT}"
        ) from None
    connection.autocommit = True  # CREATE / DROP DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@contextlib.contextmanager
def postgres_database(
    prefix: str = "airflow_phrase_e2e", admin_url: str | None = None
) -> Iterator[PostgresDatabase]:
    """Create ``<prefix>_<UTC time>_<random>`` and drop it when the block ends, whatever happened in it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    database = PostgresDatabase(
        admin_url=admin_url or postgres_admin_url(), name=f"{prefix}_{stamp}_{uuid.uuid4().hex[:8]}"
    )
    assert _SAFE_NAME.match(database.name), database.name  # it is spliced into SQL below
    with _admin_cursor(database.admin_url) as cursor:
        cursor.execute(f'CREATE DATABASE "{database.name}"')
    try:
        yield database
    finally:
        with _admin_cursor(database.admin_url) as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


@dataclass(frozen=True)
class RedisDatabase:
    """One database number of a Redis server."""

    url: str
    """e.g. ``redis://127.0.0.1:6379/9``."""

    @classmethod
    def from_env(cls) -> RedisDatabase:
        url = os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL
        if not re.fullmatch(r"redis://[^/]+/\d+", url):
            raise ValueError(f"{REDIS_URL_ENV}={url!r}: give the database number, e.g. {DEFAULT_REDIS_URL}")
        return cls(url)

    @property
    def number(self) -> int:
        return int(self.url.rsplit("/", 1)[1])

    def client(self) -> redis.Redis:
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=10, decode_responses=True)

    def check(self) -> None:
        """Raise :class:`BackingServiceUnavailable` unless the server answers a PING."""
        import redis

        client = self.client()
        try:
            client.ping()
        except redis.RedisError as error:
            raise BackingServiceUnavailable(
                f"Redis does not answer at {self.url} ({error}): set {REDIS_URL_ENV} or {START_HINT}"
            ) from None
        finally:
            client.close()

    def server_version(self) -> str:
        """The Redis server's version, e.g. ``7.0.15``."""
        client = self.client()
        try:
            return str(client.info("server")["redis_version"])
        finally:
            client.close()

    def keys_of(self, marker: str) -> list[str]:
        """Keys of this database whose name contains ``marker`` (queues, bindings, pidbox of a deployment)."""
        client = self.client()
        try:
            return sorted(client.scan_iter(match=f"*{marker}*", count=1000))
        finally:
            client.close()

    def remove_keys_of(self, marker: str) -> int:
        """Delete what a deployment whose queue and worker names contain ``marker`` left in this database:
        keys naming it, members naming it in kombu's binding sets, and its unacknowledged messages (a
        killed worker's) in kombu's ``unacked`` hash and index. Returns how many keys and entries went."""
        client = self.client()
        removed = 0
        try:
            for key in client.scan_iter(match=f"*{marker}*", count=1000):
                removed += client.delete(key)
            for key in client.scan_iter(match="_kombu.binding.*", count=1000):
                if client.type(key) == "set":
                    members = [m for m in client.smembers(key) if marker in m]
                    if members:
                        removed += client.srem(key, *members)
            if client.type("unacked") == "hash":
                tags = [tag for tag, message in client.hscan_iter("unacked") if marker in message]
                if tags:
                    removed += client.hdel("unacked", *tags)
                    client.zrem("unacked_index", *tags)
        finally:
            client.close()
        return removed
