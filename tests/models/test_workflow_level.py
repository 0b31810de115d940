"""List jobs v2 items carry no ``workflowLevel`` (the spec's ``JobPartReferenceV2``): the level a job is
at comes from the listing that found it, so reconciliation keys jobs of different workflow steps apart."""

from __future__ import annotations

import time
from typing import Any

import requests

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import JobCreateRequest, JobPartV2, WorkflowStepSettings
from tests.helpers import DEMO_API_TOKEN
from tests.triggers.support import DOCS_REVIEW, start_download


def test_each_listed_job_carries_the_level_it_was_listed_at(
    phrase_emulator: Any, phrase_connection: str
) -> None:
    hook = PhraseTmsHook(phrase_connection)
    started = start_download(phrase_connection)
    hook.wait_for_download(
        DOCS_REVIEW, started.id, created_after=None, poll_interval=0.05, deadline=time.time() + 20
    )
    request = JobCreateRequest(
        target_langs=["de"],
        workflow_settings=[
            WorkflowStepSettings(id="7001", assignments=[]),
            WorkflowStepSettings(id="7002", assignments=[]),
        ],
    )
    hook.create_job_from_connector_task(DOCS_REVIEW, started.id, request)
    raw = requests.get(
        phrase_emulator.url(f"/api2/v2/projects/{DOCS_REVIEW}/jobs"),
        headers={"Authorization": f"ApiToken {DEMO_API_TOKEN}"},
        params={"workflowLevel": 2},
        timeout=10,
    ).json()
    assert raw["content"] and all("workflowLevel" not in job for job in raw["content"])

    jobs = list(hook.iter_file_jobs(DOCS_REVIEW, "install.md"))
    assert sorted((job.target_lang, level) for level, job in jobs) == [("de", 1), ("de", 2)]
    assert sorted((job.target_lang, job.workflow_level) for _, job in jobs) == [("de", 1), ("de", 2)]
    # Without the listing's level, a workflowLevel key sent anyway is not read (it is not in the spec).
    stray = JobPartV2.model_validate({"uid": "j", "workflowLevel": 2})
    assert stray.workflow_level is None
    assert (
        JobPartV2.model_validate(
            {"uid": "j", "workflowStep": {"id": 7002, "workflowLevel": 2}}
        ).workflow_level
        == 2
    )
