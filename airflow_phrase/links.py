"""Extra links of the Phrase operators: "Phrase project" and "Phrase job(s)" buttons in the Airflow UI.

The URLs are built on the worker from the connection's data centre or base URL (``PhraseTmsHook.project_url``
/ ``job_url``) and pushed to XCom as soon as they are known, before any deferral: the task runner reads
them back through :meth:`get_link` when the task ends, defers or fails, so the buttons work even for a
task that failed half-way.

Every link's XCom is pushed before anything can fail: reading a missing XCom makes Airflow log an
error-level "XCom not found" for a task that merely failed (say, a file Phrase could not convert). So the
project URL goes under the jobs link's key too (the "Phrase job(s)" button opens the project until jobs
exist; :func:`push_jobs_links` then overwrites it), and when not even the project URL can be built (bad
arguments, a broken connection) the keys get an empty value (:func:`push_empty_links`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

#: XCom key of the project URL.
PROJECT_URL_XCOM_KEY = "phrase_project_url"
#: XCom key of the "Phrase job(s)" URL: the job's editor for one job, else the project's job list.
JOBS_URL_XCOM_KEY = "phrase_jobs_url"
#: XCom key of every created job's URL (``[{"uid", "targetLang", "url"}]``), for downstream tasks.
JOB_URLS_XCOM_KEY = "phrase_job_urls"


def _xcom_value(key: str, ti_key: TaskInstanceKey) -> str:
    # Imported here: resolving the XCom backend reads the configuration, which DAG parsing need not do.
    from airflow.sdk.execution_time.xcom import XCom

    return XCom.get_value(key=key, ti_key=ti_key) or ""


class PhraseProjectLink(BaseOperatorLink):
    """The Phrase project the task works in."""

    name = "Phrase project"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _xcom_value(PROJECT_URL_XCOM_KEY, ti_key)


class PhraseJobsLink(BaseOperatorLink):
    """The job the task created (its editor), or the project's jobs when it created several."""

    name = "Phrase job(s)"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _xcom_value(JOBS_URL_XCOM_KEY, ti_key)


def _link_keys(links: Collection[BaseOperatorLink]) -> list[str]:
    keys = []
    if any(isinstance(link, PhraseProjectLink) for link in links):
        keys.append(PROJECT_URL_XCOM_KEY)
    if any(isinstance(link, PhraseJobsLink) for link in links):
        keys.append(JOBS_URL_XCOM_KEY)
    return keys


def push_project_link(
    context: Any, hook: PhraseTmsHook, project_uid: str, *, links: Collection[BaseOperatorLink] | None = None
) -> str:
    """Push the project URL to XCom now (call it before anything that may defer or fail).

    ``links``: the operator's extra links (default: the project link only). The URL is pushed under the
    key of each Phrase link among them, so a "Phrase job(s)" link opens the project until jobs exist. If
    the URL cannot be built (the connection is broken), the keys get an empty value and the error is
    raised.
    """
    keys = _link_keys(links) if links is not None else [PROJECT_URL_XCOM_KEY]
    try:
        url = hook.project_url(project_uid)
    except Exception:
        _push_all(context, keys, "")
        raise
    _push_all(context, keys, url)
    return url


def push_empty_links(context: Any, links: Collection[BaseOperatorLink]) -> None:
    """Push an empty value under the key of each Phrase link in ``links``: for a task that fails before
    its project URL is known, so its links resolve quietly (to no URL)."""
    _push_all(context, _link_keys(links), "")


def _push_all(context: Any, keys: Sequence[str], value: str) -> None:
    ti = context["ti"]
    for key in keys:
        ti.xcom_push(key=key, value=value)


def push_jobs_links(
    context: Any, hook: PhraseTmsHook, project_uid: str, jobs: Sequence[dict[str, Any]]
) -> str | None:
    """Push the job URLs of ``jobs`` (the small job dicts of a result) to XCom; returns the link's URL."""
    if not jobs:
        return None
    urls = [
        {"uid": job["uid"], "targetLang": job.get("targetLang"), "url": hook.job_url(project_uid, job["uid"])}
        for job in jobs
    ]
    link = urls[0]["url"] if len(urls) == 1 else hook.project_url(project_uid)
    ti = context["ti"]
    ti.xcom_push(key=JOB_URLS_XCOM_KEY, value=urls)
    ti.xcom_push(key=JOBS_URL_XCOM_KEY, value=link)
    return link
