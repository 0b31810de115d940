"""``PhraseExportJobsToRepositoryOperator``: push jobs' translations back to the connector's repository."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_phrase.links import PhraseProjectLink
from airflow_phrase.operators.delivery import EXPORT_RECORD_ASSET, DeliveryJob, DeliveryState
from airflow_phrase.operators.delivery_base import PhraseDeliveryOperator

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.models import JobExport
    from airflow_phrase.operators.delivery import ExportRecordStore
    from airflow_phrase.operators.delivery_params import ExportArgs


#: The export record's state of jobs whose export call was sent but not answered (yet).
SENDING = "sending"


class PhraseExportJobsToRepositoryOperator(PhraseDeliveryOperator):
    """Export jobs' target files to the online repository their connector came from, exactly once per
    job state.

    validate → list the jobs (``GET /api2/v2/projects/{projectUid}/jobs``, one paged read) → skip those
    the export record shows exported at their current state → ``POST /api2/v3/projects/{projectUid}/
    jobs/export`` (1 to 1,000 jobs) → wait for the async request if Phrase returns one (deferrable) →
    record each job's state as exported.

    All arguments are templated.

    :param project_uid: the project of the jobs.
    :param job_uids: 1 to 1,000 job uids (a list or a comma-separated string), each once.
    :param workflow_level: the level the jobs are at (``None``: 1).
    :param force: export again even jobs the record shows exported at their current state.

    ``deferrable``, ``poll_interval`` and ``wait_timeout`` are those of every waiting Phrase operator.

    Idempotency: the export record (see :mod:`airflow_phrase.operators.delivery`) lives in the asset
    state store of ``phrase_tms_export_record`` (this operator adds that Asset to its ``inlets``), so a
    retry, a clear or a rerun of any DAG does not export a job again at the same state. A job the record
    shows exported at its uid, status and level costs one ``GET .../jobs/{jobUid}/statusChanges``: if it
    was re-opened and completed again since, it is exported again.

    Returns ``{project_uid, exported: [{uid, status, targetLang, filename, workflowLevel}],
    already_exported: [...], job_uids, target_langs, file_names, async_request_id}``.
    """

    template_fields: Sequence[str] = ("phrase_conn_id", "project_uid", "job_uids", "workflow_level", "force")
    operator_extra_links = (PhraseProjectLink(),)
    state_key: ClassVar[str] = "phrase_export_state"
    work: ClassVar[str] = "export"

    def __init__(
        self,
        *,
        project_uid: str,
        job_uids: list[str] | str,
        workflow_level: int | str | None = None,
        force: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_uid = project_uid
        self.job_uids = job_uids
        self.workflow_level = workflow_level
        self.force = force
        # The export record lives in this Asset's state store (see the class docstring).
        if EXPORT_RECORD_ASSET not in self.inlets:
            self.inlets = [*self.inlets, EXPORT_RECORD_ASSET]

    def validated_args(self) -> ExportArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming the bad ones)."""
        from airflow_phrase.operators.delivery_params import ExportArgs

        return self.validate_template_fields(ExportArgs)

    def _record(self, context: Any, hook: PhraseTmsHook, project_uid: str) -> ExportRecordStore:
        from airflow_phrase.operators.delivery import ExportRecordStore

        return ExportRecordStore(context, base_url=hook.web_app_url, project_uid=project_uid)

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_phrase.operators.delivery import (
            list_delivery_jobs,
            now_iso,
            record_matches,
            status_unchanged_since,
        )

        args = self.validate_first(context, self.validated_args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            self.push_project_link(context, hook, args.project_uid)
            jobs = list_delivery_jobs(
                hook, self.task_id, args.project_uid, args.job_uids, args.workflow_level
            )
            record = self._record(context, hook, args.project_uid)
            already: list[DeliveryJob] = []
            todo: list[DeliveryJob] = []
            in_flight: dict[str, list[str]] = {}
            unsure: list[str] = []
            for job in jobs:
                seen = None if args.force else record.get(job.uid)
                if seen is None or not record_matches(seen, job) or seen.get("state") == "failed":
                    todo.append(job)
                elif seen.get("state") == "started" and seen.get("async_request_id"):
                    # An earlier run's export at this state is in flight: wait for it, do not repeat it.
                    todo.append(job)
                    in_flight.setdefault(str(seen["async_request_id"]), []).append(job.uid)
                elif status_unchanged_since(hook, args.project_uid, job, seen):
                    already.append(job)
                    if seen.get("state") == SENDING:  # an earlier try's export call went unanswered
                        unsure.append(job.uid)
                else:  # re-opened and completed again since it was exported
                    todo.append(job)
            state = self.start_state(context, args.project_uid, todo)
            state.already = already
            for open_id, uids in in_flight.items():
                if not any(uid in state.ready or uid in state.done for uid in uids):
                    state.requests.setdefault(open_id, uids)
            if state.already:
                self.log.info(
                    "Already exported at their current state (%s): %s",
                    record.where,
                    ", ".join(f"{job.uid} ({job.status})" for job in state.already),
                )
            if unsure:
                self.log.warning(
                    "Not exported again: Phrase may have exported %s in an earlier try whose answer was "
                    "lost; if the files are not in the repository, run with force=True",
                    ", ".join(unsure),
                )
            todo = state.unstarted()
            if todo:
                export = self._export_at_most_once(hook, record, args.project_uid, todo)
                request_id = export.async_request_id
                self.log.info(
                    "Phrase accepted the export of %d job(s)%s", len(todo),
                    f" (async request {request_id})" if request_id else "",
                )  # fmt: skip
                for job in todo:
                    record.set(
                        job.uid,
                        {**job.record_fields(), "state": "started", "at": now_iso(),
                         "async_request_id": request_id},
                    )  # fmt: skip
                if request_id:
                    state.requests[request_id] = [job.uid for job in todo]
                else:  # the spec's answer: no async request; Phrase runs the export after answering
                    state.ready.update({job.uid: "" for job in todo})
            return self.advance(context, hook, state)

    def _export_at_most_once(
        self, hook: PhraseTmsHook, record: ExportRecordStore, project_uid: str, todo: list[DeliveryJob]
    ) -> JobExport:
        """``POST .../jobs/export`` for ``todo``, recorded first as being sent.

        Phrase runs an export after answering and cannot be asked whether it did: after an ambiguous
        failure (5xx, timeout, a dropped answer) the jobs may be exported, and a retry would export every
        one of them again. So the record says ``"sending"`` before the call, and such a failure fails the task
        without retries (``AirflowFailException``) naming the jobs; later tries and runs do not export them
        again at the same state (``force=True`` does). A failure Phrase certainly did not act on
        (transient after every retry, rejected) marks them failed: a retry exports them.
        """
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_phrase.exceptions import PhraseApiError, PhraseConnectionError
        from airflow_phrase.operators.delivery import now_iso

        for job in todo:
            record.set(job.uid, {**job.record_fields(), "state": SENDING, "at": now_iso()})
        try:
            return hook.export_jobs_to_repository(project_uid, [job.uid for job in todo])
        except (PhraseApiError, PhraseConnectionError) as error:
            if not error.ambiguous:
                for job in todo:
                    record.set(job.uid, {**job.record_fields(), "state": "failed", "at": now_iso()})
                raise
            uids = ", ".join(job.uid for job in todo)
            raise AirflowFailException(
                f"Phrase may have exported job(s) {uids} of project {project_uid}: the export call failed "
                f"after it was sent ({error}). Not retried, so that no job is exported twice. Check the "
                "repository: if the translated files arrived, nothing is left to do (later runs do not "
                "export these jobs again at their current state); if not, run the task again with "
                "force=True."
            ) from None

    def complete(self, context: Any, hook: PhraseTmsHook, state: DeliveryState) -> dict[str, Any]:
        from airflow_phrase.operators.delivery import now_iso

        record = self._record(context, hook, state.project_uid)
        for uid in list(state.ready):
            job = state.job(uid)
            record.set(uid, {**job.record_fields(), "state": "exported", "at": now_iso()})
            state.done[uid] = job.item()
            del state.ready[uid]
        for uid in state.failed:
            job = state.job(uid)
            record.set(uid, {**job.record_fields(), "state": "failed", "at": now_iso()})
        exported = [state.done[job.uid] for job in state.jobs if job.uid in state.done]
        result = {
            "project_uid": state.project_uid,
            "exported": exported,
            "already_exported": [job.item() for job in state.already],
            "job_uids": [item["uid"] for item in exported],
            "target_langs": sorted({str(item["targetLang"]) for item in exported if item["targetLang"]}),
            "file_names": sorted({str(item["filename"]) for item in exported if item["filename"]}),
        }
        self.log.info(
            "Exported %d job(s) to the repository; %d already exported at their current state",
            len(exported),
            len(state.already),
        )
        return self.fail_if_any_failed(state, result)


__all__ = ["PhraseExportJobsToRepositoryOperator"]
