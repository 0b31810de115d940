"""``python -m airflow_phrase.demo.ui`` (``make ui``): the Airflow UI with the example DAGs and the emulator.

For the README's UI walk-through, from a fresh clone, at any time:

1. starts the Phrase TMS emulator (demo seed, admin API on) on ``127.0.0.1:8081`` (``--emulator-port``);
2. prepares ``AIRFLOW_HOME`` (default ``.airflow-ui/`` in the repository, kept between runs): metadata DB
   migrated, the pool ``phrase_api``;
3. runs ``airflow standalone`` (api-server, scheduler, DAG processor, triggerer) with the repository's
   ``dags/``, no example DAGs, the connection **Test** button enabled and, as this is a local sandbox,
   every visitor signed in as admin (``[core] simple_auth_manager_all_admins``); the UI is on
   ``http://127.0.0.1:8080`` (``--port``).

No connection is created: the walk-through creates it through the form. Ctrl-C stops Airflow, then the
emulator. The emulator's seed dates its files minutes before it starts, so the walk-through picks files
by pattern (``*``) or "modified in the last N hours", which work however long after ``make ui`` the form
is used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POOL = ("phrase_api", "4", "Phrase TMS API work")


def airflow_env(home: Path, *, port: int, dags_folder: Path) -> dict[str, str]:
    """The Airflow settings of the local UI (on top of the caller's environment, minus its AIRFLOW*)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return {
        **inherited,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


def emulator_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "airflow_phrase.emulator",
        "--host", "127.0.0.1", "--port", str(port), "--enable-admin",
    ]  # fmt: skip


def banner(*, port: int, emulator_port: int, home: Path) -> str:
    base = f"http://127.0.0.1:{emulator_port}/web"
    return (
        f"\nAirflow UI       http://127.0.0.1:{port}  (local sandbox: everyone is admin)\n"
        f"Phrase emulator  {base}  (user demo, password demo-password)\n"
        f"AIRFLOW_HOME     {home}\n"
        f"Connection form  Base URL {base}, Port {emulator_port}, User name demo, "
        "Password demo-password\n"
        "Walk-through     README.md, 'Try it in the Airflow UI'. Ctrl-C stops everything.\n"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_phrase.demo.ui", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=8080, help="the Airflow UI's port (default 8080)")
    parser.add_argument("--emulator-port", type=int, default=8081, help="the emulator's port (default 8081)")
    parser.add_argument("--home", type=Path, default=REPO / ".airflow-ui", help="AIRFLOW_HOME")
    parser.add_argument("--fresh", action="store_true", help="start from an empty AIRFLOW_HOME")
    return parser.parse_args(argv)


def _airflow(args: Sequence[str], env: Mapping[str, str]) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, *args], env=dict(env), check=True, stdout=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    home = args.home.resolve()
    if args.fresh:
        shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, port=args.port, dags_folder=REPO / "dags")
    print("Preparing Airflow (metadata DB, pool phrase_api)...", flush=True)
    _airflow(["db", "migrate"], env)
    _airflow(["pools", "set", *POOL], env)
    emulator = subprocess.Popen(emulator_command(args.emulator_port), stdin=subprocess.DEVNULL)
    airflow = str(Path(sys.executable).with_name("airflow"))
    try:
        print(banner(port=args.port, emulator_port=args.emulator_port, home=home), flush=True)
        return subprocess.run([airflow, "standalone"], env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=15)
        except subprocess.TimeoutExpired:
            emulator.kill()


if __name__ == "__main__":
    sys.exit(main())
