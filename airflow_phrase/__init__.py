"""Apache Airflow provider for Phrase TMS (formerly Memsource).

Importing this package is deliberately cheap: it pulls in neither the emulator nor any HTTP
server stack, so DAG files that use the operators parse fast.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
