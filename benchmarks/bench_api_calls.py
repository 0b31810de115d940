"""Benchmark: Phrase API calls per file of ``PhraseIngestConnectorFileOperator``, next to a minimal script.

Run ``python -m benchmarks.bench_api_calls [--files N] [--poll-interval 0.4] [--task-delay 1.0]
[--import-delay 0.5]`` (``python -m benchmarks`` runs it with the defaults).

Each seed file that ingests cleanly (``docs/…`` of the connector ``Docs Git`` into project
``prjWebsite000000000001``, targets de, fr_fr, ja, waiting for the import) is ingested three ways in the
same run, against the same emulator (a separate process on 127.0.0.1), reset before each ingest so
nothing of an earlier one is reused:

* **baseline**: the least a hand-written script needs when it already knows the encoded folder and file
  names: the download POST, one task-state poll per interval until it finished, the create POST, one
  async-request poll per interval until the import finished (every wait starts with one interval);
* **poke**: the operator with ``deferrable=False`` (it waits on the worker);
* **deferrable**: the operator with ``deferrable=True`` as Airflow runs it: ``execute`` raises
  ``TaskDeferred``, the trigger (rebuilt from its serialized form) runs until its event, a rebuilt
  operator resumes in the named method with the event and the deferral's kwargs, and so on until a
  result (download wait, then import wait);
* **planned**: deferrable, with the run's plan, as a mapped task of the ingestion DAG (the plan's
  calls, made once per run for every file, are not counted).

Calls are counted from the emulator's request journal. The connection uses an API token, so no login
call is counted on any side (with a user name and password the hook logs in once per process and
reuses the token). The operator's extra calls buy what the script does not do: finding the file from a
readable path (one listing per folder level), reading its ``lastModified`` and the project's jobs of
it (nothing is ingested twice), and looking for a download an earlier try started (retries reuse it).
The poll counts depend on the delays and the poll interval, equally on every side: compare the ratios,
not absolute numbers. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import logging
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.bench_coalescing import emulator_process

CONN_ID = "phrase_bench_calls"
API_TOKEN = "demo-api-token-0123456789"  # the emulator seed's public demo token
CONNECTOR = "1001"
PROJECT = "prjWebsite000000000001"
TARGET_LANGS = ["de", "fr_fr", "ja"]
#: The seed's files that download and import without an error: (folder, file).
FILES: tuple[tuple[str, str], ...] = (
    ("docs/guides", "install.md"),
    ("docs", "getting started.md"),
    ("docs/guides", "überblick.md"),
    ("docs/api", "reference.json"),
    ("docs/site", "index.html"),
)
SIDES = ("baseline", "poke", "deferrable", "planned")

#: What each call is for, by method and path under ``/web`` (first match wins).
CALL_KINDS: tuple[tuple[str, str, str], ...] = (
    ("POST", r"/api2/v\d/auth/login", "login"),
    ("GET", r"/api2/v1/connectors", "connector list"),
    ("GET", r"/api2/v1/connectors/[^/]+", "connector"),
    ("GET", r"/api2/v1/connectors/[^/]+/folders(/[^/]+)?", "folder listing"),
    ("POST", r"/api2/v2/connectors/[^/]+/folders/[^/]+/files/[^/]+", "download POST"),
    ("GET", r"/api2/v1/connectorAsyncTasks", "task states"),
    ("GET", r"/api2/v1/projects/[^/]+", "project"),
    ("GET", r"/api2/v1/projects/[^/]+/jobs/[^/]+", "job"),
    ("GET", r"/api2/v2/projects/[^/]+/jobs", "jobs list"),
    ("POST", r"/api2/v1/projects/[^/]+/jobs/connectorTask", "create POST"),
    ("GET", r"/api2/v1/async/[^/]+", "async request"),
)


def call_kind(method: str, path: str) -> str:
    """The kind of one journal entry (``"other"`` if none of :data:`CALL_KINDS` matches)."""
    for kind_method, pattern, kind in CALL_KINDS:
        if method == kind_method and re.fullmatch(pattern, path):
            return kind
    return "other"


@dataclass(frozen=True)
class FileCalls:
    path: str
    #: side → calls per kind
    kinds: dict[str, Counter[str]]

    def total(self, side: str) -> int:
        return sum(self.kinds[side].values())

    def ratio(self, side: str) -> float:
        return self.total(side) / max(1, self.total("baseline"))


class _TaskInstance:
    """What ``execute`` needs of the runtime task instance: somewhere to push the links."""

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def _hook() -> Any:
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook

    return PhraseTmsHook(CONN_ID)


def _baseline(folder: str, file: str, *, poll_interval: float, counted: Callable[[], None]) -> None:
    """The minimal script: encoded names known (looked up before counting starts)."""
    from airflow_phrase.models import JobCreateRequest

    hook = _hook()
    try:
        remote = hook.resolve_remote_file(CONNECTOR, folder, file)
        counted()  # from here on, every call counts
        started = hook.start_connector_download(
            remote.connector_id, remote.encoded_folder, remote.encoded_name
        )
        while True:
            time.sleep(poll_interval)
            state = hook.get_connector_task_state(PROJECT, started.id, created_after=started.date_created)
            if state is not None and state.is_finished:
                break
        created = hook.create_job_from_connector_task(
            PROJECT, started.id, JobCreateRequest(target_langs=TARGET_LANGS)
        )
        assert created.async_request is not None
        while True:
            time.sleep(poll_interval)
            if hook.get_async_request(created.async_request.id).is_finished:
                break
    finally:
        hook.close()


def _operator(
    folder: str, file: str, *, deferrable: bool, poll_interval: float, plan: dict[str, Any] | None = None
) -> Any:
    from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator

    return PhraseIngestConnectorFileOperator(
        plan=plan,
        task_id="ingest_file",
        phrase_conn_id=CONN_ID,
        connector=CONNECTOR,
        folder=folder,
        file=file,
        project_uid=PROJECT,
        target_langs=TARGET_LANGS,
        wait_for_import=True,
        deferrable=deferrable,
        poll_interval=poll_interval,
        wait_timeout=300,
    )


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise RuntimeError(f"{type(trigger).__name__} ended without an event")


def _rebuilt_trigger(trigger: Any) -> Any:
    """The trigger as the triggerer builds it: from its serialized class path and kwargs."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))


def _poke(folder: str, file: str, *, poll_interval: float, counted: Callable[[], None]) -> None:
    counted()
    _operator(folder, file, deferrable=False, poll_interval=poll_interval).execute({"ti": _TaskInstance()})


def _deferral(run: Callable[[], Any]) -> Any:
    """The ``TaskDeferred`` that ``run()`` raised, ``None`` if it returned."""
    from airflow.sdk.exceptions import TaskDeferred

    try:
        run()
    except TaskDeferred as deferred:
        return deferred
    return None


def _deferrable(
    folder: str,
    file: str,
    *,
    poll_interval: float,
    counted: Callable[[], None],
    plan: dict[str, Any] | None = None,
) -> None:
    counted()
    context = {"ti": _TaskInstance()}

    def operator() -> Any:  # built anew for every resume, as Airflow does
        return _operator(folder, file, deferrable=True, poll_interval=poll_interval, plan=plan)

    deferred = _deferral(lambda: operator().execute(context))
    while deferred is not None:
        event = asyncio.run(_first_event(_rebuilt_trigger(deferred.trigger)))
        kwargs = json.loads(json.dumps(deferred.kwargs or {}))  # as stored in the metadata database
        resume = functools.partial(getattr(operator(), deferred.method_name), context, event=event, **kwargs)
        deferred = _deferral(resume)


def _planned(folder: str, file: str, *, poll_interval: float, counted: Callable[[], None]) -> None:
    """As a mapped task of the ingestion DAG: deferrable, with the run's plan (made before counting: its
    calls are shared by every file of a run)."""
    from datetime import datetime, timezone

    from airflow_phrase.operators.ingest_state import IngestPlan

    hook = _hook()
    try:
        version = hook.resolve_remote_file(CONNECTOR, folder, file).version
    finally:
        hook.close()
    plan = IngestPlan(
        file=version,
        version_after=version.last_modified,
        languages_checked=True,
        planned_at=datetime.now(timezone.utc),
    ).model_dump(mode="json")
    _deferrable(folder, file, poll_interval=poll_interval, counted=counted, plan=plan)


RUNNERS = {"baseline": _baseline, "poke": _poke, "deferrable": _deferrable, "planned": _planned}


def _measure(
    admin: Any, side: str, folder: str, file: str, *, config: dict[str, float], poll_interval: float
) -> Counter[str]:
    admin.reset()  # nothing of an earlier ingest (jobs, downloads) is there to reuse
    admin.configure(**config)
    start = {"seq": 0}

    def counted() -> None:
        start["seq"] = max((entry.seq for entry in admin.journal()), default=0)

    RUNNERS[side](folder, file, poll_interval=poll_interval, counted=counted)
    return Counter(call_kind(entry.method, entry.path) for entry in admin.journal(since=start["seq"]))


def run_benchmark(
    files: Sequence[tuple[str, str]] = FILES,
    *,
    poll_interval: float = 0.4,
    task_delay: float = 1.0,
    import_delay: float = 0.5,
) -> list[FileCalls]:
    """Count the calls of each side for each file (see the module docstring)."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-home-"))
    # The emulator is local: poll faster than the floor real Phrase needs ([phrase_tms] min_poll_interval).
    os.environ.setdefault("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "0.05")
    from airflow_phrase.emulator.admin_client import AdminClient

    config = {"task_delay": task_delay, "import_delay": import_delay, "rate_limit_per_minute": 100_000_000}
    results = []
    with emulator_process(task_delay=task_delay) as root_url:
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
            {"conn_type": "phrase_tms", "host": f"{root_url}/web", "password": API_TOKEN,
             "extra": {"auth_type": "api_token"}}
        )  # fmt: skip
        admin = AdminClient(root_url, timeout=60)
        for folder, file in files:
            kinds = {
                side: _measure(admin, side, folder, file, config=config, poll_interval=poll_interval)
                for side in SIDES
            }
            results.append(FileCalls(path=f"{folder}/{file}", kinds=kinds))
    return results


def format_results(
    results: Sequence[FileCalls], *, poll_interval: float, task_delay: float, import_delay: float
) -> str:
    sides = SIDES[1:]
    lines = [
        f"Phrase API calls per file: ingest into {len(TARGET_LANGS)} target languages, waiting for the "
        f"import (poll interval {poll_interval:g} s; emulator: download {task_delay:g} s, "
        f"import {import_delay:g} s)",
        f"{'file':<28} {'baseline':>8} | " + " | ".join(f"{side:>10} {'ratio':>6}" for side in sides),
    ]
    for r in results:
        lines.append(
            f"{r.path:<28} {r.total('baseline'):>8} | "
            + " | ".join(f"{r.total(side):>10} {r.ratio(side):>5.2f}x" for side in sides)
        )
    if results:
        mean = {side: statistics.fmean(r.total(side) for r in results) for side in SIDES}
        lines.append(
            f"{'mean':<28} {mean['baseline']:>8.1f} | "
            + " | ".join(
                f"{mean[side]:>10.1f} {mean[side] / max(1e-9, mean['baseline']):>5.2f}x" for side in sides
            )
        )
        lines.append("")
        lines.append("Calls by kind, mean per file:  " + " ".join(f"{side:>10}" for side in SIDES))
        kinds = [kind for _, _, kind in CALL_KINDS] + ["other"]
        for kind in kinds:
            means = [statistics.fmean(r.kinds[side][kind] for r in results) for side in SIDES]
            if any(means):
                lines.append(f"  {kind:<28} " + " ".join(f"{m:>10.1f}" for m in means))
    lines.append(
        "ratio = operator calls / baseline calls (lower is better). 'planned' is a mapped task of the "
        "ingestion DAG (the run's plan, made once per run, not counted). Poll counts vary with timing."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_api_calls", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--files", type=int, default=len(FILES), help=f"how many seed files (1-{len(FILES)})")
    parser.add_argument("--poll-interval", type=float, default=0.4, help="seconds between polls, every side")
    parser.add_argument(
        "--task-delay", type=float, default=1.0, help="seconds the emulator takes per download"
    )
    parser.add_argument(
        "--import-delay", type=float, default=0.5, help="seconds the emulator takes per import"
    )
    parser.add_argument("--verbose", action="store_true", help="show the operators' and the hook's log lines")
    args = parser.parse_args(argv)
    if not args.verbose:  # a few log lines per ingest drown the table
        # Read when Airflow sets up its logging (on first import: under ``python -m benchmarks`` an
        # earlier benchmark may have done that already, and the lines show).
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
        logging.getLogger("airflow_phrase").setLevel(logging.ERROR)
    files = FILES[: max(1, min(args.files, len(FILES)))]
    results = run_benchmark(
        files, poll_interval=args.poll_interval, task_delay=args.task_delay, import_delay=args.import_delay
    )
    print(
        format_results(
            results,
            poll_interval=args.poll_interval,
            task_delay=args.task_delay,
            import_delay=args.import_delay,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
