"""``PhraseCreateJobFromConnectorTaskOperator``: jobs from a finished connector download task."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from airflow_phrase.links import PhraseJobsLink, PhraseProjectLink
from airflow_phrase.operators.base import JOB_TEMPLATE_FIELDS, PhraseJobOperator, load_state, save_state

if TYPE_CHECKING:  # imported where used: DAG files import this module (see operators/base.py)
    from airflow_phrase.operators.params import CreateJobArgs

#: Key of the created jobs in the task state store (read back on resume).
OUTCOME_KEY = "phrase_create_job_outcome"


class PhraseCreateJobFromConnectorTaskOperator(PhraseJobOperator):
    """Create Phrase jobs (one per target language and workflow step) from a finished download task
    (``POST /api2/v1/projects/{projectUid}/jobs/connectorTask?downloadTaskId=…``).

    Idempotent: if jobs were already created from ``download_task_id`` (an earlier try, a cleared task),
    those are returned and nothing is created. If the create call fails ambiguously (5xx, timeout, dropped
    connection) or is refused because the task was already used, Phrase is checked for the jobs before
    the task fails (:meth:`~airflow_phrase.hooks.phrase_tms.PhraseTmsHook.create_jobs_once`).

    :param project_uid: the project to create the jobs in (templated).
    :param download_task_id: id of the finished connector download task (the download operator's
        ``download_task_id``; templated).

    The job fields (``target_langs``, ``continuous``, ``due``, ...) and ``wait_for_import`` are those of
    :class:`~airflow_phrase.operators.base.PhraseJobOperator`, validated before any call.

    Returns ``{project_uid, job_uids, jobs, async_request_id, unsupported_files, warnings}``; ``jobs`` are
    ``{uid, filename, targetLang, status, workflowLevel}``. ``async_request_id`` is ``None`` when existing
    jobs were returned.
    """

    template_fields: Sequence[str] = (
        "phrase_conn_id",
        "project_uid",
        "download_task_id",
        "continuous",
        *JOB_TEMPLATE_FIELDS,
    )
    operator_extra_links = (PhraseProjectLink(), PhraseJobsLink())

    def __init__(self, *, project_uid: str, download_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project_uid = project_uid
        self.download_task_id = download_task_id

    def validated_args(self) -> CreateJobArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming the bad ones)."""
        from airflow_phrase.operators.params import CreateJobArgs

        return self.validate_template_fields(CreateJobArgs)

    def execute(self, context: Any) -> dict[str, Any]:
        args = self.validate_first(context, self.validated_args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            self.push_project_link(context, hook, args.project_uid)
            self.check_project_languages(hook, args.project_uid, args.target_langs)
            outcome = hook.create_jobs_once(
                args.project_uid, args.download_task_id, args.job_request(), continuous=args.continuous
            )
            save_state(context, OUTCOME_KEY, outcome)
            self.push_jobs_links(context, hook, args.project_uid, outcome.jobs)
            if self.wait_for_import:
                self.wait_until_imported(
                    hook,
                    phrase_conn_id=args.phrase_conn_id,
                    project_uid=args.project_uid,
                    job_uids=outcome.job_uids,
                    deadline=self.wait_deadline(),
                    method_name="execute_complete",
                    kwargs={"outcome": outcome.model_dump(mode="json")},
                )
            return outcome.to_xcom()

    def execute_complete(
        self, context: Any, event: dict[str, Any] | None = None, outcome: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.jobs_import.PhraseJobsImportTrigger`."""
        from airflow.sdk.exceptions import AirflowException

        from airflow_phrase.hooks.results import JobsOutcome

        self.import_verdict(event)
        created = (
            JobsOutcome.model_validate(outcome) if outcome else load_state(context, OUTCOME_KEY, JobsOutcome)
        )
        if created is None:
            raise AirflowException(
                "Resumed without the jobs this task created (neither in the deferral's kwargs nor in the "
                "task state store); run the task again: it returns the jobs created from the download task."
            )
        return created.to_xcom()
