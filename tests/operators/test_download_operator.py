"""PhraseConnectorDownloadOperator against the emulator."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from airflow_phrase.links import PROJECT_URL_XCOM_KEY
from airflow_phrase.operators.download import PhraseConnectorDownloadOperator
from tests.operators.conftest import WEBSITE, calls, posts


@pytest.mark.parametrize(
    ("connector", "folder", "file"),
    [
        pytest.param("Docs Git", "docs/guides", "überblick.md", id="by-name-and-path"),
        pytest.param("1001", "/docs/guides/", "überblick.md", id="by-id-slashes"),
        pytest.param(
            "1001",
            b"docs/guides".hex(),
            "docs/guides/überblick.md".encode().hex(),
            id="encoded-names",
        ),
    ],
)
def test_starts_the_download_and_returns_plain_json(
    connector: str, folder: str, file: str, emulator: Any, context: dict[str, Any]
) -> None:
    operator = PhraseConnectorDownloadOperator(
        task_id="download",
        connector=connector,
        folder=folder,
        file=file,
        project_uid=WEBSITE,
        source_lang="en",
    )

    result = operator.execute(context)

    assert json.loads(json.dumps(result)) == result
    tasks = emulator.admin.snapshot()["downloadTasks"]
    assert [task["id"] for task in tasks] == [result["download_task_id"]]
    assert tasks[0]["path"] == "docs/guides/überblick.md"
    assert result["connector_id"] == "1001"
    # Phrase's encoded names, as the emulator issued them, plus the readable identity.
    assert result["folder"] == b"docs/guides".hex()
    assert result["file"] == "docs/guides/überblick.md".encode().hex()
    assert result["file_name"] == "überblick.md"
    assert result["folder_path"] == "docs/guides"
    assert result["project_uid"] == WEBSITE
    assert datetime.fromisoformat(result["date_created"]).tzinfo is not None
    assert datetime.fromisoformat(result["last_modified"]) < datetime.fromisoformat(result["date_created"])
    assert len(posts(emulator)) == 1
    assert context["ti"].xcom[PROJECT_URL_XCOM_KEY] == f"{emulator.base_url}/project2/show/{WEBSITE}"


def test_the_project_link_is_pushed_before_a_failure(emulator: Any, context: dict[str, Any]) -> None:
    operator = PhraseConnectorDownloadOperator(
        task_id="download", connector="Nope", folder="docs", file="x.md", project_uid=WEBSITE
    )
    with pytest.raises(Exception, match="No Phrase connector"):
        operator.execute(context)
    assert context["ti"].xcom[PROJECT_URL_XCOM_KEY].endswith(f"/project2/show/{WEBSITE}")
    assert all(method == "GET" for method, _ in calls(emulator))
