"""The Airflow plugin of the Phrase view, registered by the ``airflow.plugins`` entry point.

It adds a **Phrase** tab to every DAG run page and a **Phrase TMS** entry under *Browse*, both iframes
of server-rendered pages (``external_views`` with a ``url_route``), served by a FastAPI app the API
server mounts under ``/phrase`` (``fastapi_apps``; :mod:`airflow_phrase.ui.app`).

Airflow loads plugins in every process (workers and the DAG processor too), so this module imports
nothing but Airflow's plugin base: the FastAPI app, and with it FastAPI, is only built when the API
server asks for ``fastapi_apps``.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

#: The run page's tab: ``{DAG_ID}`` / ``{RUN_ID}`` are filled in by the UI (URL-encoded).
RUN_VIEW = {
    "name": "Phrase",
    "href": "phrase/runs/{DAG_ID}/{RUN_ID}",
    "destination": "dag_run",
    "url_route": "phrase-run",
}
#: The navigation entry: the latest ingestion runs and their trend.
OVERVIEW_VIEW = {
    "name": "Phrase TMS",
    "href": "phrase/overview",
    "destination": "nav",
    "category": "browse",
    "url_route": "phrase",
}


class PhraseViewPlugin(AirflowPlugin):
    """The Phrase view: a tab on each DAG run and an overview of the latest ingestion runs."""

    name = "phrase_tms"
    external_views = [RUN_VIEW, OVERVIEW_VIEW]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from airflow_phrase.ui.app import fastapi_app_spec

        return [fastapi_app_spec()]


__all__ = ["OVERVIEW_VIEW", "RUN_VIEW", "PhraseViewPlugin"]
