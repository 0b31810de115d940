"""What the emulator saw: its request journal (kept whole, however long the run) and its jobs, per file.

The emulator's journal is bounded (the oldest entries go first), so :class:`JournalRecorder` reads it
incrementally (``since``) while a run goes on and keeps every entry. :func:`run_figures` turns a run's
entries into the printed figures: API calls per file and status calls per poll interval.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from tests.e2e.emulator_process import EmulatorProcess
from tests.e2e.production.scale_seed import ScaleSeed

DOWNLOAD_POST = re.compile(
    r"/api2/v2/connectors/(?P<connector>[^/]+)/folders/[0-9a-f]+/files/(?P<file>[0-9a-f]+)"
)
CREATE_POST = re.compile(r"/api2/v1/projects/(?P<project>[^/]+)/jobs/connectorTask")
#: GETs a waiting ingest makes in the triggerer: connector task states, then the job import's async request.
STATUS_GET = re.compile(r"/api2/v1/connectorAsyncTasks|/api2/v1/async/[^/]+")


class JournalRecorder:
    """Every journal entry from the moment it was created on (call :meth:`record` often enough that fewer
    than the journal's bound arrive in between, e.g. at every poll of a run)."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        self.emulator = emulator
        self.entries: list[dict[str, Any]] = []
        self._last = max((e["seq"] for e in emulator.journal()), default=0)

    def record(self, _: object = None) -> list[dict[str, Any]]:
        fresh = self.emulator.journal(since=self._last)
        if fresh:
            if self.entries and fresh[0]["seq"] != self._last + 1:
                raise AssertionError(f"journal entries {self._last + 1}..{fresh[0]['seq'] - 1} were dropped")
            self._last = fresh[-1]["seq"]
            self.entries.extend(fresh)
        return self.entries


def download_posts(entries: list[dict[str, Any]], connector_id: str) -> Counter[str]:
    """Connector path → download POSTs for it (the file name is hex-encoded in the URL)."""
    found: Counter[str] = Counter()
    for entry in entries:
        match = DOWNLOAD_POST.fullmatch(entry["path"])
        if entry["method"] == "POST" and match and match["connector"] == connector_id:
            found[bytes.fromhex(match["file"]).decode()] += 1
    return found


def create_posts(entries: list[dict[str, Any]], project_uid: str) -> Counter[str]:
    """Download task id → create-job POSTs from it."""
    found: Counter[str] = Counter()
    for entry in entries:
        match = CREATE_POST.fullmatch(entry["path"])
        if entry["method"] == "POST" and match and match["project"] == project_uid:
            found[entry["query"]["downloadTaskId"][0]] += 1
    return found


@dataclass(frozen=True)
class PhraseRecord:
    """The emulator's state for one connector and project: download tasks and jobs, per connector path."""

    tasks_by_path: dict[str, list[dict[str, Any]]]
    jobs_by_path: dict[str, list[dict[str, Any]]]

    @classmethod
    def read(cls, emulator: EmulatorProcess, *, connector_id: str, project_uid: str) -> PhraseRecord:
        state = emulator.state()
        tasks_by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
        path_of_task = {}
        for task in state["downloadTasks"]:
            if str(task["connectorId"]) == connector_id:
                tasks_by_path[task["path"]].append(task)
                path_of_task[str(task["id"])] = task["path"]
        jobs_by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for job in state["jobs"]:
            if job["projectUid"] == project_uid:
                jobs_by_path[path_of_task.get(str(job["downloadTaskId"]), "?")].append(job)
        return cls(dict(tasks_by_path), dict(jobs_by_path))

    def languages(self, path: str) -> list[str]:
        return sorted(job["targetLang"] for job in self.jobs_by_path.get(path, []))

    def path_of_task(self, task_id: str) -> str:
        return next(
            (path for path, tasks in self.tasks_by_path.items() if task_id in {str(t["id"]) for t in tasks}),
            "?",
        )

    def problems(self, paths: tuple[str, ...], target_langs: tuple[str, ...]) -> list[str]:
        """What is wrong against "each of ``paths`` has one download task and exactly one job per target
        language, and nothing else exists": an empty list when all is well."""
        problems = []
        for path in paths:
            if len(self.tasks_by_path.get(path, [])) != 1:
                problems.append(f"{path}: {len(self.tasks_by_path.get(path, []))} download tasks")
            if self.languages(path) != sorted(target_langs):
                problems.append(f"{path}: jobs in {self.languages(path)}")
        for path in (set(self.tasks_by_path) | set(self.jobs_by_path)) - set(paths):
            problems.append(f"{path}: not expected in this run, yet it has download tasks or jobs")
        return problems


def assert_ingested_once(
    emulator: EmulatorProcess, entries: list[dict[str, Any]], seed: ScaleSeed, paths: tuple[str, ...]
) -> PhraseRecord:
    """Each of ``paths`` has exactly one download task and one job per target language in the emulator,
    nothing else of the seed's connector or project exists, and the journal ``entries`` hold exactly one
    download POST and one create-job POST per file: nothing was lost, duplicated or repeated."""
    record = PhraseRecord.read(emulator, connector_id=seed.connector_id, project_uid=seed.project_uid)
    problems = record.problems(paths, seed.target_langs)
    downloads = download_posts(entries, seed.connector_id)
    if downloads != Counter(paths):
        problems += [f"{path}: {n} download POSTs" for path, n in downloads.items() if n != 1]
        problems += [f"{path}: no download POST" for path in set(paths) - set(downloads)]
    creates: Counter[str] = Counter()
    for task_id, posts in create_posts(entries, seed.project_uid).items():
        creates[record.path_of_task(task_id)] += posts
    if creates != Counter(paths):
        problems += [f"{path}: {n} create-job POSTs" for path, n in creates.items() if n != 1]
        problems += [f"{path}: no create-job POST" for path in set(paths) - set(creates)]
    assert not problems, f"{len(problems)} problems, e.g. {sorted(problems)[:10]}"
    return record


@dataclass(frozen=True)
class RunFigures:
    files: int
    wall_seconds: float
    calls: int
    status_calls: int
    poll_interval: float
    calls_by_kind: dict[str, int]

    @property
    def calls_per_file(self) -> float:
        return self.calls / self.files

    @property
    def status_calls_per_interval(self) -> float:
        return self.status_calls / max(self.wall_seconds / self.poll_interval, 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "calls_per_file": self.calls_per_file,
            "status_calls_per_interval": self.status_calls_per_interval,
        }

    def describe(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.calls_by_kind.items()))
        return (
            f"{self.files} files in {self.wall_seconds:.0f} s ({self.wall_seconds / self.files:.2f} s/file); "
            f"{self.calls} Phrase API calls = {self.calls_per_file:.1f} per file ({kinds}); "
            f"{self.status_calls} status calls over {self.wall_seconds / self.poll_interval:.0f} poll "
            f"intervals of {self.poll_interval:g} s = {self.status_calls_per_interval:.2f} per interval"
        )


def call_kind(entry: dict[str, Any]) -> str:
    method, path = entry["method"], entry["path"]
    if method == "POST" and DOWNLOAD_POST.fullmatch(path):
        return "download POST"
    if method == "POST" and CREATE_POST.fullmatch(path):
        return "create POST"
    if method == "GET" and STATUS_GET.fullmatch(path):
        return "status GET"
    if path.startswith("/api2/v3/auth/login"):
        return "login"
    return f"other {method}"


def run_figures(
    entries: list[dict[str, Any]], *, files: int, wall_seconds: float, poll_interval: float
) -> RunFigures:
    kinds = Counter(call_kind(entry) for entry in entries)
    return RunFigures(
        files=files,
        wall_seconds=wall_seconds,
        calls=len(entries),
        status_calls=kinds["status GET"],
        poll_interval=poll_interval,
        calls_by_kind=dict(kinds),
    )
