"""The hook caches what one task reads several times (the project, the connector list) for its own
life: asked twice, Phrase answers once; a new hook (the next task) asks again; a failure is not kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_phrase.exceptions import PhraseApiError
from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from tests.hooks.support import DOCS_REVIEW, WEBSITE, journal

MakeHook = Callable[..., PhraseTmsHook]
CONNECTORS = "/api2/v1/connectors"


def test_the_project_is_read_once_per_hook(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(token_conn)

    first = hook.get_project(WEBSITE)
    again = hook.get_project(WEBSITE)
    other = hook.get_project(DOCS_REVIEW)

    assert again == first and other.uid == DOCS_REVIEW
    assert len(journal(phrase_emulator, f"/api2/v1/projects/{WEBSITE}")) == 1
    assert len(journal(phrase_emulator, f"/api2/v1/projects/{DOCS_REVIEW}")) == 1

    make_hook(token_conn).get_project(WEBSITE)  # another hook: its own read

    assert len(journal(phrase_emulator, f"/api2/v1/projects/{WEBSITE}")) == 2


def test_the_connector_list_is_read_once_per_hook_and_type(
    phrase_emulator: Any, token_conn: str, make_hook: MakeHook
) -> None:
    hook = make_hook(token_conn)

    assert hook.resolve_connector("Docs Git").id == "1001"
    assert hook.resolve_connector("1002").id == "1002"
    hook.list_connectors().clear()  # a caller changing its list does not change the cache
    assert len(hook.list_connectors()) == 2
    assert [c.id for c in hook.list_connectors("GOOGLE_DRIVE2")] == ["1002"]

    assert [entry.query.get("type") for entry in journal(phrase_emulator, CONNECTORS)] == [
        None,
        ["GOOGLE_DRIVE2"],
    ]


def test_a_failed_read_is_not_cached(phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
    hook = make_hook(token_conn)
    phrase_emulator.admin.set_faults(
        [{"method": "GET", "path": f"/api2/v1/projects/{WEBSITE}", "sequence": [{"status": 404}]}]
    )

    with pytest.raises(PhraseApiError):
        hook.get_project(WEBSITE)
    assert hook.get_project(WEBSITE).uid == WEBSITE

    assert [entry.status for entry in journal(phrase_emulator, f"/api2/v1/projects/{WEBSITE}")] == [404, 200]
