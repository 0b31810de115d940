"""``PhraseJobStatusSensor``: wait until jobs of a Phrase project reach a status (default ``COMPLETED``).

Deferrable by default: it looks once on the worker and, unless every job is already there, hands the wait
to :class:`~airflow_phrase.triggers.job_status.PhraseJobStatusTrigger` in the triggerer, where every task
waiting on jobs of the same project shares one paged listing per interval. ``deferrable=False`` waits
with ``mode="poke"`` or ``"reschedule"``. Each look reads the jobs in the statuses that end a wait as the
trigger's poll does (:meth:`~airflow_phrase.hooks.phrase_tms.PhraseTmsHook.find_jobs_in_statuses`: page 0
of ``GET /api2/v2/projects/{projectUid}/jobs?status=...&workflowLevel=N``, then the rest of it or
``POST /api2/v1/projects/{projectUid}/jobs/search`` for the waited jobs, at most ``1 + ceil(n / 50)``
calls whatever the project's history), with the trigger's verdict
(:func:`~airflow_phrase.triggers.job_status.job_progress`): poke and triggerer agree.

A job ``CANCELLED``, ``DECLINED`` or ``REJECTED`` ends its own wait: it is reported (log and XCom
``ended_otherwise``) and does not block the others; with ``fail_on_ended_otherwise=True`` the sensor
fails instead (``AirflowFailException``, no retries). XCom ``return_value``::

    {"project_uid", "target_statuses", "workflow_level",
     "reached": [{"uid", "status", "targetLang", "filename", "workflowLevel"}],
     "ended_otherwise": [...same...], "job_uids": [uids reached]}
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_phrase.classification import worth_polling_again
from airflow_phrase.sensors._base import PhraseSensor
from airflow_phrase.validation import check_poll_interval, validate_params

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.delivery_params import JobStatusArgs
    from airflow_phrase.triggers.job_status import JobProgress

#: Default seconds between looks: linguists take hours; one listing a minute is plenty.
DEFAULT_POKE_INTERVAL = 60.0


def status_result(
    args: JobStatusArgs, reached: list[dict[str, Any]], ended_otherwise: list[dict[str, Any]]
) -> dict[str, Any]:
    """The sensor's XCom ``return_value``."""
    return {
        "project_uid": args.project_uid,
        "target_statuses": list(args.target_statuses),
        "workflow_level": args.workflow_level,
        "reached": reached,
        "ended_otherwise": ended_otherwise,
        "job_uids": [str(job["uid"]) for job in reached],
    }


class PhraseJobStatusSensor(PhraseSensor):
    """Wait until ``job_uids`` of ``project_uid`` reach one of ``target_statuses`` (or end otherwise).

    :param project_uid: the project of the jobs (templated).
    :param job_uids: job (part) uids: a list or a comma-separated string (templated), e.g.
        ``"{{ ti.xcom_pull('ingest')['job_uids'] }}"``. 1 or more, each once.
    :param target_statuses: statuses that count as reached (templated; default ``["COMPLETED"]``), e.g.
        ``["COMPLETED", "DELIVERED"]``.
    :param workflow_level: the workflow level the jobs are at (templated; ``None``: 1). To wait for a
        workflow step's completion, give the step's level and its job parts.
    :param fail_on_ended_otherwise: fail (no retries) when a job ended ``CANCELLED`` / ``DECLINED`` /
        ``REJECTED`` instead of reporting it (templated; default ``False``).
    :param phrase_conn_id: Airflow connection of type ``phrase_tms`` (templated).
    :param deferrable: wait in the triggerer (default ``True``: such waits last hours or days, and a
        deferred wait holds no worker slot).
    :param poke_interval: seconds between looks (default 60; at least ``[phrase_tms] min_poll_interval``).

    Other arguments (``timeout``, ``mode``, ``soft_fail``, ...) are those of every Airflow sensor.
    """

    template_fields = (
        "project_uid",
        "job_uids",
        "target_statuses",
        "workflow_level",
        "fail_on_ended_otherwise",
        "phrase_conn_id",
    )
    ui_color = "#d9f0e3"
    done_before_deferring = "The jobs were there before deferring; not deferring."

    def __init__(
        self,
        *,
        project_uid: str,
        job_uids: list[str] | str,
        target_statuses: list[str] | str | None = None,
        workflow_level: int | str | None = None,
        fail_on_ended_otherwise: bool | str = False,
        phrase_conn_id: str = "phrase_tms_default",
        deferrable: bool = True,
        poke_interval: float | timedelta = DEFAULT_POKE_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        check_poll_interval(self.poke_interval, "poke_interval")
        self.project_uid = project_uid
        self.job_uids = job_uids
        self.target_statuses = target_statuses
        self.workflow_level = workflow_level
        self.fail_on_ended_otherwise = fail_on_ended_otherwise
        self.phrase_conn_id = phrase_conn_id
        self.deferrable = deferrable
        self._args: JobStatusArgs | None = None
        self._hook: PhraseTmsHook | None = None

    # ------------------------------------------------------------------ arguments

    def validated_args(self) -> JobStatusArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming each bad one)."""
        from airflow_phrase.operators.delivery_params import JobStatusArgs

        if self._args is None:
            values: dict[str, Any] = {
                "phrase_conn_id": self.phrase_conn_id,
                "project_uid": self.project_uid,
                "job_uids": self.job_uids,
                "workflow_level": self.workflow_level,
                "fail_on_ended_otherwise": self.fail_on_ended_otherwise,
            }
            if self.target_statuses is not None:
                values["target_statuses"] = self.target_statuses
            self._args = validate_params(JobStatusArgs, self.task_id, **values)
        return self._args

    # ------------------------------------------------------------------ waiting

    def make_trigger(self, deadline: float) -> Any:
        from airflow_phrase.triggers.job_status import PhraseJobStatusTrigger

        args = self.validated_args()
        return PhraseJobStatusTrigger(
            phrase_conn_id=args.phrase_conn_id,
            project_uid=args.project_uid,
            job_uids=args.job_uids,
            target_statuses=args.target_statuses,
            workflow_level=args.workflow_level,
            poll_interval=self.poke_interval,
            deadline=deadline,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_phrase.triggers.job_status import job_progress, listing_options

        args = self.validated_args()
        workflow_level, statuses = listing_options(args.target_statuses, args.workflow_level)
        try:
            listed = self.hook.find_jobs_in_statuses(
                args.project_uid, args.job_uids, statuses=statuses, workflow_level=workflow_level
            )
        except AirflowException as error:
            # As in the trigger: transient trouble that outlasted the hook's retries waits for the next
            # look; anything else (404, 401/403, a broken connection) cannot get better by retrying.
            if worth_polling_again(error):
                self.log.warning("Checking Phrase failed, trying again at the next poke: %s", error)
                return False
            raise AirflowFailException(
                f"Waiting for jobs of project {args.project_uid} failed: {type(error).__name__}: {error}"
            ) from error
        progress = job_progress(args.job_uids, listed, args.target_statuses)
        if not progress.done:
            self.log.info(
                "%d of %d job(s) not %s yet", len(progress.pending), len(args.job_uids),
                " or ".join(args.target_statuses),
            )  # fmt: skip
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(progress))

    def _finish(self, progress: JobProgress) -> dict[str, Any]:
        from airflow_phrase.triggers.job_status import done_message, job_item

        args = self.validated_args()
        reached = [job_item(job) for job in progress.reached]
        ended = [job_item(job) for job in progress.ended_otherwise]
        return self._verdict(args, reached, ended, done_message(progress, args.target_statuses))

    def _verdict(
        self, args: JobStatusArgs, reached: list[dict[str, Any]], ended: list[dict[str, Any]], message: str
    ) -> dict[str, Any]:
        if ended and args.fail_on_ended_otherwise:
            raise AirflowFailException(f"Phrase jobs of project {args.project_uid}: {message}")
        if ended:
            self.log.warning("%s (reported, not waited for)", message)
        else:
            self.log.info(message)
        return status_result(args, reached, ended)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: return the outcome, or fail / time out as the event says."""
        from airflow_phrase.triggers.events import JobStatusEvent, parse_event

        result = parse_event(JobStatusEvent, event)
        args = self.validated_args()
        if result.status == "timeout":
            raise AirflowSensorTimeout(f"Sensor has timed out: {result.message}")
        if result.status == "error":
            raise AirflowFailException(
                f"Waiting for jobs of project {result.project_uid} failed: {result.message}"
            )
        return self._verdict(args, result.reached, result.ended_otherwise, result.message)


__all__ = ["PhraseJobStatusSensor", "status_result"]
