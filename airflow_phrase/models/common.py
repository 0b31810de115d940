"""Small references that appear inside many Phrase payloads.

Every field of a reference is optional: Phrase leaves out (or sends ``null`` for) whatever it does not
know or chooses not to say, and a missing key in a nested reference must never fail a response.
"""

from __future__ import annotations

from typing import Literal

from airflow_phrase.identifiers import NumericId, PhraseUid

from ._base import PhraseId, PhraseRequest, PhraseResponse


class UserReference(PhraseResponse):
    """``UserReference`` (``createdBy``, ``owner``, the login's ``user``)."""

    id: PhraseId | None = None
    uid: PhraseId | None = None
    user_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    role: str | None = None


class NameReference(PhraseResponse):
    """Phrase's ``NameDto``: an object known by id and name (a connector's organisation and creator)."""

    id: PhraseId | None = None
    name: str | None = None


class OrganizationReference(PhraseResponse):
    """``OrganizationReference`` (whoAmI's ``organization``)."""

    id: PhraseId | None = None
    uid: PhraseId | None = None
    name: str | None = None


class ProjectReference(PhraseResponse):
    """The reference to a project inside an async request or a job (the spec's ``uid`` and ``name``)."""

    uid: PhraseId | None = None
    name: str | None = None


class UidReference(PhraseRequest):
    uid: PhraseUid


class IdReference(PhraseRequest):
    id: NumericId


ProviderType = Literal["USER", "VENDOR"]
