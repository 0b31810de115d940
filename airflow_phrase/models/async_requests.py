"""Asynchronous requests (``GET /api2/v1/async/{id}``): how job import progress is reported."""

from __future__ import annotations

from ._base import OptionalTimestamp, PhraseId, PhraseResponse
from .common import ProjectReference, UserReference
from .errors import ErrorDetail


class AsyncRequestReference(PhraseResponse):
    """``AsyncRequestReference`` as embedded in ``JobListDto``."""

    id: PhraseId
    action: str | None = None
    date_created: OptionalTimestamp = None


class AsyncResponse(PhraseResponse):
    """``AsyncResponseDto``: present once the request finished; ``error_code`` set when it failed."""

    date_created: OptionalTimestamp = None
    error_code: str | None = None
    error_desc: str | None = None
    error_details: list[ErrorDetail] | None = None
    warnings: list[ErrorDetail] | None = None
    accepted_segments_count: int | None = None


class AsyncRequest(PhraseResponse):
    """``AsyncRequestDto``. Finished when ``async_response`` is not ``None``."""

    id: PhraseId
    created_by: UserReference | None = None
    date_created: OptionalTimestamp = None
    action: str | None = None
    async_response: AsyncResponse | None = None
    parent: AsyncRequest | None = None
    project: ProjectReference | None = None

    @property
    def is_finished(self) -> bool:
        return self.async_response is not None

    @property
    def is_failed(self) -> bool:
        return self.async_response is not None and self.async_response.error_code is not None
