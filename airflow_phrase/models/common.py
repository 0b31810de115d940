"""Small references that appear inside many Phrase payloads."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from airflow_phrase.identifiers import NumericId, PhraseUid

from ._base import PhraseId, PhraseRequest, PhraseResponse


class UserReference(PhraseResponse):
    id: PhraseId | None = None
    uid: str | None = None
    user_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    role: str | None = None


class NameReference(PhraseResponse):
    """Phrase's ``NameDto``: an object known by id and name (organisation, creator)."""

    id: PhraseId | None = None
    name: str | None = None


class ProjectReference(PhraseResponse):
    uid: str
    name: str | None = None
    inner_id: str | None = None
    status: str | None = None
    source_lang: str | None = None
    target_langs: list[str] = Field(default_factory=list)


class UidReference(PhraseRequest):
    uid: PhraseUid


class IdReference(PhraseRequest):
    id: NumericId


ProviderType = Literal["USER", "VENDOR"]
