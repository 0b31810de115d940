"""``docker/`` is consistent with itself, with the project and with the production shape the Celery
end-to-end suite runs for real (``tests/e2e/production``; no Docker engine runs here or in CI).

Parses ``docker/docker-compose.yaml`` (PyYAML, merge keys resolved), ``docker/Dockerfile``,
``docker/.env.example`` and ``docker/README.md`` and checks what a broken deployment would get wrong: a
missing component, a third or missing worker or triggerer, an image tag that drifted from the Airflow pin in
``constraints.txt``, a Python version the project does not support, Celery or PostgreSQL driver versions
other than the pinned ones the suite runs, an executor, broker, metadata DB or result backend other than
the suite's, an init step that no longer creates the connection or the pool, the emulator started by
default, services on different images, or a port published beyond the host's loopback interface.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from airflow_phrase.get_provider_info import CONNECTION_FIELDS
from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.production.shape import (
    CELERY_SETTINGS,
    CONNECTION_ENV,
    POOL,
    TRIGGERERS,
    WORKERS,
    production_config,
)

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer-1",
    "airflow-triggerer-2",
    "airflow-worker-1",
    "airflow-worker-2",
}
EMULATOR = "phrase-emulator"
LONG_RUNNING = (AIRFLOW_SERVICES - {"airflow-init"}) | {"postgres", "redis", EMULATOR}
#: Services whose definition may contain 0.0.0.0, and why (inside their container, never published).
BINDS_ALL_INTERFACES_ON_PURPOSE = {EMULATOR: "reachable by name from the Airflow containers"}
PUBLISHED_PORT = re.compile(r"(?P<ip>[^:]+):\$\{(?P<variable>\w+):-(?P<default>\d+)\}:(?P<container>\d+)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "docker-compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _env(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "use the mapping form of `environment`"
    return env


def _base_image(dockerfile: str) -> tuple[str, str]:
    """``(airflow version, python version)`` of the final ``FROM apache/airflow:<v>-python<py>``."""
    froms = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert froms, "no FROM line"
    match = re.fullmatch(r"apache/airflow:(?P<airflow>[\w.]+)-python(?P<python>\d+\.\d+)", froms[-1])
    assert match, (
        f"the image must build on a pinned apache/airflow:<version>-python<x.y> tag, not {froms[-1]}"
    )
    return match["airflow"], match["python"]


def test_every_component_is_a_service(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= AIRFLOW_SERVICES | {"postgres", "redis", EMULATOR}
    commands = {name: _command(service) for name, service in services.items()}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    triggerers = sorted(name for name, command in commands.items() if command == "triggerer")
    assert triggerers == ["airflow-triggerer-1", "airflow-triggerer-2"]
    workers = sorted(name for name, command in commands.items() if command == "celery worker")
    assert workers == ["airflow-worker-1", "airflow-worker-2"]
    for kind, names in (("worker", workers), ("triggerer", triggerers)):
        hostnames = {services[name].get("hostname") for name in names}
        assert len(hostnames) == 2 and None not in hostnames, f"each {kind} needs its own hostname"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_airflow_runs_celery_on_postgres_and_redis(services: dict[str, dict[str, Any]]) -> None:
    for name in AIRFLOW_SERVICES:
        env = _env(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/"), (
            name
        )
        for secret in (
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__API__SECRET_KEY",
        ):
            # Shared by every component, and required: `${VAR:?...}` refuses to start without it.
            assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", env[secret]), (name, secret, env[secret])


def test_every_airflow_service_and_the_emulator_use_one_image(services: dict[str, dict[str, Any]]) -> None:
    images = {
        (services[name]["image"], repr(services[name].get("build"))) for name in AIRFLOW_SERVICES | {EMULATOR}
    }
    assert len(images) == 1, images
    build = services["airflow-scheduler"]["build"]
    context = (DOCKER / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"


def test_image_tag_matches_the_pinned_airflow_and_the_project_python(dockerfile: str) -> None:
    airflow_version, python_version = _base_image(dockerfile)
    constraints = (REPO / "constraints.txt").read_text()
    (pinned,) = re.findall(r"^apache-airflow==(\S+)$", constraints, flags=re.MULTILINE)
    assert airflow_version == pinned
    pyproject = (REPO / "pyproject.toml").read_text()
    (requires,) = re.findall(r'^requires-python\s*=\s*"([^"]+)"', pyproject, flags=re.MULTILINE)
    assert Version(python_version) in SpecifierSet(requires), (python_version, requires)
    (mypy_python,) = re.findall(r'^python_version\s*=\s*"([^"]+)"', pyproject, flags=re.MULTILINE)
    assert python_version == mypy_python


def test_dockerfile_installs_the_package_with_the_constraints_as_airflow(dockerfile: str) -> None:
    lines = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]
    install = next(i for i, line in enumerate(lines) if line.startswith("RUN pip install"))
    assert lines[install] == 'RUN pip install --no-cache-dir -c constraints.txt ".[celery]"'
    users = [line for line in lines[:install] if line.startswith("USER ")]
    assert users and users[-1] == "USER airflow", "install as the image's airflow user, not root"
    copied = " ".join(line for line in lines[:install] if line.startswith("COPY "))
    for needed in ("constraints.txt", "pyproject.toml", "README.md", "airflow_phrase"):
        assert needed in copied, f"{needed} must be in the image before `pip install`"
    assert any(re.match(r"COPY\s+(--\S+\s+)*dags/?\s+/opt/airflow/dags/?$", line) for line in lines)


DISTRIBUTION = "airflow-provider-phrase-tms"


def _extra(name: str) -> list[Requirement]:
    """The requirements of one extra of this package, as installed (``make install`` rebuilds it)."""
    requirements = [Requirement(r) for r in metadata.requires(DISTRIBUTION) or []]
    return [r for r in requirements if r.marker is not None and r.marker.evaluate({"extra": name})]


def test_the_image_and_the_celery_suite_install_the_same_pinned_celery_and_postgres_drivers() -> None:
    """The image installs the ``celery`` extra with ``constraints.txt`` (see the Dockerfile test); the
    suite's venv gets the same extra through ``dev``: every package of it is pinned there."""
    celery = {r.name.lower() for r in _extra("celery")}
    assert {"apache-airflow-providers-celery", "psycopg2-binary", "asyncpg"} <= celery
    assert any(r.name == DISTRIBUTION and "celery" in r.extras for r in _extra("dev"))
    pins = dict(re.findall(r"^([\w.-]+)==(\S+)$", (REPO / "constraints.txt").read_text(), flags=re.MULTILINE))
    assert celery <= set(pins), sorted(celery - set(pins))


def _scheme(url: str) -> str:
    return url.split("://", 1)[0]


def _component_command(argv: tuple[str, ...]) -> str:
    """``celery worker`` or the Airflow sub-command (``scheduler``...), as the compose file writes them."""
    return " ".join(argv[:2]) if argv[0] == "celery" else argv[0]


def test_compose_runs_the_production_shape_of_the_celery_suite(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Executor, metadata DB, result backend and broker kinds and drivers, the components and how many of
    each, the pool and the connection: docker/ runs what tests/e2e/production proves (its values there
    come from the running suite's own configuration, ``tests/e2e/production/shape.py``)."""
    config = production_config(
        home=tmp_path,
        marker="0123456789abcdef",
        database_url="postgresql+psycopg2://postgres@127.0.0.1:5432/airflow_phrase_e2e",
        broker_url="redis://127.0.0.1:6379/9",
        phrase_connection="{}",
    )
    cluster = AirflowCluster(config)  # builds the processes' environment; starts nothing
    cluster.api.close()
    suite = cluster.env
    for name in AIRFLOW_SERVICES:
        compose = _env(services[name])
        assert compose["AIRFLOW__CORE__EXECUTOR"] == suite["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
            assert _scheme(compose[key]) == _scheme(suite[key]), (name, key)
        assert _scheme(suite["AIRFLOW__CELERY__RESULT_BACKEND"]) == f"db+{config.database_url.split(':')[0]}"
        # The result backend is the metadata database, in both.
        assert (
            suite["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{suite['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}"
        )
        database = compose["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].rsplit("@", 1)[1]
        assert compose["AIRFLOW__CELERY__RESULT_BACKEND"].rsplit("@", 1)[1] == database, name
        # Redis, one explicit database number.
        for broker in (compose["AIRFLOW__CELERY__BROKER_URL"], suite["AIRFLOW__CELERY__BROKER_URL"]):
            assert re.fullmatch(r"redis://[^/]+:\d+/\d+", broker), (name, broker)
        for url in (compose, suite):
            assert url["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/"), name
        for key, value in CELERY_SETTINGS.items():
            assert json.loads(compose[key]) == json.loads(suite[key]) == json.loads(value), (name, key)
    suite_components = Counter(_component_command(c.argv) for c in cluster.components.values())
    compose_components = Counter(
        _command(services[name]) for name in AIRFLOW_SERVICES if name != "airflow-init"
    )
    assert compose_components == suite_components
    assert suite_components["celery worker"] == WORKERS and suite_components["triggerer"] == TRIGGERERS
    # The init steps create what the suite's deployment has: the pool and the connection.
    init = _command(services["airflow-init"])
    assert set(config.pools) == {POOL} and re.search(rf"airflow pools set {POOL}\b", init)
    assert CONNECTION_ENV in config.env
    assert f"airflow connections add {CONNECTION_ENV.removeprefix('AIRFLOW_CONN_').lower()} " in init


def test_dockerignore_keeps_what_the_dockerfile_copies(dockerfile: str) -> None:
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
    kept = {line[1:].split("/")[0] for line in ignore if line.startswith("!")}
    copied = set()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            sources = [part for part in line.split()[1:-1] if not part.startswith("--")]
            copied |= {source.rstrip("/").split("/")[0] for source in sources}
    assert copied <= kept, copied - kept


def test_init_migrates_and_creates_the_connection_and_the_pool(services: dict[str, dict[str, Any]]) -> None:
    init = services["airflow-init"]
    script = _command(init)
    assert "airflow db migrate" in script
    assert re.search(r"airflow connections add phrase_tms_default\b.*--conn-type phrase_tms\b", script, re.S)
    assert re.search(r"airflow pools set phrase_api\b", script)
    assert init.get("restart") == "no"
    env = _env(init)
    auth_types = CONNECTION_FIELDS["auth_type"]["schema"]["enum"]
    data_centers = CONNECTION_FIELDS["data_center"]["schema"]["enum"]
    example = dotenv_values(DOCKER / ".env.example")
    assert example["PHRASE_AUTH_TYPE"] in auth_types
    assert example["PHRASE_DATA_CENTER"] in data_centers
    assert "PHRASE_PASSWORD" in env and "PHRASE_PASSWORD" not in _env(services["airflow-worker-1"])
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}, name


def test_the_emulator_is_optional(services: dict[str, dict[str, Any]]) -> None:
    assert services[EMULATOR]["profiles"] == ["emulator"]
    for name, service in services.items():
        if name != EMULATOR:
            assert "profiles" not in service, f"{name} must start by default"
            assert EMULATOR not in (service.get("depends_on") or {}), f"{name} must not need the emulator"
    example = dotenv_values(DOCKER / ".env.example")
    assert example["PHRASE_HOST"] == "http://phrase-emulator:8080/web"  # the default points at it


def test_long_running_services_have_health_checks(services: dict[str, dict[str, Any]]) -> None:
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no health check"


def test_published_ports_stay_on_loopback_and_are_documented(services: dict[str, dict[str, Any]]) -> None:
    readme = (DOCKER / "README.md").read_text()
    published = 0
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: use the 'HOST_IP:HOST_PORT:CONTAINER_PORT' form"
            match = PUBLISHED_PORT.fullmatch(port)
            assert match, f"{name}: publish as '127.0.0.1:${{HOST_PORT_VARIABLE:-default}}:port', not {port}"
            assert match["ip"] == "127.0.0.1", f"{name} publishes {port} beyond the host's loopback interface"
            assert match["variable"] in readme and name in readme, (
                f"{port} of {name} is not in docker/README.md"
            )
            published += 1
        definition = yaml.safe_dump(service)
        if "0.0.0.0" in definition:
            assert name in BINDS_ALL_INTERFACES_ON_PURPOSE, (
                f"{name} binds 0.0.0.0 without a documented reason"
            )
    assert published == 2  # the API server and the emulator


def test_env_example_defines_every_variable_the_compose_file_reads() -> None:
    text = (DOCKER / "docker-compose.yaml").read_text()
    referenced = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    defined = set(dotenv_values(DOCKER / ".env.example"))
    assert referenced <= defined, sorted(referenced - defined)
