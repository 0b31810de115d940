"""pytest fixtures for testing against the Phrase TMS emulator (registered as the ``phrase_emulator`` plugin).

* ``phrase_emulator``: one server for the whole session, reset before each test (state re-seeded,
  faults, journal and rate-limit history cleared, config restored), with fast lifecycles
  (``task_delay=0.3``, ``import_delay=0.2``) and the admin surface on.
* ``phrase_emulator_factory(**config)``: a fresh server per call (same defaults, overridable; also
  ``seed=`` and ``clock=``), stopped after the test.

The emulator is imported only when a fixture is used, so the plugin costs nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_phrase.emulator.server import EmulatorHandle

FIXTURE_DEFAULTS: dict[str, Any] = {"task_delay": 0.3, "import_delay": 0.2, "enable_admin": True}


@pytest.fixture(scope="session")
def _phrase_emulator_session() -> Iterator[EmulatorHandle]:
    from airflow_phrase.emulator import EmulatorConfig, running_emulator

    with running_emulator(EmulatorConfig(**FIXTURE_DEFAULTS)) as emulator:
        yield emulator


@pytest.fixture
def phrase_emulator(_phrase_emulator_session: EmulatorHandle) -> EmulatorHandle:
    """The session's emulator, freshly reset for this test."""
    from airflow_phrase.emulator import EmulatorConfig

    emulator = _phrase_emulator_session
    emulator.state.replace_config(EmulatorConfig(**FIXTURE_DEFAULTS))
    emulator.reset()
    return emulator


@pytest.fixture
def phrase_emulator_factory() -> Iterator[Callable[..., EmulatorHandle]]:
    """Start extra emulators with custom settings: ``phrase_emulator_factory(token_ttl=1, seed=path)``."""
    from airflow_phrase.emulator import EmulatorConfig, running_emulator

    with ExitStack() as stack:

        def start(*, seed: Any = None, clock: Any = None, **config: Any) -> EmulatorHandle:
            settings = EmulatorConfig(**{**FIXTURE_DEFAULTS, **config})
            return stack.enter_context(running_emulator(settings, seed=seed, clock=clock))

        yield start
