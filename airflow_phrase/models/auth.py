"""Authentication payloads: login v3 and whoAmI."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ._base import PhraseRequest, PhraseResponse, PhraseTimestamp
from .common import NameReference, UserReference


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
    """``LoginResponseV3Dto``."""

    token: str
    expires: PhraseTimestamp
    user: UserReference | None = None
    last_invalidate_all_sessions_performed: PhraseTimestamp | None = None


class WhoAmI(PhraseResponse):
    """``LoginUserDto`` from ``GET /api2/v1/auth/whoAmI``."""

    user: UserReference
    organization: NameReference | None = None
    edition: dict[str, object] | None = None
    features: list[str] | None = None
    csrf_token: str | None = None
