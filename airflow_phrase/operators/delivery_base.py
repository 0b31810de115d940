"""``PhraseDeliveryOperator``: the base of the export and target-file operators (not for direct use).

Both start Phrase's asynchronous work for some jobs, wait for it, then complete (record the export,
download the files). The waits go one async request at a time: each request is looked at once on the
worker, and the task defers (:class:`~airflow_phrase.triggers.async_request.PhraseAsyncRequestTrigger`)
only on the first that has not finished; when it resumes, the others have usually finished too. The
state crosses each deferral as a :class:`~airflow_phrase.operators.delivery.DeliveryState` (and is
kept in the task state store, so that a retry or a clear picks the same requests up again).
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import closing
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_phrase.operators.base import PhraseWaitingOperator, load_state, save_state
from airflow_phrase.operators.delivery import DeliveryJob, DeliveryState, wait_on_worker

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook


class PhraseDeliveryOperator(PhraseWaitingOperator):
    """Start async work per job, wait for each request in turn, then :meth:`complete`."""

    #: Key of the operator's :class:`DeliveryState` in the task state store.
    state_key: ClassVar[str] = "phrase_delivery_state"
    #: What the async requests do, for log lines and the try's recap ("export", "target file").
    work: ClassVar[str] = "delivery"

    @abstractmethod
    def validated_args(self) -> Any:
        """The rendered arguments, validated (``phrase_conn_id``, ``project_uid``, ...)."""

    @abstractmethod
    def complete(self, context: Any, hook: PhraseTmsHook, state: DeliveryState) -> dict[str, Any]:
        """Once no request is open: finish the jobs in ``state.ready`` and return the XCom value."""

    def start_state(self, context: Any, project_uid: str, todo: list[DeliveryJob]) -> DeliveryState:
        """The state to go on from: the one an earlier try of this task instance left for the same jobs in
        the same states (its open requests are waited for, not started again), else a new one.

        The jobs' records decided ``todo`` first: a job they show delivered is never taken from here.
        """
        state = load_state(context, self.state_key, DeliveryState)
        wanted = sorted(job.fingerprint for job in todo)
        if state is None or state.project_uid != project_uid or state.fingerprints() != wanted:
            return DeliveryState(project_uid=project_uid, jobs=list(todo))
        state.failed.clear()  # a new try starts what failed again
        self.log.info("Going on from the earlier try's requests: %s", state.requests or "none open")
        return state

    def advance(self, context: Any, hook: PhraseTmsHook, state: DeliveryState) -> dict[str, Any]:
        """Settle every open request (deferring on the first one not finished), then :meth:`complete`."""
        from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger

        args = self.validated_args()
        for request_id in list(state.requests):
            request = hook.get_async_request(request_id)
            if not request.is_finished:
                save_state(context, self.state_key, state)
                uids = state.requests[request_id]
                label = (
                    f"Phrase async request {request_id} ({self.work} of job(s) {', '.join(uids)}, "
                    f"project {state.project_uid})"
                )
                self.log.info("Waiting for %s", label)
                if self.deferrable:
                    self.defer(
                        trigger=PhraseAsyncRequestTrigger(
                            phrase_conn_id=args.phrase_conn_id,
                            async_request_id=request_id,
                            poll_interval=self.poll_interval,
                            deadline=self.wait_deadline(),
                        ),
                        method_name="execute_complete",
                        kwargs={"state": state.model_dump(mode="json")},
                        timeout=None,  # the trigger's deadline reports the timeout as an event
                        wait_label=label,
                    )
                wait_on_worker(
                    hook, request_id, poll_interval=self.poll_interval, deadline=self.wait_deadline()
                )
                request = hook.get_async_request(request_id)
            state.settle(request_id, request)
        save_state(context, self.state_key, state)
        result = self.complete(context, hook, state)
        # Completed and recorded: the records are the truth now, nothing is in flight for a later try.
        store = context.get("task_state_store") if hasattr(context, "get") else None
        if store is not None:
            store.delete(self.state_key)
        return result

    def execute_complete(
        self, context: Any, event: dict[str, Any] | None = None, state: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.async_request.PhraseAsyncRequestTrigger`."""
        from airflow_phrase.exceptions import PhraseWaitTimeout
        from airflow_phrase.models import AsyncRequest
        from airflow_phrase.triggers.events import AsyncRequestEvent, parse_event

        parsed = parse_event(AsyncRequestEvent, event)
        current = (
            DeliveryState.model_validate(state)
            if state
            else load_state(context, self.state_key, DeliveryState)
        )
        if current is None:
            raise AirflowException(
                f"Resumed without the {self.work} state (neither in the deferral's kwargs nor in the task "
                "state store); run the task again: jobs already delivered are not delivered twice."
            )
        if parsed.status == "timeout":
            raise PhraseWaitTimeout(f"Timed out waiting for the {self.work}: {parsed.message}")
        if parsed.async_request is None:  # the wait failed for good (API or configuration error)
            raise AirflowFailException(f"Waiting for the {self.work} failed: {parsed.message}")
        current.settle(parsed.async_request_id, AsyncRequest.model_validate(parsed.async_request))
        args = self.validated_args()
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            return self.advance(context, hook, current)

    def fail_if_any_failed(self, state: DeliveryState, result: dict[str, Any]) -> dict[str, Any]:
        """Return ``result``, or fail (after everything else was completed and recorded) if jobs failed."""
        if state.failed:
            problems = "; ".join(f"{uid}: {reason}" for uid, reason in state.failed.items())
            raise AirflowException(
                f"The {self.work} of {len(state.failed)} job(s) failed ({problems}); "
                f"{len(state.done)} completed and recorded, {len(state.already)} were already delivered"
            )
        return result


__all__ = ["PhraseDeliveryOperator"]
