"""The live-quirks mode: the off-spec shapes Phrase's Java backend is known to send, applied to spec JSON.

Phrase documents its API with an OpenAPI spec, but its Java backend serialises some values differently
from what the spec declares, and clients generated from the spec break on them. Off by default (the
emulator follows the spec); on with ``EmulatorConfig(live_quirks=True)``, ``--live-quirks``, the seed's
``"liveQuirks": true`` or the pytest option ``--phrase-emulator-live-quirks``. Then every JSON body is
rewritten here, after rendering:

* **Timestamps** in the forms Java serialisers produce (each key always in the same form, so that values
  of one key compare alike across endpoints; see :data:`TIMESTAMP_FORMS`):

  - a ``java.time.Instant`` serialised as a bean, ``{"epochSecond": 1785909781, "nano": 785484047}``: seen
    by users on a folder listing's ``lastModified`` (issue 7) and on project templates (phrappy 1.1.0
    converts these back for that reason);
  - epoch milliseconds, a ``java.util.Date`` under Jackson's default ``WRITE_DATES_AS_TIMESTAMPS``;
  - epoch seconds with a fraction, a ``java.time.Instant`` under the same setting with the JSR-310 module;
  - ``+0000`` offsets without a colon (``SimpleDateFormat``'s ``Z`` pattern), not RFC 3339;
  - no offset at all, a ``java.time.LocalDateTime`` (meant as UTC).

* **Ids as JSON numbers**: every id-like key (``id``, ``uid``, ``innerId``, ``*Id``, ``*Uid``, ``*Ids``)
  whose value is a decimal string is sent as a number (``"serverTaskId": 310001``), as Java ``long``
  fields come out.

* **Nested references without their optional keys**: ``null`` values are left out (Jackson's
  ``NON_NULL``), and the references in :data:`REFERENCE_KEYS` keep only their identifying keys.

* **Enum values outside the spec**: the state has a connector task ``CANCELLED`` (model assumption 18).

The hook, operators, sensor, triggers and example DAGs are tested in this mode too (``make test`` runs
their suites a second time with ``--phrase-emulator-live-quirks``), and the conformance suite checks that
this mode deviates from the spec in exactly these ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

#: Keys holding identifiers.
ID_KEY = re.compile(r"^(?:id|uid|innerId)$|.(?:Id|Uid|Ids|Uids)$")
_DECIMAL = re.compile(r"^[1-9]\d{0,17}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def instant(moment: datetime) -> dict[str, int]:
    """``{"epochSecond": ..., "nano": ...}``: a ``java.time.Instant`` serialised as a bean."""
    delta = moment - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return {"epochSecond": seconds, "nano": delta.microseconds * 1000}


def epoch_millis(moment: datetime) -> int:
    """Milliseconds since the epoch, as ``java.util.Date`` comes out of Jackson by default."""
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def epoch_seconds(moment: datetime) -> float:
    """Seconds since the epoch with a fraction, as Jackson writes an ``Instant`` as a timestamp."""
    return round((moment - _EPOCH).total_seconds(), 6)


def offset_without_colon(moment: datetime) -> str:
    """``2026-08-05T06:03:01+0000``: ``SimpleDateFormat``'s ``Z`` pattern (not RFC 3339)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def no_offset(moment: datetime) -> str:
    """``2026-08-05T06:03:01``: a ``LocalDateTime`` (UTC meant, not said)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


#: The form each timestamp key is sent in; keys not listed: :func:`offset_without_colon`.
TIMESTAMP_FORMS: dict[str, Callable[[datetime], Any]] = {
    "lastModified": instant,
    "createdAt": instant,
    "dateCreated": offset_without_colon,
    "dateProcessed": epoch_millis,
    "expires": no_offset,
    "dateDue": epoch_seconds,
}
TIMESTAMP_KEYS = frozenset(
    {
        "lastModified",
        "createdAt",
        "dateCreated",
        "dateProcessed",
        "expires",
        "dateDue",
        "dueDate",
        "updateSourceDate",
        "updateTargetDate",
        "lastInvalidateAllSessionsPerformed",
    }
)
#: Nested references that come without their optional keys: the keys each keeps.
REFERENCE_KEYS: dict[str, frozenset[str]] = {
    "createdBy": frozenset({"id", "uid"}),
    "owner": frozenset({"id", "uid"}),
    "project": frozenset({"uid"}),
    "workflowStep": frozenset({"id"}),
}
_RFC3339_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


def _moment(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, _RFC3339_SECONDS).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        nested = _object(value)
        keep = REFERENCE_KEYS.get(key)
        return nested if keep is None else {k: v for k, v in nested.items() if k in keep}
    if isinstance(value, list):
        return [_value(key, item) for item in value]
    if isinstance(value, str):
        if key in TIMESTAMP_KEYS:
            moment = _moment(value)
            if moment is not None:
                return TIMESTAMP_FORMS.get(key, offset_without_colon)(moment)
        if ID_KEY.search(key) and _DECIMAL.match(value):
            return int(value)
    return value


def _object(body: dict[str, Any]) -> dict[str, Any]:
    return {key: _value(key, value) for key, value in body.items() if value is not None}


def apply(body: Any) -> Any:
    """``body`` (a spec JSON body) as Phrase's backend is known to send it (see the module docstring)."""
    if isinstance(body, dict):
        return _object(body)
    if isinstance(body, list):
        return [apply(item) for item in body]
    return body


__all__ = ["REFERENCE_KEYS", "TIMESTAMP_FORMS", "TIMESTAMP_KEYS", "apply"]
