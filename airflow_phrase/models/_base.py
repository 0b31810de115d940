"""Building blocks shared by every Phrase TMS payload model.

Two policies, deliberately different:

* **Requests** (what we send) are validated strictly: unknown fields are rejected, so a typo in an
  operator argument fails on the worker, before any remote call, with the field named.
* **Responses** (what Phrase sends) are read leniently: unknown fields are kept (``extra="allow"``) and
  ids that Phrase sends sometimes as numbers, sometimes as strings, are both accepted. Phrase ships a
  new spec every few weeks; a new field must never break a user's DAG.

Field names on the wire are Phrase's camelCase; in Python they are snake_case.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
)
from pydantic.alias_generators import to_camel


def _id_to_str(value: Any) -> Any:
    if isinstance(value, bool):  # bool is an int subclass; never a valid id
        return value
    if isinstance(value, int):
        return str(value)
    return value


#: An identifier Phrase may send as a JSON number or a string; always a ``str`` in Python.
PhraseId = Annotated[str, BeforeValidator(_id_to_str)]


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            "must be timezone-aware (e.g. 2026-12-01T10:00:00Z or pendulum.datetime(..., tz='UTC')); "
            "a naive datetime is ambiguous"
        )
    return value.astimezone(timezone.utc)


def _format_request_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_phrase_timestamp(value: datetime) -> str:
    """Format a datetime the way Phrase TMS writes timestamps in responses (``...+0000``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


#: A datetime we *send*: must be timezone-aware; sent as ISO 8601 in UTC (``2026-12-01T10:00:00.000Z``).
UtcDateTime = Annotated[
    datetime,
    AfterValidator(_require_aware),
    PlainSerializer(_format_request_datetime, return_type=str, when_used="json"),
]

#: A timestamp Phrase *sends*: any ISO 8601 form accepted; written back in Phrase's own format.
PhraseTimestamp = Annotated[
    datetime,
    PlainSerializer(format_phrase_timestamp, return_type=str, when_used="json"),
]


class PhraseRequest(BaseModel):
    """Base of every request body: strict, camelCase on the wire, ``None`` fields omitted."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
        validate_assignment=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body exactly as Phrase expects it."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class PhraseResponse(BaseModel):
    """Base of every response body: lenient, unknown fields kept in ``model_extra``."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
    )

    def to_wire(self) -> dict[str, Any]:
        """Serialise back to Phrase's JSON shape (used by the emulator and for XCom)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)


class Page(PhraseResponse):
    """The paging fields Phrase returns with every ``content[]`` list (``pageNumber`` is zero-based)."""

    total_elements: int = 0
    total_pages: int = 0
    page_size: int = 0
    page_number: int = 0
    number_of_elements: int = 0
