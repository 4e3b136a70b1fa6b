"""A deliberately small SMM panel for the harness's own tests, with switchable defects.

Not the mock (``mockpanel``): this one is a few dozen lines of canonical PerfectPanel behaviour
so that the plugin's tests do not depend on the mock, and so that a defect can be switched on
by one flag. It records every request body it receives, which is how the tests prove what the
harness did (and did not) send.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

KEY = "fake-key-Zq81xv0Lw3"
SECOND_KEY = "fake-second-Kp42mm7"


@dataclass
class Defects:
    """Switches that make the fake break one rule each."""

    unknown_action_html: bool = False  # ERR-005 / GEN-002: HTML for an unknown action
    errors_as_400: bool = False  # ERR-002 (SHOULD): errors with HTTP 400
    echo_key: bool = False  # puts the key it received into its error messages
    accept_any_key: bool = False  # AUTH-002: a wrong key reads the first account


@dataclass
class FakePanel:
    defects: Defects = field(default_factory=Defects)
    balances: dict[str, Decimal] = field(
        default_factory=lambda: {KEY: Decimal("10.00"), SECOND_KEY: Decimal("1.00")}
    )
    bodies: list[bytes] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    orders: dict[str, tuple[str, int, Decimal]] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    def error(self, message: str, key: str = "") -> web.Response:
        if self.defects.echo_key and key:
            message = f"{message} (key {key})"
        status = 400 if self.defects.errors_as_400 else 200
        return web.json_response({"error": message}, status=status)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > 65536:
            return self.error("Request too large")
        raw = await request.read()
        self.bodies.append(raw)
        if request.method != "POST":
            return web.json_response({"error": "Method Not Allowed"}, status=405)
        params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("action", "")
        self.actions.append(action.strip().lower())
        key = params.get("key", "")
        if key not in self.balances:
            if not (self.defects.accept_any_key and key):
                return self.error("Invalid API key", key)
            key = KEY
        if action == "balance":
            return web.json_response({"balance": f"{self.balances[key]:.2f}", "currency": "USD"})
        if action == "services":
            return web.json_response([
                {"service": 1, "name": "Followers", "type": "Default", "category": "Test",
                 "rate": "0.90", "min": "50", "max": "10000", "dripfeed": False,
                 "refill": False, "cancel": True},
            ])
        if action == "add":
            return self.add(key, params)
        if action == "status" and "order" in params:
            return self.status(key, params["order"])
        if action == "status" and "orders" in params:
            ids = [i.strip() for i in params["orders"].split(",") if i.strip()]
            return web.json_response(
                {i: self.status_body(key, i) for i in ids}
            )
        if action == "cancel":
            ids = [i.strip() for i in params.get("orders", "").split(",") if i.strip()]
            return web.json_response([self.cancel(key, i) for i in ids])
        if action in ("refill", "refill_status"):
            return self.error("Incorrect order ID" if action == "refill" else "Refill not found")
        if self.defects.unknown_action_html:
            return web.Response(text="<html>500 oops</html>", content_type="text/html")
        return self.error("Incorrect request")

    def add(self, key: str, params: dict[str, str]) -> web.Response:
        quantity = params.get("quantity", "")
        if params.get("service") != "1" or not quantity.isdigit():
            return self.error("Incorrect request")
        count = int(quantity)
        if not 50 <= count <= 10000:
            return self.error("Quantity out of range")
        charge = (Decimal("0.90") * count / 1000).quantize(Decimal("0.01"))
        if charge > self.balances[key]:
            return self.error("Not enough funds on balance")
        self.balances[key] -= charge
        order_id = str(1000 + len(self.orders))
        self.orders[order_id] = (key, count, charge)
        return web.json_response({"order": int(order_id)})

    def cancel(self, key: str, order_id: str) -> dict[str, object]:
        shown: object = int(order_id) if order_id.isdigit() else order_id
        owner, _, charge = self.orders.get(order_id, ("", 0, Decimal(0)))
        if owner != key or order_id in self.cancelled:
            return {"order": shown, "cancel": {"error": "Incorrect order ID"}}
        self.cancelled.add(order_id)
        self.balances[key] += charge
        return {"order": shown, "cancel": 1}

    def status_body(self, key: str, order_id: str) -> dict[str, str]:
        owner, count, charge = self.orders.get(order_id, ("", 0, Decimal(0)))
        if owner != key:
            return {"error": "Incorrect order ID"}
        status = "Canceled" if order_id in self.cancelled else "Pending"
        return {"charge": f"{charge:.2f}", "start_count": "0", "status": status,
                "remains": str(count), "currency": "USD"}

    def status(self, key: str, order_id: str) -> web.Response:
        body = self.status_body(key, order_id)
        if "error" in body:
            return self.error(body["error"])
        return web.json_response(body)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextmanager
def serve_routes(
    routes: Mapping[str, Handler], *, client_max_size: int = 1024**2
) -> Iterator[str]:
    """Serve ``routes`` (path -> handler, any method) on a free loopback port in a thread;
    yields the base URL (``http://127.0.0.1:PORT``)."""
    app = web.Application(client_max_size=client_max_size)
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    started: Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        stop = asyncio.Event()
        started.set_result((f"http://{host}:{port}", asyncio.get_running_loop(), stop))
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    base, loop, stop = started.result(timeout=10)
    try:
        yield base
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


@contextmanager
def serve(panel: FakePanel) -> Iterator[str]:
    """Serve ``panel`` on a free loopback port in a thread; yields the API URL."""
    with serve_routes({"/api/v2": panel.handle}, client_max_size=8 * 1024 * 1024) as base:
        yield f"{base}/api/v2"
