"""What one running emulator is made of, shared by the HTTP layer and the in-process handle."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from airflow_phrase.emulator.faults import FaultInjector, RateLimiter
from airflow_phrase.emulator.journal import Journal
from airflow_phrase.emulator.state import EmulatorState, User


@dataclass
class EmulatorServices:
    state: EmulatorState
    faults: FaultInjector
    journal: Journal
    rate_limiter: RateLimiter

    def reset(self) -> None:
        """Re-seed the state and forget faults, journal entries and rate-limit history."""
        self.state.reset()
        self.faults.clear()
        self.journal.clear()
        self.rate_limiter.clear()


SERVICES = web.AppKey("phrase_emulator_services", EmulatorServices)
USER_KEY = web.RequestKey("phrase_emulator_user", User)
