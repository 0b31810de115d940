"""The delivery pieces in a real run (``dag.test()`` against the emulator over HTTP): no secret of the
connection shows in logs, exceptions, XCom, rendered fields, trigger kwargs or deferred tasks' kwargs.

DAG: ``tests/dag_fixtures/delivery_pieces.py`` (job status sensor → target files and export, all
deferrable).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_phrase.hooks.auth import TOKEN_CACHE
from tests.conftest import load_fixture_dag
from tests.helpers import DEMO_PASSWORD, DEMO_USER
from tests.operators.conftest import WEBSITE
from tests.operators.test_hardened_runs import _db_texts
from tests.triggers.jobs_support import create_jobs

pytestmark = pytest.mark.dagtest


def test_no_secret_of_the_connection_reaches_what_a_delivery_run_leaves(
    airflow_db: str,
    emulator: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    captured_triggers: list[str],
) -> None:
    from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger

    caplog.set_level("DEBUG")
    uids = create_jobs("phrase_tms_default")  # the fixture's API-token connection
    # The sensor defers (the jobs complete once it did) and so does the target-file wait.
    emulator.admin.configure(target_file_delay=0.5)
    serialize = PhraseJobStatusTrigger.serialize

    def complete_on_deferral(self: PhraseJobStatusTrigger) -> Any:
        for uid in self.job_uids:
            emulator.admin.script_job(uid, status="COMPLETED", after=0.0)
        return serialize(self)

    monkeypatch.setattr(PhraseJobStatusTrigger, "serialize", complete_on_deferral)
    # The run logs in with a password pasted with a line break.
    monkeypatch.setenv(
        "AIRFLOW_CONN_PHRASE_TMS_DEFAULT",
        json.dumps({
            "conn_type": "phrase_tms", "host": emulator.base_url, "login": DEMO_USER,
            "password": f" {DEMO_PASSWORD}\n", "extra": {"auth_type": "login", "max_wait_seconds": 0.2},
        }),
    )  # fmt: skip
    TOKEN_CACHE.clear()

    dag_run = load_fixture_dag("delivery_pieces").test(
        run_conf={"project_uid": WEBSITE, "job_uids": uids, "base_path": tmp_path.as_uri()}
    )

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    assert len([p for p in tmp_path.rglob("*.md")]) == 3
    login_tokens = [cached.token.get_secret_value() for cached in TOKEN_CACHE._tokens.values()]
    assert login_tokens
    logs = "".join(capfd.readouterr()) + caplog.text
    scanned = {
        "task logs and exceptions": logs,
        "metadata DB": "\n".join(_db_texts([dag_run])),
        "serialized triggers": "\n".join(captured_triggers),
    }
    assert any("PhraseJobStatusTrigger" in text for text in captured_triggers), "the sensor must defer"
    assert any("PhraseAsyncRequestTrigger" in text for text in captured_triggers), "the download must defer"
    for where, text in scanned.items():
        assert text, where
        for secret in [DEMO_PASSWORD, *login_tokens]:
            assert secret not in text, f"a secret ({secret[:4]}...) is in the {where}"
