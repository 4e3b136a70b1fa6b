"""The application factory: ``create_app(config)`` wires state, profile, journal and routes.

Request path of ``POST /api/v2``: decode the fields the profile's ways, authenticate the key,
look the action up in the profile's table, run it, render, journal. Every refusal is a
:class:`DomainError` rendered in the profile's wording and status; anything else that goes
wrong is a mock bug, answered as a JSON 500 that is journaled and kept in ``app[FAILURES]``
so no test can mistake it for vendor behaviour.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler as RequestHandler

from mockpanel.config import MockConfig
from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Encoding, get_profile
from mockpanel.wire import control, render
from mockpanel.wire.actions import Call, action_table
from mockpanel.wire.journal import Journal
from mockpanel.wire.jsontext import Json, dumps
from mockpanel.wire.keys import ACTIONS, CONFIG, FAILURES, JOURNAL, PROFILE, STATE
from mockpanel.wire.params import read_params
from mockpanel.wire.setup import new_state

__all__ = ["create_app"]

_log = logging.getLogger("mockpanel")


def _plain_json(status: int, body: Json, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(body), status=status, content_type="application/json", headers=headers
    )


@web.middleware
async def _json_errors(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    """No HTML ever: routing errors become JSON, and an unexpected exception a recorded 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return _plain_json(exc.status, {"error": exc.reason}, headers)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        app = request.app
        _log.exception("mock panel bug answering %s %s", request.method, request.path)
        app[FAILURES].append(exc)
        body: Json = {"error": f"mock panel bug: {type(exc).__name__}; see the mock's log"}
        app[JOURNAL].record(
            time=app[STATE].clock.now(),
            tenant=None,
            action=None,
            params={},
            status=500,
            response=body,
        )
        return _plain_json(500, body)


async def _api(request: web.Request) -> web.Response:
    """``/api/v2``: one request, one action, one journal entry."""
    app = request.app
    profile, state = app[PROFILE], app[STATE]
    params: dict[str, str] = {}
    tenant = None
    try:
        params = await read_params(request, profile.wire.encodings, app[CONFIG].max_body_bytes)
        key = params.get("key", "")
        if not key:
            raise DomainError(ErrorCode.MISSING_KEY)
        tenant = state.authenticate(key)
        if tenant is None:
            raise DomainError(ErrorCode.INVALID_KEY)
        action = params.get("action", "")
        if not action:
            raise DomainError(ErrorCode.MISSING_ACTION)
        run = app[ACTIONS].get(action)
        if run is None:
            raise DomainError(ErrorCode.UNKNOWN_ACTION, action=action)
        reply = run(Call(state, profile, tenant, params))
    except DomainError as error:
        reply = render.error_reply(profile, error)
    app[JOURNAL].record(
        time=state.clock.now(),
        tenant=None if tenant is None else tenant.id,
        action=params.get("action"),
        params=params,
        status=reply.status,
        response=reply.body,
    )
    return render.json_response(profile, reply)


def create_app(config: MockConfig) -> web.Application:
    """A ready mock panel for ``config``: its profile's routes, state, tenants and journal.

    The control API under ``/_mock`` is mounted only when ``config.control_token`` is set.
    """
    profile = get_profile(config.profile)
    state = new_state(profile, config)

    # client_max_size makes aiohttp itself refuse a larger body; params.read_params turns
    # that refusal into the profile's BODY_TOO_LARGE error.
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[_json_errors])
    app[CONFIG] = config
    app[PROFILE] = profile
    app[STATE] = state
    app[JOURNAL] = Journal(config.journal_size)
    app[ACTIONS] = action_table(profile)
    app[FAILURES] = []
    for path in profile.wire.paths:
        for route in (path, path + "/"):
            app.router.add_post(route, _api)
            if Encoding.QUERY in profile.wire.encodings:
                app.router.add_get(route, _api)
    if config.control_token is not None:
        control.mount(app, config.control_token)
    return app
