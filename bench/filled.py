"""A mock panel served with N orders already stored: the "state has grown" side of a bench.

``python -m bench.filled --orders N`` builds the very app ``mockpanel serve`` builds (same
``MockConfig``: journal on, manual clock, control API), places N orders through
``PanelState.place_order`` before it listens, then prints ``filled: <url>``. The key and the
control token come from the environment (``BENCH_KEY``, ``BENCH_TOKEN``), never argv.
``--orders 0`` is the empty panel it is compared with, served by this same script so the two
differ in nothing but the stored orders.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from decimal import Decimal

from aiohttp import web

from mockpanel.config import MockConfig
from mockpanel.state import OrderView, PanelState, Tenant
from mockpanel.wire.app import create_app
from mockpanel.wire.keys import STATE

__all__ = ["FILL_LINK", "FILL_QUANTITY", "FILL_SERVICE", "build_app", "fill", "main"]

# The cheapest order of the default catalogue (TikTok Views at its minimum); each stored
# order gets its own link, as real orders do, so the strings are part of what is measured.
FILL_SERVICE = "2"
FILL_QUANTITY = "10"
FILL_LINK = "https://example.test/p/{}"


def fill(state: PanelState, tenant: Tenant, count: int) -> OrderView | None:
    """Place ``count`` orders for ``tenant``; the last one placed (None for zero)."""
    last = None
    for index in range(count):
        params = {"link": FILL_LINK.format(index), "quantity": FILL_QUANTITY}
        last = state.place_order(tenant, FILL_SERVICE, params)
    return last


def build_app(key: str, balance: Decimal, token: str, orders: int) -> web.Application:
    """The ``mockpanel serve --clock manual`` app with ``orders`` stored for ``key``'s tenant."""
    app = create_app(MockConfig(keys=((key, balance),), control_token=token, clock="manual"))
    state = app[STATE]
    tenant = state.authenticate(key)
    if tenant is None:  # the config just opened it: anything else is a mock bug
        raise RuntimeError("the configured key has no tenant")
    fill(state, tenant, orders)
    return app


async def _serve(app: web.Application, host: str, port: int, orders: int, took: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # The runner settings of mockpanel.server: no access log (it would print keys).
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        print(f"filled {orders} orders in {took:.1f} s", flush=True)
        print(f"filled: http://{bound_host}:{bound_port}/api/v2", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.filled", description=__doc__)
    parser.add_argument("--orders", type=int, required=True, help="orders to store first")
    parser.add_argument("--balance", type=Decimal, default=Decimal("1000000000.00"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.orders < 0:
        parser.error(f"--orders must be >= 0, got {args.orders}")
    key, token = os.environ.get("BENCH_KEY"), os.environ.get("BENCH_TOKEN")
    if not key or not token:
        parser.error("set BENCH_KEY and BENCH_TOKEN in the environment")
    started = time.perf_counter()
    app = build_app(key, args.balance, token, args.orders)
    took = time.perf_counter() - started
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve(app, args.host, args.port, args.orders, took))
    return 0


if __name__ == "__main__":
    sys.exit(main())
