"""The application factory: ``create_app(config)`` wires state, profile, journal and routes.

The API view itself is :func:`mockpanel.wire.api.api` (budget, faults, action, journal); this
module builds what it needs: the state, the rate limiter, the fault book, the webhook sender
(started and stopped with the app) and the journal. Every refusal is a :class:`DomainError`
rendered in the profile's wording and status; anything else that goes wrong is a mock bug,
answered as a JSON 500 that is journaled and kept in ``app[FAILURES]`` so no test can mistake
it for vendor behaviour.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler as RequestHandler

from mockpanel.config import MockConfig
from mockpanel.profiles import Encoding, get_profile
from mockpanel.state import PanelState, make_clock
from mockpanel.wire import control
from mockpanel.wire.actions import action_table
from mockpanel.wire.api import api
from mockpanel.wire.faults import FaultBook
from mockpanel.wire.journal import Journal
from mockpanel.wire.jsontext import Json, dumps
from mockpanel.wire.keys import (
    ACTIONS,
    BODY_TIMEOUT,
    CONFIG,
    FAILURES,
    FAULTS,
    JOURNAL,
    LIMITER,
    PROFILE,
    SLEEP,
    STATE,
    WEBHOOKS,
)
from mockpanel.wire.params import READ_TIMEOUT, abandon_body, body_abandoned
from mockpanel.wire.ratelimit import RateLimiter, limit_for
from mockpanel.wire.setup import new_state, state_config
from mockpanel.wire.webhooks import WebhookSender

__all__ = ["create_app"]

_log = logging.getLogger("mockpanel")


def _plain_json(status: int, body: Json, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(body), status=status, content_type="application/json", headers=headers
    )


@web.middleware
async def _json_errors(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    """No HTML ever: routing errors become JSON, and an unexpected exception a recorded 500.

    Whatever the answer, the rest of the body is read before it goes (see
    :func:`_finish_body`), so a broken body never turns into a dropped connection.
    """
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        response = _plain_json(exc.status, {"error": exc.reason}, headers)
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
        response = _plain_json(500, body)
    await _finish_body(request, response)
    return response


async def _finish_body(request: web.Request, response: web.StreamResponse) -> None:
    """Read (and drop) what the handler left of the request body, within the size limit and
    the body timeout.

    aiohttp drains an unread body itself after answering, but a body whose Content-Encoding
    or chunking breaks on the way fails there with an unhandled error that closes the
    connection under a client that was told to keep it. Reading it here instead, a broken,
    stalled or oversized remainder makes the answer say ``Connection: close``, and the client
    opens a new connection for its next request.
    """
    content, app = request.content, request.app
    if content.is_eof() and not body_abandoned(request):
        return  # the usual case: the handler read it all, nothing left to wait for
    limit = app[CONFIG].max_body_bytes
    try:
        async with asyncio.timeout(app[BODY_TIMEOUT]):
            while limit > 0 and not content.is_eof():
                chunk = await content.readany()
                if not chunk:
                    break
                limit -= len(chunk)
    except (web.RequestPayloadError, ConnectionError, TimeoutError) as exc:
        abandon_body(request, exc)
    if body_abandoned(request) or not content.is_eof():
        response.force_close()


async def _close_state(app: web.Application) -> None:
    app[STATE].close()  # releases the state file; a no-op for an in-memory panel


def create_app(
    config: MockConfig, *, state_type: type[PanelState] = PanelState
) -> web.Application:
    """A ready mock panel for ``config``: its profile's routes, state, tenants and journal.

    The control API under ``/_mock`` is mounted only when ``config.control_token`` is set.
    ``state_type`` is a test seam: a :class:`PanelState` subclass to host instead of the real
    one (the conformance tests' deliberately broken panels); the mock never passes it.
    """
    profile = get_profile(config.profile)
    if config.state_file is None:
        state = new_state(profile, config, state_type)
    else:  # restored from the file; keys it already holds keep their balance and orders
        state = state_type.open(
            config.state_file,
            state_config(profile, config),
            make_clock(config.clock),
            keys=config.keys,
        )

    # client_max_size makes aiohttp itself refuse a larger body; params.read_params turns
    # that refusal into the profile's BODY_TOO_LARGE error.
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[_json_errors])
    app[CONFIG] = config
    app[PROFILE] = profile
    app[STATE] = state
    app[JOURNAL] = Journal(config.journal_size)
    app[ACTIONS] = action_table(profile)
    app[FAILURES] = []
    limit = limit_for(config, profile)
    app[LIMITER] = None if limit is None else RateLimiter(limit, state.clock)
    app[FAULTS] = FaultBook()
    app[SLEEP] = asyncio.sleep
    app[BODY_TIMEOUT] = READ_TIMEOUT
    app[WEBHOOKS] = WebhookSender(
        profile=profile,
        journal=app[JOURNAL],
        clock=state.clock,
        default_url=config.webhook_url,
        attempts=config.webhook_attempts,
        backoff=config.webhook_backoff,
        timeout=config.webhook_timeout,
        sleep=asyncio.sleep,
        failures=app[FAILURES],
    )
    state.subscribe(app[WEBHOOKS].notice)
    app.cleanup_ctx.append(app[WEBHOOKS].running)
    app.on_cleanup.append(_close_state)
    for path in profile.wire.paths:
        for route in (path, path + "/"):
            app.router.add_post(route, api)
            if Encoding.QUERY in profile.wire.encodings:
                app.router.add_get(route, api)
    if config.control_token is not None:
        control.mount(app, config.control_token)
    return app
