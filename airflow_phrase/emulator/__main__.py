"""``python -m airflow_phrase.emulator``: run the Phrase TMS emulator until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from airflow_phrase.emulator.app import create_app
from airflow_phrase.emulator.config import EmulatorConfig
from airflow_phrase.emulator.seed import load_seed
from airflow_phrase.emulator.server import start_site
from airflow_phrase.emulator.state import EmulatorState

log = logging.getLogger("airflow_phrase.emulator")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m airflow_phrase.emulator",
        description="Run a Phrase TMS emulator (an HTTP server on /web).",
    )
    parser.add_argument("--host", default=defaults.host, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--seed", type=Path, default=None, help="seed file (default: the shipped demo seed)")
    parser.add_argument("--enable-admin", action="store_true", help="serve the /__emulator__/ admin routes")
    parser.add_argument(
        "--task-delay",
        type=float,
        default=defaults.task_delay,
        help="seconds a connector download task stays NEW (default %(default)s)",
    )
    parser.add_argument(
        "--import-delay",
        type=float,
        default=defaults.import_delay,
        help="seconds a job import stays RUNNING (default %(default)s)",
    )
    parser.add_argument(
        "--job-completion-delay",
        type=float,
        default=defaults.job_completion_delay,
        help="seconds after its import at which a job becomes COMPLETED by itself (default: never)",
    )
    parser.add_argument(
        "--export-delay",
        type=float,
        default=defaults.export_delay,
        help="seconds until exported target files appear in the connector (default %(default)s)",
    )
    parser.add_argument(
        "--target-file-delay",
        type=float,
        default=defaults.target_file_delay,
        help="seconds a target-file async request runs (default %(default)s)",
    )
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=defaults.token_ttl,
        help="lifetime of login tokens in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--rate-limit-per-minute",
        type=int,
        default=defaults.rate_limit_per_minute,
        help="requests per token per minute before 429 (default %(default)s)",
    )
    parser.add_argument(
        "--live-quirks",
        action="store_true",
        help="send the off-spec shapes Phrase's backend is known to send (Instant timestamps, ids as "
        "numbers, unknown enum values, references without optional keys); see docs/emulator.md",
    )
    parser.add_argument(
        "--port-file",
        type=Path,
        default=None,
        help="write the bound port here (atomically) once connections are accepted",
    )
    return parser.parse_args(argv)


def write_port_file(path: Path, port: int) -> None:
    """Write ``port`` so a reader never sees a partial file: temp file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        host=args.host,
        port=args.port,
        enable_admin=args.enable_admin,
        task_delay=args.task_delay,
        import_delay=args.import_delay,
        job_completion_delay=args.job_completion_delay,
        export_delay=args.export_delay,
        target_file_delay=args.target_file_delay,
        token_ttl=args.token_ttl,
        rate_limit_per_minute=args.rate_limit_per_minute,
        live_quirks=args.live_quirks,
    )
    state = EmulatorState(load_seed(args.seed), config=config)
    runner, port = await start_site(create_app(state), config.host, config.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        if args.port_file is not None:
            write_port_file(args.port_file, port)
        mode = " (live quirks)" if state.live_quirks else ""
        print(f"Phrase TMS emulator listening on http://{config.host}:{port}/web{mode}", flush=True)
        await stop.wait()
        log.info("Phrase TMS emulator stopping")
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except (OSError, ValueError) as exc:
        print(f"Phrase TMS emulator could not start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
