"""Poll-with-a-deadline, the only way the end-to-end harness waits for anything (never a fixed sleep)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

T = TypeVar("T")


class DeadlineExceeded(AssertionError):
    """A condition was still false when its deadline passed; the message says what was awaited."""


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    describe_last: Callable[[], str] | None = None,
    transient: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``probe`` every ``interval`` seconds until it returns something truthy, at most ``timeout`` s.

    Exceptions listed in ``transient`` (e.g. connection refused while a server starts) count as "not yet".
    Raises :class:`DeadlineExceeded` naming ``what`` and, if given, ``describe_last()`` (the last state seen).
    """
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        retry=retry_if_result(lambda value: not value) | retry_if_exception_type(transient),
        reraise=False,
    )
    try:
        result = retrying(probe)
    except RetryError as exc:
        last = exc.last_attempt
        detail = f"; last error: {last.exception()!r}" if last.failed else ""
        seen = f"; last seen: {describe_last()}" if describe_last is not None else ""
        raise DeadlineExceeded(f"timed out after {timeout:.0f}s waiting for {what}{detail}{seen}") from None
    assert result  # the retry predicate only lets a truthy value through
    return result
