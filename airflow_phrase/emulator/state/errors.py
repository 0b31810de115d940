"""The domain error the state model raises and the HTTP layer renders as Phrase's error body."""

from __future__ import annotations


class PhraseError(Exception):
    """An error Phrase would answer with ``status`` and ``{"errorCode", "errorDescription"}``."""

    def __init__(self, status: int, error_code: str, description: str) -> None:
        super().__init__(f"HTTP {status} {error_code}: {description}")
        self.status = status
        self.error_code = error_code
        self.description = description


def bad_request(description: str, error_code: str = "InvalidArguments") -> PhraseError:
    return PhraseError(400, error_code, description)


def not_found(description: str) -> PhraseError:
    return PhraseError(404, "NotFound", description)


def unauthorized(description: str = "Authentication failed, invalid or expired token.") -> PhraseError:
    return PhraseError(401, "AuthUnauthorized", description)
