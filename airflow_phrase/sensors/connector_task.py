"""``PhraseConnectorTaskSensor``: wait until a Phrase connector download task has finished.

Works in the three ways an Airflow sensor can wait:

* ``mode="poke"``: holds a worker slot and checks every ``poke_interval``;
* ``mode="reschedule"``: frees the slot between checks;
* ``deferrable=True``: checks once on the worker and, unless the task already finished, hands the wait to
  :class:`~airflow_phrase.triggers.connector_task.PhraseConnectorTaskTrigger` in the triggerer, where all
  waiting tasks of one project share one poll.

The outcome is the same in all three: ``SUCCESS`` ends the sensor and returns the task state (Phrase's
JSON, a plain dict) as XCom ``return_value``; ``ERROR`` / ``CONVERTER_ERROR`` fail it with
:class:`~airflow.sdk.exceptions.AirflowFailException` carrying Phrase's ``errorMessage`` (a retry cannot
fix a file Phrase cannot convert); running out of ``timeout`` raises ``AirflowSensorTimeout``; and
``soft_fail=True`` turns failure and timeout into a skip.

Phrase lists connector tasks of the last 24 h only unless asked for an earlier ``dateCreatedFrom``:
the sensor asks from ``created_after`` (the download operator's XCom carries ``date_created``), or,
without it, from ``timeout`` + 24 h before now, which covers any task the sensor could still be
waiting for.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any

from airflow.sdk import PokeReturnValue, conf
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
)
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict

from airflow_phrase.classification import worth_polling_again
from airflow_phrase.sensors._base import PhraseSensor
from airflow_phrase.validation import (
    DownloadTaskIdArg,
    NameText,
    ProjectUidArg,
    check_poll_interval,
    validate_params,
)

if TYPE_CHECKING:
    # DAG files import this module: the hook (HTTP libraries), the models and the trigger are imported
    # where they are used, on the worker or in the triggerer.
    from airflow.sdk import Context

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.models import ConnectorTaskState

#: How far before the sensor's own timeout a task may have been created and still be waited for,
#: when no ``created_after`` is given (Phrase's default listing window).
DEFAULT_CREATED_LOOKBACK = timedelta(hours=24)


def _blank_to_none(value: Any) -> Any:
    # Jinja renders a missing XCom value as "None".
    return None if isinstance(value, str) and value.strip() in ("", "None") else value


class ConnectorTaskSensorArgs(BaseModel):
    """The rendered arguments of :class:`PhraseConnectorTaskSensor` (validated before any remote call)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phrase_conn_id: NameText
    project_uid: ProjectUidArg
    download_task_id: DownloadTaskIdArg
    created_after: Annotated[AwareDatetime | None, BeforeValidator(_blank_to_none)] = None


def _describe(error: BaseException) -> str:
    """A one-line description. This provider's exceptions never carry credentials."""
    return f"{type(error).__name__}: {error}"


def failure_message(task_id: str, status: str, error_message: str | None) -> str:
    """How a failed connector task is reported (poke and deferred paths alike)."""
    return (
        f"Phrase connector download task {task_id} ended {status}: "
        f"{error_message or 'Phrase gave no errorMessage'}"
    )


def waiting_failed_message(task_id: str, project_uid: str, problem: str) -> str:
    """How a wait that Phrase's API ended for good is reported (poke and deferred paths alike)."""
    return f"Waiting for Phrase connector download task {task_id} of project {project_uid} failed: {problem}"


class PhraseConnectorTaskSensor(PhraseSensor):
    """Wait for a Phrase TMS connector download task to finish (poke, reschedule or deferrable).

    :param project_uid: the Phrase project whose connector tasks list the download (templated).
    :param download_task_id: the id of the async connector download (templated), e.g.
        ``"{{ ti.xcom_pull('download')['download_task_id'] }}"``.
    :param created_after: when the download was started or a bound before it: timezone-aware datetime or
        ISO 8601 string (templated), e.g. the download operator's XCom ``date_created``. Default: the
        sensor's ``timeout`` plus 24 h before now.
    :param phrase_conn_id: Airflow connection of type ``phrase_tms`` (templated).
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poke_interval: seconds between checks (default 15; in deferrable mode the trigger's interval).

    Other arguments (``timeout``, ``mode``, ``soft_fail``, ...) are those of every Airflow sensor. The
    XCom ``return_value`` is the task state as Phrase sends it (``id``, ``status``, ``dateCreated``, ...).
    """

    template_fields = ("project_uid", "download_task_id", "created_after", "phrase_conn_id")
    ui_color = "#d9f0e3"
    done_before_deferring = "Connector download task finished before deferring; not deferring."

    def __init__(
        self,
        *,
        project_uid: str,
        download_task_id: str,
        created_after: str | datetime | None = None,
        phrase_conn_id: str = "phrase_tms_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float | timedelta = 15.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        check_poll_interval(self.poke_interval, "poke_interval")
        self.project_uid = project_uid
        self.download_task_id = download_task_id
        self.created_after = created_after
        self.phrase_conn_id = phrase_conn_id
        self.deferrable = deferrable
        self._args: ConnectorTaskSensorArgs | None = None
        self._hook: PhraseTmsHook | None = None

    # ------------------------------------------------------------------ arguments

    def validated_args(self) -> ConnectorTaskSensorArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming each bad one)."""
        if self._args is None:
            self._args = validate_params(
                ConnectorTaskSensorArgs,
                self.task_id,
                phrase_conn_id=self.phrase_conn_id,
                project_uid=self.project_uid,
                download_task_id=self.download_task_id,
                created_after=self.created_after,
            )
        return self._args

    def created_after_bound(self, now: datetime | None = None) -> datetime:
        """``dateCreatedFrom`` for the listing: ``created_after``, else ``timeout`` + 24 h before now."""
        args = self.validated_args()
        if args.created_after is not None:
            return args.created_after
        now = now or datetime.now(timezone.utc)
        return now - timedelta(seconds=self.timeout) - DEFAULT_CREATED_LOOKBACK

    # ------------------------------------------------------------------ waiting

    def make_trigger(self, deadline: float) -> Any:
        from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger

        args = self.validated_args()
        return PhraseConnectorTaskTrigger(
            phrase_conn_id=args.phrase_conn_id,
            project_uid=args.project_uid,
            download_task_id=args.download_task_id,
            poll_interval=self.poke_interval,
            deadline=deadline,
            created_after=self.created_after_bound().isoformat(),
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        args = self.validated_args()
        since = self.created_after_bound()
        try:
            state = self.hook.get_connector_task_state(
                args.project_uid, args.download_task_id, created_after=since
            )
        except AirflowException as error:
            # As in the trigger: transient trouble that outlasted the hook's retries waits for the next
            # check; anything else (404, 401/403, a broken connection) cannot get better by retrying.
            if worth_polling_again(error):
                self.log.warning(
                    "Checking Phrase failed, trying again at the next poke: %s", _describe(error)
                )
                return False
            raise AirflowFailException(
                waiting_failed_message(args.download_task_id, args.project_uid, _describe(error))
            ) from error
        if state is None:
            self.log.warning(
                "Connector task %s is not (yet) listed in project %s (dateCreatedFrom %s); still waiting. "
                "If it never appears, check the project uid and created_after.",
                args.download_task_id,
                args.project_uid,
                since.isoformat(timespec="seconds"),
            )
            return False
        return self._outcome(state)

    def _outcome(self, state: ConnectorTaskState) -> bool | PokeReturnValue:
        if not state.is_finished:
            self.log.info("Connector task %s is still %s", state.id, state.status.value)
            return False
        if state.is_failure:
            raise AirflowFailException(failure_message(state.id, state.status.value, state.failure_detail))
        self.log.info("Connector task %s ended %s", state.id, state.status.value)
        return PokeReturnValue(is_done=True, xcom_value=state.to_wire())

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: return the task state, or fail / time out as the event says."""
        from airflow_phrase.models import ConnectorTaskState
        from airflow_phrase.triggers.events import ConnectorTaskEvent, parse_event

        result = parse_event(ConnectorTaskEvent, event)
        if result.status == "success":
            assert result.task_state is not None  # guaranteed by the event model
            self.log.info("Connector task %s succeeded", result.download_task_id)
            return result.task_state
        if result.status == "timeout":
            raise AirflowSensorTimeout(f"Sensor has timed out: {result.message}")
        state = ConnectorTaskState.model_validate(result.task_state) if result.task_state else None
        if state is not None and state.is_failure:
            raise AirflowFailException(
                failure_message(result.download_task_id, state.status.value, result.message)
            )
        raise AirflowFailException(
            waiting_failed_message(result.download_task_id, result.project_uid, result.message)
        )


__all__ = [
    "ConnectorTaskSensorArgs",
    "PhraseConnectorTaskSensor",
    "failure_message",
    "waiting_failed_message",
]
