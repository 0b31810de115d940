"""Running the emulator in-process: ``running_emulator(...)`` serves it from a thread with its own loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from airflow_phrase.emulator.admin_client import AdminClient
from airflow_phrase.emulator.app import create_app
from airflow_phrase.emulator.config import EmulatorConfig
from airflow_phrase.emulator.faults import FaultInjector
from airflow_phrase.emulator.journal import Journal
from airflow_phrase.emulator.middlewares import malformed_request_response
from airflow_phrase.emulator.seed import Seed, load_seed
from airflow_phrase.emulator.services import SERVICES, EmulatorServices
from airflow_phrase.emulator.state import Clock, EmulatorState

log = logging.getLogger(__name__)

#: How long in-flight requests (e.g. a slow fault) may finish when the server stops.
SHUTDOWN_TIMEOUT = 1.0
START_TIMEOUT = 30.0

__all__ = [
    "AdminClient",
    "EmulatorConfig",
    "EmulatorHandle",
    "EmulatorRunner",
    "running_emulator",
    "start_site",
]


class _PhraseRequestHandler(RequestHandler):
    """aiohttp's HTTP protocol, answering what never reaches the app (a request its parser refuses, an
    error outside the middlewares) with Phrase's JSON error body instead of aiohttp's plain text."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp's: part of a response is out, the connection is lost
            raise ConnectionError("Response is sent already, cannot send another response with the error")
        response = malformed_request_response(status, exc)
        # Never the exception's text: aiohttp's parser errors quote the request's bytes.
        log.info(
            "Phrase TMS emulator: answered a request it could not handle with HTTP %d (%s)",
            response.status,
            type(exc).__name__ if exc is not None else "no exception",
        )
        response.force_close()
        return response


class _PhraseServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _PhraseRequestHandler(self, loop=self._loop, **self._kwargs)


class EmulatorRunner(web.AppRunner):
    """An ``AppRunner`` whose connections answer malformed requests with Phrase's JSON error body."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The app's own server, with the protocol class replaced (aiohttp builds one per connection).
        server.__class__ = _PhraseServer
        return server


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (0 = a free port); returns the runner and the bound port."""
    runner = EmulatorRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)


@dataclass
class EmulatorHandle:
    """A running emulator. ``base_url`` is what the hook uses; ``state`` is the live state."""

    host: str
    port: int
    services: EmulatorServices

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/web"

    @property
    def state(self) -> EmulatorState:
        return self.services.state

    @property
    def config(self) -> EmulatorConfig:
        return self.services.state.config

    @property
    def faults(self) -> FaultInjector:
        return self.services.faults

    @property
    def journal(self) -> Journal:
        return self.services.journal

    @cached_property
    def admin(self) -> AdminClient:
        """The admin client (the admin surface must be enabled: ``EmulatorConfig(enable_admin=True)``)."""
        return AdminClient(self.root_url)

    def url(self, path: str) -> str:
        """The full URL of a Phrase path: ``emu.url("/api2/v1/auth/whoAmI")``."""
        return self.base_url + path

    def reset(self) -> None:
        """In-process reset: re-seed the state, clear faults, journal and rate-limit history."""
        self.services.reset()


class _ServerThread(threading.Thread):
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        super().__init__(name="phrase-tms-emulator", daemon=True)
        self._app = app
        self._host = host
        self._port = port
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self.port = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            runner, self.port = loop.run_until_complete(start_site(self._app, self._host, self._port))
        except BaseException as exc:
            self.error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def wait_ready(self) -> None:
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the Phrase TMS emulator did not start in time")
        if self.error is not None:
            raise RuntimeError(f"the Phrase TMS emulator failed to start: {self.error}") from self.error

    def stop(self) -> None:
        if self.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self.join(SHUTDOWN_TIMEOUT + 10)


@contextmanager
def running_emulator(
    config: EmulatorConfig | None = None,
    seed: Seed | str | Path | None = None,
    *,
    clock: Clock | None = None,
) -> Iterator[EmulatorHandle]:
    """Start an emulator on 127.0.0.1 (a free port unless ``config.port``) and stop it on exit.

    ``seed`` is a ``Seed``, a path to a seed file, or ``None`` for the shipped demo seed; ``clock``
    replaces the system clock (e.g. a ``ManualClock``).
    """
    config = config or EmulatorConfig()
    seed_model = seed if isinstance(seed, Seed) else load_seed(seed)
    state = EmulatorState(seed_model, config=config, clock=clock)
    app = create_app(state)
    thread = _ServerThread(app, config.host, config.port)
    thread.start()
    try:
        thread.wait_ready()
        yield EmulatorHandle(host=config.host, port=thread.port, services=app[SERVICES])
    finally:
        thread.stop()
