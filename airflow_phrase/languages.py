"""Phrase language codes: how they are compared."""

from __future__ import annotations


def normalise_language(lang: str) -> str:
    """A language code in Phrase's form, for comparing codes (``fr-FR`` / ``fr_FR`` → ``fr_fr``)."""
    return lang.strip().replace("-", "_").lower()


__all__ = ["normalise_language"]
