"""``[core] hostname_callable`` of the end-to-end deployments: each process reports the name it was given.

Every Airflow process the harness starts has this folder on ``PYTHONPATH``. Processes of one deployment run
on one machine, so Airflow's default (the machine's FQDN) would give the two Celery workers, or two
triggerers, the same ``hostname`` in task instances and jobs. The harness sets :data:`HOSTNAME_ENV` per
process, the way two containers get two host names; without it the machine's FQDN is used, as by default.
"""

from __future__ import annotations

import os
import socket

HOSTNAME_ENV = "AIRFLOW_PHRASE_E2E_HOSTNAME"


def hostname() -> str:
    """The process's host name as Airflow records it (task instances, scheduler and triggerer jobs)."""
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()
