"""``EmulatorConfig``: the knobs of one emulator instance (delays, token lifetime, rate limit, admin)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Fields fixed when the server starts; ``PATCH /__emulator__/config`` refuses to change them.
STARTUP_ONLY_FIELDS = frozenset({"host", "port", "enable_admin"})


class EmulatorConfig(BaseModel):
    """Configuration of a Phrase TMS emulator. Durations are in seconds."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    #: How long a connector download task stays ``NEW`` before it ends as its seed says.
    task_delay: float = Field(default=2.0, ge=0)
    #: How long the ``IMPORT_JOB`` async request (and the jobs' ``importStatus``) stays running.
    import_delay: float = Field(default=1.0, ge=0)
    #: Seconds after a job's import finished at which it becomes ``COMPLETED`` by itself, as if a
    #: linguist had finished it (``None``: never). Read at the time of each look, so changing it applies
    #: to existing jobs too; a job given a status by ``setStatus`` or the admin ``script_job`` no longer
    #: follows it.
    job_completion_delay: float | None = Field(default=None, ge=0)
    #: How long after ``POST .../jobs/export`` the exported target files appear in the connector's tree.
    export_delay: float = Field(default=1.0, ge=0)
    #: How long the async request of ``PUT .../jobs/{jobUid}/targetFile`` runs before the file is ready.
    target_file_delay: float = Field(default=1.0, ge=0)
    #: Lifetime of a token issued by ``POST /api2/v3/auth/login`` (Phrase documents 24 h).
    token_ttl: float = Field(default=86400.0, gt=0)
    #: Requests per token per sliding minute before 429 (Phrase documents 6000).
    rate_limit_per_minute: int = Field(default=6000, ge=1)
    #: Send ``Retry-After`` (whole seconds) with a rate-limit 429. Phrase does not document the header.
    rate_limit_retry_after: bool = False
    #: Serve the ``/__emulator__/`` admin routes. Off by default: a real Phrase has none.
    enable_admin: bool = False
    #: Send the off-spec shapes Phrase's Java backend is known to send (see ``emulator/quirks.py``):
    #: timestamps as Java ``Instant`` objects, epoch numbers or without a proper offset, ids as JSON
    #: numbers, enum values outside the spec, nested references without their optional keys. The
    #: seed's ``"liveQuirks": true`` turns it on as well. Changeable at run time (the cancelled task
    #: of this mode comes and goes with the next reset).
    live_quirks: bool = False
    #: The request journal keeps at most this many entries (oldest dropped first).
    journal_max_entries: int = Field(default=10_000, ge=1)
