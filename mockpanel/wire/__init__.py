"""The mock panel's aiohttp layer: app factory, request decoding, actions, rendering, journal,
control API. :func:`create_app` is the entry point."""

from __future__ import annotations

from mockpanel.wire.app import create_app

__all__ = ["create_app"]
