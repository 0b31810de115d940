"""A well-formed project uid that Phrase does not know is refused at once, naming the field, before any
download: one project read, no download POST, no retry (issue 9: the 404 used to be retried)."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from tests.operators.conftest import calls

MISSING = "prjNoSuchProject000000001"


def _ingest() -> PhraseIngestConnectorFileOperator:
    return PhraseIngestConnectorFileOperator(
        task_id="ingest",
        connector="1001",
        folder="docs/guides",
        file="install.md",
        project_uid=MISSING,
        target_langs=["de"],
        deferrable=False,
    )


def _create() -> PhraseCreateJobFromConnectorTaskOperator:
    return PhraseCreateJobFromConnectorTaskOperator(
        task_id="create", project_uid=MISSING, download_task_id="310001", target_langs=["de"]
    )


@pytest.mark.parametrize("make", [_ingest, _create], ids=["ingest", "create"])
def test_an_unknown_project_fails_at_once_naming_project_uid(
    make: Any, emulator: Any, context: dict[str, Any]
) -> None:
    with pytest.raises(AirflowFailException) as raised:
        make().execute(context)

    assert f"project_uid: Phrase has no project {MISSING!r} (HTTP 404); check the project uid" in str(
        raised.value
    )
    sent = calls(emulator)
    assert [(method, path) for method, path in sent if method != "GET"] == []  # nothing started
    assert [path for _, path in sent if path.endswith(MISSING)] == [
        f"/api2/v1/projects/{MISSING}"
    ]  # read once, not retried
