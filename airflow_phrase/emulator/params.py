"""Reading query parameters and JSON bodies the way Phrase validates them (400 ``InvalidArguments``)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from airflow_phrase.emulator.state.errors import PhraseError, bad_request

M = TypeVar("M", bound=BaseModel)


def query_str(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value if value not in (None, "") else None


def query_int(request: web.Request, name: str, default: int) -> int:
    value = query_str(request, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"{name} must be an integer, not {value!r}.") from None


def query_bool(request: web.Request, name: str, default: bool | None) -> bool | None:
    value = query_str(request, name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise bad_request(f"{name} must be true or false, not {value!r}.")
    return value.lower() == "true"


def query_list(request: web.Request, name: str) -> tuple[str, ...]:
    """A repeatable parameter, given repeated (``a=1&a=2``) or comma-separated (``a=1,2``)."""
    return tuple(part for value in request.query.getall(name, []) for part in value.split(",") if part)


def query_datetime(request: web.Request, name: str) -> datetime | None:
    value = query_str(request, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 date-time, not {value!r}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def describe_validation_error(exc: ValidationError) -> str:
    """``"targetLangs: List should have at least 1 item"``: each problem named by its wire field."""
    problems = []
    for error in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        problems.append(f"{loc or 'body'}: {error['msg']}")
    return "; ".join(problems)


async def read_body(request: web.Request, model: type[M], *, required: bool) -> M | None:
    """The JSON body validated by ``model``; ``None`` for an empty optional body."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("A JSON request body is required.")
        return None
    if not _is_json(request.content_type):
        raise PhraseError(
            415,
            "UnsupportedMediaType",
            f"Content type {request.content_type!r} is not supported; send application/json.",
        )
    try:
        data = json.loads(raw)
    except RecursionError:
        raise bad_request("Malformed JSON request body: it is nested too deeply.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of more than 4300 digits
        detail = "a number has too many digits" if "integer string conversion" in str(exc) else exc
        raise bad_request(f"Malformed JSON request body: {detail}.") from None
    if not isinstance(data, dict):
        raise bad_request("The JSON request body must be an object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(f"Invalid request body: {describe_validation_error(exc)}") from None
