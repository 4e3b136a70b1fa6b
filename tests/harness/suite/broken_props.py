"""Panels the property suite (``harness/suite/test_13_properties.py``) must fail, served in a
process of their own: the reference mock with one rule broken, as in the broken-panels matrix.

Run one on a free port (it prints its API URL, then serves until stdin closes)::

    BROKEN_PROPS_KEY='k=500.00' python tests/harness/suite/broken_props.py serve NAME
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal

from aiohttp import web
from aiohttp.typedefs import Handler

from mockpanel.config import MockConfig
from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import PanelState, Tenant
from mockpanel.state.orders import OrderView
from mockpanel.state.params import validate_add
from mockpanel.wire.app import create_app

__all__ = ["FEE", "PANELS"]

FEE = Decimal("0.01")
_LARGE = 16 * 1024


class FeeOnRefusedOrders(PanelState):
    """Refuses a malformed ``add`` as it should, but first takes a 0.01 processing fee."""

    def place_order(self, tenant: Tenant, service: str, params: Mapping[str, str]) -> OrderView:
        try:
            return super().place_order(tenant, service, params)
        except DomainError as refused:
            if refused.code is not ErrorCode.INSUFFICIENT_FUNDS:
                with self._lock:
                    self._ledger.debit(tenant.id, FEE)
            raise


class OverchargesLargeOrders(PanelState):
    """Charges 0.01 too much for an order of more than twice its service's minimum."""

    def place_order(self, tenant: Tenant, service: str, params: Mapping[str, str]) -> OrderView:
        view = super().place_order(tenant, service, params)
        request = validate_add(self._catalog, service, params, self._amounts)
        if request.quantity > 2 * request.service.min:
            with self._lock:
                self._ledger.debit(tenant.id, FEE)
        return view


@web.middleware
async def _crash_on_large_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A body over 16 KiB (an oversized link or comment list) crashes the panel: HTTP 500."""
    if (request.content_length or 0) > _LARGE:
        return web.json_response({"error": "Internal Server Error"}, status=500)
    return await handler(request)


def _plain(config: MockConfig) -> web.Application:
    return create_app(config)


def _fee(config: MockConfig) -> web.Application:
    return create_app(config, state_type=FeeOnRefusedOrders)


def _overcharge(config: MockConfig) -> web.Application:
    return create_app(config, state_type=OverchargesLargeOrders)


def _crash(config: MockConfig) -> web.Application:
    app = create_app(config)
    app.middlewares.append(_crash_on_large_bodies)
    return app


PANELS: Mapping[str, Callable[[MockConfig], web.Application]] = {
    "unbroken": _plain,
    "fee-on-refused-orders": _fee,
    "500-on-large-bodies": _crash,
    "overcharges-large-orders": _overcharge,
}


async def _serve(name: str, config: MockConfig) -> None:
    runner = web.AppRunner(PANELS[name](config), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"http://{host}:{port}/api/v2", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "serve" or argv[1] not in PANELS:
        print(f"usage: broken_props.py serve {'|'.join(PANELS)}", file=sys.stderr)
        return 2
    key, _, balance = os.environ["BROKEN_PROPS_KEY"].rpartition("=")
    config = MockConfig(profile="reference", keys=((key, Decimal(balance)),), clock="real",
                        rate_limit="off")
    asyncio.run(_serve(argv[1], config))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
