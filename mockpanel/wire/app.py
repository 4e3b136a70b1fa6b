"""The application factory: ``create_app(config)`` wires state, profile, journal and routes.

The API view itself is :class:`mockpanel.wire.api.ApiView` (budget, faults, action,
journal); this module builds what it needs: the state, the rate limiter, the fault book, the
webhook sender and the due timer (both started and stopped with the app) and the journal.
Every refusal is a :class:`DomainError` rendered in the profile's wording and status; anything
else that goes wrong is a mock bug, answered as a JSON 500 that is journaled and kept in
``app[FAILURES]`` so no test can mistake it for vendor behaviour (:mod:`mockpanel.wire.safety`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from mockpanel.config import MockConfig
from mockpanel.profiles import Encoding
from mockpanel.state import PanelState, make_clock
from mockpanel.wire import control
from mockpanel.wire.actions import action_table
from mockpanel.wire.api import ApiView
from mockpanel.wire.decoding import READ_TIMEOUT
from mockpanel.wire.faults import FaultBook
from mockpanel.wire.journal import Journal
from mockpanel.wire.keys import (
    ACTIONS,
    BODY_TIMEOUT,
    CONFIG,
    DUE_TIMER,
    FAILURES,
    FAULTS,
    JOURNAL,
    LIMITER,
    PROFILE,
    SLEEP,
    STATE,
    WEBHOOKS,
)
from mockpanel.wire.ratelimit import RateLimiter, limit_for
from mockpanel.wire.recorder import TrafficRecorder
from mockpanel.wire.safety import safe, unrouted
from mockpanel.wire.setup import new_state, state_config
from mockpanel.wire.timer import DueTimer
from mockpanel.wire.webhooks import WebhookSender

__all__ = ["create_app"]


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
    profile = config.dialect
    if config.state_file is None:
        state = new_state(profile, config, state_type)
    else:  # restored from the file; keys it already holds keep their balance and orders
        state = state_type.open(
            config.state_file,
            state_config(profile, config),
            make_clock(config.clock),
            keys=config.keys,
        )

    # client_max_size makes aiohttp itself refuse a larger body; decoding.read_params turns
    # that refusal into the profile's BODY_TOO_LARGE error. No middleware: every route is
    # wrapped in safety.safe instead (see there why), or has its net built in (the API view).
    app = web.Application(client_max_size=config.max_body_bytes)
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
    if config.record is not None:
        # --record: the one middleware, present only when asked for (mockpanel.wire.recorder).
        recorder = TrafficRecorder(
            Path(config.record),
            secrets=[key for key, _ in config.keys] + [config.control_token or ""],
            max_body_bytes=config.max_body_bytes,
        )
        app.middlewares.append(recorder.middleware())
        app.cleanup_ctx.append(recorder.running)
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
    # After the sender (so it is listening when the timer first fires), stopped before it.
    app[DUE_TIMER] = DueTimer(state, app[FAILURES])
    app.cleanup_ctx.append(app[DUE_TIMER].running)
    app.on_cleanup.append(_close_state)
    api = ApiView()
    app.on_startup.append(api.bind)  # after the tests' seams, before the first request
    view = api.handle  # (its safety net is built in: see ApiView.handle)
    for path in profile.wire.paths:
        for route in (path, path + "/"):
            app.router.add_post(route, view)
            if Encoding.QUERY in profile.wire.encodings:
                app.router.add_get(route, view)
    if config.control_token is not None:
        control.mount(app, config.control_token)
    app.router.add_route("*", "/{path:.*}", safe(unrouted))  # JSON 404/405, never HTML
    return app
