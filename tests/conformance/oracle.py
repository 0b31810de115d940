"""An independent spec oracle: does a JSON body conform to Phrase's published schema for its endpoint?

The schemas come from ``phrasetms-client`` 1.0.0, pydantic-v2 models that others generated from Phrase's
OpenAPI spec (with the few current-spec corrections of :mod:`tests.conformance.current_spec`); none of
this module uses the provider's own models, so a mistake in those cannot hide here.

:func:`check` is strict where the generated models are lenient:

* every key must be declared by the schema (the generated models silently ignore unknown keys): each
  undeclared key is reported with its path;
* ``date-time`` values must be RFC 3339 strings (pydantic alone would also take numbers or ``+0000``);
* everything else (types, ``StrictStr`` / ``StrictInt``, the enum validators, required fields) is the
  generated model's own validation, run on the whole body; a body whose schema is a union discriminated by
  ``userRole`` (a project) is checked against the member its ``userRole`` names.

With ``live_quirks=True`` a body may also deviate in the ways Phrase's Java backend is *known* to
deviate (the catalogue below, kept independent of the emulator): each such deviation is recorded in
:attr:`Report.quirks` and then checked as the spec value it stands for; any other deviation is still a
problem. Undeclared keys are never allowed.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from phrasetms_client.models.abstract_project_dto import AbstractProjectDto
from phrasetms_client.models.admin_project_manager import AdminProjectManager
from phrasetms_client.models.buyer import Buyer
from phrasetms_client.models.linguist import Linguist
from phrasetms_client.models.vendor import Vendor
from pydantic import BaseModel, ValidationError

from tests.conformance.current_spec import REPLACES

#: Keys holding identifiers (``id``, ``uid``, ``innerId``, ``serverTaskId``, ``jobUid``, ``jobPartIds``).
ID_KEY = re.compile(r"^(?:id|uid|innerId)$|.(?:Id|Uid|Ids|Uids)$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
_NO_COLON_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\d*([+-])(\d{2})(\d{2})$")
_NO_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\d*$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# The live quirks: deviations from the spec that Phrase's Java backend is known to send.
TIMESTAMP_INSTANT = "timestamp as a Java Instant object {epochSecond, nano}"
TIMESTAMP_EPOCH_MILLIS = "timestamp as epoch milliseconds (a JSON number)"
TIMESTAMP_EPOCH_SECONDS = "timestamp as epoch seconds (a JSON number)"
TIMESTAMP_NO_COLON = "timestamp with a +0000 offset (no colon)"
TIMESTAMP_NO_OFFSET = "timestamp without an offset"
ID_AS_NUMBER = "id as a JSON number"
UNKNOWN_ENUM = "enum value outside the spec"
LIVE_QUIRKS = frozenset(
    {
        TIMESTAMP_INSTANT,
        TIMESTAMP_EPOCH_MILLIS,
        TIMESTAMP_EPOCH_SECONDS,
        TIMESTAMP_NO_COLON,
        TIMESTAMP_NO_OFFSET,
        ID_AS_NUMBER,
        UNKNOWN_ENUM,
    }
)
#: Enum values outside the spec that Phrase is known to send, by (schema, key). Issue 7: a connector
#: task "CANCELLED" in a connectorAsyncTasks page.
UNKNOWN_ENUM_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("ConnectorAsyncTaskStateDto", "status"): frozenset({"CANCELLED"}),
}

#: Schemas that are a union discriminated by a key: (key, value → member).
DISCRIMINATED: dict[type[BaseModel], tuple[str, dict[str, type[BaseModel]]]] = {
    AbstractProjectDto: (
        "userRole",
        {
            "ADMIN": AdminProjectManager,
            "PROJECT_MANAGER": AdminProjectManager,
            "LINGUIST": Linguist,
            "VENDOR": Vendor,
            "BUYER": Buyer,
        },
    ),
}


@dataclass
class Report:
    """What :func:`check` found in one body."""

    schema: str
    problems: list[str] = field(default_factory=list)
    quirks: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"conforms to {self.schema}"
        return f"does not conform to {self.schema}:\n  " + "\n  ".join(self.problems)


def check(schema: type[BaseModel], body: Any, *, live_quirks: bool = False) -> Report:
    """Check ``body`` (parsed JSON) against ``schema``; see the module docstring."""
    walker = _Walker(live_quirks)
    root = walker.resolve(schema, body, "$")
    report = Report(root.__name__)
    normalised = walker.walk_object(root, body, "$")
    report.problems.extend(walker.problems)
    report.quirks |= walker.quirks
    targets = [("$", root, normalised), *walker.separately]
    for where, model, data in targets:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
                report.problems.append(f"{where}{loc}: {error['msg']} (got {error.get('input')!r})")
    return report


def _unwrap(annotation: Any) -> Any:
    """``Optional[X]`` / ``Annotated[X, ...]`` (strict types) → ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


class _Walker:
    def __init__(self, live_quirks: bool) -> None:
        self.live_quirks = live_quirks
        self.problems: list[str] = []
        self.quirks: set[str] = set()
        #: Nodes checked on their own: union members the parent schema only knows as their base.
        self.separately: list[tuple[str, type[BaseModel], Any]] = []

    def resolve(self, schema: type[BaseModel], data: Any, path: str) -> type[BaseModel]:
        schema = REPLACES.get(schema, schema)
        if schema in DISCRIMINATED and isinstance(data, dict):
            key, members = DISCRIMINATED[schema]
            value = data.get(key)
            if value not in members:
                self.problems.append(f"{path}.{key}: {value!r} is not one of {sorted(members)}")
                return schema
            return members[value]
        return schema

    def walk_object(self, schema: type[BaseModel], data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            return data  # the model's own validation reports the type
        declared = {(info.alias or name): info for name, info in schema.model_fields.items()}
        out: dict[str, Any] = {}
        for key, value in data.items():
            info = declared.get(key)
            if info is None:
                self.problems.append(f"{path}.{key}: not declared by {schema.__name__}")
                continue
            out[key] = self.walk_value(info.annotation, value, f"{path}.{key}", key, schema)
        return out

    def walk_value(self, annotation: Any, value: Any, path: str, key: str, owner: type[BaseModel]) -> Any:
        if value is None:
            return None
        target = _unwrap(annotation)
        origin = typing.get_origin(target)
        if origin in (list, typing.List) and isinstance(value, list):  # noqa: UP006
            (item,) = typing.get_args(target) or (Any,)
            return [self.walk_value(item, v, f"{path}[{i}]", key, owner) for i, v in enumerate(value)]
        if origin in (dict, typing.Dict):  # noqa: UP006 - free-form objects (settings, args)
            return value
        if isinstance(target, type) and issubclass(target, BaseModel):
            resolved = self.resolve(target, value, path)
            walked = self.walk_object(resolved, value, path)
            if resolved is not REPLACES.get(target, target):
                self.separately.append((path, resolved, walked))
            return walked
        if target is datetime:
            return self.timestamp(value, path)
        if target is str and isinstance(value, int) and not isinstance(value, bool) and ID_KEY.search(key):
            return self.quirk(ID_AS_NUMBER, str(value), path, value)
        if isinstance(value, str) and value in UNKNOWN_ENUM_VALUES.get((owner.__name__, key), ()):
            return self.quirk(UNKNOWN_ENUM, None, path, value)
        return value

    def quirk(self, kind: str, normalised: Any, path: str, value: Any) -> Any:
        if self.live_quirks:
            self.quirks.add(kind)
            return normalised
        self.problems.append(f"{path}: {value!r} is off-spec ({kind})")
        return normalised

    def timestamp(self, value: Any, path: str) -> Any:
        if isinstance(value, str) and RFC3339.match(value):
            return value
        if isinstance(value, dict) and set(value) == {"epochSecond", "nano"}:
            moment = _EPOCH + timedelta(seconds=value["epochSecond"], microseconds=value["nano"] // 1000)
            return self.quirk(TIMESTAMP_INSTANT, moment.isoformat(), path, value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if abs(value) >= 100_000_000_000:
                moment = _EPOCH + timedelta(milliseconds=value)
                return self.quirk(TIMESTAMP_EPOCH_MILLIS, moment.isoformat(), path, value)
            moment = _EPOCH + timedelta(seconds=value)
            return self.quirk(TIMESTAMP_EPOCH_SECONDS, moment.isoformat(), path, value)
        if isinstance(value, str):
            match = _NO_COLON_OFFSET.match(value)
            if match:
                stamp, sign, hours, minutes = match.groups()
                return self.quirk(TIMESTAMP_NO_COLON, f"{stamp}{sign}{hours}:{minutes}", path, value)
            match = _NO_OFFSET.match(value)
            if match:
                return self.quirk(TIMESTAMP_NO_OFFSET, f"{match.group(1)}Z", path, value)
        self.problems.append(f"{path}: {value!r} is not an RFC 3339 date-time")
        return value


__all__ = ["ID_KEY", "LIVE_QUIRKS", "UNKNOWN_ENUM_VALUES", "Report", "check"]
