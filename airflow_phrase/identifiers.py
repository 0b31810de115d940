"""The formats of Phrase's identifiers, checked before anything is sent to Phrase.

Phrase has two kinds (both strings on the wire):

* **uids** (``uid``): letters and digits, e.g. a project ``prjWebsite000000000001`` or an import
  settings ``abcd123``;
* **ids** (``id``): "internal numeric ID ... encoded as a string" (the spec), e.g. a connector ``1001``, a
  connector download task ``310001``, a workflow step ``64``, a provider ``4321``.

A value of another shape (``"../../etc"``, ``"abc; DROP"``) is refused with a message that names the
expected form; ``"None"``, which a template renders from an XCom or a param that holds ``None``, gets a
message of its own. Pure Python (no Airflow, no HTTP): the request models and the operators' argument
models both use it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

UID_PATTERN = re.compile(r"[A-Za-z0-9]{1,64}")
NUMERIC_ID_PATTERN = re.compile(r"[0-9]{1,19}")  # int64
#: What Jinja renders from ``None`` (an XCom or param that holds nothing).
RENDERED_NONE = "None"


def _id_to_str(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def _rendered_none(value: str) -> None:
    if not value:
        raise ValueError("must not be empty; give a value")
    if value == RENDERED_NONE:
        raise ValueError(
            "'None' is what a template renders from an XCom or param that holds None; check that the "
            "upstream task returned a value (or that the param is set)"
        )


def uid_check(example: str, fix: str) -> AfterValidator:
    """A check that the value is a Phrase uid; ``example`` and ``fix`` go into the message."""

    def check(value: str) -> str:
        _rendered_none(value)
        if not UID_PATTERN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Phrase uid (letters and digits only, e.g. {example!r}); {fix}"
            )
        return value

    return AfterValidator(check)


def numeric_id_check(example: str, fix: str) -> AfterValidator:
    """A check that the value is a Phrase id (digits); ``example`` and ``fix`` go into the message."""

    def check(value: str) -> str:
        _rendered_none(value)
        if not NUMERIC_ID_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not a Phrase id (digits only, e.g. {example!r}); {fix}")
        return value

    return AfterValidator(check)


_AS_STR = BeforeValidator(_id_to_str)

#: Any Phrase uid (import settings, XML assistant profile, ...).
PhraseUid = Annotated[str, _AS_STR, uid_check("abcd123", "copy it from Phrase")]
#: Any numeric Phrase id (workflow step, provider, e-mail template, ...); a JSON number is accepted.
NumericId = Annotated[str, _AS_STR, numeric_id_check("64", "copy it from Phrase")]
#: A project uid.
ProjectUid = Annotated[
    str,
    _AS_STR,
    uid_check("prjWebsite000000000001", "copy it from the project's URL in Phrase (.../project2/show/<uid>)"),
]
#: A connector download task id (``AsyncFileOpResponseDto.id``).
DownloadTaskId = Annotated[
    str,
    _AS_STR,
    numeric_id_check("310001", "pass the download operator's XCom 'download_task_id'"),
]


__all__ = [
    "NUMERIC_ID_PATTERN",
    "RENDERED_NONE",
    "UID_PATTERN",
    "DownloadTaskId",
    "NumericId",
    "PhraseUid",
    "ProjectUid",
    "numeric_id_check",
    "uid_check",
]
