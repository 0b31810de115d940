"""What the Phrase operators share: the waiting knobs, the hook, file resolution and the import wait.

Operators are rebuilt from the DAG when a deferred task resumes, so nothing here keeps state on
``self`` between ``execute`` and ``execute_complete``: whatever the resumed half needs travels in
``defer(kwargs=...)`` or in the trigger event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperator, conf
from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel

from airflow_phrase.exceptions import PhraseApiError, PhraseNotFoundError
from airflow_phrase.links import push_empty_links, push_jobs_links, push_project_link
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

#: ``PhraseTmsHook.default_conn_name`` (a test keeps them equal).
DEFAULT_CONN_ID = "phrase_tms_default"

ArgsT = TypeVar("ArgsT")
ModelT = TypeVar("ModelT", bound=BaseModel)

#: How Phrase answers a folder listing of a connector id that does not exist.
_CONNECTOR_ID_STATUSES = frozenset({400, 404})

#: Logged when a deferred task resumes without the kwargs it deferred with. The triggerer merges them
#: with the event, but ``dag.test()`` of Airflow 3.3.2 and earlier passes the event alone
#: (fixed by apache/airflow#69942); the operators then re-read what they need from Phrase.
RESUMED_WITHOUT_KWARGS = (
    "Resumed without the state this task deferred with (dag.test() of Airflow <= 3.3.2 drops it); "
    "reading it back from Phrase"
)

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


def jobs_label(result: dict[str, Any]) -> str:
    """``"jobs x, y of project P"`` for messages."""
    uids = ", ".join(result.get("job_uids") or []) or "(none)"
    return f"jobs {uids} of project {result.get('project_uid')}"


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
        """A new hook on the (rendered, validated) connection id. Built per call, never stored."""
        from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

        return PhraseTmsHook(phrase_conn_id=phrase_conn_id)

    def validate_template_fields(self, model_cls: type[ModelT]) -> ModelT:
        """The rendered ``template_fields`` validated with ``model_cls`` (whose fields are exactly them).

        Raises ``AirflowFailException`` naming each bad argument and the fix.
        """
        return validate_params(
            model_cls, self.task_id, **{name: getattr(self, name) for name in self.template_fields}
        )

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
    def push_jobs_links(context: Any, hook: PhraseTmsHook, result: dict[str, Any]) -> None:
        push_jobs_links(context, hook, result["project_uid"], result["jobs"])

    def check_project_languages(self, hook: PhraseTmsHook, project_uid: str, target_langs: list[str]) -> None:
        """Read the project (cached by the hook for the rest of the task) and fail at once, naming the
        argument, if it does not exist or a target language is not one of its languages."""
        from airflow_phrase.operators.params import refuse_languages_not_in_project

        try:
            project = hook.get_project(project_uid)
        except PhraseApiError as error:
            if error.status != 404:
                raise
            raise invalid_arguments(
                self.task_id,
                [f"project_uid: Phrase has no project {project_uid!r} (HTTP 404); check the project uid"],
            ) from error
        refuse_languages_not_in_project(project, target_langs, self.task_id)

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
        from airflow_phrase.operators.waiting import deadline_after

        execution = self.execution_timeout.total_seconds() if self.execution_timeout else None
        return deadline_after(_seconds(self.wait_timeout, "wait_timeout"), execution)

    # ------------------------------------------------------------------ waiting for the import

    def wait_until_imported(
        self,
        context: Any,
        hook: PhraseTmsHook,
        result: dict[str, Any],
        *,
        phrase_conn_id: str,
        deadline: float | None,
        method_name: str,
    ) -> dict[str, Any]:
        """Wait until Phrase imported the jobs of ``result``; defers (resuming in ``method_name``) if
        deferrable and the jobs were created now. Returns ``result``."""
        from airflow_phrase.operators.waiting import (
            check_import,
            wait_for_async_request,
            wait_for_jobs_import,
        )
        from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger

        async_request_id = result.get("async_request_id")
        if not async_request_id:
            # The jobs were found rather than created: no async request id, watch the jobs themselves.
            if result["job_uids"]:
                self.log.info("Waiting for the import of existing %s", jobs_label(result))
                wait_for_jobs_import(
                    hook,
                    result["project_uid"],
                    result["job_uids"],
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                )
            return result
        # An async request id means the jobs were created a moment ago, by this try: their import has
        # not finished yet, so the first look is one interval later (the trigger's first poll, or the
        # poke wait's).
        if self.deferrable:
            self.defer(
                trigger=PhraseAsyncRequestTrigger(
                    phrase_conn_id=phrase_conn_id,
                    async_request_id=async_request_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                ),
                method_name=method_name,
                kwargs={"result": result},
                timeout=None,  # the trigger's deadline reports the timeout as an event
            )
        request = wait_for_async_request(
            hook, async_request_id, poll_interval=self.poll_interval, deadline=deadline, wait_first=True
        )
        check_import(request, jobs_label=jobs_label(result), job_uids=result["job_uids"])
        self.log.info("Phrase imported %s", jobs_label(result))
        return result

    def complete_import(
        self,
        event: dict[str, Any] | None,
        result: dict[str, Any] | None,
        rebuild: Callable[[str], dict[str, Any]],
    ) -> dict[str, Any]:
        """The resumed half of :meth:`wait_until_imported`: validate the event, fail or return ``result``.

        ``rebuild(async_request_id)`` re-reads the result from Phrase when the defer kwargs are missing.
        """
        from airflow_phrase.models import AsyncRequest
        from airflow_phrase.operators.waiting import PhraseWaitTimeout, check_import
        from airflow_phrase.triggers.events import AsyncRequestEvent, parse_event

        parsed = parse_event(AsyncRequestEvent, event)
        if result is None:
            self.log.warning(RESUMED_WITHOUT_KWARGS)
            result = rebuild(parsed.async_request_id)
        label = jobs_label(result)
        request = AsyncRequest.model_validate(parsed.async_request) if parsed.async_request else None
        if parsed.status == "error":
            if request is not None:  # Phrase's verdict (errorCode / errorDesc) → PhraseImportFailedError
                check_import(request, jobs_label=label, job_uids=result.get("job_uids") or [])
            # No verdict: the trigger could not read the request (e.g. HTTP 403), not a failed import.
            raise AirflowFailException(
                f"Waiting for Phrase to import {label} (async request {parsed.async_request_id}) failed: "
                f"{parsed.message}"
            )
        if parsed.status == "timeout":
            raise PhraseWaitTimeout(
                f"Timed out waiting for Phrase to import {label} "
                f"(async request {parsed.async_request_id}): {parsed.message}"
            )
        if request is not None:  # belt and braces: a success never carries an errorCode
            check_import(request, jobs_label=label, job_uids=result.get("job_uids") or [])
        return result
