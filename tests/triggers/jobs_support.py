"""Jobs for the delivery tests: real jobs created over HTTP, and many copies of one for scale.

The copies are made in the in-process emulator's state (a job per uid, like Phrase's); everything the
code under test does still goes over loopback HTTP.
"""

from __future__ import annotations

import re
import time
from typing import Any

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.models import JobCreateRequest

WEBSITE = "prjWebsite000000000001"  # targets de, fr_fr, ja; no workflow steps
JOBS_PATH = re.compile(r"^/api2/v2/projects/[^/]+/jobs$")
SEARCH_PATH = re.compile(r"^/api2/v1/projects/[^/]+/jobs/search$")
DOCS_GIT = "1001"


def create_jobs(conn_id: str, project_uid: str = WEBSITE, path: str = "docs/guides/install.md") -> list[str]:
    """Download ``path`` of connector "Docs Git", create its jobs (one per target language), wait for the
    import."""
    folder, _, name = path.rpartition("/")
    hook = PhraseTmsHook(conn_id)
    try:
        remote = hook.resolve_remote_file(DOCS_GIT, folder, name)
        task = hook.start_connector_download(remote.connector_id, remote.encoded_folder, remote.encoded_name)
        hook.wait_for_download(
            project_uid, task.id, created_after=None, poll_interval=0.05, deadline=time.time() + 30
        )
        langs = [lang for lang in hook.get_project(project_uid).target_langs or []]
        created = hook.create_job_from_connector_task(
            project_uid, task.id, JobCreateRequest(target_langs=langs)
        )
        uids = [job.uid for job in created.jobs]
        hook.wait_for_jobs_import(
            project_uid, uids, jobs_label="test jobs", poll_interval=0.05, deadline=time.time() + 30
        )
        return uids
    finally:
        hook.close()


def clone_jobs(emulator: Any, template_uid: str, count: int, prefix: str = "jobClone") -> list[str]:
    """``count`` copies of an existing job of the in-process emulator (new uids, same everything else)."""
    return emulator.services.state.clone_jobs(template_uid, count, prefix=prefix)


def add_completed_history(emulator: Any, template_uid: str, count: int) -> list[str]:
    """``count`` jobs ``COMPLETED`` long ago in the template's project: a long-lived project's history."""
    uids = clone_jobs(emulator, template_uid, count, prefix="jobHistory")
    for uid in uids:
        emulator.services.state.script_job(uid, status="COMPLETED")
    return uids


def search_calls(emulator: Any, since: int = 0) -> list[Any]:
    """``POST /api2/v1/projects/{p}/jobs/search`` journal entries with ``seq > since``."""
    return [
        e for e in emulator.admin.journal(since=since) if e.method == "POST" and SEARCH_PATH.match(e.path)
    ]


def calls_per_poll(emulator: Any, since: int = 0) -> list[int]:
    """The status reads of each poll (or poke): a listing's page 0 starts one; searches and later pages
    belong to it."""
    polls: list[int] = []
    for entry in emulator.admin.journal(since=since):
        if entry.method == "GET" and JOBS_PATH.match(entry.path) and entry.param("pageNumber") in ("0", None):
            polls.append(1)
        elif (entry.method == "GET" and JOBS_PATH.match(entry.path)) or (
            entry.method == "POST" and SEARCH_PATH.match(entry.path)
        ):
            polls[-1] += 1
    return polls


def listing_calls(emulator: Any, since: int = 0) -> list[Any]:
    """``GET /api2/v2/projects/{p}/jobs`` journal entries with ``seq > since``."""
    return [e for e in emulator.admin.journal(since=since) if e.method == "GET" and JOBS_PATH.match(e.path)]
