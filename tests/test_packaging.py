"""The package as Airflow and DAG authors meet it: entry point, provider metadata, import cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from importlib.metadata import entry_points

import jsonschema
import pytest

from airflow_phrase.get_provider_info import get_provider_info

#: Modules a DAG file imports. Importing them must not pull in the emulator or a server stack.
DAG_FACING_MODULES = [
    "airflow_phrase",
    "airflow_phrase.models",
    "airflow_phrase.hooks.phrase_tms",
    "airflow_phrase.operators.download",
    "airflow_phrase.operators.create_job",
    "airflow_phrase.operators.ingest",
    "airflow_phrase.sensors.connector_task",
    "airflow_phrase.triggers.connector_task",
    "airflow_phrase.links",
    "airflow_phrase.ingestion.tasks",
]
HEAVY_MODULES = ["airflow_phrase.emulator", "fastapi", "uvicorn", "aiohttp.web"]


def test_entry_point_resolves_to_get_provider_info() -> None:
    (entry_point,) = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_phrase")
    ]
    assert entry_point.load() is get_provider_info


def test_provider_info_matches_airflow_schema() -> None:
    schema = json.loads(resources.files("airflow").joinpath("provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "phrase_tms"
    assert set(conn_type["conn-fields"]) >= {"data_center", "auth_type", "contact"}


def test_every_declared_class_imports() -> None:
    info = get_provider_info()
    paths = [c["hook-class-name"] for c in info["connection-types"]] + info.get("extra-links", [])
    for dotted in paths:
        module_name, _, attr = dotted.rpartition(".")
        module = __import__(module_name, fromlist=[attr])
        assert getattr(module, attr) is not None, dotted
    for group in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(group, []):
            for module_name in entry["python-modules"]:
                __import__(module_name)


def test_airflow_providers_list_shows_the_provider() -> None:
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    result = subprocess.run(
        [airflow, "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    providers = {p["package_name"]: p for p in json.loads(result.stdout)}
    assert "airflow-provider-phrase-tms" in providers
    assert providers["airflow-provider-phrase-tms"]["version"] == get_provider_info()["versions"][0]


@pytest.mark.parametrize("module", DAG_FACING_MODULES)
def test_dag_facing_imports_stay_light(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip() == "", f"importing {module} pulled in {result.stdout.strip()}"


#: What Airflow itself has loaded when it parses a DAG file: the Task SDK, the dag-processor's parsing
#: code and the serializer it hands the parsed DAG to.
_AIRFLOW_AT_PARSE = (
    "import airflow.sdk, airflow.dag_processing.processor, airflow.serialization.serialized_objects"
)


def test_operators_and_sensors_load_no_library_airflow_does_not_load_at_parse() -> None:
    """DAG files import the operators and the sensor on every parse: they must not pull in a library
    Airflow has not loaded anyway (the HTTP clients the hook uses, requests and aiohttp, were ~210 ms).
    A module of a package Airflow has loaded (``pydantic.*``, ``airflow.*``) is fine; a new top-level
    package (``aiohttp``, ``requests``, ``yarl``, even the stdlib's ``difflib``) is not."""
    code = f"""
import importlib, pkgutil, sys
{_AIRFLOW_AT_PARSE}
loaded = {{name.split(".")[0] for name in sys.modules}}
before = set(sys.modules)
for package in ("airflow_phrase.operators", "airflow_phrase.sensors"):
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__, package + "."):
        importlib.import_module(info.name)
new = sorted(
    name for name in set(sys.modules) - before
    if name.split(".")[0] not in loaded and not name.startswith("airflow_phrase")
)
print(",".join(new))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip().splitlines()[-1:] in ([], [""]), (
        f"importing the operators and sensors loads {result.stdout.strip()}, which Airflow does not load "
        "at DAG parse; import it where it is used (execute, the hook's methods, the trigger's run)"
    )


def test_the_operators_default_connection_is_the_hooks() -> None:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.base import DEFAULT_CONN_ID

    assert PhraseTmsHook.default_conn_name == DEFAULT_CONN_ID


def test_the_conformance_oracle_is_a_test_dependency_only() -> None:
    """``phrasetms-client`` checks the emulator in tests; the provider never needs it at run time."""
    from importlib.metadata import requires

    declared = requires("airflow-provider-phrase-tms") or []
    oracle = [req for req in declared if req.startswith("phrasetms-client")]
    assert oracle and all('extra == "dev"' in req for req in oracle), oracle
    from pathlib import Path

    import airflow_phrase

    sources = list(Path(airflow_phrase.__file__).parent.rglob("*.py"))
    assert len(sources) > 50
    assert not [str(p) for p in sources if "phrasetms_client" in p.read_text(encoding="utf-8")]
