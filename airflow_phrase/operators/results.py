"""The plain-JSON values the Phrase operators return (their XCom ``return_value``).

XCom must hold plain JSON: no pydantic objects (a worker with another provider version must read
them), no datetimes (ISO 8601 strings instead) and no secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from airflow_phrase.hooks.remote_files import ResolvedRemoteFile
from airflow_phrase.models import JobList, JobPart, JobPartReference, JobPartV2

AnyJob = JobPartReference | JobPartV2 | JobPart


def iso(value: datetime | None) -> str | None:
    """``datetime`` → ISO 8601 string (``None`` stays ``None``)."""
    return value.isoformat() if value is not None else None


def job_summary(job: AnyJob) -> dict[str, Any]:
    """A job as a small dict: ``uid``, ``filename``, ``targetLang``, ``status``, ``workflowLevel``."""
    return {
        "uid": job.uid,
        "filename": job.filename,
        "targetLang": job.target_lang,
        "status": job.status,
        "workflowLevel": job.workflow_level,
    }


def jobs_result(
    project_uid: str,
    jobs: Iterable[AnyJob],
    *,
    async_request_id: str | None = None,
    unsupported_files: Iterable[str] = (),
    warnings: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The create-job result.

    ``{project_uid, job_uids, jobs, async_request_id, unsupported_files, warnings}``.
    """
    summaries = [job_summary(job) for job in jobs]
    return {
        "project_uid": project_uid,
        "job_uids": [summary["uid"] for summary in summaries],
        "jobs": summaries,
        "async_request_id": async_request_id,
        "unsupported_files": list(unsupported_files),
        "warnings": list(warnings),
    }


def created_jobs_result(project_uid: str, created: JobList) -> dict[str, Any]:
    """The create-job result from Phrase's ``JobListDto``."""
    return jobs_result(
        project_uid,
        created.jobs,
        async_request_id=created.async_request.id if created.async_request else None,
        unsupported_files=created.unsupported_files,
        warnings=[warning.to_wire() for warning in created.warnings],
    )


def file_identity(resolved: ResolvedRemoteFile) -> dict[str, Any]:
    """Which remote file, by Phrase's encoded names plus the readable path and its ``lastModified``."""
    return {
        "connector_id": resolved.connector_id,
        "folder": resolved.encoded_folder,
        "file": resolved.encoded_name,
        "file_name": resolved.name,
        "folder_path": resolved.folder_path,
        "last_modified": iso(resolved.remote_file.last_modified),
    }
