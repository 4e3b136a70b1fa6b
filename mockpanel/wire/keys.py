"""Typed keys for everything the mock's ``web.Application`` holds (no module-level state)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from mockpanel.config import MockConfig
from mockpanel.profiles import Profile
from mockpanel.state import PanelState
from mockpanel.wire.actions import Action
from mockpanel.wire.journal import Journal

__all__ = ["ACTIONS", "CONFIG", "FAILURES", "JOURNAL", "PROFILE", "STATE"]

CONFIG = web.AppKey("config", MockConfig)
PROFILE = web.AppKey("profile", Profile)
STATE = web.AppKey("state", PanelState)
JOURNAL = web.AppKey("journal", Journal)
# The profile's action names, each bound to its handler function (built once per app).
ACTIONS = web.AppKey("actions", Mapping[str, Action])
# Unexpected exceptions the mock hit while answering (each also answered as a JSON 500 and
# journaled), so a test fixture can re-raise them: a mock bug must never pass as vendor behaviour.
FAILURES = web.AppKey("failures", list[BaseException])
