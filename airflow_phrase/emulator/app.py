"""``create_app``: the aiohttp application of the Phrase TMS emulator."""

from __future__ import annotations

from aiohttp import web

from airflow_phrase.emulator.admin import add_admin_routes
from airflow_phrase.emulator.config import EmulatorConfig
from airflow_phrase.emulator.faults import FaultInjector, RateLimiter
from airflow_phrase.emulator.handlers import add_phrase_routes
from airflow_phrase.emulator.journal import Journal
from airflow_phrase.emulator.middlewares import (
    auth_middleware,
    error_middleware,
    fault_middleware,
    journal_middleware,
    rate_limit_middleware,
)
from airflow_phrase.emulator.services import SERVICES, EmulatorServices
from airflow_phrase.emulator.state import EmulatorState


def create_app(state: EmulatorState, config: EmulatorConfig | None = None) -> web.Application:
    """The emulator's routes and middlewares around ``state``.

    ``config`` (if given) replaces the state's config; ``enable_admin`` is read once, here. The app's
    ``EmulatorServices`` (state, faults, journal, rate limiter) are at ``app[SERVICES]``.
    """
    if config is not None:
        state.replace_config(config)
    config = state.config
    app = web.Application(
        middlewares=[
            journal_middleware,
            fault_middleware,
            error_middleware,
            rate_limit_middleware,
            auth_middleware,
        ],
    )
    app[SERVICES] = EmulatorServices(
        state=state,
        faults=FaultInjector(),
        journal=Journal(config.journal_max_entries),
        rate_limiter=RateLimiter(state.clock),
    )
    add_phrase_routes(app)
    if config.enable_admin:
        add_admin_routes(app)
    return app
