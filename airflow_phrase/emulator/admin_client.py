"""``AdminClient``: the emulator's admin surface over HTTP (``requests``), for tests and demos."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from airflow_phrase.emulator.faults import FaultRule
from airflow_phrase.emulator.journal import JournalEntry


class EmulatorAdminError(RuntimeError):
    """An admin call failed (e.g. the emulator was started without ``enable_admin``)."""


class AdminClient:
    """Calls ``/__emulator__/...`` on an emulator started with ``enable_admin=True``."""

    def __init__(
        self, root_url: str, *, timeout: float = 10.0, session: requests.Session | None = None
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"AdminClient({self.root_url!r})"

    def _call(self, method: str, path: str, *, label: str | None = None, **kwargs: Any) -> requests.Response:
        # ``label`` replaces the path in error messages when the path holds a secret (a token).
        url = f"{self.root_url}/__emulator__{path}"
        shown = label or path
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise EmulatorAdminError(f"{method} /__emulator__{shown}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            hint = " (is the emulator running with enable_admin=True?)" if response.status_code == 404 else ""
            raise EmulatorAdminError(
                f"{method} /__emulator__{shown} answered HTTP {response.status_code}{hint}: "
                f"{response.text[:500]}"
            )
        return response

    def journal(self, since: int = 0) -> list[JournalEntry]:
        entries = self._call("GET", "/journal", params={"since": since}).json()["entries"]
        return [JournalEntry.model_validate(e) for e in entries]

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def set_faults(self, rules: list[dict[str, Any] | FaultRule]) -> None:
        body = [r.model_dump(mode="json", by_alias=True) if isinstance(r, FaultRule) else r for r in rules]
        self._call("PUT", "/faults", json={"rules": body})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def configure(self, **fields: Any) -> dict[str, Any]:
        """Change config fields at run time; returns the whole config."""
        result: dict[str, Any] = self._call("PATCH", "/config", json=fields).json()
        return result

    def config(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/config").json()
        return result

    def reset(self) -> None:
        self._call("POST", "/reset")

    def snapshot(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/state").json()
        return result

    def expire_token(self, token: str) -> None:
        self._call("POST", f"/tokens/{quote(token, safe='')}/expire", label="/tokens/***/expire")

    def put_file(self, connector_id: str, path: str, **fields: Any) -> None:
        """Add or replace a remote file of a connector: ``fields`` as in a seed file entry
        (``content``, ``lastModified`` such as ``"-3d"`` or ISO 8601, ``download``, ``import``, ...)."""
        self._call(
            "PUT",
            f"/connectors/{quote(str(connector_id), safe='')}/files",
            label="put file",
            json={"path": path, **fields},
        )

    def script_job(
        self, job_uid: str, *, status: str | None = "COMPLETED", after: float = 0.0
    ) -> dict[str, Any]:
        """Script a job's status: it takes ``status`` (``"COMPLETED"``, ``"CANCELLED"``, ``"DECLINED"``,
        ``"REJECTED"``, ``"DELIVERED"``, ... any value of Phrase's job status enum) ``after`` seconds
        from now; ``status=None``: it keeps its current status for good. Replaces an earlier script and
        the config's ``job_completion_delay`` for this job. Returns ``{"uid", "status"}`` (the status now).
        """
        result: dict[str, Any] = self._call(
            "POST",
            f"/jobs/{quote(str(job_uid), safe='')}/script",
            json={"status": status, "after": after},
        ).json()
        return result
