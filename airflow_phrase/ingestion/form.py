"""The trigger form of ``phrase_manual_ingestion``: its Params, and what the form's answers mean.

The form is Airflow's own (**Trigger DAG** renders the Params' JSON Schema). It is built so a person sees
what an empty field means and cannot send what JSON Schema can rule out:

* **Defaults are shown.** Fields left empty fall back to the configuration (the Variable
  ``phrase_ingestion``, then ``PHRASE_INGEST_*``, then the built-in defaults), so they cannot be
  pre-filled without overriding the Variable; each description says what empty means and the
  built-in default. Known values are offered as ``examples`` (a type-ahead list): the built-in
  defaults and any ``PHRASE_INGEST_*`` value the DAG processor sees (read at parse time from the
  environment only; nothing is read from Airflow or Phrase while parsing).
* **Real choices are dropdowns.** Pre-translate and subfolders are "as configured / yes / no"
  (``enum`` with ``values_display``), so leaving them alone no longer sends ``false``/``true``.
* **Dates are typed as text, checked by a pattern.** Airflow 3.3.2's date-time picker silently drops a
  date it cannot parse; a plain field with an ISO 8601 ``pattern`` is refused with a message naming the
  field when the run is triggered instead. ``modified_within_hours`` is the simpler way to backfill
  ("the last 168 hours") and works whenever the form is used.
* **Lists take one entry per line.** Blank lines are allowed by the schema and dropped by
  :func:`form_request`; each language code is checked by a pattern. (``uniqueItems`` would refuse the
  two blank lines a trailing newline and an empty line make, so repeated languages are left to
  ``validate_request``.)

:func:`form_request` turns the form's answers into the request :mod:`airflow_phrase.ingestion.manual`
validates (which still checks everything, as the form can be bypassed with ``--conf``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.ingestion.settings import IngestionSettings, env_layer, split_list

#: ISO 8601 date or date-time (``T`` or a space; seconds, fraction and zone optional), or blank.
ISO_MOMENT_PATTERN = (
    r"^\s*(\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?)?\s*$"
)
#: A Phrase language code (``de``, ``fr_fr``, ``pt-BR``, ``zh_hans_cn``), or a blank line.
LANGUAGE_LINE_PATTERN = r"^\s*([A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,3})?\s*$"
#: Form fields whose value is a list, one entry per line (blank lines dropped).
LIST_FIELDS = ("files", "pattern", "target_langs")
#: Tri-state dropdowns: the answer → the setting.
CHOICES = {"yes": True, "no": False}
#: Form-only field: files modified in the last N hours (becomes ``modified_from``).
LOOKBACK_FIELD = "modified_within_hours"

_DEFAULTS = IngestionSettings()


def _examples(field: str, *extra: str) -> list[str]:
    """The built-in default of ``field``, any ``PHRASE_INGEST_<FIELD>`` value, then ``extra``."""
    values = [str(getattr(_DEFAULTS, field))]
    env = env_layer(os.environ).get(field)
    if env:
        values.insert(0, str(env).strip())
    values.extend(extra)
    return list(dict.fromkeys(values))


def _text(title: str, description: str, section: str, **schema: Any) -> Param:
    return Param(
        None, type=["null", "string"], title=title, description=description, section=section, **schema
    )


def _lines(
    title: str, description: str, section: str, item_pattern: str | None = None, **schema: Any
) -> Param:
    items = {"type": "string", **({"pattern": item_pattern} if item_pattern else {})}
    return Param(
        None,
        type=["null", "array"],
        items=items,
        title=title,
        description=description,
        section=section,
        **schema,
    )


def _choice(title: str, description: str, section: str, default_label: str) -> Param:
    return Param(
        None,
        type=["null", "string"],
        enum=[None, *CHOICES],
        values_display={"null": default_label, "yes": "Yes", "no": "No"},
        title=title,
        description=description,
        section=section,
    )


def _moment(title: str, description: str, section: str) -> Param:
    return _text(
        title,
        f"{description} ISO 8601, e.g. 2026-11-28 or 2026-11-28T09:00:00Z (UTC if no zone is given).",
        section,
        pattern=ISO_MOMENT_PATTERN,
    )


WHAT = "What to ingest"
JOBS = "Jobs"


def manual_form_params() -> dict[str, Param]:
    """The Params of ``phrase_manual_ingestion`` (built when the DAG file is parsed; no I/O)."""
    langs = ", ".join(_DEFAULTS.target_langs)
    return {
        "connector": _text(
            "Connector",
            f"Connector id or name. Empty: the configured connector (built-in: '{_DEFAULTS.connector}').",
            WHAT,
            examples=_examples("connector"),
        ),
        "folder": _text(
            "Folder",
            f"Folder path in the connector ('/' for its root). Empty: configured (built-in: "
            f"'{_DEFAULTS.folder}').",
            WHAT,
            examples=_examples("folder", "/"),
        ),
        "files": _lines(
            "Files",
            "One per line: paths relative to the folder (e.g. guides/install.md) or unique file names. "
            "Blank lines are ignored.",
            WHAT,
        ),
        "pattern": _lines(
            "Patterns",
            "One per line: fnmatch patterns on the path relative to the folder, e.g. *.md ('*' also "
            "matches '/'; '*' alone takes every file, whenever it was modified). Blank lines are ignored.",
            WHAT,
        ),
        LOOKBACK_FIELD: Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            title="Modified in the last (hours)",
            description="Only files modified in the last N hours, e.g. 24, or 168 for a week. Instead of "
            "'Modified from'.",
            section=WHAT,
        ),
        "modified_from": _moment("Modified from", "Only files modified at or after this moment.", WHAT),
        "modified_to": _moment("Modified before", "Only files modified before this moment.", WHAT),
        "recursive": _choice(
            "Include subfolders",
            "List the folder's subfolders too.",
            WHAT,
            f"As configured (built-in: {'yes' if _DEFAULTS.recursive else 'no'})",
        ),
        "project_uid": _text(
            "Project UID",
            f"Phrase project that receives the jobs. Empty: configured (built-in: "
            f"'{_DEFAULTS.project_uid}').",
            JOBS,
            examples=_examples("project_uid"),
        ),
        "target_langs": _lines(
            "Target languages",
            f"One Phrase language code per line (de, fr_fr, pt_br...). Empty: the configured languages "
            f"(built-in: {langs}). Blank lines are ignored.",
            JOBS,
            LANGUAGE_LINE_PATTERN,
        ),
        "pre_translate": _choice(
            "Pre-translate", "Pre-translate the new jobs.", JOBS, "As configured (built-in: Phrase's default)"
        ),
        "due": _moment("Due date", "Due date of the jobs (projects without workflow steps).", JOBS),
        "phrase_conn_id": _text(
            "Phrase connection",
            f"Airflow connection (type Phrase TMS). Empty: configured (built-in: "
            f"'{_DEFAULTS.phrase_conn_id}').",
            JOBS,
            examples=_examples("phrase_conn_id"),
        ),
    }


def _drop_blank_lines(value: Any) -> Any:
    value = split_list(value) if isinstance(value, str) else value
    if isinstance(value, list):
        kept = [item for item in value if not (isinstance(item, str) and not item.strip())]
        return kept or None
    return value


def form_request(params: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """The form's answers as the request :func:`~airflow_phrase.ingestion.manual.validate_manual_request`
    takes: blank list lines dropped, dropdown answers as booleans, ``modified_within_hours`` as
    ``modified_from`` (a given ``modified_from`` wins). Values it does not know pass through unchanged."""
    request = {key: value for key, value in params.items() if key != LOOKBACK_FIELD}
    for field in LIST_FIELDS:
        if field in request:
            request[field] = _drop_blank_lines(request[field])
    for field in ("recursive", "pre_translate"):
        answer = request.get(field)
        if isinstance(answer, str) and answer.strip().lower() in CHOICES:
            request[field] = CHOICES[answer.strip().lower()]
    hours = params.get(LOOKBACK_FIELD)
    if hours not in (None, "") and request.get("modified_from") in (None, ""):
        try:
            lookback = timedelta(hours=float(hours))
        except (TypeError, ValueError, OverflowError):
            lookback = timedelta(0)
        if lookback <= timedelta(0):
            raise AirflowFailException(
                f"{LOOKBACK_FIELD}: {hours!r} is not a positive number of hours; give e.g. 24 or 168, or "
                "leave it empty"
            )
        request["modified_from"] = ((now or datetime.now(timezone.utc)) - lookback).isoformat()
    return request


def validate_form(context: Mapping[str, Any]) -> dict[str, Any]:
    """``validate_request`` of ``phrase_manual_ingestion``: the form's answers, validated (plain JSON)."""
    from airflow_phrase.ingestion.tasks import load_manual_request

    return load_manual_request({**context, "params": form_request(context["params"])})


__all__ = [
    "ISO_MOMENT_PATTERN",
    "LANGUAGE_LINE_PATTERN",
    "form_request",
    "manual_form_params",
    "validate_form",
]
