"""Where the example ingestion DAGs get their settings: Params, the Variable, the environment, defaults.

Resolution, most specific first (a value of ``None`` or ``""`` in a layer means "not set here"):

1. the run's **Params** (the trigger form / ``--conf``),
2. the Airflow **Variable** ``phrase_ingestion`` (a JSON object with the field names below),
3. **environment variables** ``PHRASE_INGEST_<FIELD>`` (e.g. ``PHRASE_INGEST_TARGET_LANGS=de,fr_fr``),
4. the built-in **defaults**, which point at the emulator's demo seed.

Lists (``include``, ``exclude``, ``target_langs``) may be given as JSON lists or comma-separated strings.
Everything is read inside tasks, never when a DAG file is parsed. A bad value fails the task with an
:class:`~airflow.sdk.exceptions.AirflowFailException` that names the field and where it came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from airflow_phrase.models import LanguageCode
from airflow_phrase.validation import describe_validation_error

VARIABLE_NAME = "phrase_ingestion"
ENV_PREFIX = "PHRASE_INGEST_"
DEFAULT_CONN_ID = "phrase_tms_default"
#: The Airflow pool that caps concurrent Phrase API work of the example DAGs.
POOL = "phrase_api"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def split_list(value: Any) -> Any:
    """``"a, b"`` or ``'["a", "b"]'`` → ``["a", "b"]``; lists pass through; ``""`` → ``[]``."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, tuple):
        return list(value)
    return value


PatternList = Annotated[list[NonEmpty], BeforeValidator(split_list)]
LanguageList = Annotated[list[LanguageCode], BeforeValidator(split_list), Field(min_length=1)]


class IngestionSettings(BaseModel):
    """What to ingest and where to: one connector folder into one project."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    phrase_conn_id: NonEmpty = DEFAULT_CONN_ID
    #: Connector id or exact name.
    connector: NonEmpty = "Docs Git"
    #: Human-readable folder path in the connector ("/" for its root).
    folder: NonEmpty = "docs"
    recursive: bool = True
    #: fnmatch patterns matched against the path relative to ``folder`` ("*" also matches "/").
    include: PatternList = Field(default_factory=list)
    exclude: PatternList = Field(default_factory=list)
    project_uid: NonEmpty = "prjWebsite000000000001"
    target_langs: LanguageList = Field(default_factory=lambda: ["de", "fr_fr", "ja"])
    pre_translate: bool | None = None
    #: Refuse (fail clearly) rather than start more ingestions than this in one run.
    max_files: int = Field(default=500, ge=1)
    #: Seconds between status checks while an ingest task waits for Phrase.
    poll_interval: float = Field(default=10.0, gt=0, le=3600)
    #: Wait in the triggerer (``True``) or on the worker (``False``, for deployments without a triggerer).
    deferrable: bool = True
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
) -> IngestionSettings:
    """Merge the layers (Params > Variable > environment > defaults) and validate the result."""
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
        labels = {
            field: f"{field} (from {origin[field]}"
            + (f" {ENV_PREFIX}{field.upper()})" if origin[field] == "the environment" else ")")
            for field in origin
        }
        raise AirflowFailException(
            describe_validation_error(exc, IngestionSettings, task_id, param_names=labels)
        ) from None
