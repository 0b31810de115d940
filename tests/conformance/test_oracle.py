"""The oracle itself: it must catch each divergence issue 7 found in the emulator, and the kinds around
them, so that a conformance suite that passes means something."""

from __future__ import annotations

from typing import Any

import pytest
from phrasetms_client.models.abstract_project_dto import AbstractProjectDto
from phrasetms_client.models.login_user_dto import LoginUserDto
from phrasetms_client.models.page_dto_abstract_project_dto import PageDtoAbstractProjectDto

from tests.conformance import current_spec as current
from tests.conformance.oracle import (
    ID_AS_NUMBER,
    TIMESTAMP_EPOCH_MILLIS,
    TIMESTAMP_INSTANT,
    TIMESTAMP_NO_COLON,
    TIMESTAMP_NO_OFFSET,
    UNKNOWN_ENUM,
    check,
)

USER = {"id": "1001", "uid": "u1", "userName": "demo", "role": "ADMIN"}
PROJECT = {
    "uid": "p1",
    "id": "2001",
    "internalId": 1,
    "name": "Website",
    "sourceLang": "en",
    "targetLangs": ["de"],
    "dateCreated": "2026-11-18T10:00:00Z",
    "owner": USER,
    "status": "NEW",
    "workflowSteps": [{"id": 7301, "name": "Translation", "workflowLevel": 1}],
}


def problems(schema: Any, body: Any, **kwargs: Any) -> list[str]:
    return check(schema, body, **kwargs).problems


def test_who_am_i_features_as_a_list_and_an_edition_type_are_caught() -> None:
    body = {
        "user": USER,
        "organization": {"uid": "o1", "name": "Acme"},
        "edition": {"name": "Ultimate", "type": "ULTIMATE"},
        "features": ["API", "CONNECTORS"],
    }
    found = problems(LoginUserDto, body)
    assert any(p.startswith("$.edition.type: not declared by EditionDto") for p in found), found
    assert any(p.startswith("$.features:") for p in found), found
    fixed = {**body, "edition": {"name": "Ultimate"}, "features": {"icuEnabled": True}}
    assert problems(LoginUserDto, fixed) == []


def test_a_project_is_checked_as_the_member_its_user_role_names() -> None:
    assert any("userRole" in p for p in problems(AbstractProjectDto, PROJECT))
    assert problems(AbstractProjectDto, {**PROJECT, "userRole": "ADMIN"}) == []
    # A linguist's project has no status or workflow steps.
    linguist = problems(AbstractProjectDto, {**PROJECT, "userRole": "LINGUIST"})
    assert {p.split(":")[0] for p in linguist} == {"$.status", "$.workflowSteps"}
    # The discriminated member is used inside a page too, and its own validation runs (status enum).
    page = {"content": [{**PROJECT, "userRole": "ADMIN", "status": "WHATEVER"}], "totalElements": 1}
    assert any(p.startswith("$.content[0].status") for p in problems(PageDtoAbstractProjectDto, page))


def test_the_project_reference_of_an_async_request_and_a_job_is_uid_and_name_only() -> None:
    wide = {
        "uid": "p1",
        "name": "Website",
        "innerId": "1",
        "status": "NEW",
        "sourceLang": "en",
        "targetLangs": [],
    }
    found = problems(current.AsyncRequestDtoCurrent, {"id": "5200001", "project": wide})
    assert sorted(p.split(":")[0] for p in found) == [
        "$.project.innerId",
        "$.project.sourceLang",
        "$.project.status",
        "$.project.targetLangs",
    ]
    found = problems(current.JobPartExtendedDtoCurrent, {"uid": "j1", "project": wide})
    assert len(found) == 4


def test_a_workflow_level_on_a_list_jobs_v2_item_is_caught() -> None:
    page = {"content": [{"uid": "j1", "workflowLevel": 1, "workflowStep": {"id": "1", "workflowLevel": 1}}]}
    assert problems(current.PageDtoJobPartReferenceV2Current, page) == [
        "$.content[0].workflowLevel: not declared by JobPartReferenceV2Current"
    ]


@pytest.mark.parametrize(
    ("value", "quirk"),
    [
        ({"epochSecond": 1785909781, "nano": 785484047}, TIMESTAMP_INSTANT),
        (1785909781785, TIMESTAMP_EPOCH_MILLIS),
        ("2026-08-05T06:03:01+0000", TIMESTAMP_NO_COLON),
        ("2026-08-05T06:03:01", TIMESTAMP_NO_OFFSET),
    ],
)
def test_off_spec_timestamps_are_problems_in_spec_mode_and_catalogued_quirks_in_live_mode(
    value: Any, quirk: str
) -> None:
    body = {"name": "a.md", "encodedName": "61", "lastModified": value}
    assert problems(current.FileDtoCurrent, body) == [f"$.lastModified: {value!r} is off-spec ({quirk})"]
    report = check(current.FileDtoCurrent, body, live_quirks=True)
    assert report.ok and report.quirks == {quirk}
    assert problems(current.FileDtoCurrent, {**body, "lastModified": "2026-08-05T06:03:01.785Z"}) == []
    # Not a known quirk: a problem in both modes.
    assert not check(current.FileDtoCurrent, {**body, "lastModified": "05/08/2026"}, live_quirks=True).ok


def test_ids_as_numbers_and_unknown_enum_values() -> None:
    state = {"id": 310001, "status": "CANCELLED", "jobUid": "j1"}
    page = {"content": [state], "projectUid": "p1"}
    assert problems(current.ConnectorAsyncTaskStatesDto, page) == [
        f"$.content[0].id: 310001 is off-spec ({ID_AS_NUMBER})",
        f"$.content[0].status: 'CANCELLED' is off-spec ({UNKNOWN_ENUM})",
    ]
    report = check(current.ConnectorAsyncTaskStatesDto, page, live_quirks=True)
    assert report.ok and report.quirks == {ID_AS_NUMBER, UNKNOWN_ENUM}
    # Only the catalogued unknown values: anything else is still wrong, and a number is not a name.
    assert not check(
        current.ConnectorAsyncTaskStatesDto, {"content": [{"status": "PAUSED"}]}, live_quirks=True
    ).ok
    assert not check(current.ConnectorAsyncTaskStatesDto, {"projectName": 12}, live_quirks=True).ok


def test_undeclared_keys_are_never_allowed_and_are_reported_with_their_path() -> None:
    listing = {"files": [{"name": "a", "encodedName": "61", "owner": "x"}], "rootFolder": True}
    for live_quirks in (False, True):
        assert check(current.FileListDtoCurrent, listing, live_quirks=live_quirks).problems == [
            "$.files[0].owner: not declared by FileDtoCurrent"
        ]


def test_error_bodies_need_both_keys() -> None:
    assert problems(current.ErrorBody, {"errorCode": "NotFound", "errorDescription": "No."}) == []
    assert problems(current.ErrorBody, {"errorCode": "NotFound"}) != []
    assert problems(current.ErrorBody, {"message": "x", "status": "404"}) != []
