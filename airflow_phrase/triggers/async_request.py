"""``PhraseAsyncRequestTrigger``: wait in the triggerer until a Phrase asynchronous request has finished.

Used for the ``IMPORT_JOB`` request that "create job from connector task" returns: the jobs exist at
once, but their import runs asynchronously. One ``GET /api2/v1/async/{id}`` per request and interval
(no coalescing: there is an endpoint per request, and one create-job call covers all target languages).
Only GETs, so a triggerer restart repeats no side effect. Yields exactly one
:class:`~airflow_phrase.triggers.events.AsyncRequestEvent`:

* ``success``: ``asyncResponse`` is present without an ``errorCode``;
* ``error``: ``asyncResponse.errorCode`` is set (``message`` = ``"errorCode: errorDesc"``), or the API
  failed for good (a non-retryable error, e.g. 404 or bad credentials);
* ``timeout``: the absolute ``deadline`` passed first.

Not before
----------
The trigger neither polls nor fires before ``not_before`` (absolute epoch seconds; by default one
``poll_interval`` after the trigger was built, i.e. after the deferral), unless the deadline comes first:
then the ``timeout`` event is emitted at the deadline, without a poll. Why: a trigger that fires within a
second or two of the deferral can have the resumed try queued before Airflow's scheduler has processed
the deferral; the scheduler then logs a "state mismatch" and puts the task ``up_for_retry``
(apache/airflow#67287: Airflow 3.3.2 guards a ``scheduled`` task against this, not a ``queued`` one;
related: apache/airflow#72716, apache/airflow#72767). Polling at once is of little use anyway: the operators
defer right after creating the jobs, whose import cannot have finished yet.
``not_before`` is serialized with the trigger, so a triggerer restart does not delay it again: a rebuilt
trigger whose ``not_before`` has passed polls at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_phrase.models import AsyncRequest
from airflow_phrase.triggers._common import (
    deadline_text,
    describe,
    epoch_text,
    is_transient,
    not_before_kwarg,
    retry_policy_kwarg,
    retry_policy_of,
    seconds_left,
    sleep_until,
)
from airflow_phrase.triggers.events import AsyncRequestEvent
from airflow_phrase.validation import check_poll_interval

if TYPE_CHECKING:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook


class PhraseAsyncRequestTrigger(BaseTrigger):
    """Wait for ``GET /api2/v1/async/{async_request_id}`` to report an ``asyncResponse``.

    :param phrase_conn_id: Airflow connection id of type ``phrase_tms``.
    :param async_request_id: the async request id (e.g. ``JobList.async_request.id`` of create-job).
    :param poll_interval: seconds between polls.
    :param deadline: absolute epoch seconds; when it passes the trigger yields a ``timeout`` event.
    :param retry_policy: :class:`~airflow_phrase.hooks.retry.RetryPolicy` fields as a plain dict
        (``None``: the connection's settings).
    :param not_before: absolute epoch seconds before which the trigger neither polls nor fires (except
        the ``timeout`` at an earlier deadline); ``None``: one ``poll_interval`` from when the trigger is
        built. Serialized, so a rebuilt trigger keeps it (see the module docstring for why).
    """

    def __init__(
        self,
        phrase_conn_id: str,
        async_request_id: str,
        poll_interval: float = 10.0,
        deadline: float | None = None,
        retry_policy: dict[str, Any] | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__()
        check_poll_interval(poll_interval)  # the floor, as for the operators and the sensor
        self.phrase_conn_id = phrase_conn_id
        self.async_request_id = str(async_request_id)
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline) if deadline is not None else None
        self.retry_policy = retry_policy_kwarg(retry_policy)
        self.not_before = not_before_kwarg(not_before, self.poll_interval)
        self._hook: PhraseTmsHook | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "phrase_conn_id": self.phrase_conn_id,
                "async_request_id": self.async_request_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "retry_policy": self.retry_policy,
                "not_before": self.not_before,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

        self._hook = PhraseTmsHook(self.phrase_conn_id, retry_policy=retry_policy_of(self.retry_policy))
        try:
            event = await self._wait(self._hook)
        except Exception as error:  # never leave the task deferred without an outcome
            self.log.exception("Waiting for Phrase async request %s failed", self.async_request_id)
            event = self._event("error", message=f"Waiting for the async request failed: {describe(error)}")
        finally:
            await self._close_hook()
        yield TriggerEvent(event.to_payload())

    async def _wait(self, hook: PhraseTmsHook) -> AsyncRequestEvent:
        self.log.info(
            "Waiting for Phrase async request %s (first poll not before %s, then every %g s, deadline %s)",
            self.async_request_id,
            epoch_text(self.not_before),
            self.poll_interval,
            deadline_text(self.deadline),
        )
        if self.deadline is not None and self.deadline <= self.not_before:
            await sleep_until(self.deadline)  # no poll is allowed before not_before: time out unpolled
            return self._timeout_event(None)
        await sleep_until(self.not_before)
        last: AsyncRequest | None = None
        while True:
            try:
                last = await hook.a_get_async_request(self.async_request_id)
            except Exception as error:
                if not is_transient(error):
                    return self._event("error", message=describe(error), request=last)
                self.log.warning("Polling Phrase failed, trying again next interval: %s", describe(error))
            else:
                if last.is_finished:
                    return self._finished_event(last)
            remaining = seconds_left(self.deadline)
            if remaining is not None and remaining <= 0:
                return self._timeout_event(last)
            # After sleeping up to the deadline, the loop polls one last time before giving up.
            await asyncio.sleep(
                self.poll_interval if remaining is None else min(self.poll_interval, remaining)
            )

    def _event(self, status: str, *, message: str, request: AsyncRequest | None = None) -> AsyncRequestEvent:
        return AsyncRequestEvent.model_validate(
            {
                "status": status,
                "async_request_id": self.async_request_id,
                "async_request": request.to_wire() if request is not None else None,
                "message": message,
            }
        )

    def _finished_event(self, request: AsyncRequest) -> AsyncRequestEvent:
        response = request.async_response
        assert response is not None
        if response.error_code is not None:
            message = f"{response.error_code}: {response.error_desc or 'no description'}"
            self.log.error("Async request %s failed: %s", self.async_request_id, message)
            return self._event("error", message=message, request=request)
        self.log.info("Async request %s (%s) finished", self.async_request_id, request.action)
        return self._event(
            "success", message=f"Async request {self.async_request_id} finished", request=request
        )

    def _timeout_event(self, last: AsyncRequest | None) -> AsyncRequestEvent:
        return self._event(
            "timeout",
            message=(
                f"Async request {self.async_request_id} did not finish before the deadline "
                f"{deadline_text(self.deadline)}"
            ),
            request=last,
        )

    async def _close_hook(self) -> None:
        hook, self._hook = self._hook, None
        if hook is not None:
            await hook.aclose()

    async def on_kill(self) -> None:
        """Called on Airflow 3.3+ when the deferred task is marked or cleared by a user.

        Phrase has no API to cancel an async request; this only stops waiting.
        """
        self.log.info(
            "Stopped waiting for Phrase async request %s; Phrase TMS has no API to cancel it.",
            self.async_request_id,
        )

    async def cleanup(self) -> None:
        """Release local resources only (the HTTP session)."""
        await self._close_hook()
        await super().cleanup()


__all__ = ["PhraseAsyncRequestTrigger"]
