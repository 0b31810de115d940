"""``PhraseCreateJobFromConnectorTaskOperator``: jobs from a finished connector download task."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_phrase.links import PhraseJobsLink, PhraseProjectLink
from airflow_phrase.operators.base import (
    JOB_TEMPLATE_FIELDS,
    JOB_TEMPLATE_RENDERERS,
    PhraseWaitingOperator,
)

if TYPE_CHECKING:  # imported where used: DAG files import this module (see operators/base.py)
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.params import CreateJobArgs


class PhraseCreateJobFromConnectorTaskOperator(PhraseWaitingOperator):
    """Create Phrase jobs (one per target language and workflow step) from a finished download task.

    Idempotent: if jobs were already created from ``download_task_id`` (an earlier try, a cleared
    task), those are returned and nothing is created. If the create call fails ambiguously (502/504,
    timeout, dropped connection), Phrase is checked for the jobs before the task fails.

    Every argument below except the waiting knobs is templated. The job fields are those of Phrase's
    ``JobCreateRequestDto`` (snake_case), validated before any call: e.g. ``due`` must be
    timezone-aware, ``path`` at most 255 characters, ``import_settings`` and
    ``use_project_file_import_settings`` exclusive.

    :param project_uid: the project to create the jobs in.
    :param download_task_id: id of the finished connector download task (the download operator's
        ``download_task_id``).
    :param target_langs: target languages (project languages, e.g. ``["de", "fr_fr"]``).
    :param continuous: create continuous jobs.
    :param due: due date (aware ``datetime`` or ISO 8601 string with offset); projects without workflow.
    :param workflow_settings: per-step settings ``[{"id", "due", "assignments", "notifyProvider"}]``.
    :param assignments: ``[{"targetLang", "providers": [{"id", "type": "USER"|"VENDOR"}]}]``.
    :param import_settings: ``{"uid": ...}`` of re-usable import settings.
    :param use_project_file_import_settings: use the project's file import settings.
    :param callback_url: Phrase calls it when the jobs are created.
    :param path: original destination directory (at most 255 characters).
    :param pre_translate: pre-translate after import.
    :param semantic_markup: semantic markup processing after import.
    :param xml_assistant_profile: ``{"uid": ...}`` of an XML assistant profile.
    :param notify_provider: ``{"organizationEmailTemplate": {"id"}, "notificationIntervalInMinutes"}``.
    :param wait_for_import: also wait until Phrase imported the file into the jobs (the ``IMPORT_JOB``
        async request) and fail with Phrase's ``errorCode``/``errorDesc`` if it could not.

    Returns ``{project_uid, job_uids, jobs, async_request_id, unsupported_files, warnings}``; ``jobs``
    are ``{uid, filename, targetLang, status, workflowLevel}``. ``async_request_id`` is ``None`` when
    existing jobs were returned.
    """

    template_fields: Sequence[str] = (
        "phrase_conn_id",
        "project_uid",
        "download_task_id",
        "continuous",
        *JOB_TEMPLATE_FIELDS,
    )
    template_fields_renderers = JOB_TEMPLATE_RENDERERS
    operator_extra_links = (PhraseProjectLink(), PhraseJobsLink())

    def __init__(
        self,
        *,
        project_uid: str,
        download_task_id: str,
        target_langs: list[str],
        continuous: bool = False,
        due: datetime | str | None = None,
        workflow_settings: list[dict[str, Any]] | None = None,
        assignments: list[dict[str, Any]] | None = None,
        import_settings: dict[str, Any] | None = None,
        use_project_file_import_settings: bool | None = None,
        callback_url: str | None = None,
        path: str | None = None,
        pre_translate: bool | None = None,
        semantic_markup: bool | None = None,
        xml_assistant_profile: dict[str, Any] | None = None,
        notify_provider: dict[str, Any] | None = None,
        wait_for_import: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_uid = project_uid
        self.download_task_id = download_task_id
        self.target_langs = target_langs
        self.continuous = continuous
        self.due = due
        self.workflow_settings = workflow_settings
        self.assignments = assignments
        self.import_settings = import_settings
        self.use_project_file_import_settings = use_project_file_import_settings
        self.callback_url = callback_url
        self.path = path
        self.pre_translate = pre_translate
        self.semantic_markup = semantic_markup
        self.xml_assistant_profile = xml_assistant_profile
        self.notify_provider = notify_provider
        self.wait_for_import = wait_for_import

    def validated_args(self) -> CreateJobArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming the bad ones)."""
        from airflow_phrase.operators.params import CreateJobArgs

        return self.validate_template_fields(CreateJobArgs)

    def execute(self, context: Any) -> dict[str, Any]:
        args = self.validate_first(context, self.validated_args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            return self._create(context, hook, args)

    def _create(self, context: Any, hook: PhraseTmsHook, args: CreateJobArgs) -> dict[str, Any]:
        from airflow_phrase.operators.job_creation import create_jobs_once

        self.push_project_link(context, hook, args.project_uid)
        self.check_project_languages(hook, args.project_uid, args.target_langs)
        result = create_jobs_once(
            hook, args.project_uid, args.download_task_id, args.job_request(), continuous=args.continuous
        )
        self.push_jobs_links(context, hook, result)
        if not self.wait_for_import:
            return result
        return self.wait_until_imported(
            context,
            hook,
            result,
            phrase_conn_id=args.phrase_conn_id,
            deadline=self.wait_deadline(),
            method_name="execute_complete",
        )

    def execute_complete(
        self, context: Any, event: dict[str, Any] | None = None, result: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.async_request.PhraseAsyncRequestTrigger`."""
        return self.complete_import(event, result, self._rebuild_result)

    def _rebuild_result(self, async_request_id: str) -> dict[str, Any]:
        """The create-job result read back from Phrase: the jobs created from the download task."""
        from airflow_phrase.operators.reconcile import find_jobs_of_task
        from airflow_phrase.operators.results import jobs_result

        args = self.validated_args()
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            jobs = find_jobs_of_task(hook, args.project_uid, args.download_task_id)
        return jobs_result(args.project_uid, jobs, async_request_id=async_request_id)
