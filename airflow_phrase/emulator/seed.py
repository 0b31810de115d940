"""The seed file: the users, tokens, connectors (with remote files) and projects an emulator starts with.

Times in a seed are either ISO 8601 or relative to the moment the emulator (re)starts: ``"-30m"``,
``"-2h"``, ``"-3d"``, ``"-45s"``. Each remote file says how its download task ends (``download``) and
how the import of jobs created from it ends (``import``), so failure paths are part of the data.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

DEMO_SEED_PATH = Path(__file__).parent / "seeds" / "demo.json"

_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def resolve_time(value: str, start: datetime) -> datetime:
    """A seed time (``"-2h"`` relative to ``start``, or ISO 8601; naive means UTC) as an aware datetime."""
    match = _RELATIVE.match(value.strip())
    if match:
        return start - timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _check_time(value: str) -> str:
    resolve_time(value, datetime.now(timezone.utc))  # raises ValueError on a bad value
    return value


class _SeedModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class SeedOrganization(_SeedModel):
    id: str
    name: str
    #: The organisation's uid (whoAmI's ``organization.uid``); default ``"org"`` + ``id``.
    uid: str | None = None


class SeedUser(_SeedModel):
    uid: str
    id: str
    user_name: str
    password: SecretStr
    first_name: str
    last_name: str
    email: str
    role: Literal["ADMIN", "PROJECT_MANAGER", "LINGUIST", "GUEST", "SUBMITTER", "PORTAL_MEMBER"] = "ADMIN"


class SeedToken(_SeedModel):
    """A token that exists from the start (a long-lived API token or an OAuth/Platform bearer token)."""

    token: SecretStr
    user_name: str
    #: The ``Authorization`` scheme the token is valid with.
    scheme: Literal["ApiToken", "Bearer"] = "ApiToken"
    #: ``None``: never expires.
    expires: str | None = None

    _time = field_validator("expires")(lambda v: v if v is None else _check_time(v))


class SeedDownload(_SeedModel):
    """How a connector download task of this file ends."""

    status: Literal["SUCCESS", "ERROR", "CONVERTER_ERROR"] = "SUCCESS"
    error_message: str | None = None


class SeedImport(_SeedModel):
    """How the ``IMPORT_JOB`` async request of jobs created from this file ends."""

    status: Literal["OK", "ERROR"] = "OK"
    error_code: str | None = None
    error_desc: str | None = None


class SeedRemoteFile(_SeedModel):
    #: Full path inside the connector, without a leading slash: ``"docs/guides/install.md"``.
    path: str
    content: str | None = None
    content_base64: str | None = None
    content_type: str | None = None
    last_modified: str = "-1h"
    download: SeedDownload = Field(default_factory=SeedDownload)
    import_outcome: SeedImport = Field(default_factory=SeedImport, alias="import")

    _time = field_validator("last_modified")(lambda v: _check_time(v))

    @field_validator("path")
    @classmethod
    def _clean_path(cls, value: str) -> str:
        segments = value.split("/")
        if not value or value.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise ValueError(f"{value!r} must be a relative path like 'docs/guides/install.md'")
        return value

    @model_validator(mode="after")
    def _one_content(self) -> SeedRemoteFile:
        if self.content is not None and self.content_base64 is not None:
            raise ValueError("give content or contentBase64, not both")
        return self

    def data(self) -> bytes:
        if self.content_base64 is not None:
            return base64.b64decode(self.content_base64)
        return (self.content or "").encode("utf-8")


class SeedConnector(_SeedModel):
    id: str = Field(pattern=r"^\d+$")
    name: str
    type: str
    local_token: str
    created_at: str = "-30d"
    created_by: str
    files: list[SeedRemoteFile] = Field(default_factory=list)

    _time = field_validator("created_at")(lambda v: _check_time(v))

    @model_validator(mode="after")
    def _unique_paths(self) -> SeedConnector:
        paths = [f.path for f in self.files]
        folders = {p.rsplit("/", 1)[0] for p in paths if "/" in p}
        clash = sorted((set(paths) & folders) | {p for p in paths if paths.count(p) > 1})
        if clash:
            raise ValueError(f"connector {self.id}: paths used twice or as both file and folder: {clash}")
        return self


class SeedWorkflowStep(_SeedModel):
    id: str
    uid: str
    name: str
    workflow_level: int = Field(ge=1, le=15)
    abbreviation: str | None = None


class SeedProject(_SeedModel):
    uid: str
    id: str
    internal_id: int
    name: str
    source_lang: str
    target_langs: list[str] = Field(min_length=1)
    status: str = "NEW"
    date_created: str = "-10d"
    owner: str
    client: str | None = None
    workflow_steps: list[SeedWorkflowStep] = Field(default_factory=list)
    archived: bool = False

    _time = field_validator("date_created")(lambda v: _check_time(v))

    @model_validator(mode="after")
    def _levels(self) -> SeedProject:
        levels = sorted(s.workflow_level for s in self.workflow_steps)
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError(f"project {self.uid}: workflow levels must be 1..n, got {levels}")
        return self


class Seed(_SeedModel):
    """A whole seed file.

    ``liveQuirks``: ``true`` turns the live-quirks mode on for emulators started with this seed (as
    ``EmulatorConfig.live_quirks`` / ``--live-quirks`` do): see docs/emulator.md.
    """

    live_quirks: bool = False
    organization: SeedOrganization
    users: list[SeedUser] = Field(min_length=1)
    tokens: list[SeedToken] = Field(default_factory=list)
    connectors: list[SeedConnector] = Field(default_factory=list)
    projects: list[SeedProject] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Seed:
        user_names = {u.user_name for u in self.users}
        problems = [
            f"token for unknown user {t.user_name!r}" for t in self.tokens if t.user_name not in user_names
        ]
        problems += [
            f"connector {c.id} created by unknown user {c.created_by!r}"
            for c in self.connectors
            if c.created_by not in user_names
        ]
        problems += [
            f"project {p.uid} owned by unknown user {p.owner!r}"
            for p in self.projects
            if p.owner not in user_names
        ]
        for kind, ids in (
            ("user uid", [u.uid for u in self.users]),
            ("connector id", [c.id for c in self.connectors]),
            ("project uid", [p.uid for p in self.projects]),
        ):
            problems += [f"duplicate {kind} {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_seed(path: str | Path | None = None) -> Seed:
    """Read and validate a seed file; ``None`` loads the shipped demo seed."""
    return Seed.model_validate_json(Path(path or DEMO_SEED_PATH).read_text(encoding="utf-8"))
