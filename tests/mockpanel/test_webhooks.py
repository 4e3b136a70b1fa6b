"""Webhooks: every order status change POSTed as seed 004's payload to the panel's or the
tenant's URL, retried with exponential backoff while the receiver fails, every attempt in the
journal. The receivers are aiohttp apps (or a stdlib server) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request
from collections.abc import Awaitable, Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiohttp import web

from harness.contract import validate
from mockpanel.config import MockConfig
from mockpanel.profiles import PROFILES
from mockpanel.server import run_panel
from mockpanel.state import OrderStatus
from mockpanel.wire import create_app, render
from mockpanel.wire.keys import FAILURES, STATE
from mockpanel.wire.setup import new_state
from tests.fixtures.constants import LINK, TOKEN
from tests.fixtures.inprocess import MakePanel
from tests.fixtures.plain_http import exchange, post

BOUND = 10.0  # seconds a test waits for a delivery at most (never asserted as a duration)


class Receiver:
    """A webhook receiver that answers ``fail_status`` to its first ``failures`` calls."""

    def __init__(self, failures: int = 0, fail_status: int = 500) -> None:
        self.failures = failures
        self.fail_status = fail_status
        self.calls: list[tuple[str, Any]] = []  # (content type, decoded body)
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(
            (request.content_type, json.loads(await request.text(), parse_float=Decimal))
        )
        if len(self.calls) <= self.failures:
            return web.Response(status=self.fail_status, text="not now")
        return web.Response(status=204)

    @property
    def payloads(self) -> list[Any]:
        return [body for _, body in self.calls]


MakeReceiver = Callable[..., Awaitable[Receiver]]


@pytest.fixture
def make_receiver(aiohttp_server: Any) -> MakeReceiver:
    async def make(failures: int = 0, fail_status: int = 500) -> Receiver:
        receiver = Receiver(failures, fail_status)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        server = await aiohttp_server(app)
        receiver.url = str(server.make_url("/hook"))
        return receiver

    return make


async def test_a_status_change_posts_the_004_payload(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    panel = await make_panel("extended", webhook_url=receiver.url)
    key, tenant = await panel.open_tenant()
    order = await panel.place(key)
    await panel.delivered()
    assert receiver.calls == []  # creating an order is no status change
    await panel.force(order, "Completed", start_count=8421)
    await panel.delivered()
    ((content_type, payload),) = receiver.calls
    assert content_type == "application/json"
    assert payload == {"order_id": int(order), "status": "Completed", "remains": 0,
                       "start_count": 8421, "charge": Decimal("0.90000")}
    # seed 004's types: every number a JSON number, as in its sample
    assert [type(payload[k]) for k in ("order_id", "remains", "start_count")] == [int] * 3
    assert isinstance(payload["charge"], Decimal)
    assert validate("webhook", "response", payload) == []
    (attempt,) = await panel.deliveries(tenant)
    assert attempt == {
        "seq": attempt["seq"], "time": 0.0, "tenant": tenant, "order": order,
        "url": receiver.url, "attempt": 1, "status": 204, "error": None,
        "payload": payload,
        "outcome": "delivered",
    }


async def test_timed_changes_and_api_cancels_arrive_in_order(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    panel = await make_panel("extended", webhook_url=receiver.url)
    key, _ = await panel.open_tenant()
    running = await panel.place(key, quantity=1000)
    await panel.control("POST", "/clock/advance", {"seconds": 3600})  # past its whole life
    cancelled = await panel.place(key, quantity=500)
    response = await panel.client.post(
        "/api/v2", data={"key": key, "action": "cancel", "orders": cancelled}
    )
    assert response.status == 200
    await panel.delivered()
    assert [(p["order_id"], p["status"]) for p in receiver.payloads] == [
        (int(running), "In progress"), (int(running), "Completed"), (int(cancelled), "Canceled")
    ]
    assert receiver.payloads[0]["remains"] == 1000
    assert receiver.payloads[-1]["remains"] == 500
    assert receiver.payloads[-1]["charge"] == 0  # refunded in full


async def test_a_partial_reports_what_it_costs_now(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    panel = await make_panel("extended", webhook_url=receiver.url)
    key, _ = await panel.open_tenant()
    order = await panel.place(key, quantity=1000)
    await panel.force(order, "Partial", remains=250)
    await panel.delivered()
    (payload,) = receiver.payloads
    assert (payload["status"], payload["remains"], payload["charge"]) == (
        "Partial", 250, Decimal("0.67500")
    )


async def test_a_failing_receiver_is_retried_with_exponential_backoff(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver(failures=2)
    panel = await make_panel("extended", webhook_url=receiver.url, webhook_backoff=0.25)
    key, tenant = await panel.open_tenant()
    order = await panel.place(key)
    await panel.force(order, "Completed")
    await panel.delivered()
    assert len(receiver.calls) == 3
    assert receiver.payloads[0] == receiver.payloads[1] == receiver.payloads[2]
    assert panel.slept == [0.25, 0.5]
    attempts = await panel.deliveries(tenant)
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"), (2, 500, "retrying"), (3, 204, "delivered")
    ]


async def test_delivery_gives_up_after_its_attempts_and_the_next_still_goes(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver(failures=3, fail_status=503)
    panel = await make_panel(
        "extended", webhook_url=receiver.url, webhook_attempts=3, webhook_backoff=1
    )
    key, _ = await panel.open_tenant()
    first, second = await panel.place(key), await panel.place(key)
    await panel.force(first, "Completed")
    await panel.force(second, "Canceled")
    await panel.delivered()
    attempts = await panel.deliveries()
    assert [(a["order"], a["attempt"], a["outcome"]) for a in attempts] == [
        (first, 1, "retrying"), (first, 2, "retrying"), (first, 3, "gave_up"),
        (second, 1, "delivered"),
    ]
    assert panel.slept == [1, 2]
    assert receiver.payloads[-1]["status"] == "Canceled"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_receiver_is_recorded_with_the_error(make_panel: MakePanel) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    panel = await make_panel("extended", webhook_url=url, webhook_attempts=2)
    key, _ = await panel.open_tenant()
    order = await panel.place(key)
    await panel.force(order, "Completed")
    await panel.delivered()
    attempts = await panel.deliveries()
    assert [(a["status"], a["outcome"]) for a in attempts] == [
        (None, "retrying"), (None, "gave_up")
    ]
    assert all(a["error"] for a in attempts)


async def test_a_tenant_sets_its_own_url_through_the_control_api(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    mine, panels = await make_receiver(), await make_receiver()
    panel = await make_panel("extended", webhook_url=panels.url)
    (key, tenant), (other, other_tenant) = await panel.open_tenant(), await panel.open_tenant()
    assert await panel.control("GET", f"/tenants/{tenant}/webhook") == (
        200, {"tenant": tenant, "url": panels.url, "source": "panel"}
    )
    assert await panel.control("PUT", f"/tenants/{tenant}/webhook", {"url": mine.url}) == (
        200, {"tenant": tenant, "url": mine.url, "source": "tenant"}
    )
    await panel.force(await panel.place(key), "Completed")
    await panel.force(await panel.place(other), "Completed")
    await panel.delivered()
    assert len(mine.calls) == len(panels.calls) == 1
    # null switches the tenant off even though the panel has a URL
    await panel.control("PUT", f"/tenants/{tenant}/webhook", {"url": None})
    await panel.force(await panel.place(key), "Completed")
    await panel.delivered()
    assert len(mine.calls) == len(panels.calls) == 1
    # DELETE returns it to the panel's URL
    assert (await panel.control("DELETE", f"/tenants/{tenant}/webhook"))[1]["source"] == "panel"
    await panel.force(await panel.place(key), "Completed")
    await panel.delivered()
    assert (len(mine.calls), len(panels.calls)) == (1, 2)
    assert {a["tenant"] for a in await panel.deliveries(other_tenant)} == {other_tenant}
    # a panel reset forgets tenants and their URLs
    await panel.control("PUT", f"/tenants/{tenant}/webhook", {"url": mine.url})
    await panel.control("POST", "/reset")
    assert (await panel.control("GET", f"/tenants/{tenant}/webhook"))[0] == 404


async def test_a_tenant_url_works_without_a_panel_url(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    panel = await make_panel("extended")
    (key, tenant), (other, _) = await panel.open_tenant(), await panel.open_tenant()
    await panel.force(await panel.place(key), "Completed")
    await panel.delivered()
    assert await panel.deliveries() == []  # nowhere to send it
    await panel.control("PUT", f"/tenants/{tenant}/webhook", {"url": receiver.url})
    await panel.force(await panel.place(key), "Completed")
    await panel.force(await panel.place(other), "Completed")
    await panel.delivered()
    assert len(receiver.calls) == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/tenants/t99/webhook", {"url": "http://127.0.0.1:1/h"}, 404, None),
        ("/tenants/t1/webhook", {}, 400, "url"),
        ("/tenants/t1/webhook", {"url": "ftp://127.0.0.1/h"}, 400, "url"),
        ("/tenants/t1/webhook", {"url": "http://"}, 400, "url"),
        ("/tenants/t1/webhook", {"url": "http://127.0.0.1:port/h"}, 400, "url"),
        ("/tenants/t1/webhook", {"url": 5}, 400, "url"),
        ("/tenants/t1/webhook", {"url": "http://127.0.0.1/h", "secret": "x"}, 400, "secret"),
    ],
)
async def test_a_bad_webhook_setting_is_refused(
    make_panel: MakePanel, path: str, body: Any, status: int, field: str | None
) -> None:
    panel = await make_panel("extended")
    await panel.open_tenant()
    code, answer = await panel.control("PUT", path, body)
    assert code == status, answer
    assert answer.get("field") == field
    if status == 400:
        assert (await panel.control("GET", "/tenants/t1/webhook"))[1]["source"] == "panel"


async def test_a_profile_without_webhooks_refuses_them(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    _, tenant = await panel.open_tenant()
    code, answer = await panel.control(
        "PUT", f"/tenants/{tenant}/webhook", {"url": "http://127.0.0.1:1/h"}
    )
    assert (code, answer) == (409, {"error": "profile reference does not send webhooks"})
    with pytest.raises(ValueError, match="does not send webhooks"):
        MockConfig(profile="smmhub", webhook_url="http://127.0.0.1:1/h")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"webhook_url": "mailto:x@example.test"}, "webhook_url"),
        ({"webhook_attempts": 0}, "webhook_attempts"),
        ({"webhook_attempts": 21}, "webhook_attempts"),
        ({"webhook_backoff": -1}, "webhook_backoff"),
        ({"webhook_backoff": float("nan")}, "webhook_backoff"),
        ({"webhook_timeout": 0}, "webhook_timeout"),
    ],
)
def test_config_refuses_bad_webhook_settings(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MockConfig(profile="extended", **config)


def test_the_config_repr_shows_only_the_receivers_origin() -> None:
    config = MockConfig(profile="extended", webhook_url="https://u:pw@hooks.test:8443/s3cr3t?t=1")
    assert "webhook_url='https://hooks.test:8443/...'" in repr(config)
    assert "s3cr3t" not in repr(config)
    assert "pw" not in repr(config)


async def test_a_change_made_from_another_thread_is_delivered(
    make_panel: MakePanel, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    panel = await make_panel("extended", webhook_url=receiver.url)
    key, _ = await panel.open_tenant()
    order = await panel.place(key)
    state = panel.app[STATE]
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: state.set_order_outcome(order, OrderStatus.COMPLETED)
    )
    for _ in range(100):  # the job reaches the loop through call_soon_threadsafe
        await asyncio.sleep(0)
        await panel.delivered()
        if receiver.calls:
            break
    assert [p["status"] for p in receiver.payloads] == ["Completed"]


def test_without_a_webhook_style_each_number_keeps_its_own_style() -> None:
    """Only extended sends webhooks today; a profile without ``Numbers.webhook`` (a future
    one) renders the payload the way its status answers render those fields."""
    reference = PROFILES["reference"]
    state = new_state(reference, MockConfig())
    tenant, _ = state.create_tenant(Decimal(100))
    order = state.place_order(tenant, "1", {"link": LINK, "quantity": "1000"})
    view = state.set_order_outcome(order.id, OrderStatus.PARTIAL, remains=157, start_count=3572)
    payload = render.webhook(reference, view)
    assert payload == {"order_id": int(order.id), "status": "Partial", "remains": "157",
                       "start_count": "3572", "charge": "0.75870"}
    assert validate("webhook", "response", payload) == []


class _Collector(BaseHTTPRequestHandler):
    received: list[Any] = []  # noqa: RUF012 -- one test's inbox, reset by the test
    arrived = threading.Event()

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        type(self).arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


def test_over_real_sockets_with_the_cli_flag() -> None:
    from mockpanel.cli import _config, build_parser

    _Collector.received, _Collector.arrived = [], threading.Event()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        config, _ = _config(build_parser().parse_args([
            "serve", "--profile", "extended", "--webhook-url", url, "--key", "k=10.00",
            "--control-token", TOKEN, "--clock", "manual",
        ]))
        assert config.webhook_url == url
        with run_panel(config) as panel:
            status, added = post(panel.url, key="k", action="add", service="1", link=LINK,
                                 quantity="100")
            assert status == 200, added
            order = added["order"]
            request = urllib.request.Request(
                f"{panel.control_url}/orders/{order}/outcome",
                data=json.dumps({"status": "Canceled"}).encode(),
                headers={"Authorization": f"Bearer {TOKEN}"}, method="POST",
            )
            assert exchange(request).status == 200
            assert _Collector.arrived.wait(BOUND)
            assert panel.failures == ()
        assert _Collector.received == [
            {"order_id": order, "status": "Canceled", "remains": 100, "start_count": 0,
             "charge": 0.0}
        ]
    finally:
        receiver.shutdown()
        receiver.server_close()


async def test_changes_after_the_app_stopped_are_not_sent(
    aiohttp_client: Any, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    app = create_app(MockConfig(profile="extended", control_token=TOKEN, clock="manual",
                                webhook_url=receiver.url))
    client = await aiohttp_client(app)
    state = app[STATE]
    tenant, _ = state.create_tenant(Decimal(10))
    order = state.place_order(tenant, "1", {"link": LINK, "quantity": "100"})
    await client.close()  # cleanup_ctx stops the worker
    state.set_order_outcome(order.id, OrderStatus.COMPLETED)  # must not raise
    assert receiver.calls == []
    assert app[FAILURES] == []


async def test_a_receiver_that_hangs_up_is_a_failed_attempt_not_a_mock_bug(
    make_panel: MakePanel, aiohttp_server: Any
) -> None:
    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    rude = web.Application()
    rude.router.add_post("/hook", hang_up)
    server = await aiohttp_server(rude)
    panel = await make_panel("extended", webhook_attempts=1)
    key, tenant = await panel.open_tenant()
    await panel.control("PUT", f"/tenants/{tenant}/webhook", {"url": str(server.make_url("/hook"))})
    await panel.force(await panel.place(key), "Completed")
    await panel.delivered()
    (attempt,) = await panel.deliveries()
    assert (attempt["status"], attempt["outcome"]) == (None, "gave_up")
    assert attempt["error"]


def test_the_cli_refuses_a_webhook_url_for_a_profile_without_webhooks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mockpanel.cli import _config, build_parser

    args = build_parser().parse_args(["serve", "--webhook-url", "http://127.0.0.1:1/h"])
    with pytest.raises(SystemExit):
        _config(args)  # the reference profile sends no webhooks
    assert "does not send webhooks" in capsys.readouterr().err
