"""``python -m airflow_phrase.demo`` (``make demo``): the localization loop against the Phrase emulator.

1. starts the Phrase TMS emulator (shipped demo seed) on a free loopback port; it completes each job a
   few seconds after its import, as a linguist would;
2. makes a throwaway ``AIRFLOW_HOME`` on SQLite and migrates it;
3. points ``phrase_tms_default`` at the emulator (``AIRFLOW_CONN_PHRASE_TMS_DEFAULT``), creates the pool;
4. runs ``phrase_connector_ingestion`` once with ``airflow dags test``, as its first scheduled run: with no
   baseline yet it takes the files modified within the initial look-back (24 h; the seed's recent files),
   leaves the older ones out, and records the folder for the next run;
5. prints what happened;
6. runs ``phrase_translation_delivery`` for the jobs the run created: it waits (deferrably) until they are
   completed and writes each translated file under an output folder that is kept (``--output-dir``);
7. prints where each translated file went, stops the emulator (by its pid) and removes the throwaway
   home.

Airflow's own output goes to a log file whose path is printed. Exit status 0 unless something
unexpected failed (a file Phrase cannot convert is an expected failure and is reported, not fatal).

Airflow is imported only after ``AIRFLOW_HOME`` points at the throwaway home, so this module's top level
imports the standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_phrase.demo.processes import EmulatorProcess

DAG_ID = "phrase_connector_ingestion"
POOL_SLOTS = 4
#: Seconds after its import at which the emulator completes a job (as a linguist would, quickly).
JOB_COMPLETION_DELAY = 3.0
REPO_DAGS = Path(__file__).resolve().parents[2] / "dags"

REAL_ACCOUNT_HELP = """\
Run the same DAG against your Phrase TMS account
  1. The connection 'phrase_tms_default' (type phrase_tms), e.g.:
       airflow connections add phrase_tms_default --conn-type phrase_tms \\
         --conn-login YOUR_PHRASE_USER --conn-password YOUR_PASSWORD \\
         --conn-extra '{"data_center": "eu", "auth_type": "login", "contact": "you@example.com"}'
     Login/Password: a Phrase user name and password (auth_type "login"); or put an API token in
     Password with auth_type "api_token" (or an OAuth/Platform token with "bearer").
     Extra data_center: "eu" (cloud.memsource.com) or "us" (us.cloud.memsource.com); set Host only
     for a custom base URL (the demo used the emulator's).
  2. The pool:     airflow pools set phrase_api 4 "Phrase TMS: ingests in flight" --include-deferred
  3. What to ingest (Variable, or PHRASE_INGEST_* environment variables):
       airflow variables set phrase_ingestion '{"connector": "<id or name>", "folder": "<path>",
         "project_uid": "<project uid>", "target_langs": ["de", "fr_fr"]}'
"""


def _step(text: str) -> None:
    print(f"  {text:<46}", end="", flush=True)


def _done(text: str) -> None:
    print(text, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m airflow_phrase.demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--lookback-hours",
        type=float,
        default=None,
        help="the first run's initial look-back in hours (default 24: the seed's recent files); "
        "e.g. 168 takes every file of the seed",
    )
    parser.add_argument("--dags-folder", type=Path, default=REPO_DAGS, help="default: the repository's dags/")
    parser.add_argument("--log-file", type=Path, default=None, help="Airflow's output (default: a temp file)")
    parser.add_argument("--keep-home", action="store_true", help="keep the throwaway AIRFLOW_HOME")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="where the delivered translations go (default: a new temporary folder, kept)",
    )
    parser.add_argument(
        "--job-completion-delay",
        type=float,
        default=JOB_COMPLETION_DELAY,
        help="seconds after its import at which the emulator completes a job (default %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    dags_folder = args.dags_folder.resolve()
    if not (dags_folder / f"{DAG_ID}.py").exists():
        print(f"No {DAG_ID}.py in {dags_folder}; pass --dags-folder.", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="airflow-phrase-demo-"))
    log_path = args.log_file or Path(tempfile.mkstemp(prefix="airflow-phrase-demo-", suffix=".log")[1])
    airflow_env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "PHRASE_INGEST_POLL_INTERVAL": "1",
        "PHRASE_DELIVERY_POLL_INTERVAL": "1",
    }
    # Before anything imports Airflow (it reads AIRFLOW_HOME once, at import). The caller's own Airflow
    # and ingestion settings must not leak into the demo.
    prefixes = ("AIRFLOW_", "AIRFLOW__", "PHRASE_INGEST_", "PHRASE_DELIVERY_")
    for name in [n for n in os.environ if n.startswith(prefixes)]:
        del os.environ[name]
    os.environ.update(airflow_env)
    from airflow_phrase.demo.processes import DemoError, EmulatorProcess

    print(
        "Phrase TMS provider demo: connector ingestion, then delivery of the translations, against the "
        "Phrase TMS emulator\n"
    )
    emulator: EmulatorProcess | None = None
    with log_path.open("a", encoding="utf-8") as log:
        try:
            _step("Starting the Phrase TMS emulator")
            emulator = EmulatorProcess(
                home,
                log,
                task_delay=1.0,
                import_delay=0.5,
                job_completion_delay=args.job_completion_delay,
                target_file_delay=0.5,
            )
            emulator.wait_ready()
            _done(f"{emulator.base_url} (pid {emulator.pid})")
            return _run(args, home, log, emulator, airflow_env, log_path, started)
        except DemoError as error:
            _done("failed")
            print(f"\nDemo failed: {error}\nAirflow log: {log_path}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nInterrupted.", file=sys.stderr)
            return 130
        finally:
            if emulator is not None:
                emulator.stop()
            if args.keep_home:
                print(f"Kept AIRFLOW_HOME: {home}")
            else:
                shutil.rmtree(home, ignore_errors=True)


def dags_test_command(now: datetime, lookback_hours: float | None = None) -> list[str]:
    """``airflow dags test`` arguments for a run at ``now`` (its logical date, to the second).

    ``lookback_hours`` sets the first run's initial look-back through the DAG's ``initial_lookback_hours``
    Param (the run finds no baseline in the throwaway home: it is a first run).
    """
    command = ["dags", "test", DAG_ID, now.astimezone(timezone.utc).replace(microsecond=0).isoformat()]
    if lookback_hours is not None:
        hours = int(lookback_hours) if float(lookback_hours).is_integer() else lookback_hours
        command += ["--conf", json.dumps({"initial_lookback_hours": hours})]
    return command


def _quoted(arg: str) -> str:
    return f"'{arg}'" if arg.startswith("{") else arg


def _connection(base_url: str) -> str:
    return json.dumps(
        {
            "conn_type": "phrase_tms",
            "host": base_url,
            "login": "demo",
            "password": "demo-password",
            "extra": {"auth_type": "login", "contact": "make demo"},
        }
    )


def _run(
    args: argparse.Namespace,
    home: Path,
    log: IO[str],
    emulator: EmulatorProcess,
    airflow_env: dict[str, str],
    log_path: Path,
    started: float,
) -> int:
    from airflow_phrase.demo.output import print_outcome
    from airflow_phrase.demo.processes import DemoError, child_env, run_airflow

    env = child_env({**airflow_env, "AIRFLOW_CONN_PHRASE_TMS_DEFAULT": _connection(emulator.base_url)})
    _step("Throwaway Airflow home (SQLite)")
    _done(str(home))
    _step("Migrating the metadata DB")
    t0 = time.monotonic()
    if run_airflow(["db", "migrate"], env=env, log=log, timeout=900).returncode != 0:
        raise DemoError("'airflow db migrate' failed.")
    _done(f"done ({time.monotonic() - t0:.0f} s)")
    _step("Creating pool phrase_api")
    pool = [
        *("pools", "set", "phrase_api", str(POOL_SLOTS)),
        *("Phrase TMS: ingests in flight", "--include-deferred"),
    ]
    if run_airflow(pool, env=env, log=log, timeout=300).returncode != 0:
        raise DemoError("'airflow pools set' failed.")
    _done(f"{POOL_SLOTS} slots")
    command = dags_test_command(datetime.now(timezone.utc), args.lookback_hours)
    _step(f"Running {DAG_ID}")
    print(" ".join(["airflow dags test", *(_quoted(arg) for arg in command[3:])]), flush=True)
    t0 = time.monotonic()
    test = run_airflow(command, env=env, log=log, timeout=1200)
    run_seconds = time.monotonic() - t0
    status = print_outcome(
        emulator_root=emulator.root_url,
        dags_test_returncode=test.returncode,
        run_seconds=run_seconds,
        total_seconds=time.monotonic() - started,
        log_path=log_path,
        real_account_help="",
    )
    status |= _deliver(args, env, log)
    print()
    print(REAL_ACCOUNT_HELP)
    return status


def _deliver(args: argparse.Namespace, env: dict[str, str], log: IO[str]) -> int:
    """Run the delivery DAG for the jobs the ingestion run created; print where the files went."""
    from airflow_phrase.demo.delivery import DELIVERY_DAG_ID, delivery_command, delivery_conf, print_delivery
    from airflow_phrase.demo.output import DAG_ID as INGESTION_DAG_ID
    from airflow_phrase.demo.output import SUMMARY_TASK_ID
    from airflow_phrase.demo.processes import run_airflow
    from airflow_phrase.demo.results import read_latest_run
    from airflow_phrase.ingestion.tasks import SUMMARY_KEY

    ingestion = read_latest_run(INGESTION_DAG_ID, summary_task=SUMMARY_TASK_ID, summary_key=SUMMARY_KEY)
    out_dir = args.output_dir or Path(tempfile.mkdtemp(prefix="airflow-phrase-translations-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    conf = delivery_conf(ingestion.summary if ingestion else None, out_dir)
    print()
    if conf is None:
        print("No new jobs to deliver.")
        return 0
    _step(f"Running {DELIVERY_DAG_ID}")
    print(f"for {len(conf['job_uids'])} new job(s), to {out_dir}", flush=True)
    t0 = time.monotonic()
    test = run_airflow(delivery_command(conf), env=env, log=log, timeout=900)
    return print_delivery(returncode=test.returncode, run_seconds=time.monotonic() - t0, out_dir=out_dir)


if __name__ == "__main__":
    sys.exit(main())
