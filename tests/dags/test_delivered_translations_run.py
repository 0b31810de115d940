"""The loop does not feed itself: translations exported into the connector's tree
(``<folder>/<targetLang>/<file name>``) are not ingested as new sources by the next scheduled run."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from tests.dags.runs import xcom_value
from tests.helpers import wait_until

pytestmark = pytest.mark.dagtest

WEBSITE = "prjWebsite000000000001"


def test_translations_exported_to_the_repository_are_not_ingested_again(
    example_dags: Any, phrase_emulator_connection: Any
) -> None:
    emulator = phrase_emulator_connection
    dag = example_dags.dags["phrase_connector_ingestion"]
    first = dag.test(logical_date=datetime.now(timezone.utc))
    assert first.state == "success"
    install_jobs = [job for job in emulator.admin.snapshot()["jobs"] if job["filename"] == "install.md"]
    assert len(install_jobs) == 3

    hook = PhraseTmsHook()
    try:
        hook.export_jobs_to_repository(WEBSITE, [job["uid"] for job in install_jobs])
    finally:
        hook.close()
    exported = {f"docs/guides/{lang}/install.md" for lang in ("de", "fr_fr", "ja")}
    wait_until(lambda: exported <= _connector_paths(emulator), timeout=30)
    jobs_before = len(emulator.admin.snapshot()["jobs"])

    second = dag.test(logical_date=datetime.now(timezone.utc))

    assert second.state == "success"
    summary = xcom_value(second, "summarize", "ingestion_summary")
    assert summary["files"] == []
    assert summary["counts"]["delivered_translations"] == 3
    assert len(emulator.admin.snapshot()["jobs"]) == jobs_before  # no job made of a translation


def _connector_paths(emulator: Any) -> set[str]:
    """Paths of the exports that have landed in the connector's tree."""
    return {str(e["path"]) for e in emulator.admin.snapshot()["exports"] if e["landed"]}
