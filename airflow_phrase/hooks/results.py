"""Typed results of the hook's composite verbs (plain-JSON friendly, for XCom and deferral state).

XCom must hold plain JSON: these models are dumped with :meth:`JobSummary.to_xcom` /
``model_dump(mode="json")`` and read back with ``model_validate``; field names on the wire are the ones
the operators have always returned (``uid``, ``filename``, ``targetLang``, ``status``, ``workflowLevel``).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from airflow_phrase.models import JobList, JobPartReference, JobPartV2


class JobSummary(BaseModel):
    """One job as the operators report it: uid, file name, target language, status, workflow level.

    ``workflow_level`` is the level the job was *listed* under (list jobs v2 lists one level per query)
    or was created at (``workflowStep`` of the create answer); ``None`` when Phrase did not say.
    """

    model_config = ConfigDict(frozen=True)

    uid: str
    filename: str | None = None
    target_lang: str | None = Field(
        default=None,
        validation_alias=AliasChoices("targetLang", "target_lang"),
        serialization_alias="targetLang",
    )
    status: str | None = None
    workflow_level: int | None = Field(
        default=None,
        validation_alias=AliasChoices("workflowLevel", "workflow_level"),
        serialization_alias="workflowLevel",
    )

    def to_xcom(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def of_listed(cls, job: JobPartV2, workflow_level: int | None) -> JobSummary:
        """A job of list jobs v2, listed by a query for ``workflow_level``."""
        return cls(
            uid=job.uid,
            filename=job.filename,
            target_lang=job.target_lang,
            status=_text(job.status),
            workflow_level=workflow_level,
        )

    @classmethod
    def of_created(cls, job: JobPartReference) -> JobSummary:
        """A job of the create-job answer (``JobPartReference``, which declares ``workflowLevel``)."""
        return cls(
            uid=job.uid,
            filename=job.filename,
            target_lang=job.target_lang,
            status=_text(job.status),
            workflow_level=job.workflow_level,
        )


def _text(value: object) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


class JobsOutcome(BaseModel):
    """The jobs of one create-job call: created now, or found (created earlier from the same task).

    :ivar created: ``True`` when this call created them, ``False`` when they were found in Phrase.
    :ivar async_request_id: the ``IMPORT_JOB`` async request of a create (``None`` for found jobs).
    """

    model_config = ConfigDict(frozen=True)

    project_uid: str
    download_task_id: str
    jobs: list[JobSummary] = Field(default_factory=list)
    created: bool = True
    async_request_id: str | None = None
    unsupported_files: list[str] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def job_uids(self) -> list[str]:
        return [job.uid for job in self.jobs]

    @classmethod
    def of_created(cls, project_uid: str, download_task_id: str, created: JobList) -> JobsOutcome:
        return cls(
            project_uid=project_uid,
            download_task_id=str(download_task_id),
            jobs=[JobSummary.of_created(job) for job in created.jobs],
            created=True,
            async_request_id=created.async_request.id if created.async_request else None,
            unsupported_files=list(created.unsupported_files),
            warnings=[warning.to_wire() for warning in created.warnings],
        )

    def to_xcom(self) -> dict[str, Any]:
        """The create-job operator's return value (its historical shape)."""
        return {
            "project_uid": self.project_uid,
            "job_uids": self.job_uids,
            "jobs": [job.to_xcom() for job in self.jobs],
            "async_request_id": self.async_request_id,
            "unsupported_files": list(self.unsupported_files),
            "warnings": list(self.warnings),
        }


__all__ = ["JobSummary", "JobsOutcome"]
