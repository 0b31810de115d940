"""The seed model and the shipped demo seed (whose constants other tests rely on)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from airflow_phrase.emulator.seed import DEMO_SEED_PATH, Seed, load_seed, resolve_time

START = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)


def test_demo_seed_constants() -> None:
    seed = load_seed()
    (user,) = seed.users
    assert (user.user_name, user.password.get_secret_value(), user.uid, user.role) == (
        "demo",
        "demo-password",
        "demoUser0000000000001",
        "ADMIN",
    )
    tokens = {t.token.get_secret_value(): t.scheme for t in seed.tokens}
    assert tokens == {"demo-api-token-0123456789": "ApiToken", "demo-bearer-token-0123456789": "Bearer"}
    docs, drive = seed.connectors
    assert (docs.id, docs.name, docs.type, drive.id, drive.name, drive.type) == (
        "1001",
        "Docs Git",
        "GIT",
        "1002",
        "Marketing Drive",
        "GOOGLE_DRIVE2",
    )
    files = {f.path: f for f in docs.files}
    assert set(files) == {
        "docs/getting started.md",
        "docs/guides/überblick.md",
        "docs/guides/install.md",
        "docs/api/reference.json",
        "docs/site/index.html",
        "docs/legacy/broken.docx",
        "docs/legacy/gone.md",
        "docs/guides/bad-import.md",
    }
    assert files["docs/legacy/broken.docx"].download.status == "CONVERTER_ERROR"
    assert files["docs/legacy/gone.md"].download.status == "ERROR"
    assert files["docs/guides/bad-import.md"].import_outcome.status == "ERROR"
    json.loads(files["docs/api/reference.json"].data())  # realistic content: valid JSON
    website, review = seed.projects
    assert (website.uid, website.source_lang, website.target_langs, website.workflow_steps) == (
        "prjWebsite000000000001",
        "en",
        ["de", "fr_fr", "ja"],
        [],
    )
    assert (review.uid, review.target_langs) == ("prjDocsReview00000001", ["de", "es"])
    assert [(s.id, s.name, s.workflow_level) for s in review.workflow_steps] == [
        ("7001", "Translation", 1),
        ("7002", "Revision", 2),
    ]


def test_relative_and_absolute_times() -> None:
    assert resolve_time("-30m", START) == START - timedelta(minutes=30)
    assert resolve_time("-2h", START) == START - timedelta(hours=2)
    assert resolve_time("-3d", START) == START - timedelta(days=3)
    assert resolve_time("-1.5s", START) == START - timedelta(seconds=1.5)
    assert resolve_time("2026-01-02T03:04:05Z", START) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert resolve_time("2026-01-02T03:04:05", START).tzinfo is not None


def _seed_with(**changes: object) -> dict:
    data = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tokens": [{"token": "t", "userName": "ghost"}]}, "token for unknown user"),
        (
            {
                "projects": [
                    {
                        "uid": "p",
                        "id": "1",
                        "internalId": 1,
                        "name": "P",
                        "sourceLang": "en",
                        "targetLangs": ["de"],
                        "owner": "demo",
                        "workflowSteps": [{"id": "1", "uid": "u", "name": "R", "workflowLevel": 2}],
                    }
                ]
            },
            "workflow levels must be 1..n",
        ),
        (
            {
                "connectors": [
                    {
                        "id": "1",
                        "name": "C",
                        "type": "GIT",
                        "localToken": "x",
                        "createdBy": "demo",
                        "files": [{"path": "/abs.md"}],
                    }
                ]
            },
            "must be a relative path",
        ),
        (
            {
                "connectors": [
                    {
                        "id": "1",
                        "name": "C",
                        "type": "GIT",
                        "localToken": "x",
                        "createdBy": "demo",
                        "files": [{"path": "a"}, {"path": "a/b.md"}],
                    }
                ]
            },
            "both file and folder",
        ),
        (
            {
                "connectors": [
                    {
                        "id": "1",
                        "name": "C",
                        "type": "GIT",
                        "localToken": "x",
                        "createdBy": "demo",
                        "files": [{"path": "a.md", "lastModified": "yesterday"}],
                    }
                ]
            },
            "lastModified",
        ),
    ],
)
def test_invalid_seeds_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Seed.model_validate(_seed_with(**changes))


def test_load_seed_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(_seed_with(projects=[])), encoding="utf-8")
    assert load_seed(path).projects == []
