"""What the Phrase operators share: the waiting knobs, the hook, file resolution, the import wait, and the
state that crosses a deferral.

Operators are rebuilt from the DAG when a deferred task resumes, so nothing here keeps state on ``self``
between ``execute`` and the resumed method: whatever the resumed half needs travels in
``defer(kwargs=...)`` as a typed model dumped to JSON, and is also written to Airflow's task state store
(``context["task_state_store"]``, Airflow 3.3+) so that a later try, or a resume that lost its kwargs
(``dag.test()`` of Airflow <= 3.3.2, apache/airflow#69942), finds it there. Every deferral also carries
the try's record of waits, recapped in the task log when the task resumes, and every hook's API calls are
added up in XCom (:mod:`airflow_phrase.operators.try_record`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from airflow.sdk import BaseOperator, conf
from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel, ValidationError

from airflow_phrase.exceptions import (
    PhraseApiError,
    PhraseImportFailedError,
    PhraseNotFoundError,
    PhraseWaitTimeout,
)
from airflow_phrase.links import push_empty_links, push_jobs_links, push_project_link
from airflow_phrase.operators.try_record import TryRecord
from airflow_phrase.validation import (
    check_poll_interval,
    invalid_arguments,
    past_due_problems,
    validate_params,
)

if TYPE_CHECKING:
    # DAG files import the operators: the hook (requests, aiohttp), the models, the waits and the
    # triggers are imported where they are used, on the worker or in the triggerer.
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.hooks.remote_files import ResolvedRemoteFile
    from airflow_phrase.hooks.results import JobSummary

#: ``PhraseTmsHook.default_conn_name`` (a test keeps them equal).
DEFAULT_CONN_ID = "phrase_tms_default"

ArgsT = TypeVar("ArgsT")
ModelT = TypeVar("ModelT", bound=BaseModel)

#: How Phrase answers a folder listing of a connector id that does not exist.
_CONNECTOR_ID_STATUSES = frozenset({400, 404})

#: The job fields of ``JobCreateRequestDto``, as operator parameters (all templated).
JOB_TEMPLATE_FIELDS: tuple[str, ...] = (
    "target_langs",
    "due",
    "workflow_settings",
    "assignments",
    "import_settings",
    "use_project_file_import_settings",
    "callback_url",
    "path",
    "pre_translate",
    "semantic_markup",
    "xml_assistant_profile",
    "notify_provider",
)
JOB_TEMPLATE_RENDERERS = {
    "workflow_settings": "json",
    "assignments": "json",
    "notify_provider": "json",
}


def _seconds(value: timedelta | float | int | None, name: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return seconds


def refuse_past_due(args: Any, task_id: str) -> None:
    """Fail (``AirflowFailException`` naming the field) if ``due`` or a ``workflow_settings`` step's
    ``due`` has passed: Phrase would create the jobs already overdue.

    Checked when a task starts, before any call, and never when it resumes after a deferral (a due date
    may pass while the task waits for Phrase; the jobs were created before it did).
    """
    dues = [("due", getattr(args, "due", None))] + [
        (f"workflow_settings[{index}].due", step.due)
        for index, step in enumerate(getattr(args, "workflow_settings", None) or [])
    ]
    problems = past_due_problems(dues)
    if problems:
        raise invalid_arguments(task_id, problems)


def jobs_label(project_uid: str, job_uids: Sequence[str]) -> str:
    """``"jobs x, y of project P"`` for messages."""
    return f"jobs {', '.join(job_uids) or '(none)'} of project {project_uid}"


# ---------------------------------------------------------------------------------- task state store


def save_state(context: Any, key: str, state: BaseModel) -> None:
    """Keep ``state`` in the task state store of this task instance (no-op where there is none)."""
    store = context.get("task_state_store") if hasattr(context, "get") else None
    if store is not None:
        store.set(key, state.model_dump(mode="json"))


def load_state(context: Any, key: str, model_cls: type[ModelT]) -> ModelT | None:
    """The state an earlier step of this task instance kept under ``key`` (``None`` if none, or if it
    does not read as ``model_cls``: a state written by an incompatible version is ignored)."""
    store = context.get("task_state_store") if hasattr(context, "get") else None
    if store is None:
        return None
    raw = store.get(key)
    if raw is None:
        return None
    try:
        return model_cls.model_validate(raw)
    except ValidationError:
        return None


def has_state_store(context: Any) -> bool:
    return hasattr(context, "get") and context.get("task_state_store") is not None


class PhraseBaseOperator(BaseOperator):
    """Base of the Phrase operators (not for direct use).

    :param phrase_conn_id: Airflow connection of type ``phrase_tms`` (templated).
    """

    ui_color = "#e9f3fe"

    def __init__(self, *, phrase_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.phrase_conn_id = phrase_conn_id

    # ------------------------------------------------------------------ helpers

    def new_hook(self, phrase_conn_id: str) -> PhraseTmsHook:
        """A new hook on the (rendered, validated) connection id. Built per call, never stored; its API
        calls are added to the try's total in XCom when it is closed."""
        from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

        return self.try_record.watch(PhraseTmsHook(phrase_conn_id=phrase_conn_id))

    @property
    def try_record(self) -> TryRecord:
        """This segment's :class:`~airflow_phrase.operators.try_record.TryRecord` (made on first use)."""
        record = self.__dict__.get("_phrase_try_record")
        if record is None:
            record = self.__dict__["_phrase_try_record"] = TryRecord()
        return record

    def defer(
        self,
        *,
        trigger: Any,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | int | float | None = None,
        wait_label: str | None = None,
    ) -> NoReturn:
        """``BaseOperator.defer``, with the try's record of waits added to ``kwargs``.

        ``wait_label``: the wait in words for the try's recap (default: what the trigger says).
        """
        super().defer(
            trigger=trigger,
            method_name=method_name,
            kwargs=self.try_record.deferring(trigger, kwargs, what=wait_label),
            timeout=timeout,
        )

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Any) -> Any:
        """``BaseOperator.resume_execution``, after a recap of the try's waits in the task log."""
        return super().resume_execution(next_method, self.try_record.resumed(next_kwargs, self.log), context)

    def validate_template_fields(self, model_cls: type[ModelT], **extra: Any) -> ModelT:
        """The rendered ``template_fields`` (and ``extra`` values) validated with ``model_cls``.

        Raises ``AirflowFailException`` naming each bad argument and the fix.
        """
        values = {name: getattr(self, name) for name in self.template_fields}
        return validate_params(model_cls, self.task_id, **values, **extra)

    def validate_first(self, context: Any, validate: Callable[[], ArgsT]) -> ArgsT:
        """``validate()`` at the start of ``execute``, then the checks that hold only when a task starts
        (a due date must not have passed: see :func:`refuse_past_due`); if the arguments are bad, the
        extra links get an empty value before the task fails (so they resolve quietly, see
        :mod:`airflow_phrase.links`)."""
        try:
            args = validate()
            refuse_past_due(args, self.task_id)
        except Exception:
            push_empty_links(context, self.operator_extra_links)
            raise
        return args

    def push_project_link(self, context: Any, hook: PhraseTmsHook, project_uid: str) -> None:
        """The project URL under every Phrase link of this operator (the jobs link until jobs exist)."""
        push_project_link(context, hook, project_uid, links=self.operator_extra_links)

    @staticmethod
    def push_jobs_links(
        context: Any, hook: PhraseTmsHook, project_uid: str, jobs: Sequence[JobSummary]
    ) -> None:
        push_jobs_links(context, hook, project_uid, [job.to_xcom() for job in jobs])

    def check_project_languages(self, hook: PhraseTmsHook, project_uid: str, target_langs: list[str]) -> None:
        """Read the project (cached by the hook for the rest of the task) and fail at once, naming the
        argument, if it does not exist or a target language is not one of its languages."""
        from airflow_phrase.operators.params import check_project_languages

        check_project_languages(hook, project_uid, target_langs, self.task_id)

    @staticmethod
    def resolve_file(hook: PhraseTmsHook, connector: str, folder: str, file: str) -> ResolvedRemoteFile:
        """Connector (id or name) and file; a wrong name fails at once, listing what exists.

        A connector given by its id (a number) is used directly, without listing the connectors: the
        folder listing fails if no connector has the id, and only then are the connectors listed (to
        find one by that name, or for the message listing what exists).
        """
        try:
            if connector.strip().isdigit():
                try:
                    return hook.resolve_remote_file(connector.strip(), folder, file)
                except PhraseApiError as error:
                    if error.status not in _CONNECTOR_ID_STATUSES:
                        raise
                    # No connector has this id (Phrase answers 404): maybe one is named so.
            found = hook.resolve_connector(connector)
            return hook.resolve_remote_file(found.id, folder, file)
        except PhraseNotFoundError as error:
            raise AirflowFailException(str(error)) from error


class PhraseWaitingOperator(PhraseBaseOperator):
    """Base of the Phrase operators that wait for Phrase's asynchronous work (not for direct use).

    :param deferrable: wait in the triggerer instead of on the worker (default: ``[operators]
        default_deferrable``).
    :param poll_interval: seconds between status checks while waiting.
    :param wait_timeout: longest wait for Phrase's asynchronous work (seconds or ``timedelta``);
        ``execution_timeout`` also bounds it. ``None``: no limit other than ``execution_timeout``.
    """

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        wait_timeout: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.poll_interval = check_poll_interval(poll_interval)
        self.wait_timeout = wait_timeout
        _seconds(wait_timeout, "wait_timeout")

    def wait_deadline(self) -> float | None:
        """Absolute deadline (epoch seconds) of a wait starting now."""
        from airflow_phrase.hooks.waits import deadline_after

        execution = self.execution_timeout.total_seconds() if self.execution_timeout else None
        return deadline_after(_seconds(self.wait_timeout, "wait_timeout"), execution)

    # ------------------------------------------------------------------ waiting for the import

    def wait_until_imported(
        self,
        hook: PhraseTmsHook,
        *,
        phrase_conn_id: str,
        project_uid: str,
        job_uids: Sequence[str],
        deadline: float | None,
        method_name: str,
        kwargs: dict[str, Any],
    ) -> None:
        """Wait until Phrase imported the file into ``job_uids``: defer (resuming in ``method_name`` with
        ``kwargs``) if deferrable, else poll on the worker. Jobs created a moment ago are never imported
        yet, so the first look is one interval later (the trigger's first poll, or the poke wait's).

        On the worker: raises ``PhraseImportFailedError`` / ``PhraseWaitTimeout``; returns when imported.
        """
        from airflow_phrase.triggers.jobs_import import PhraseJobsImportTrigger

        label = jobs_label(project_uid, job_uids)
        self.log.info("Waiting for Phrase to import %s", label)
        if self.deferrable:
            self.defer(
                trigger=PhraseJobsImportTrigger(
                    phrase_conn_id=phrase_conn_id,
                    project_uid=project_uid,
                    job_uids=list(job_uids),
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                ),
                method_name=method_name,
                kwargs=kwargs,
                timeout=None,  # the trigger's deadline reports the timeout as an event
            )
        hook.wait_for_jobs_import(
            project_uid,
            job_uids,
            jobs_label=label,
            poll_interval=self.poll_interval,
            deadline=deadline,
            wait_first=True,
        )
        self.log.info("Phrase imported %s", label)

    @staticmethod
    def import_verdict(event: dict[str, Any] | None) -> None:
        """The resumed half of :meth:`wait_until_imported`: validate the event; fail or time out as it says.

        Raises ``PhraseImportFailedError`` (Phrase's verdict: an expected failure),
        ``AirflowFailException`` (the wait failed for good) or ``PhraseWaitTimeout``.
        """
        from airflow_phrase.triggers.events import JobsImportEvent, parse_event

        parsed = parse_event(JobsImportEvent, event)
        label = jobs_label(parsed.project_uid, parsed.job_uids)
        if parsed.status == "timeout":
            raise PhraseWaitTimeout(f"Timed out waiting for Phrase to import {label}: {parsed.message}")
        if parsed.status == "error":
            if parsed.failed_jobs:
                raise PhraseImportFailedError(
                    what=label,
                    error_code=None,
                    error_desc=parsed.failed_jobs[0].get("errorMessage"),
                    job_uids=[str(job.get("uid")) for job in parsed.failed_jobs],
                )
            raise AirflowFailException(f"Waiting for Phrase to import {label} failed: {parsed.message}")


class PhraseJobOperator(PhraseWaitingOperator):
    """Base of the operators that create jobs: the job fields of Phrase's ``JobCreateRequestDto``, declared
    once here (not for direct use). All templated; validated after rendering, before any call.

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
    :param wait_for_import: also wait until Phrase imported the file into the jobs, and fail with Phrase's
        message if it could not.
    """

    template_fields_renderers = JOB_TEMPLATE_RENDERERS

    def __init__(
        self,
        *,
        target_langs: list[str] | str,
        continuous: bool = False,
        due: Any = None,
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
