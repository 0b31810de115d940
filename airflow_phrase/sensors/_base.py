"""``PhraseSensor``: how the Phrase sensors wait, whatever they wait for.

Arguments are validated before any call (not subject to ``soft_fail``); the hook is built on first use
and closed when ``execute`` ends. Not deferrable: Airflow's own poke / reschedule loop. Deferrable: one
poke on the worker (with the exception handling ``BaseSensorOperator.execute`` gives every poke), and
unless it is done, a deferral to the sensor's trigger with an absolute deadline of ``timeout`` from now
(the trigger reports the timeout as an event; the deferral's own timeout is only a backstop).
"""

from __future__ import annotations

import time
import traceback
from abc import abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook


class PhraseSensor(BaseSensorOperator):
    """Base of the Phrase sensors (not for direct use). Subclasses set ``deferrable`` and ``_hook = None``
    in ``__init__`` and implement :meth:`validated_args` (with ``phrase_conn_id``), ``poke`` and
    :meth:`make_trigger`."""

    deferrable: bool
    _hook: PhraseTmsHook | None = None
    #: Logged when the first poke finds the wait over (no deferral).
    done_before_deferring: str = "Done before deferring; not deferring."

    @abstractmethod
    def validated_args(self) -> Any:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming each bad one)."""

    @abstractmethod
    def make_trigger(self, deadline: float) -> Any:
        """The trigger that waits until ``deadline`` (absolute epoch seconds)."""

    @property
    def hook(self) -> PhraseTmsHook:
        from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

        if self._hook is None:
            self._hook = PhraseTmsHook(self.validated_args().phrase_conn_id)
        return self._hook

    def execute(self, context: Context) -> Any:
        self.validated_args()  # before any remote call; not subject to soft_fail
        try:
            return self._execute(context)
        finally:
            if self._hook is not None:
                self._hook.close()

    def _execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self._first_poke(context)
        if first:
            self.log.info(self.done_before_deferring)
            return first.xcom_value if isinstance(first, PokeReturnValue) else None
        self.defer(
            trigger=self.make_trigger(time.time() + self.timeout),
            method_name="execute_complete",
            # A backstop only: the trigger yields a "timeout" event at the deadline itself.
            timeout=timedelta(seconds=self.timeout + max(60.0, 2 * self.poke_interval)),
        )

    def _first_poke(self, context: Context) -> bool | PokeReturnValue:
        """One poke, with the exception handling ``BaseSensorOperator.execute`` gives every poke."""
        try:
            return self.poke(context)
        except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException) as error:
            if self.soft_fail:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from error
            if self.never_fail:
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from error
            raise
        except AirflowSkipException:
            raise
        except Exception as error:
            if self.silent_fail:
                self.log.error("Sensor poke failed: \n %s", traceback.format_exc())
                return False
            if self.never_fail:
                raise AirflowSkipException("Skipping due to never_fail is set to True.") from error
            raise


__all__ = ["PhraseSensor"]
