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

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException
from pydantic import AfterValidator, BaseModel, BeforeValidator, StringConstraints, ValidationError

from airflow_phrase.identifiers import NUMERIC_ID_PATTERN, DownloadTaskId, ProjectUid

M = TypeVar("M", bound=BaseModel)

# ---------------------------------------------------------------------------------------------------
# Rendered values, in both rendering modes
#
# With ``render_template_as_native_obj=True`` Airflow evaluates every rendered template field as a Python
# literal: ``"2026"`` becomes the int 2026, ``"1.10"`` the float 1.1 (its text is lost), ``"True"`` a bool,
# ``"None"`` None. Without it, a template that renders a list gives its text (``"['de', 'fr']"``).
#
# * Name-like fields (connection id, connector, folder, file, path, project uid, task id) take text;
#   an int is taken as its digits (what native rendering makes of a name like ``2026``); a float, a bool
#   or None is refused with a message saying how to keep the text.
# * List and mapping fields (``target_langs``, ``workflow_settings``, ...) also take the text a
#   non-native template renders: a JSON or Python list / mapping, and for lists of codes a comma-separated
#   string, so that no DAG needs native rendering.
# * Flags take a bool, or exactly the text ``true`` / ``false`` (``True`` / ``False``: what a template
#   renders from a bool); nothing else (``"yes"``, ``1``).

_KEEP_TEXT = (
    "render_template_as_native_obj=True turns rendered text that looks like a number into a number "
    "(and '1.10' into 1.1); keep it text by quoting it inside the template, e.g. \"'{{ params.folder }}'\" "
    'or "{{ params.folder | tojson }}", or do not render this DAG\'s templates as native objects'
)


def native_text(value: Any) -> Any:
    """Text for a name-like field (see above): str as is, int as its digits; float/bool/None refused."""
    if isinstance(value, bool):
        raise ValueError(f"got the boolean {value!r}, not text: {_KEEP_TEXT}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError(f"got the number {value!r}, not text, so the original text is lost: {_KEEP_TEXT}")
    if value is None:
        raise ValueError(
            "is None: the template rendered an XCom or param that holds None; check that the upstream "
            "task returned a value (or that the param is set)"
        )
    return value


def _no_control_characters(value: Any) -> Any:
    if isinstance(value, str) and any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError("contains a line break or another control character; remove it")
    return value


#: A name-like argument: non-empty text (an int from native rendering is taken as its digits).
NameText = Annotated[
    str,
    BeforeValidator(_no_control_characters),
    BeforeValidator(native_text),
    StringConstraints(strip_whitespace=True, min_length=1),
]


def _connector_id_or_name(value: str) -> str:
    # All digits: a connector id, so an int64; anything else is a name, looked up among the connectors.
    if value.isdigit() and not NUMERIC_ID_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is too long for a Phrase connector id (at most 19 digits)")
    return value


#: A connector id (digits) or its exact name.
ConnectorRef = Annotated[NameText, AfterValidator(_connector_id_or_name)]
#: A project uid, from text or what native rendering made of it.
ProjectUidArg = Annotated[ProjectUid, BeforeValidator(native_text)]
#: A connector download task id, from text or a number.
DownloadTaskIdArg = Annotated[DownloadTaskId, BeforeValidator(native_text)]

FLAG_TEXTS = {"true": True, "false": False, "True": True, "False": False}


def strict_flag(value: Any) -> Any:
    """A bool, or exactly ``"true"`` / ``"false"`` (or ``"True"`` / ``"False"``); anything else refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in FLAG_TEXTS:
        return FLAG_TEXTS[value.strip()]
    raise ValueError(f"must be true or false (a boolean, or the text 'true' / 'false'), not {value!r}")


#: A boolean argument that accepts nothing but booleans and the texts true / false.
StrictFlag = Annotated[bool, BeforeValidator(strict_flag)]


def _literal(text: str) -> Any:
    """A JSON or Python literal (``ast.literal_eval``: literals only, never code); the text if neither."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def coerce_list(value: Any) -> Any:
    """``"de, fr_fr"``, ``'["de", "fr_fr"]'`` or ``"['de', 'fr_fr']"`` → ``["de", "fr_fr"]``; ``""`` → ``[]``;
    a tuple → a list; anything else as is (the model reports it)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            parsed = _literal(text)
            if isinstance(parsed, list):
                return parsed
            # Not a list literal: a comma-separated list whose first item starts with "[" (a pattern).
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, tuple):
        return list(value)
    return value


def coerce_structure(value: Any) -> Any:
    """A JSON or Python list / mapping given as text (what a non-native template renders) → the object."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        return _literal(value.strip())
    return value


# ---------------------------------------------------------------------------------------------------
# Poll intervals and due dates

#: Default floor of every poll interval (operators, sensor, triggers, ingestion settings), in seconds.
DEFAULT_MIN_POLL_INTERVAL = 1.0


def min_poll_interval() -> float:
    """The floor of every poll interval: ``[phrase_tms] min_poll_interval`` (default 1 s).

    Phrase allows 6,000 requests per minute per organisation; a sensor poking every 0 s made ~390 calls a
    second. Lower the floor only against the emulator (the test suites do).
    """
    from airflow.sdk import conf

    return conf.getfloat("phrase_tms", "min_poll_interval", fallback=DEFAULT_MIN_POLL_INTERVAL)


def check_poll_interval(seconds: float, name: str = "poll_interval") -> float:
    """``seconds`` if it is at least :func:`min_poll_interval`, else ``ValueError`` naming ``name``."""
    floor = min_poll_interval()
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"{name} must be a number of seconds, got {seconds!r}")
    if seconds < floor:
        raise ValueError(
            f"{name} must be at least {floor:g} seconds (got {seconds!r}): each poll is a call to Phrase, "
            "which allows 6,000 per minute for the whole organisation ([phrase_tms] min_poll_interval "
            "sets the floor)"
        )
    return float(seconds)


def past_due_problems(
    dues: Iterable[tuple[str, datetime | None]], *, now: datetime | None = None
) -> list[str]:
    """``"due: 2020-01-01T00:00:00+00:00 is in the past; ..."`` for every due date that has passed.

    The provider's one policy on due dates, for the operators and the manual form alike: a due date in
    the past is refused before anything is sent (Phrase would create the jobs already overdue).
    """
    moment = now or datetime.now(timezone.utc)
    return [
        f"{name}: {due.isoformat()} is in the past; give a future date-time or leave it empty"
        for name, due in dues
        if due is not None and due <= moment
    ]


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
        return "must be a list, e.g. ['de', 'fr_fr'], or its text: '[\"de\", \"fr_fr\"]' or 'de, fr_fr'"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "must be a mapping (dict) with the documented keys, or its JSON text"
    if kind in {"bool_type", "bool_parsing"}:
        return "must be true or false (a boolean, or the text 'true' / 'false')"
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


def invalid_arguments(task_id: str, problems: Iterable[str]) -> AirflowFailException:
    """The exception for problems found outside a model (``"name: what is wrong; the fix"`` each), in the
    same form as :func:`validate_params`'s."""
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return AirflowFailException(f"Invalid arguments for task {task_id!r}:\n{lines}")
