"""Authentication payloads: login v3 and whoAmI."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator

from ._base import OptionalTimestamp, PhraseId, PhraseRequest, PhraseResponse, PhraseTimestamp
from .common import OrganizationReference, UserReference


class LoginRequest(PhraseRequest):
    """``POST /api2/v3/auth/login`` body (``LoginV3Dto``). The password never leaves as a plain ``str``."""

    user_name: str = Field(min_length=1, max_length=255)
    password: SecretStr = Field(min_length=1, max_length=255)
    code: str | None = None
    user_uid: str | None = None

    def to_wire(self) -> dict[str, object]:
        body = super().to_wire()
        body["password"] = self.password.get_secret_value()
        return body


class LoginResponse(PhraseResponse):
    """``LoginResponseV3Dto``. ``expires`` is required: the token cache needs it."""

    token: str
    expires: PhraseTimestamp
    user: UserReference | None = None
    last_invalidate_all_sessions_performed: OptionalTimestamp = None


class Edition(PhraseResponse):
    """whoAmI's ``edition`` (the current spec has ``name`` only; older ones also ``id`` and ``title``)."""

    id: PhraseId | None = None
    name: str | None = None
    title: str | None = None


class WhoAmI(PhraseResponse):
    """``LoginUserDto`` from ``GET /api2/v1/auth/whoAmI``.

    ``features`` is the spec's ``FeaturesDto``, an object of flags by name (``{"icuEnabled": true}``);
    a plain list of enabled names is accepted too, as those names set to ``True``.
    """

    user: UserReference
    organization: OrganizationReference | None = None
    edition: Edition | None = None
    features: dict[str, Any] = Field(default_factory=dict)
    csrf_token: str | None = None

    @field_validator("features", mode="before")
    @classmethod
    def _features_by_name(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return {str(name): True for name in value}
        return value
