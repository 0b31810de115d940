"""The error body Phrase returns with every 4xx/5xx: ``{"errorCode": ..., "errorDescription": ...}``."""

from __future__ import annotations

from ._base import PhraseResponse


class ErrorBody(PhraseResponse):
    error_code: str | None = None
    error_description: str | None = None


class ErrorDetail(PhraseResponse):
    """One entry of ``asyncResponse.errorDetails`` / ``warnings``."""

    code: str | None = None
    args: dict[str, object] | None = None
    message: str | None = None
