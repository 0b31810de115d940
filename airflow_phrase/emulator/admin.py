"""The admin surface under ``/__emulator__/`` (only when ``enable_admin``): journal, faults, config, reset.

It lives outside ``/web`` so it is never journaled, faulted, rate-limited or authenticated.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from airflow_phrase.emulator.faults import FaultRule
from airflow_phrase.emulator.params import describe_validation_error, query_int
from airflow_phrase.emulator.services import SERVICES, EmulatorServices
from airflow_phrase.emulator.state.errors import bad_request, not_found

ADMIN_PREFIX = "/__emulator__"


class FaultRules(BaseModel):
    rules: list[FaultRule]


def _services(request: web.Request) -> EmulatorServices:
    return request.app[SERVICES]


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"Malformed JSON body: {exc}.") from None


async def get_journal(request: web.Request) -> web.Response:
    entries = _services(request).journal.entries(since=query_int(request, "since", 0))
    return web.json_response({"entries": [e.model_dump(mode="json", by_alias=True) for e in entries]})


async def clear_journal(request: web.Request) -> web.Response:
    _services(request).journal.clear()
    return web.Response(status=204)


async def set_faults(request: web.Request) -> web.Response:
    try:
        rules = FaultRules.model_validate(await _json_body(request)).rules
    except ValidationError as exc:
        raise bad_request(f"Invalid fault rules: {describe_validation_error(exc)}") from None
    _services(request).faults.set_rules(rules)
    return web.json_response({"rules": [r.model_dump(mode="json", by_alias=True) for r in rules]})


async def clear_faults(request: web.Request) -> web.Response:
    _services(request).faults.clear()
    return web.Response(status=204)


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(_services(request).state.config.model_dump(mode="json"))


async def patch_config(request: web.Request) -> web.Response:
    fields = await _json_body(request)
    if not isinstance(fields, dict):
        raise bad_request("The body must be a JSON object of config fields.")
    try:
        config = _services(request).state.update_config(**fields)
    except ValidationError as exc:
        raise bad_request(f"Invalid config: {describe_validation_error(exc)}") from None
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return web.json_response(config.model_dump(mode="json"))


async def reset(request: web.Request) -> web.Response:
    _services(request).reset()
    return web.Response(status=204)


async def snapshot(request: web.Request) -> web.Response:
    return web.json_response(_services(request).state.snapshot())


async def put_remote_file(request: web.Request) -> web.Response:
    """Add or replace a file of a connector (body: a seed file entry, e.g. ``{"path", "content",
    "lastModified": "-3d"}``)."""
    from airflow_phrase.emulator.seed import SeedRemoteFile

    try:
        spec = SeedRemoteFile.model_validate(await _json_body(request))
    except ValidationError as exc:
        raise bad_request(f"Invalid file: {describe_validation_error(exc)}") from None
    _services(request).state.put_remote_file(request.match_info["connectorId"], spec)
    return web.Response(status=204)


class JobScript(BaseModel):
    """Body of ``POST /__emulator__/jobs/{jobUid}/script``: the status the job takes ``after`` seconds
    from now (``null``: it keeps its status for good)."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = "COMPLETED"
    after: float = 0.0


async def script_job(request: web.Request) -> web.Response:
    try:
        script = JobScript.model_validate(await _json_body(request))
    except ValidationError as exc:
        raise bad_request(f"Invalid job script: {describe_validation_error(exc)}") from None
    state = _services(request).state
    job = state.script_job(request.match_info["jobUid"], script.status, script.after)
    return web.json_response({"uid": job.uid, "status": job.status})


async def expire_token(request: web.Request) -> web.Response:
    if not _services(request).state.expire_token(request.match_info["token"]):
        raise not_found("No such token.")
    return web.Response(status=204)


def add_admin_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(ADMIN_PREFIX + "/journal", get_journal)
    router.add_delete(ADMIN_PREFIX + "/journal", clear_journal)
    router.add_put(ADMIN_PREFIX + "/faults", set_faults)
    router.add_delete(ADMIN_PREFIX + "/faults", clear_faults)
    router.add_get(ADMIN_PREFIX + "/config", get_config)
    router.add_patch(ADMIN_PREFIX + "/config", patch_config)
    router.add_post(ADMIN_PREFIX + "/reset", reset)
    router.add_get(ADMIN_PREFIX + "/state", snapshot)
    router.add_post(ADMIN_PREFIX + "/tokens/{token}/expire", expire_token)
    router.add_put(ADMIN_PREFIX + "/connectors/{connectorId}/files", put_remote_file)
    router.add_post(ADMIN_PREFIX + "/jobs/{jobUid}/script", script_job)
