"""How one HTTP attempt failed: what the transports raise and the retry policy reads.

Kept apart from :mod:`airflow_phrase.hooks.transport` (which imports requests and aiohttp) so that the
retry policy, and everything that imports it, stays light. Both failures carry their
:class:`~airflow_phrase.classification.FailureClass` from the one table in
:mod:`airflow_phrase.classification`. Messages never contain request headers, so never a token.
"""

from __future__ import annotations

from airflow_phrase.classification import TRANSPORT_CLASSES, FailureClass, TransportKind, classify_status

#: The transports' name for :class:`~airflow_phrase.classification.TransportKind`.
FailureKind = TransportKind


class HttpStatusFailure(Exception):
    """The server answered one attempt with a non-2xx status."""

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        error_code: str | None,
        error_description: str | None,
        retry_after_raw: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.error_code = error_code
        self.error_description = error_description
        #: The ``Retry-After`` header as sent; the retry policy interprets it when it computes the wait.
        self.retry_after_raw = retry_after_raw
        super().__init__(
            f"{method} {path} answered HTTP {status}: {error_code or ''} {error_description or ''}"
        )

    @property
    def failure_class(self) -> FailureClass:
        return classify_status(self.status)


class TransportFailure(Exception):
    """One attempt got no usable HTTP response."""

    def __init__(self, *, kind: FailureKind, method: str, path: str, detail: str) -> None:
        self.kind = kind
        self.method = method
        self.path = path
        self.detail = detail
        super().__init__(f"{method} {path}: {kind.value} ({detail})")

    @property
    def failure_class(self) -> FailureClass:
        return TRANSPORT_CLASSES[self.kind]


__all__ = ["FailureKind", "HttpStatusFailure", "TransportFailure"]
