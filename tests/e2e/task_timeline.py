"""Every state each task instance of a run was seen in while the test polled the REST API.

Polling can miss a short-lived state, so a state *seen* is evidence and a state *not seen* is not; tests
use it for "this task was deferred while we watched", never for "this never happened".
"""

from __future__ import annotations

from collections import defaultdict

from tests.e2e.airflow_api import AirflowApiClient

TaskKey = tuple[str, int]  # (task_id, map_index)


class TaskTimeline:
    """Call :meth:`record` at each poll (e.g. as ``wait_for_run(on_poll=...)``)."""

    def __init__(self, api: AirflowApiClient, dag_id: str, run_id: str) -> None:
        self._api = api
        self.dag_id = dag_id
        self.run_id = run_id
        self.seen: dict[TaskKey, list[str | None]] = defaultdict(list)
        self.max_simultaneous: dict[str, int] = defaultdict(int)
        """Per state, the most task instances seen in it in a single poll."""

    def record(self, _run: object = None) -> None:
        rows = self._api.task_instances(self.dag_id, self.run_id)
        counts: dict[str, int] = defaultdict(int)
        for ti in rows:
            key = (ti["task_id"], ti["map_index"])
            states = self.seen[key]
            if not states or states[-1] != ti["state"]:
                states.append(ti["state"])
            counts[str(ti["state"])] += 1
        for state, count in counts.items():
            self.max_simultaneous[state] = max(self.max_simultaneous[state], count)

    def seen_in(self, state: str, task_id: str) -> set[int]:
        """Map indexes of ``task_id`` seen at least once in ``state``."""
        return {index for (tid, index), states in self.seen.items() if tid == task_id and state in states}

    def describe(self) -> str:
        return "; ".join(f"{tid}[{index}]: {' -> '.join(map(str, states))}" for (tid, index), states in
                         sorted(self.seen.items()))  # fmt: skip
