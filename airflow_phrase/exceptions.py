"""Exceptions raised by the Phrase TMS provider."""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowException


class PhraseApiError(AirflowException):
    """Phrase answered with an error status (after any retries the status allowed).

    Carries what a person needs to act on the failure (status, Phrase's ``errorCode`` and
    ``errorDescription``, the method and the path) and never any credential.
    """

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        error_code: str | None = None,
        error_description: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.error_code = error_code
        self.error_description = error_description
        self.attempts = attempts
        detail = (
            f"{error_code}: {error_description}" if error_code else (error_description or "no error body")
        )
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"Phrase TMS API {method} {path} failed with HTTP {status}{tried}: {detail}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Keyword-only __init__: make the exception picklable (Airflow ships exceptions across processes).
        return (
            _rebuild_api_error,
            (self.status, self.method, self.path, self.error_code, self.error_description, self.attempts),
        )


def _rebuild_api_error(
    status: int, method: str, path: str, error_code: str | None, error_description: str | None, attempts: int
) -> PhraseApiError:
    return PhraseApiError(
        status=status,
        method=method,
        path=path,
        error_code=error_code,
        error_description=error_description,
        attempts=attempts,
    )


class PhraseConnectionError(AirflowException):
    """Phrase could not be reached (connection refused, reset or timed out) after all retries."""


class PhraseConfigurationError(AirflowException):
    """The Airflow connection for Phrase TMS is set up wrongly; the message says which field to fix."""


class PhraseNotFoundError(AirflowException):
    """A connector, folder or file named in the DAG does not exist; the message lists what does."""
