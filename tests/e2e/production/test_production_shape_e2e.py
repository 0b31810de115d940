"""The production shape itself: the processes it runs, where they listen, and that its backing services are
the versions ``docker/`` deploys (so what this suite proves holds for the compose file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.e2e.airflow_cluster import AirflowCluster
from tests.e2e.backing_services import PostgresDatabase, RedisDatabase
from tests.e2e.emulator_process import EmulatorProcess

pytestmark = pytest.mark.e2e

COMPOSE = Path(__file__).resolve().parents[3] / "docker" / "docker-compose.yaml"


def _image_version(service: str) -> str:
    """The version part of a compose service's image tag, e.g. ``15`` of ``postgres:15``."""
    image = yaml.safe_load(COMPOSE.read_text())["services"][service]["image"]
    match = re.fullmatch(rf"{service}:(?P<version>\d+(\.\d+)*)(-\w+)?", image)
    assert match, f"{service} image {image!r} has no version tag"
    return match["version"]


def test_every_component_runs_and_listens_on_loopback_only(
    celery_cluster: AirflowCluster, production_emulator: EmulatorProcess
) -> None:
    assert len(celery_cluster.worker_names) == 2 and len(celery_cluster.triggerer_names) == 2
    assert celery_cluster.ping_workers(celery_cluster.worker_names) == set(celery_cluster.worker_names)
    triggerer_hosts = set(celery_cluster.alive_triggerer_jobs())
    assert {celery_cluster.hostname(name) for name in celery_cluster.triggerer_names} <= triggerer_hosts
    celery_cluster.assert_listening_on_loopback_only({"emulator": production_emulator.process})


def test_backing_services_are_the_versions_docker_deploys(
    metadata_database: PostgresDatabase, broker_database: RedisDatabase
) -> None:
    postgres_major = str(metadata_database.server_major_version())
    assert _image_version("postgres") == postgres_major, "docker/ must run the PostgreSQL this suite runs"
    redis_version = broker_database.server_version()
    assert redis_version.startswith(f"{_image_version('redis')}."), redis_version
