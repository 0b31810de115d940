"""Where the example ingestion DAGs get their settings: Params, the Variable, the environment, defaults.

Resolution, most specific first (a value of ``None`` or ``""`` in a layer means "not set here"):

1. the run's **Params** (the trigger form / ``--conf``),
2. the Airflow **Variable** ``phrase_ingestion`` (a JSON object with the field names below),
3. **environment variables** ``PHRASE_INGEST_<FIELD>`` (e.g. ``PHRASE_INGEST_TARGET_LANGS=de,fr_fr``),
4. the built-in **defaults**, which point at the emulator's demo seed.

Lists (``include``, ``exclude``, ``target_langs``) may be given as JSON lists or comma-separated strings;
``target_langs`` lists each language once, and the patterns must be valid (a ``[`` is closed). Flags
(``recursive``, ``pre_translate``, ``deferrable``) are booleans or the text ``true`` / ``false``;
``poll_interval`` is at least ``[phrase_tms] min_poll_interval`` (1 s).
Everything is read inside tasks, never when a DAG file is parsed. A bad value fails the task with an
:class:`~airflow.sdk.exceptions.AirflowFailException` that names the field and where it came from.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from airflow.sdk.exceptions import AirflowFailException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from airflow_phrase.models import LanguageCode
from airflow_phrase.validation import (
    ConnectorRef,
    NameText,
    ProjectUidArg,
    StrictFlag,
    check_poll_interval,
    coerce_list,
    describe_validation_error,
)

VARIABLE_NAME = "phrase_ingestion"
ENV_PREFIX = "PHRASE_INGEST_"
DEFAULT_CONN_ID = "phrase_tms_default"
#: The Airflow pool that caps concurrent Phrase API work of the example DAGs.
POOL = "phrase_api"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


#: ``"a, b"``, ``'["a", "b"]'`` or a list → a list (see :func:`airflow_phrase.validation.coerce_list`).
split_list = coerce_list


def _unique_languages(value: list[str]) -> list[str]:
    duplicates = sorted({lang for lang in value if value.count(lang) > 1})
    if duplicates:
        raise ValueError(f"lists {', '.join(duplicates)} more than once; give each language once")
    return value


def check_pattern(pattern: str) -> str:
    """Refuse an fnmatch pattern with a syntax error, which fnmatch would silently take literally (an
    unclosed ``[``) or turn into a pattern that matches nothing (an empty range such as ``[z-a]``)."""
    index, length = 0, len(pattern)
    while index < length:
        if pattern[index] == "[":
            end = index + 1
            if end < length and pattern[end] == "!":
                end += 1
            if end < length and pattern[end] == "]":
                end += 1
            while end < length and pattern[end] != "]":
                end += 1
            if end >= length:
                raise ValueError(
                    f"{pattern!r} opens a character class with '[' that is never closed; close it with ']', "
                    "or write '[[]' to match a literal '['"
                )
            index = end
        index += 1
    try:
        translated = fnmatch.translate(pattern)
        re.compile(translated)
    except re.error as exc:  # pragma: no cover - fnmatch escapes what re would refuse
        raise ValueError(f"{pattern!r} is not a valid pattern ({exc})") from None
    if "(?!)" in translated:
        raise ValueError(f"{pattern!r} has an empty character class (such as '[z-a]') and matches nothing")
    return pattern


Pattern = Annotated[NonEmpty, AfterValidator(check_pattern)]
PatternList = Annotated[list[Pattern], BeforeValidator(split_list)]
LanguageList = Annotated[
    list[LanguageCode], BeforeValidator(split_list), Field(min_length=1), AfterValidator(_unique_languages)
]


class IngestionSettings(BaseModel):
    """What to ingest and where to: one connector folder into one project."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    phrase_conn_id: NameText = DEFAULT_CONN_ID
    #: Connector id or exact name.
    connector: ConnectorRef = "Docs Git"
    #: Human-readable folder path in the connector ("/" for its root).
    folder: NameText = "docs"
    recursive: StrictFlag = True
    #: fnmatch patterns matched against the path relative to ``folder`` ("*" also matches "/").
    include: PatternList = Field(default_factory=list)
    exclude: PatternList = Field(default_factory=list)
    project_uid: ProjectUidArg = "prjWebsite000000000001"
    target_langs: LanguageList = Field(default_factory=lambda: ["de", "fr_fr", "ja"])
    pre_translate: StrictFlag | None = None
    #: Refuse (fail clearly) rather than start more ingestions than this in one run.
    max_files: int = Field(default=500, ge=1)
    #: Seconds between status checks while an ingest task waits for Phrase.
    poll_interval: Annotated[float, Field(le=3600), AfterValidator(check_poll_interval)] = 10.0
    #: Wait in the triggerer (``True``) or on the worker (``False``, for deployments without a triggerer).
    deferrable: StrictFlag = True
    #: The first scheduled run (no baseline yet) ingests the files modified within this many hours.
    initial_lookback_hours: float = Field(default=24.0, gt=0)

    def task_kwargs(self) -> dict[str, Any]:
        """The keyword arguments every mapped ingest task of this run shares (job fields and waiting)."""
        kwargs: dict[str, Any] = {
            "phrase_conn_id": self.phrase_conn_id,
            "project_uid": self.project_uid,
            "target_langs": list(self.target_langs),
            "poll_interval": self.poll_interval,
            "deferrable": self.deferrable,
        }
        if self.pre_translate is not None:
            kwargs["pre_translate"] = self.pre_translate
        return kwargs


FIELDS = tuple(IngestionSettings.model_fields)


def _is_set(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings given as ``PHRASE_INGEST_<FIELD>`` environment variables (others are ignored)."""
    return {
        field: environ[ENV_PREFIX + field.upper()]
        for field in FIELDS
        if _is_set(environ.get(ENV_PREFIX + field.upper()))
    }


def variable_layer(raw: Any) -> dict[str, Any]:
    """The settings in the Variable's value (``None``: the Variable does not exist)."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise AirflowFailException(
                f"Airflow Variable {VARIABLE_NAME!r} is not valid JSON ({exc.msg} at position {exc.pos}); "
                f'give a JSON object such as {{"folder": "docs", "target_langs": ["de"]}}.'
            ) from None
    if not isinstance(raw, Mapping):
        raise AirflowFailException(
            f"Airflow Variable {VARIABLE_NAME!r} must hold a JSON object with keys among "
            f"{', '.join(FIELDS)}; got {type(raw).__name__}."
        )
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise AirflowFailException(
            f"Airflow Variable {VARIABLE_NAME!r} has unknown keys {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(FIELDS)}."
        )
    return {key: value for key, value in raw.items() if _is_set(value)}


def params_layer(params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings given in the run's Params (other params, such as the window, are not settings)."""
    return {field: params[field] for field in FIELDS if _is_set(params.get(field))}


def resolve_settings(
    *,
    params: Mapping[str, Any],
    variable: Any = None,
    environ: Mapping[str, str] | None = None,
    task_id: str = "resolve_settings",
    param_labels: Mapping[str, str] | None = None,
) -> IngestionSettings:
    """Merge the layers (Params > Variable > environment > defaults) and validate the result.

    ``param_labels``: the name a form gives a setting it sets through Params (the manual form's
    ``pattern`` is the ``include`` setting), for the error message.
    """
    layers = (
        ("the environment", env_layer(environ or {})),
        (f"Variable {VARIABLE_NAME!r}", variable_layer(variable)),
        ("Params", params_layer(params)),
    )
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, values in layers:
        merged.update(values)
        origin.update(dict.fromkeys(values, source))
    try:
        return IngestionSettings.model_validate(merged)
    except ValidationError as exc:
        shown = {
            field: (param_labels or {}).get(field, field) if source == "Params" else field
            for field, source in origin.items()
        }
        labels = {
            field: f"{shown[field]} (from {origin[field]}"
            + (f" {ENV_PREFIX}{field.upper()})" if origin[field] == "the environment" else ")")
            for field in origin
        }
        raise AirflowFailException(
            describe_validation_error(exc, IngestionSettings, task_id, param_names=labels)
        ) from None
