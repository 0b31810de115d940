"""Projects over HTTP: get project in the shape of the caller's role, and list projects with its filters
(model assumptions 13 and 17)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_phrase.emulator import EmulatorConfig, EmulatorHandle, running_emulator
from airflow_phrase.emulator.seed import load_seed
from tests.emulator.conftest import REVIEW, WEBSITE, PhraseApi
from tests.emulator.test_http_endpoints import assert_error


def names(body: dict[str, Any]) -> list[str]:
    return [project["name"] for project in body["content"]]


def test_get_project_is_the_admin_shape_for_the_seed_admin(api: PhraseApi) -> None:
    body = api.ok("GET", f"/api2/v1/projects/{REVIEW}")
    assert body["userRole"] == "ADMIN"
    assert body["status"] == "NEW" and body["archived"] is False
    # ProjectWorkflowStepDto.id is an integer in the spec.
    assert [(s["id"], s["name"], s["workflowLevel"]) for s in body["workflowSteps"]] == [
        (7001, "Translation", 1),
        (7002, "Revision", 2),
    ]


def test_list_projects_pages_and_sorts(api: PhraseApi) -> None:
    everything = api.ok("GET", "/api2/v1/projects")
    assert names(everything) == ["Website", "Docs with review"]  # by id, ascending
    assert (everything["totalElements"], everything["pageSize"], everything["numberOfElements"]) == (2, 50, 2)
    assert {p["userRole"] for p in everything["content"]} == {"ADMIN"}
    second = api.ok("GET", "/api2/v1/projects", params={"pageSize": 1, "pageNumber": 1})
    assert names(second) == ["Docs with review"] and second["totalPages"] == 2
    by_name = api.ok("GET", "/api2/v1/projects", params={"sort": "NAME", "order": "DESC"})
    assert names(by_name) == ["Website", "Docs with review"]
    newest_first = api.ok("GET", "/api2/v1/projects", params={"sort": "DATE_CREATED", "order": "DESC"})
    assert names(newest_first) == ["Docs with review", "Website"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "REVIEW"}, ["Docs with review"]),  # part of the name, any case
        ({"name": "nothing like it"}, []),
        ({"statuses": "NEW"}, ["Website", "Docs with review"]),
        ({"statuses": ["ASSIGNED", "COMPLETED"]}, []),
        ({"sourceLangs": "en"}, ["Website", "Docs with review"]),
        ({"sourceLangs": "de"}, []),
        ({"targetLangs": "ja"}, ["Website"]),
        ({"targetLangs": ["es", "ja"]}, ["Website", "Docs with review"]),  # any of them
        ({"ownerId": "1001"}, ["Website", "Docs with review"]),
        ({"ownerId": "9999"}, []),
        ({"createdInLastHours": 24 * 8}, ["Docs with review"]),  # created 14 and 7 days ago
        ({"archivedOnly": "true"}, []),
        ({"name": "web", "targetLangs": "de", "statuses": "NEW"}, ["Website"]),
    ],
)
def test_list_projects_filters(api: PhraseApi, params: dict[str, Any], expected: list[str]) -> None:
    assert names(api.ok("GET", "/api2/v1/projects", params=params)) == expected


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"pageSize": 0}, "pageSize must be between 1 and 50"),
        ({"pageSize": 51}, "pageSize must be between 1 and 50"),
        ({"pageNumber": -1}, "pageNumber must be 0 or more"),
        ({"sort": "OWNER"}, "sort must be one of ID, NAME, DATE_CREATED"),
        ({"order": "UP"}, "order must be one of ASC, DESC"),
        ({"createdInLastHours": "-1"}, "createdInLastHours must be 0 or more"),
        ({"createdInLastHours": "a day"}, "createdInLastHours must be an integer"),
    ],
)
def test_list_projects_argument_errors(api: PhraseApi, params: dict[str, Any], text: str) -> None:
    assert_error(api.get("/api2/v1/projects", params=params), 400, "InvalidArguments", text)


def _seed_with(role: str) -> Any:
    seed = load_seed().model_dump(by_alias=True, mode="json")
    seed["users"].append(
        {
            "uid": "otherUser000000000002",
            "id": "1002",
            "userName": "other",
            "password": "other-password",
            "firstName": "Olga",
            "lastName": "Other",
            "email": "other@example.com",
            "role": role,
        }
    )
    seed["tokens"].append({"token": "other-api-token-0123456789", "userName": "other"})
    return type(load_seed()).model_validate(seed)


@pytest.fixture(scope="module")
def linguist_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(EmulatorConfig(), seed=_seed_with("LINGUIST")) as emulator:
        yield emulator


def test_a_linguist_sees_the_linguist_shape(linguist_emulator: EmulatorHandle) -> None:
    api = PhraseApi(linguist_emulator, "other-api-token-0123456789")
    body = api.ok("GET", f"/api2/v1/projects/{REVIEW}")
    assert body["userRole"] == "LINGUIST"
    assert not {"status", "workflowSteps", "client", "archived", "dateDue"} & set(body)
    assert body["targetLangs"] == ["de", "es"]
    listed = api.ok("GET", "/api2/v1/projects")
    assert {p["userRole"] for p in listed["content"]} == {"LINGUIST"}


def test_roles_without_a_project_shape_get_403() -> None:
    with running_emulator(EmulatorConfig(), seed=_seed_with("SUBMITTER")) as emulator:
        api = PhraseApi(emulator, "other-api-token-0123456789")
        assert_error(api.get(f"/api2/v1/projects/{WEBSITE}"), 403, "AuthAccessDenied", "SUBMITTER")
        assert_error(api.get("/api2/v1/projects"), 403, "AuthAccessDenied", "SUBMITTER")
