"""Validation of rendered operator arguments, before any remote call.

Operators validate their templated arguments after Airflow rendered them (never in ``__init__``) with
the same pydantic models that describe the Phrase payloads, so a rule is written once. A failure becomes
one :class:`~airflow.sdk.exceptions.AirflowFailException` (no retries: a retry cannot fix an argument)
whose message names every bad argument *by its operator parameter name* and says how to fix it::

    Invalid arguments for task 'ingest':
      - target_langs[1]: 'xx_' is not a Phrase language code; use codes like 'de', 'fr_fr', ...
      - path: at most 255 characters allowed (got 300); shorten it
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_CAMEL_WORD = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]*)+\b")


def _alias_map(model_cls: type[BaseModel]) -> dict[str, str]:
    """camelCase alias (and the name itself) → field name, for the top-level fields of ``model_cls``."""
    names: dict[str, str] = {}
    for name, field in model_cls.model_fields.items():
        names[name] = name
        if field.alias:
            names[field.alias] = name
    return names


def _to_snake(word: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", word).lower()


def _location(loc: tuple[int | str, ...], names: Mapping[str, str]) -> str:
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        label = names.get(part, part) if index == 0 else _to_snake(part)
        text += f".{label}" if text else label
    return text


def _hint(error: Mapping[str, Any]) -> str:
    """Phrase-free wording of pydantic's message, with the fix where pydantic gives none."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    message = str(error.get("msg", "invalid value"))
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "missing":
        return "is required; give a value"
    if kind == "extra_forbidden":
        return "is not a known field; check the spelling"
    if kind == "too_short" and ctx.get("field_type") in {"List", "Tuple", "Set", "Dictionary"}:
        return f"needs at least {ctx.get('min_length', 1)} item(s); give a non-empty value"
    if kind in {"too_short", "string_too_short"}:
        return "must not be empty; give a value"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters allowed; shorten it"
    if kind == "list_type":
        return "must be a list, e.g. ['de', 'fr_fr'] (render templates as native objects for lists)"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "must be a mapping (dict) with the documented keys"
    return f"{message}; fix the value"


def describe_validation_error(
    exc: ValidationError,
    model_cls: type[BaseModel],
    task_id: str,
    *,
    param_names: Mapping[str, str] | None = None,
) -> str:
    """The message of the :class:`AirflowFailException` for ``exc`` (one line per problem).

    ``param_names`` maps model field names to operator parameter names where they differ.
    """
    names = {alias: (param_names or {}).get(name, name) for alias, name in _alias_map(model_cls).items()}

    def camel_to_param(match: re.Match[str]) -> str:
        word = match.group(0)
        return names.get(word, word)

    lines = []
    for error in exc.errors(include_url=False):
        hint = _CAMEL_WORD.sub(camel_to_param, _hint(error))
        where = _location(tuple(error.get("loc", ())), names)
        lines.append(f"  - {where}: {hint}" if where else f"  - {hint}")
    return f"Invalid arguments for task {task_id!r}:\n" + "\n".join(lines)


def validate_params(model_cls: type[M], task_id: str, **values: Any) -> M:
    """Validate rendered operator arguments with ``model_cls`` (keyword names = field names).

    Raises :class:`AirflowFailException` naming each bad argument and the fix; the task then fails
    without retries, before anything is sent to Phrase.
    """
    try:
        return model_cls.model_validate(values)
    except ValidationError as exc:
        raise AirflowFailException(describe_validation_error(exc, model_cls, task_id)) from None
