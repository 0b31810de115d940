"""Hooks of the Phrase TMS provider.

The names below are loaded on first use: importing ``airflow_phrase.hooks.retry`` (which the triggers and
the connection parsing need) must not import the HTTP libraries the hook itself uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_phrase.exceptions import PhraseResponseLostError
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.hooks.remote_files import ResolvedRemoteFile
    from airflow_phrase.hooks.retry import RetryPolicy

_LAZY = {
    "PhraseResponseLostError": "airflow_phrase.exceptions",
    "PhraseTmsHook": "airflow_phrase.hooks.phrase_tms",
    "ResolvedRemoteFile": "airflow_phrase.hooks.remote_files",
    "RetryPolicy": "airflow_phrase.hooks.retry",
}

__all__ = ["PhraseResponseLostError", "PhraseTmsHook", "ResolvedRemoteFile", "RetryPolicy"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
