"""Fixtures for running the repository's example DAGs (``dags/``) with ``dag.test()``.

The session's DAGs folder is ``tests/dag_fixtures`` (see ``tests/conftest.py``); ``dag.test()`` needs the DAG
in a configured bundle, so :func:`example_dags` adds ``dags/`` as a second ``LocalDagBundle`` for the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_phrase.hooks.auth import TOKEN_CACHE
from tests.helpers import use_emulator_connection

REPO_DAGS = Path(__file__).resolve().parents[2] / "dags"
FIXTURE_DAGS = Path(__file__).resolve().parents[1] / "dag_fixtures"


def load_example_dags() -> Any:
    """A DagBag of ``dags/``, loaded the way the dag-processor loads it (no import errors allowed)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag


@pytest.fixture
def example_dags(airflow_db: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``dags/`` as a DAG bundle (next to the fixtures bundle) and its DagBag."""
    bundles = [
        {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(FIXTURE_DAGS)}},
        {"name": "phrase-example-dags", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
         "kwargs": {"path": str(REPO_DAGS)}},
    ]  # fmt: skip
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    return load_example_dags()


def forget_baselines() -> None:
    """Delete every recorded ingestion baseline (asset state store rows): each test starts as a first run."""
    from airflow import settings
    from airflow.models.asset_state_store import AssetStateStoreModel
    from sqlalchemy import delete

    with settings.Session() as session:  # type: ignore[misc]
        session.execute(delete(AssetStateStoreModel))
        session.commit()


@pytest.fixture
def phrase_emulator_connection(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``phrase_tms_default`` on the (reset) session emulator with the seed's API token; fast polling."""
    use_emulator_connection(
        monkeypatch, phrase_emulator.base_url, max_attempts=3, max_wait_seconds=0.2, retry_total_seconds=20
    )
    monkeypatch.setenv("PHRASE_INGEST_POLL_INTERVAL", "0.2")
    TOKEN_CACHE.clear()
    forget_baselines()
    yield phrase_emulator
    TOKEN_CACHE.clear()
