"""The FastAPI app of the Phrase view, mounted by Airflow's API server under ``/phrase``.

* ``GET /phrase/runs/{dag_id}/{run_id}``: one DAG run's Phrase view (the run page's **Phrase** tab).
* ``GET /phrase/overview``: the latest ingestion runs and their trend (the **Phrase TMS** nav entry).

Airflow does not authenticate the routes of a plugin's app (a mounted app inherits none of the core API's
dependencies), so each route declares the checks of Airflow's own XCom endpoints: the caller is the user
of the UI session (its ``_token`` cookie, or a ``Authorization: Bearer`` token, resolved by Airflow's
``get_user``), who must be allowed to read the DAG's XComs (``requires_access_dag(method="GET",
access_entity=XCOM)``); the overview lists only the DAGs whose XComs the user may read (the filter of
``GET /api/v2/.../xcomEntries``). Unauthenticated calls get 401, others 403.

Pages are server-rendered HTML; responses carry a Content-Security-Policy that allows nothing but the
page itself (inline styles, and one inline script by nonce), and ``Cache-Control: no-store``.

Imported only by the API server, through :attr:`airflow_phrase.ui.plugin.PhraseViewPlugin.fastapi_apps`.
"""

from __future__ import annotations

import secrets
from functools import cache
from html import escape
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import (
    ReadableXComFilterDep,
    auth_manager_from_app,
    requires_access_dag,
)
from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse

from airflow_phrase.ui import render
from airflow_phrase.ui.airflow_reads import latest_runs, read_run
from airflow_phrase.ui.run_report import parse_summary, run_report, trend_point

#: Where the app is mounted in the API server (the views' ``href`` start with it, without the slash).
URL_PREFIX = "/phrase"
#: Runs the overview shows by default.
OVERVIEW_RUNS = 20

_READ_XCOM = [Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.XCOM))]


def _html(body: str, nonce: str, status_code: int = 200) -> HTMLResponse:
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(body, status_code=status_code, headers=headers)


def run_view(dag_id: str, run_id: str, session: SessionDep) -> HTMLResponse:
    """The Phrase view of one run."""
    nonce = secrets.token_urlsafe(16)
    recorded = read_run(session, dag_id, run_id)
    if recorded is None:
        note = f'<p class="note fail">No run {escape(run_id)} of DAG {escape(dag_id)}.</p>'
        return _html(render.page("Phrase", note, nonce=nonce), nonce, status_code=404)
    summary = parse_summary(recorded.summary)
    report = run_report(summary) if summary is not None else None
    return _html(render.run_page(dag_id, run_id, recorded.state, report, nonce=nonce), nonce)


def overview(
    session: SessionDep,
    readable: ReadableXComFilterDep,
    limit: Annotated[int, Query(ge=1, le=200)] = OVERVIEW_RUNS,
) -> HTMLResponse:
    """The latest runs that recorded a Phrase summary, among the DAGs the user may read."""
    nonce = secrets.token_urlsafe(16)
    points = [
        trend_point(
            run.dag_id,
            run.run_id,
            run.when.strftime("%Y-%m-%d %H:%M UTC") if run.when else "",
            run.state,
            run.summary,
        )
        for run in latest_runs(session, readable, limit=limit)
    ]
    return _html(render.overview_page(points, nonce=nonce), nonce)


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def create_app() -> FastAPI:
    app = FastAPI(title="Phrase TMS view", docs_url=None, redoc_url=None, openapi_url=None)
    # Airflow's dependencies find the auth manager in ``request.app.state``: in a mounted app that is this
    # app's state, so they get the API server's (initialised after the plugins are mounted) instead.
    app.dependency_overrides[auth_manager_from_app] = _auth_manager
    app.add_api_route(
        "/runs/{dag_id}/{run_id:path}",
        run_view,
        methods=["GET"],
        response_class=HTMLResponse,
        dependencies=_READ_XCOM,
    )
    app.add_api_route(
        "/overview", overview, methods=["GET"], response_class=HTMLResponse, dependencies=_READ_XCOM
    )
    return app


@cache
def fastapi_app_spec() -> dict[str, Any]:
    """The ``fastapi_apps`` entry of the plugin (the app is built once per process)."""
    return {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Phrase TMS view"}


__all__ = ["URL_PREFIX", "create_app", "fastapi_app_spec"]
