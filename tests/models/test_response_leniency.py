"""Every response model, field by field: the whole kind of issue 7 is fixed, not just its examples.

* every id-like field (``id``, ``uid``, ``innerId``, ``*Id``, ``*Uid``, lists of them) reads a JSON number
  as its decimal string;
* every timestamp reads every shape Phrase is known to send and yields an aware UTC datetime; an
  optional one that cannot be read becomes ``None`` with a warning;
* every enum keeps values it does not know, as ``UnknownValue``;
* ``null`` (or a missing key) where a model has a non-null default reads as the default.

Requests stay strict (last test).
"""

from __future__ import annotations

import logging
import re
import types
import typing
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import airflow_phrase.models as models
from airflow_phrase.models import (
    ConnectorTaskState,
    JobCreateRequest,
    PhraseResponse,
    RemoteFile,
    UnknownValue,
    WhoAmI,
    parse_phrase_timestamp,
)

ID_KEY = re.compile(r"^(?:id|uid|innerId)$|.(?:Id|Uid|Ids|Uids)$")
RESPONSE_MODELS = sorted(
    {
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, PhraseResponse) and value is not PhraseResponse
    },
    key=lambda model: model.__name__,
)
MOMENT = datetime(2026, 8, 5, 6, 3, 1, 785484, tzinfo=timezone.utc)


def _name(value: Any) -> str:
    return value.__name__ if isinstance(value, type) else str(value)


def _fields() -> list[tuple[type[BaseModel], str, str, Any]]:
    return [
        (model, name, info.alias or name, info.annotation)
        for model in RESPONSE_MODELS
        for name, info in model.model_fields.items()
    ]


def _leaves(annotation: Any) -> list[Any]:
    """The types a field can hold (``Optional``, ``Annotated``, unions and lists unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [leaf for arg in typing.get_args(annotation) if arg is not type(None) for leaf in _leaves(arg)]
    return [annotation]


def _minimal(model: type[BaseModel]) -> dict[str, Any]:
    """The smallest payload ``model`` accepts: its required fields with plausible values."""
    payload: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            is_time = datetime in _leaves(info.annotation)
            payload[info.alias or name] = {"user": {}, "status": "NEW"}.get(
                name, "2026-01-01T00:00:00Z" if is_time else "x"
            )
    return payload


def test_the_walk_finds_the_response_models() -> None:
    names = {model.__name__ for model in RESPONSE_MODELS}
    assert {"RemoteFile", "ConnectorTaskState", "JobPartV2", "Project", "WhoAmI", "AsyncRequest"} <= names


@pytest.mark.parametrize(
    ("model", "name", "alias"),
    # internalId (a project's sequence number) is an integer in the spec, not an identifier string.
    [(m, n, a) for m, n, a, t in _fields() if ID_KEY.search(a) and int not in _leaves(t)],
    ids=_name,
)
def test_every_id_field_reads_numbers_as_strings(model: type[BaseModel], name: str, alias: str) -> None:
    annotation = model.model_fields[name].annotation
    value: Any = [4711] if typing.get_origin(_strip_optional(annotation)) is list else 4711
    parsed = model.model_validate({**_minimal(model), alias: value})
    assert getattr(parsed, name) in ("4711", ["4711"])


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


TIMESTAMP_FIELDS = [
    (m, n, a)
    for m, n, a, annotation in _fields()
    if any(leaf is datetime or typing.get_args(leaf)[:1] == (datetime,) for leaf in _leaves(annotation))
]


@pytest.mark.parametrize(("model", "name", "alias"), TIMESTAMP_FIELDS, ids=_name)
@pytest.mark.parametrize(
    "shape",
    [
        {"epochSecond": 1785909781, "nano": 785484047},
        1785909781785,
        "2026-08-05T06:03:01.785484+0000",
        "2026-08-05T06:03:01.785484",
        "2026-08-05T08:03:01.785484+02:00",
        "2026-08-05T06:03:01.785484047Z",
    ],
)
def test_every_timestamp_reads_every_known_shape_as_aware_utc(
    model: type[BaseModel], name: str, alias: str, shape: Any
) -> None:
    value = getattr(model.model_validate({**_minimal(model), alias: shape}), name)
    assert value.tzinfo is timezone.utc
    expected = MOMENT.replace(microsecond=785000) if isinstance(shape, int) else MOMENT
    assert value == expected


@pytest.mark.parametrize(
    ("model", "name", "alias"),
    [(m, n, a) for m, n, a in TIMESTAMP_FIELDS if not m.model_fields[n].is_required()],
    ids=_name,
)
def test_an_unreadable_optional_timestamp_is_none_with_a_warning(
    model: type[BaseModel], name: str, alias: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="airflow_phrase.models"):
        parsed = model.model_validate({**_minimal(model), alias: "next Tuesday"})
    assert getattr(parsed, name) is None
    assert f".{name} as 'next Tuesday'" in caplog.text and "treating it as missing" in caplog.text


def test_a_required_timestamp_that_cannot_be_read_fails_naming_the_forms() -> None:
    with pytest.raises(ValidationError, match="is not a timestamp"):
        models.LoginResponse.model_validate({"token": "t", "expires": "soon"})


def _enum_fields() -> list[tuple[type[BaseModel], str, str, type[Enum]]]:
    found = []
    for model, name, alias, annotation in _fields():
        leaves = _leaves(annotation)
        enums = [leaf for leaf in leaves if isinstance(leaf, type) and issubclass(leaf, Enum)]
        if enums:
            assert UnknownValue in leaves, f"{model.__name__}.{name} drops unknown values"
            found.append((model, name, alias, enums[0]))
    return found


@pytest.mark.parametrize(
    ("model", "name", "alias", "enum"),
    _enum_fields(),
    ids=_name,
)
def test_every_enum_keeps_unknown_values(
    model: type[BaseModel], name: str, alias: str, enum: type[Enum]
) -> None:
    known = next(iter(enum))
    parsed = model.model_validate({**_minimal(model), alias: known.value})
    assert getattr(parsed, name) is known
    parsed = model.model_validate({**_minimal(model), alias: "SOMETHING_NEW"})
    assert getattr(parsed, name) == UnknownValue("SOMETHING_NEW")
    assert isinstance(getattr(parsed, name), UnknownValue)
    assert parsed.to_wire()[alias] == "SOMETHING_NEW"


def test_the_enum_fields_are_found() -> None:
    assert {(m.__name__, n) for m, n, _, _ in _enum_fields()} >= {
        ("ConnectorTaskState", "status"),
        ("ConnectorTaskState", "task_type"),
        ("ConnectorTaskState", "task_processing_type"),
    }


@pytest.mark.parametrize("model", RESPONSE_MODELS, ids=lambda m: m.__name__)
def test_null_and_missing_optional_keys_read_as_defaults(model: type[BaseModel]) -> None:
    nulls = {info.alias or name: None for name, info in model.model_fields.items() if not info.is_required()}
    from_nulls = model.model_validate({**_minimal(model), **nulls})
    from_nothing = model.model_validate(_minimal(model))
    assert from_nulls == from_nothing


def test_nested_references_without_their_optional_keys() -> None:
    me = WhoAmI.model_validate({"user": {"id": 1001}, "organization": {}, "edition": {}, "features": None})
    assert me.user.id == "1001" and me.organization is not None and me.organization.name is None
    assert me.features == {}
    state = ConnectorTaskState.model_validate({"id": 1, "status": "NEW"})
    assert (state.task_type, state.date_created, state.job_uid) == (None, None, None)


def test_naive_datetimes_and_timestamps_without_offset_mean_utc() -> None:
    assert parse_phrase_timestamp(datetime(2026, 8, 5, 6, 3, 1)) == datetime(
        2026, 8, 5, 6, 3, 1, tzinfo=timezone.utc
    )
    entry = RemoteFile.model_validate(
        {"name": "a", "encodedName": "61", "lastModified": "2026-08-05 06:03:01"}
    )
    assert entry.last_modified == datetime(2026, 8, 5, 6, 3, 1, tzinfo=timezone.utc)


def test_requests_stay_strict() -> None:
    with pytest.raises(ValidationError, match="targetLang"):
        JobCreateRequest.model_validate({"targetLangs": ["de"], "targetLang": "de"})
    with pytest.raises(ValidationError, match="timezone-aware"):
        JobCreateRequest.model_validate({"targetLangs": ["de"], "due": "2026-08-05T06:03:01"})
