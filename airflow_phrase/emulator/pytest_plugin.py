"""pytest fixtures for testing against the Phrase TMS emulator (registered as the ``phrase_emulator`` plugin).

* ``phrase_emulator``: one server for the whole session, reset before each test (state re-seeded,
  faults, journal and rate-limit history cleared, config restored), with fast lifecycles
  (``task_delay=0.3``, ``import_delay=0.2``) and the admin surface on. Parametrize it indirectly with a
  dict of :class:`~airflow_phrase.emulator.EmulatorConfig` fields to change them for a test::

      @pytest.mark.parametrize("phrase_emulator", [{"live_quirks": True}], indirect=True)
      def test_my_dag_survives_phrases_quirks(phrase_emulator): ...

* ``phrase_emulator_factory(**config)``: a fresh server per call (same defaults, overridable; also
  ``seed=`` and ``clock=``), stopped after the test.

Command-line option ``--phrase-emulator-live-quirks``: every emulator of the run sends the off-spec
shapes Phrase is known to send (``live_quirks=True``, see docs/emulator.md) unless a test says otherwise:
run a suite once without and once with it.

The emulator is imported only when a fixture is used, so the plugin costs nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_phrase.emulator.server import EmulatorHandle

FIXTURE_DEFAULTS: dict[str, Any] = {
    "task_delay": 0.3,
    "import_delay": 0.2,
    "export_delay": 0.2,
    "target_file_delay": 0.2,
    "enable_admin": True,
}
LIVE_QUIRKS_OPTION = "--phrase-emulator-live-quirks"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("phrase_emulator", "Phrase TMS emulator")
    group.addoption(
        LIVE_QUIRKS_OPTION,
        action="store_true",
        default=False,
        help="run every Phrase TMS emulator in the live-quirks mode (the off-spec shapes Phrase sends)",
    )


def fixture_defaults(config: pytest.Config) -> dict[str, Any]:
    """The emulator settings of the fixtures in this run (``FIXTURE_DEFAULTS`` and the command line)."""
    return {**FIXTURE_DEFAULTS, "live_quirks": bool(config.getoption(LIVE_QUIRKS_OPTION, default=False))}


@pytest.fixture(scope="session")
def _phrase_emulator_session(pytestconfig: pytest.Config) -> Iterator[EmulatorHandle]:
    from airflow_phrase.emulator import EmulatorConfig, running_emulator

    with running_emulator(EmulatorConfig(**fixture_defaults(pytestconfig))) as emulator:
        yield emulator


@pytest.fixture
def phrase_emulator(
    _phrase_emulator_session: EmulatorHandle, pytestconfig: pytest.Config, request: pytest.FixtureRequest
) -> EmulatorHandle:
    """The session's emulator, freshly reset for this test (with the test's config fields, if any)."""
    from airflow_phrase.emulator import EmulatorConfig
    from airflow_phrase.emulator.config import STARTUP_ONLY_FIELDS

    overrides: dict[str, Any] = dict(getattr(request, "param", None) or {})
    fixed = sorted(set(overrides) & STARTUP_ONLY_FIELDS)
    if fixed:
        raise pytest.UsageError(
            f"phrase_emulator cannot change {', '.join(fixed)} (fixed when the session's emulator "
            "starts); use phrase_emulator_factory(...) for an emulator of its own"
        )
    emulator = _phrase_emulator_session
    emulator.state.replace_config(EmulatorConfig(**{**fixture_defaults(pytestconfig), **overrides}))
    emulator.reset()
    return emulator


@pytest.fixture
def phrase_emulator_factory(pytestconfig: pytest.Config) -> Iterator[Callable[..., EmulatorHandle]]:
    """Start extra emulators with custom settings: ``phrase_emulator_factory(token_ttl=1, seed=path)``."""
    from airflow_phrase.emulator import EmulatorConfig, running_emulator

    defaults = fixture_defaults(pytestconfig)
    with ExitStack() as stack:

        def start(*, seed: Any = None, clock: Any = None, **config: Any) -> EmulatorHandle:
            settings = EmulatorConfig(**{**defaults, **config})
            return stack.enter_context(running_emulator(settings, seed=seed, clock=clock))

        yield start
