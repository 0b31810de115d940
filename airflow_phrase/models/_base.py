"""Building blocks shared by every Phrase TMS payload model.

Two policies, deliberately different:

* **Requests** (what we send) are validated strictly: unknown fields are rejected, so a typo in an
  operator argument fails on the worker, before any remote call, with the field named.
* **Responses** (what Phrase sends) are read leniently, because Phrase's Java backend does not always
  send what its own OpenAPI spec declares, and ships a new spec every few weeks:

  - unknown fields are kept (``extra="allow"``): a new field never breaks a user's DAG;
  - every id-like field (:data:`PhraseId`) accepts a JSON number as well as a string and yields ``str``;
  - every timestamp (:data:`PhraseTimestamp`, :data:`OptionalTimestamp`) accepts each shape Phrase is
    known to send (see :func:`parse_phrase_timestamp`) and yields an aware UTC ``datetime``; an
    *optional* timestamp that cannot be read becomes ``None`` with a warning instead of failing the
    whole response;
  - every enum keeps values it does not know as :class:`UnknownValue` (see :func:`lenient_enum`), typed
    so that code must handle them;
  - ``null`` where the model has a non-null default (a list, a flag) reads as that default, so nested
    references with missing or null optional keys parse.

Field names on the wire are Phrase's camelCase; in Python they are snake_case.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined, core_schema

log = logging.getLogger("airflow_phrase.models")

E = TypeVar("E", bound=Enum)

# ------------------------------------------------------------------------------------------- ids


def _id_to_str(value: Any) -> Any:
    if isinstance(value, bool):  # bool is an int subclass; never a valid id
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


#: An identifier Phrase may send as a JSON number or a string (``id``, ``uid``, ``*Id``, ``*Uid``,
#: ``innerId``); always a ``str`` in Python (``310001`` → ``"310001"``).
PhraseId = Annotated[str, BeforeValidator(_id_to_str)]

# ------------------------------------------------------------------------------------- timestamps

_ISO = re.compile(
    r"""^(?P<date>\d{4}-\d{2}-\d{2})
    (?:[Tt\ ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?)?
    \s*(?:(?P<utc>[Zz]|UTC|GMT)|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?$""",
    re.VERBOSE,
)
_INSTANT_KEYS = frozenset({"epochSecond", "nano"})
#: Epoch numbers at least this large are milliseconds (as seconds they would be after the year 5000).
_MILLIS_FROM = 100_000_000_000
_MICROS_FROM = _MILLIS_FROM * 1000
_NANOS_FROM = _MICROS_FROM * 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

TIMESTAMP_FORMS = (
    "ISO 8601 with Z, +00:00, +0000 or no offset (UTC), a Java Instant object "
    '{"epochSecond": ..., "nano": ...}, epoch seconds or milliseconds as a number, or a '
    "[year, month, day, hour, minute, second, nano] array"
)


def _from_epoch(number: float | int) -> datetime:
    magnitude = abs(number)
    if magnitude >= _NANOS_FROM:
        return _EPOCH + timedelta(microseconds=int(number) // 1000)
    if magnitude >= _MICROS_FROM:
        return _EPOCH + timedelta(microseconds=int(number))
    if magnitude >= _MILLIS_FROM:
        return _EPOCH + timedelta(milliseconds=number)
    return _EPOCH + timedelta(seconds=number)


def _from_iso(text: str) -> datetime:
    match = _ISO.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a timestamp ({TIMESTAMP_FORMS})")
    year, month, day = (int(part) for part in match["date"].split("-"))
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    parsed = datetime(
        year,
        month,
        day,
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        int(fraction or 0),
    )
    if match["sign"]:
        offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"] or 0))
        tz = timezone(offset if match["sign"] == "+" else -offset)
        return parsed.replace(tzinfo=tz).astimezone(timezone.utc)
    return parsed.replace(tzinfo=timezone.utc)  # "Z", "UTC" or no offset at all: UTC


def parse_phrase_timestamp(value: Any) -> datetime:
    """Read a timestamp in any shape Phrase is known to send; an aware UTC ``datetime``.

    * ISO 8601 / RFC 3339 strings with ``Z``, ``+00:00``, ``+0000`` (Java's ``Z`` pattern) or no offset
      at all (a ``LocalDateTime``: read as UTC), with up to 9 fractional digits (Java's nanoseconds);
    * a Java ``Instant`` serialised as a bean: ``{"epochSecond": 1785909781, "nano": 785484047}``
      (→ ``2026-08-05T06:03:01.785484Z``);
    * epoch seconds (with a fraction: Jackson's ``Instant`` as a decimal) or epoch milliseconds
      (``java.util.Date``) as a JSON number or a numeric string;
    * Jackson's array form of a ``LocalDateTime``: ``[2026, 8, 5, 6, 3, 1, 785484047]`` (UTC).

    Naive ``datetime`` objects mean UTC. Raises ``ValueError`` for anything else.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a timestamp ({TIMESTAMP_FORMS})")
    try:
        if isinstance(value, (int, float)):
            return _from_epoch(value)
        if isinstance(value, str):
            text = value.strip()
            if re.fullmatch(r"[+-]?\d+(?:\.\d+)?", text):
                return _from_epoch(float(text) if "." in text else int(text))
            return _from_iso(text)
        if isinstance(value, dict) and "epochSecond" in value and set(value) <= _INSTANT_KEYS:
            seconds, nano = value["epochSecond"], value.get("nano") or 0
            if isinstance(seconds, int) and not isinstance(seconds, bool) and isinstance(nano, int):
                return _EPOCH + timedelta(seconds=seconds, microseconds=nano // 1000)
        if (
            isinstance(value, (list, tuple))
            and 3 <= len(value) <= 7
            and all(isinstance(part, int) and not isinstance(part, bool) for part in value)
        ):
            year, month, day, hour, minute, second, nano = (*value, 0, 0, 0, 0)[:7]
            return datetime(year, month, day, hour, minute, second, nano // 1000, tzinfo=timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a readable timestamp: {exc}") from None
    raise ValueError(f"{value!r} is not a timestamp ({TIMESTAMP_FORMS})")


def format_phrase_timestamp(value: datetime) -> str:
    """Format a datetime as the spec's ``date-time`` (RFC 3339, UTC, whole seconds): ``...T06:03:01Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _format_optional(value: datetime | None) -> str | None:
    return None if value is None else format_phrase_timestamp(value)


def _lenient_timestamp(value: Any, info: ValidationInfo) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_phrase_timestamp(value)
    except ValueError:
        model = (info.config or {}).get("title") or "response"
        log.warning(
            "Phrase TMS sent %s.%s as %r, which is not a timestamp this provider can read; "
            "treating it as missing",
            model,
            info.field_name,
            value,
        )
        return None


#: A required timestamp Phrase *sends* (every known shape accepted, see :func:`parse_phrase_timestamp`);
#: an aware UTC ``datetime``; written back as the spec's RFC 3339 form.
PhraseTimestamp = Annotated[
    datetime,
    BeforeValidator(parse_phrase_timestamp),
    PlainSerializer(format_phrase_timestamp, return_type=str, when_used="json"),
]

#: An optional timestamp Phrase *sends*: like :data:`PhraseTimestamp`, but a value that cannot be read
#: becomes ``None`` (with a warning in the log) instead of failing the whole response.
OptionalTimestamp = Annotated[
    datetime | None,
    BeforeValidator(_lenient_timestamp),
    PlainSerializer(_format_optional, return_type=str | None, when_used="json"),
]


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            "must be timezone-aware (e.g. 2026-12-01T10:00:00Z or pendulum.datetime(..., tz='UTC')); "
            "a naive datetime is ambiguous"
        )
    return value.astimezone(timezone.utc)


def _format_request_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


#: A datetime we *send*: must be timezone-aware; sent as ISO 8601 in UTC (``2026-12-01T10:00:00.000Z``).
UtcDateTime = Annotated[
    datetime,
    AfterValidator(_require_aware),
    PlainSerializer(_format_request_datetime, return_type=str, when_used="json"),
]

# ------------------------------------------------------------------------------------------ enums


class UnknownValue(str):
    """An enum value Phrase sent that this version of the provider does not know, kept verbatim.

    A response enum field is typed ``SomeEnum | UnknownValue``: code that needs the enum's meaning has to
    handle the unknown case (mypy sees that ``UnknownValue`` lacks the enum's properties), while logging
    and XCom simply see the string. ``.value`` gives the string, like an enum member's.
    """

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"UnknownValue({str.__repr__(self)})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


_WARNED_UNKNOWN: set[tuple[str, str]] = set()


def _enum_value(value: Enum | str) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def lenient_enum(enum: type[E]) -> Callable[[Any], E | UnknownValue]:
    """A validator: a member of ``enum`` if ``value`` names one, else :class:`UnknownValue` (with a warning).

    Used as ``Annotated[MyEnum | UnknownValue, BeforeValidator(lenient_enum(MyEnum)), ENUM_SERIALIZER]``.
    """

    def validate(value: Any) -> E | UnknownValue:
        if isinstance(value, (enum, UnknownValue)):
            return value
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a {enum.__name__} value")
        try:
            return enum(value)
        except ValueError:
            if (enum.__name__, value) not in _WARNED_UNKNOWN:  # once per process: pollers re-read it
                _WARNED_UNKNOWN.add((enum.__name__, value))
                log.warning(
                    "Phrase TMS sent %s %r, which this provider does not know (known: %s); kept as is",
                    enum.__name__,
                    value,
                    ", ".join(_enum_value(member) for member in enum),
                )
            return UnknownValue(value)

    return validate


#: Serialises an ``Enum | UnknownValue`` field as its plain string.
ENUM_SERIALIZER = PlainSerializer(_enum_value, return_type=str, when_used="json")

# ------------------------------------------------------------------------------------ base models


@functools.cache
def _non_null_defaults(model: type[BaseModel]) -> frozenset[str]:
    """Names (Python and wire) of the fields of ``model`` whose default is not ``None``."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        if info.default_factory is not None or info.default not in (PydanticUndefined, None):
            names.update({name, info.alias or name})
    return frozenset(names)


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
    """Base of every response body: lenient (see the module docstring), unknown fields in ``model_extra``."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
    )

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        """Phrase sends ``null`` for empty lists and unset flags now and then: read it as the default."""
        if not isinstance(data, dict):
            return data
        defaults = _non_null_defaults(cls)
        if not any(value is None and key in defaults for key, value in data.items()):
            return data
        return {key: value for key, value in data.items() if not (value is None and key in defaults)}

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
