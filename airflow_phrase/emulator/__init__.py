"""A Phrase TMS emulator: a real HTTP server with Phrase's endpoints, payloads, lifecycles and failures.

Used by the demo, the test suite and users' own DAG tests (see the ``phrase_emulator`` pytest fixture).
Nothing else in ``airflow_phrase`` imports this package.
"""

from airflow_phrase.emulator.config import EmulatorConfig
from airflow_phrase.emulator.server import EmulatorHandle, running_emulator

__all__ = ["EmulatorConfig", "EmulatorHandle", "running_emulator"]
