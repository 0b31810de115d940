"""The Phrase view's plugin as Airflow loads it: registered by entry point, light to import."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points


def test_registered_under_airflow_plugins() -> None:
    from airflow_phrase.ui.plugin import PhraseViewPlugin

    (entry_point,) = [ep for ep in entry_points(group="airflow.plugins") if ep.name == "phrase_tms"]
    assert entry_point.load() is PhraseViewPlugin


def test_views_point_at_the_mounted_app() -> None:
    from airflow_phrase.ui.app import URL_PREFIX
    from airflow_phrase.ui.plugin import PhraseViewPlugin

    plugin = PhraseViewPlugin()
    [app] = plugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX == "/phrase"
    views = {view["destination"]: view for view in plugin.external_views}
    assert views["dag_run"]["href"] == "phrase/runs/{DAG_ID}/{RUN_ID}"  # relative: works under a base path
    assert views["nav"]["href"] == "phrase/overview"
    assert all(view.get("url_route") for view in views.values())  # shown inside the UI, not a new tab
    routes = {route.path for route in app["app"].routes}
    assert {"/runs/{dag_id}/{run_id:path}", "/overview"} <= routes


def test_loading_the_plugin_does_not_import_fastapi() -> None:
    """Every Airflow process loads plugins (workers and the DAG processor too); only the API server
    builds the app."""
    code = (
        "import sys; from airflow_phrase.ui.plugin import PhraseViewPlugin; PhraseViewPlugin(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
