"""Assertions shared by test modules."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def assert_exact_model(model: BaseModel, where: str = "") -> None:
    """Fail if ``model`` or any model nested in it kept unknown fields (``model_extra`` not empty).

    Response models accept unknown fields (``extra="allow"``); this checks that a payload, e.g. one the
    emulator produced, has no field the models do not declare.
    """
    extra = model.model_extra or {}
    assert not extra, f"{type(model).__name__} at {where or '<root>'} has unknown fields {sorted(extra)}"
    for name in type(model).model_fields:
        _check_nested(getattr(model, name), f"{where}.{name}" if where else name)


def _check_nested(value: Any, where: str) -> None:
    if isinstance(value, BaseModel):
        assert_exact_model(value, where)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_nested(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested(item, f"{where}.{key}")


def parse_exact(model: type[M], payload: Any) -> M:
    """Parse ``payload`` into ``model`` and check it carries exactly the declared fields, no more."""
    parsed = model.model_validate(payload)
    assert_exact_model(parsed)
    return parsed
