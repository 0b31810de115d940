"""Session-wide test setup.

Airflow reads ``AIRFLOW_HOME`` and the DAGs folder when it is first imported, so a throwaway home is set
here, before any test module imports Airflow. Nothing is written to the developer's real ``~/airflow``.
DAGs run by ``dag.test()`` live in ``tests/dag_fixtures/`` and are loaded from there the way Airflow loads
them (``dag.test()`` syncs that folder's bundle into the metadata DB).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import use_emulator_connection

DAG_FIXTURES = Path(__file__).parent / "dag_fixtures"

_HOME = tempfile.mkdtemp(prefix="airflow-phrase-tests-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAG_FIXTURES)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
# The tests poll the in-process emulator, not Phrase: below the provider's 1 s floor on poll intervals.
os.environ.setdefault("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "0.01")


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated SQLite metadata DB in the throwaway ``AIRFLOW_HOME`` (once per session, ~10 s)."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True, timeout=600)
    return _HOME


def load_fixture_dag(dag_id: str) -> Any:
    """Load a DAG from ``tests/dag_fixtures`` through a DagBag, as the dag-processor would."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FIXTURES))  # examples are off: AIRFLOW__CORE__LOAD_EXAMPLES
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id!r} in {DAG_FIXTURES}; found {sorted(bag.dag_ids)}"
    return dag


@pytest.fixture
def phrase_connection(phrase_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``phrase_tms_default`` pointed at the session emulator, logging in as the seed's demo user."""
    yield use_emulator_connection(
        monkeypatch, phrase_emulator.base_url, login=True, max_wait_seconds=0.2, retry_total_seconds=20
    )


@pytest.fixture(autouse=True)
def _private_token_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own default login-token directory: the emulator is re-seeded between tests
    (which invalidates its tokens), and a token file left by an earlier test would add a 401 and a
    second login to journals that tests assert on. Tests of the shared cache set ``login_cache_dir``."""
    from airflow_phrase.hooks import token_store

    directory = tmp_path_factory.mktemp("phrase-token-cache")
    monkeypatch.setattr(token_store, "default_token_cache_dir", lambda: directory)
