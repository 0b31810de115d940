"""``docker/`` is consistent with itself and with the project (no Docker engine runs here or in CI).

Parses ``docker/docker-compose.yaml`` (PyYAML, merge keys resolved), ``docker/Dockerfile``,
``docker/.env.example`` and ``docker/README.md`` and checks what a broken deployment would get wrong: a
missing component, a third or missing worker, an image tag that drifted from the Airflow pin in
``constraints.txt``, a Python version the project does not support, an init step that no longer creates the
connection or the pool, the emulator started by default, services on different images, or a port published
beyond the host's loopback interface.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from airflow_phrase.get_provider_info import CONNECTION_FIELDS

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
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
    assert commands["airflow-triggerer"] == "triggerer"
    workers = sorted(name for name, command in commands.items() if command == "celery worker")
    assert workers == ["airflow-worker-1", "airflow-worker-2"]
    hostnames = {services[name].get("hostname") for name in workers}
    assert len(hostnames) == 2 and None not in hostnames, "each worker needs its own hostname"
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
    assert lines[install] == "RUN pip install --no-cache-dir -c constraints.txt ."
    users = [line for line in lines[:install] if line.startswith("USER ")]
    assert users and users[-1] == "USER airflow", "install as the image's airflow user, not root"
    copied = " ".join(line for line in lines[:install] if line.startswith("COPY "))
    for needed in ("constraints.txt", "pyproject.toml", "README.md", "airflow_phrase"):
        assert needed in copied, f"{needed} must be in the image before `pip install`"
    assert any(re.match(r"COPY\s+(--\S+\s+)*dags/?\s+/opt/airflow/dags/?$", line) for line in lines)


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
