"""``SharedPollTrigger``: what the triggers waiting on a shared poller have in common.

A subclass registers with a poller (:func:`~airflow_phrase.triggers.coalescing.register`) in its
``_wait``, reads the observations with :meth:`SharedPollTrigger.observations` and returns one event; this
base runs it, turns a crash into an ``error`` event, leaves the poller whatever happens, fires no earlier
than ``not_before`` and stops waiting on ``on_kill`` / ``cleanup``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_phrase.triggers._common import first_event_time, seconds_left, sleep_until
from airflow_phrase.triggers.coalescing import (
    PollDelayed,
    PollFailed,
    SharedPoller,
    Snapshot,
    Waiter,
    unregister,
)
from airflow_phrase.triggers.events import _Event


class SharedPollTrigger(BaseTrigger):
    """Base of the coalesced triggers (not for direct use). Subclasses set ``not_before``, ``deadline``."""

    not_before: float
    deadline: float | None
    _registration: tuple[SharedPoller[Any], Waiter] | None = None

    @property
    @abstractmethod
    def label(self) -> str:
        """What is waited for, in words (log lines)."""

    @abstractmethod
    async def _wait(self) -> _Event:
        """Register, read observations, return the one event."""

    @abstractmethod
    def _crash_event(self, message: str) -> _Event:
        """The ``error`` event when waiting itself failed."""

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._wait()
        except Exception as error:  # never leave the task deferred without an outcome
            self.log.exception("Waiting for %s failed", self.label)
            event = self._crash_event(f"Waiting failed: {error}")
        finally:
            self._detach()
        await sleep_until(first_event_time(self.not_before, self.deadline))
        yield TriggerEvent(event.to_payload())

    async def observations(self, waiter: Waiter) -> AsyncIterator[Snapshot[Any] | PollFailed | None]:
        """The waiter's listings and a final :class:`PollFailed`, or ``None`` once the deadline passed.
        Transient failures of a poll are logged and skipped (the poller tries again next interval)."""
        while True:
            remaining = seconds_left(self.deadline)
            if remaining == 0.0:
                yield None
                return
            observation = await waiter.next_observation(timeout=remaining)
            if observation is None:
                yield None
                return
            if isinstance(observation, PollDelayed):
                self.log.warning("Polling Phrase failed, trying again next interval: %s", observation.message)
                continue
            yield observation

    def _detach(self) -> None:
        registration, self._registration = self._registration, None
        if registration is not None:
            unregister(*registration)

    async def on_kill(self) -> None:
        """Called on Airflow 3.3+ when the deferred task is marked or cleared: stop waiting (Phrase has no
        API to cancel what is waited for)."""
        self._detach()
        self.log.info("Stopped waiting for %s", self.label)

    async def cleanup(self) -> None:
        """Release local resources only (leave the shared poller)."""
        self._detach()
        await super().cleanup()


__all__ = ["SharedPollTrigger"]
