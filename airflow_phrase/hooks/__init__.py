"""Hooks of the Phrase TMS provider."""

from __future__ import annotations

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.hooks.remote_files import ResolvedRemoteFile
from airflow_phrase.hooks.retry import RetryPolicy
from airflow_phrase.hooks.transport import PhraseResponseLostError

__all__ = ["PhraseResponseLostError", "PhraseTmsHook", "ResolvedRemoteFile", "RetryPolicy"]
