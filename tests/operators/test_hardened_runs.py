"""Real runs (``dag.test()`` against the emulator over HTTP): failures a retry cannot fix take one try,
and no secret of the connection shows anywhere a run leaves traces.

DAGs: ``tests/dag_fixtures/operators_ingest.py`` (``retries=1``, so a retried failure would show a second
try) and ``operators_compose.py`` (download → deferrable sensor → create job → deferred import wait).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_phrase.hooks.auth import TOKEN_CACHE
from tests.conftest import load_fixture_dag
from tests.helpers import DEMO_API_TOKEN, DEMO_PASSWORD, DEMO_USER
from tests.operators.conftest import REVIEW, WEBSITE, calls, jobs_in

pytestmark = pytest.mark.dagtest

INGEST = {"folder": "docs/site", "file": "index.html", "project_uid": WEBSITE, "target_langs": ["ja"]}
URL_SECRET = "Url-Secret-7f3c9a"


def _connection(monkeypatch: pytest.MonkeyPatch, **conn: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_PHRASE_TMS_DEFAULT", json.dumps(conn))
    TOKEN_CACHE.clear()


def _tries(dag_run: Any) -> dict[str, tuple[str | None, int]]:
    return {ti.task_id: (ti.state, ti.try_number) for ti in dag_run.get_task_instances()}


@pytest.mark.parametrize(
    ("conn", "expected_calls"),
    [
        pytest.param(
            {"conn_type": "phrase_tms", "login": DEMO_USER, "password": "wrong-password", "extra": {}},
            [("POST", "/api2/v3/auth/login")],
            id="wrong-password",
        ),
        pytest.param({"conn_type": "phrase_tms", "login": DEMO_USER, "extra": {}}, [], id="missing-password"),
        pytest.param(
            {"conn_type": "http", "password": DEMO_API_TOKEN, "extra": {}}, [], id="http-connection"
        ),
    ],
)
def test_configuration_and_authentication_failures_take_one_try(
    conn: dict[str, Any],
    expected_calls: list[tuple[str, str]],
    airflow_db: str,
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _connection(monkeypatch, host=emulator.base_url, **conn)

    dag_run = load_fixture_dag("operators_ingest_poke").test(run_conf=INGEST)

    assert dag_run.state == "failed"
    assert _tries(dag_run) == {"ingest": ("failed", 1)}  # retries=1, not used
    assert calls(emulator) == expected_calls


# --------------------------------------------------------------------------- no secret in sight


def _db_texts(dag_runs: list[Any]) -> list[str]:
    """Everything the runs left in the metadata DB that a person can see: XComs (links included),
    rendered template fields, triggers' kwargs and the deferred tasks' next_kwargs."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    texts: list[str] = []
    with create_session() as session:
        for dag_run in dag_runs:
            xcoms = session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id
                )
            ).all()
            texts += [f"{row.key}={XComModel.deserialize_value(row)!r}" for row in xcoms]
            rendered = session.scalars(
                select(RenderedTaskInstanceFields).where(
                    RenderedTaskInstanceFields.dag_id == dag_run.dag_id,
                    RenderedTaskInstanceFields.run_id == dag_run.run_id,
                )
            ).all()
            texts += [json.dumps(row.rendered_fields, default=str) for row in rendered]
            texts += [json.dumps(ti.next_kwargs, default=str) for ti in dag_run.get_task_instances()]
        texts += [
            f"{row.classpath} {json.dumps(row.kwargs, default=str)}"
            for row in session.scalars(select(Trigger))
        ]
    return texts


def test_no_secret_of_the_connection_reaches_logs_xcom_rendered_fields_triggers_or_errors(
    airflow_db: str,
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    captured_triggers: list[str],
) -> None:
    caplog.set_level("DEBUG")
    emulator.admin.configure(task_delay=0.5, import_delay=0.5)  # the sensor and the import wait defer
    runs = []

    # 1. A login connection whose password was pasted with a line break: download → sensor → create.
    _connection(
        monkeypatch,
        conn_type="phrase_tms",
        host=emulator.base_url,
        login=DEMO_USER,
        password=f" {DEMO_PASSWORD}\n",
        extra={"auth_type": "login", "max_wait_seconds": 0.2},
    )
    runs.append(load_fixture_dag("operators_compose_deferrable").test(run_conf={"project_uid": REVIEW}))
    assert runs[-1].state == "success", _tries(runs[-1])
    login_tokens = [cached.token.get_secret_value() for cached in TOKEN_CACHE._tokens.values()]
    assert login_tokens

    # 2. An API token pasted from a file (trailing line break): the one-task ingest.
    _connection(
        monkeypatch,
        conn_type="phrase_tms",
        host=emulator.base_url,
        password=f"  {DEMO_API_TOKEN}\n",
        extra={"auth_type": "api_token"},
    )
    runs.append(load_fixture_dag("operators_ingest_deferrable").test(run_conf=INGEST))
    assert runs[-1].state == "success", _tries(runs[-1])
    assert len(jobs_in(emulator, WEBSITE)) == 1

    # 3. A password in the Base URL's userinfo: refused, without showing it.
    _connection(
        monkeypatch,
        conn_type="phrase_tms",
        host=emulator.base_url.replace("http://", f"http://phrase:{URL_SECRET}@"),
        password=DEMO_API_TOKEN,
        extra={"auth_type": "api_token"},
    )
    runs.append(load_fixture_dag("operators_ingest_poke").test(run_conf=INGEST))
    assert runs[-1].state == "failed"
    assert _tries(runs[-1]) == {"ingest": ("failed", 1)}

    logs = "".join(capfd.readouterr()) + caplog.text
    scanned = {
        "task logs and exceptions": logs,
        "metadata DB": "\n".join(_db_texts(runs)),
        "serialized triggers": "\n".join(captured_triggers),
    }
    assert captured_triggers, "the runs were expected to defer"
    secrets = [DEMO_PASSWORD, DEMO_API_TOKEN, URL_SECRET, *login_tokens]
    for where, text in scanned.items():
        assert text, where
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:4]}...) is in the {where}"
    assert "contains a user name or password" in logs  # the refusal, logged
    assert "Task failed with exception" in logs
