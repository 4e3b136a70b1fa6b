"""Typed keys for everything the mock's ``web.Application`` holds (no module-level state)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from mockpanel.config import MockConfig
from mockpanel.profiles import Profile
from mockpanel.state import PanelState
from mockpanel.wire.actions import Action
from mockpanel.wire.faults import FaultBook
from mockpanel.wire.journal import Journal
from mockpanel.wire.ratelimit import RateLimiter
from mockpanel.wire.timer import DueTimer
from mockpanel.wire.webhooks import Sleep, WebhookSender

__all__ = [
    "ACTIONS",
    "BODY_TIMEOUT",
    "CONFIG",
    "DUE_TIMER",
    "FAILURES",
    "FAULTS",
    "JOURNAL",
    "LIMITER",
    "PROFILE",
    "SLEEP",
    "STATE",
    "WEBHOOKS",
]

CONFIG = web.AppKey("config", MockConfig)
PROFILE = web.AppKey("profile", Profile)
STATE = web.AppKey("state", PanelState)
JOURNAL = web.AppKey("journal", Journal)
# The profile's action names, each bound to its handler function (built once per app).
ACTIONS = web.AppKey("actions", Mapping[str, Action])
# Unexpected exceptions the mock hit while answering (each also answered as a JSON 500 and
# journaled), so a test fixture can re-raise them: a mock bug must never pass as vendor behaviour.
FAILURES = web.AppKey("failures", list[BaseException])
# The request budget in force (None: no limit), the fault rules, and the webhook sender.
LIMITER: web.AppKey[RateLimiter | None] = web.AppKey("limiter")
FAULTS = web.AppKey("faults", FaultBook)
WEBHOOKS = web.AppKey("webhooks", WebhookSender)
# Applies the timed transitions (and so sends their webhooks) when they fall due.
DUE_TIMER = web.AppKey("due_timer", DueTimer)
# How the panel waits (delay faults, webhook backoff): asyncio.sleep, replaceable in tests.
SLEEP: web.AppKey[Sleep] = web.AppKey("sleep")
# Seconds a request body may take to arrive in full (params.READ_TIMEOUT unless a test says).
BODY_TIMEOUT = web.AppKey("body_timeout", float)
