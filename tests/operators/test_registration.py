"""How Airflow finds the operators and their links: provider metadata, templating, cheap imports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk import BaseOperator

from airflow_phrase.get_provider_info import get_provider_info
from airflow_phrase.links import PhraseJobsLink, PhraseProjectLink
from airflow_phrase.operators.base import JOB_TEMPLATE_FIELDS
from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.download import PhraseConnectorDownloadOperator
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.sensors.connector_task import PhraseConnectorTaskSensor

OPERATOR_MODULES = [
    "airflow_phrase.operators.download",
    "airflow_phrase.operators.create_job",
    "airflow_phrase.operators.ingest",
    "airflow_phrase.operators.export",
    "airflow_phrase.operators.target_file",
]


def _modules_defining(package: str, base: type, suffix: str) -> set[str]:
    """The modules of ``package`` that define a ``Phrase*<suffix>`` subclass of ``base`` (not counting the
    ``*base`` modules: they hold the shared base classes, which users do not pick)."""
    import importlib
    import inspect
    import pkgutil

    found = set()
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__, f"{package}."):
        if info.name.endswith("base"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == info.name
                and issubclass(value, base)
                and name.startswith("Phrase")
                and name.endswith(suffix)
            ):
                found.add(info.name)
    return found


def test_provider_info_lists_the_operators_and_links() -> None:
    info = get_provider_info()
    (operators,) = info["operators"]
    assert operators["python-modules"] == OPERATOR_MODULES
    assert set(OPERATOR_MODULES) == _modules_defining("airflow_phrase.operators", BaseOperator, "Operator")
    (sensors,) = info["sensors"]
    assert set(sensors["python-modules"]) == _modules_defining(
        "airflow_phrase.sensors", BaseOperator, "Sensor"
    )
    assert info["extra-links"] == [
        "airflow_phrase.links.PhraseProjectLink",
        "airflow_phrase.links.PhraseJobsLink",
    ]


def test_links_are_registered_on_the_operators() -> None:
    assert PhraseProjectLink().name == "Phrase project"
    assert PhraseJobsLink().name == "Phrase job(s)"

    def names(cls: type) -> set[str]:
        return {link.name for link in cls.operator_extra_links}

    assert names(PhraseConnectorDownloadOperator) == {"Phrase project"}
    assert names(PhraseCreateJobFromConnectorTaskOperator) == {"Phrase project", "Phrase job(s)"}
    assert names(PhraseIngestConnectorFileOperator) == {"Phrase project", "Phrase job(s)"}
    from airflow_phrase.operators.export import PhraseExportJobsToRepositoryOperator
    from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator

    assert names(PhraseExportJobsToRepositoryOperator) == {"Phrase project"}
    assert names(PhraseDownloadTargetFileOperator) == {"Phrase project"}


@pytest.mark.parametrize(
    ("operator", "business"),
    [
        (
            PhraseConnectorDownloadOperator,
            {"connector", "folder", "file", "project_uid", "source_lang", "target_lang"},
        ),
        (PhraseCreateJobFromConnectorTaskOperator, {"project_uid", "download_task_id", "continuous"}),
        (
            PhraseIngestConnectorFileOperator,
            {"connector", "folder", "file", "project_uid", "source_lang", "continuous"},
        ),
    ],
)
def test_every_business_parameter_and_the_conn_id_are_templated(operator: type, business: set[str]) -> None:
    expected = business | {"phrase_conn_id"}
    if operator is not PhraseConnectorDownloadOperator:
        expected |= set(JOB_TEMPLATE_FIELDS)
    assert set(operator.template_fields) == expected


def test_constructing_operators_needs_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAG parsing builds operators; no hook, connection or network may be touched then."""
    monkeypatch.delenv("AIRFLOW_CONN_PHRASE_TMS_DEFAULT", raising=False)
    PhraseIngestConnectorFileOperator(
        task_id="ingest",
        connector="{{ params.c }}",
        file="{{ params.f }}",
        project_uid="{{ params.p }}",
        target_langs="{{ params.langs }}",
        due="{{ params.due }}",
    )


def test_the_deferrable_default_comes_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator as O\n"
        "print(O(task_id='t', connector='c', file='f', project_uid='p', target_langs=['de']).deferrable)\n"
    )
    env = {"AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, **env},
    )
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_operator_imports_stay_light() -> None:
    """DAG files import the operators: that must not pull in the emulator or a server stack."""
    modules = [*OPERATOR_MODULES, "airflow_phrase.links"]
    heavy = ["airflow_phrase.emulator", "fastapi", "uvicorn", "aiohttp.web"]
    code = f"import sys, {', '.join(modules)}\nprint(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip() == "", f"importing the operators pulled in {result.stdout.strip()}"


@pytest.mark.parametrize("value", [0, -1.0, 0.5])
def test_a_poll_interval_below_the_floor_is_rejected_when_the_dag_is_parsed(
    value: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "1")  # the default; tests lower it
    with pytest.raises(ValueError, match=r"poll_interval must be at least 1 seconds \(got"):
        PhraseCreateJobFromConnectorTaskOperator(
            task_id="t", project_uid="p", download_task_id="1", target_langs=["de"], poll_interval=value
        )
    with pytest.raises(ValueError, match=r"poll_interval must be at least 1 seconds"):
        PhraseIngestConnectorFileOperator(
            task_id="i", connector="c", file="f", project_uid="p", target_langs=["de"], poll_interval=value
        )
    # (A negative one, Airflow's BaseSensorOperator refuses first.)
    with pytest.raises(ValueError, match=r"poke_interval must be at least 1 seconds|`poke_interval`"):
        PhraseConnectorTaskSensor(task_id="s", project_uid="p", download_task_id="1", poke_interval=value)


@pytest.mark.parametrize(
    ("execution_timeout", "wait_timeout", "expected"),
    [
        (None, None, None),
        (None, 300, 300.0),
        (timedelta(seconds=100), 300, 100.0),
        (timedelta(minutes=10), timedelta(seconds=30), 30.0),
    ],
)
def test_the_wait_deadline_is_the_shorter_of_execution_and_wait_timeouts(
    execution_timeout: timedelta | None, wait_timeout: Any, expected: float | None
) -> None:
    operator = PhraseIngestConnectorFileOperator(
        task_id="t",
        connector="c",
        file="f",
        project_uid="p",
        target_langs=["de"],
        execution_timeout=execution_timeout,
        wait_timeout=wait_timeout,
    )
    before = time.time()
    deadline = operator.wait_deadline()
    if expected is None:
        assert deadline is None
    else:
        assert deadline is not None and before + expected <= deadline <= time.time() + expected
