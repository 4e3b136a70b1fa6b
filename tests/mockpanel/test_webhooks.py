"""Webhooks: every order status change POSTed as seed 004's payload to the panel's or the
tenant's URL, retried with exponential backoff while the receiver fails, every attempt in the
journal. The receivers are aiohttp apps (or a stdlib server) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from harness.contract import validate
from mockpanel.config import MockConfig
from mockpanel.profiles import PROFILES
from mockpanel.server import run_panel
from mockpanel.state import OrderStatus
from mockpanel.wire import create_app, render
from mockpanel.wire.keys import FAILURES, STATE, WEBHOOKS
from mockpanel.wire.setup import new_state

TOKEN = "hook-test-token"
LINK = "https://example.test/post/1"
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


class Mock:
    def __init__(self, client: TestClient[Any, Any], slept: list[float]) -> None:
        self.client = client
        self.slept = slept

    @property
    def app(self) -> web.Application:
        assert self.client.app is not None
        return self.client.app

    async def control(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        response = await self.client.request(
            method, "/_mock" + path, data=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        return response.status, json.loads(await response.text(), parse_float=Decimal)

    async def tenant(self) -> tuple[str, str]:
        status, body = await self.control("POST", "/tenants", {"balance": "100"})
        assert status == 201
        return body["key"], body["tenant"]

    async def place(self, key: str, quantity: int = 1000) -> str:
        response = await self.client.post("/api/v2", data={
            "key": key, "action": "add", "service": "1", "link": LINK, "quantity": str(quantity)
        })
        body = await response.json()
        assert response.status == 200, body
        return str(body["order"])

    async def force(self, order: str, status: str, **numbers: int) -> None:
        code, body = await self.control(
            "POST", f"/orders/{order}/outcome", {"status": status, **numbers}
        )
        assert code == 200, body

    async def delivered(self) -> None:
        """Wait until every queued webhook was delivered or given up."""
        await asyncio.wait_for(self.app[WEBHOOKS].join(), BOUND)

    async def deliveries(self, tenant: str | None = None) -> list[dict[str, Any]]:
        query = "" if tenant is None else f"?tenant={tenant}"
        attempts: list[dict[str, Any]] = (await self.control("GET", "/journal" + query))[1][
            "webhooks"
        ]
        return attempts


MakeMock = Callable[..., Awaitable[Mock]]


@pytest.fixture
def make_mock(aiohttp_client: Any) -> Iterator[Any]:
    made: list[Mock] = []

    async def make(profile: str = "extended", **config: Any) -> Mock:
        config.setdefault("webhook_backoff", 0.25)
        app = create_app(
            MockConfig(profile=profile, control_token=TOKEN, clock="manual", **config)
        )
        slept: list[float] = []

        async def record(seconds: float) -> None:
            slept.append(seconds)

        app[WEBHOOKS].sleep = record  # backoff is recorded, not waited for
        mock = Mock(await aiohttp_client(app), slept)
        made.append(mock)
        return mock

    yield make
    for mock in made:
        assert mock.app[FAILURES] == [], "the mock hit a bug"


async def test_a_status_change_posts_the_004_payload(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    mock = await make_mock(webhook_url=receiver.url)
    key, tenant = await mock.tenant()
    order = await mock.place(key)
    await mock.delivered()
    assert receiver.calls == []  # creating an order is no status change
    await mock.force(order, "Completed", start_count=8421)
    await mock.delivered()
    ((content_type, payload),) = receiver.calls
    assert content_type == "application/json"
    assert payload == {"order_id": int(order), "status": "Completed", "remains": 0,
                       "start_count": 8421, "charge": Decimal("0.90000")}
    # seed 004's types: every number a JSON number, as in its sample
    assert [type(payload[k]) for k in ("order_id", "remains", "start_count")] == [int] * 3
    assert isinstance(payload["charge"], Decimal)
    assert validate("webhook", "response", payload) == []
    (attempt,) = await mock.deliveries(tenant)
    assert attempt == {
        "seq": attempt["seq"], "time": 0.0, "tenant": tenant, "order": order,
        "url": receiver.url, "attempt": 1, "status": 204, "error": None,
        "payload": payload,
        "outcome": "delivered",
    }


async def test_timed_changes_and_api_cancels_arrive_in_order(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    mock = await make_mock(webhook_url=receiver.url)
    key, _ = await mock.tenant()
    running = await mock.place(key, quantity=1000)
    await mock.control("POST", "/clock/advance", {"seconds": 3600})  # past its whole life
    cancelled = await mock.place(key, quantity=500)
    response = await mock.client.post(
        "/api/v2", data={"key": key, "action": "cancel", "orders": cancelled}
    )
    assert response.status == 200
    await mock.delivered()
    assert [(p["order_id"], p["status"]) for p in receiver.payloads] == [
        (int(running), "In progress"), (int(running), "Completed"), (int(cancelled), "Canceled")
    ]
    assert receiver.payloads[0]["remains"] == 1000
    assert receiver.payloads[-1]["remains"] == 500
    assert receiver.payloads[-1]["charge"] == 0  # refunded in full


async def test_a_partial_reports_what_it_costs_now(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    mock = await make_mock(webhook_url=receiver.url)
    key, _ = await mock.tenant()
    order = await mock.place(key, quantity=1000)
    await mock.force(order, "Partial", remains=250)
    await mock.delivered()
    (payload,) = receiver.payloads
    assert (payload["status"], payload["remains"], payload["charge"]) == (
        "Partial", 250, Decimal("0.67500")
    )


async def test_a_failing_receiver_is_retried_with_exponential_backoff(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver(failures=2)
    mock = await make_mock(webhook_url=receiver.url, webhook_backoff=0.25)
    key, tenant = await mock.tenant()
    order = await mock.place(key)
    await mock.force(order, "Completed")
    await mock.delivered()
    assert len(receiver.calls) == 3
    assert receiver.payloads[0] == receiver.payloads[1] == receiver.payloads[2]
    assert mock.slept == [0.25, 0.5]
    attempts = await mock.deliveries(tenant)
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"), (2, 500, "retrying"), (3, 204, "delivered")
    ]


async def test_delivery_gives_up_after_its_attempts_and_the_next_still_goes(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver(failures=3, fail_status=503)
    mock = await make_mock(webhook_url=receiver.url, webhook_attempts=3, webhook_backoff=1)
    key, _ = await mock.tenant()
    first, second = await mock.place(key), await mock.place(key)
    await mock.force(first, "Completed")
    await mock.force(second, "Canceled")
    await mock.delivered()
    attempts = await mock.deliveries()
    assert [(a["order"], a["attempt"], a["outcome"]) for a in attempts] == [
        (first, 1, "retrying"), (first, 2, "retrying"), (first, 3, "gave_up"),
        (second, 1, "delivered"),
    ]
    assert mock.slept == [1, 2]
    assert receiver.payloads[-1]["status"] == "Canceled"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_receiver_is_recorded_with_the_error(make_mock: MakeMock) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    mock = await make_mock(webhook_url=url, webhook_attempts=2)
    key, _ = await mock.tenant()
    order = await mock.place(key)
    await mock.force(order, "Completed")
    await mock.delivered()
    attempts = await mock.deliveries()
    assert [(a["status"], a["outcome"]) for a in attempts] == [
        (None, "retrying"), (None, "gave_up")
    ]
    assert all(a["error"] for a in attempts)


async def test_a_tenant_sets_its_own_url_through_the_control_api(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    mine, panels = await make_receiver(), await make_receiver()
    mock = await make_mock(webhook_url=panels.url)
    (key, tenant), (other, other_tenant) = await mock.tenant(), await mock.tenant()
    assert await mock.control("GET", f"/tenants/{tenant}/webhook") == (
        200, {"tenant": tenant, "url": panels.url, "source": "panel"}
    )
    assert await mock.control("PUT", f"/tenants/{tenant}/webhook", {"url": mine.url}) == (
        200, {"tenant": tenant, "url": mine.url, "source": "tenant"}
    )
    await mock.force(await mock.place(key), "Completed")
    await mock.force(await mock.place(other), "Completed")
    await mock.delivered()
    assert len(mine.calls) == len(panels.calls) == 1
    # null switches the tenant off even though the panel has a URL
    await mock.control("PUT", f"/tenants/{tenant}/webhook", {"url": None})
    await mock.force(await mock.place(key), "Completed")
    await mock.delivered()
    assert len(mine.calls) == len(panels.calls) == 1
    # DELETE returns it to the panel's URL
    assert (await mock.control("DELETE", f"/tenants/{tenant}/webhook"))[1]["source"] == "panel"
    await mock.force(await mock.place(key), "Completed")
    await mock.delivered()
    assert (len(mine.calls), len(panels.calls)) == (1, 2)
    assert {a["tenant"] for a in await mock.deliveries(other_tenant)} == {other_tenant}
    # a panel reset forgets tenants and their URLs
    await mock.control("PUT", f"/tenants/{tenant}/webhook", {"url": mine.url})
    await mock.control("POST", "/reset")
    assert (await mock.control("GET", f"/tenants/{tenant}/webhook"))[0] == 404


async def test_a_tenant_url_works_without_a_panel_url(
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    mock = await make_mock()
    (key, tenant), (other, _) = await mock.tenant(), await mock.tenant()
    await mock.force(await mock.place(key), "Completed")
    await mock.delivered()
    assert await mock.deliveries() == []  # nowhere to send it
    await mock.control("PUT", f"/tenants/{tenant}/webhook", {"url": receiver.url})
    await mock.force(await mock.place(key), "Completed")
    await mock.force(await mock.place(other), "Completed")
    await mock.delivered()
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
    make_mock: MakeMock, path: str, body: Any, status: int, field: str | None
) -> None:
    mock = await make_mock()
    await mock.tenant()
    code, answer = await mock.control("PUT", path, body)
    assert code == status, answer
    assert answer.get("field") == field
    if status == 400:
        assert (await mock.control("GET", "/tenants/t1/webhook"))[1]["source"] == "panel"


async def test_a_profile_without_webhooks_refuses_them(make_mock: MakeMock) -> None:
    mock = await make_mock("reference")
    _, tenant = await mock.tenant()
    code, answer = await mock.control(
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
    make_mock: MakeMock, make_receiver: MakeReceiver
) -> None:
    receiver = await make_receiver()
    mock = await make_mock(webhook_url=receiver.url)
    key, _ = await mock.tenant()
    order = await mock.place(key)
    state = mock.app[STATE]
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: state.set_order_outcome(order, OrderStatus.COMPLETED)
    )
    for _ in range(100):  # the job reaches the loop through call_soon_threadsafe
        await asyncio.sleep(0)
        await mock.delivered()
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
            form = urllib.parse.urlencode(
                {"key": "k", "action": "add", "service": "1", "link": LINK, "quantity": "100"}
            ).encode()
            with urllib.request.urlopen(panel.url, data=form, timeout=BOUND) as response:
                order = json.loads(response.read())["order"]
            request = urllib.request.Request(
                f"{panel.control_url}/orders/{order}/outcome",
                data=json.dumps({"status": "Canceled"}).encode(),
                headers={"Authorization": f"Bearer {TOKEN}"}, method="POST",
            )
            with urllib.request.urlopen(request, timeout=BOUND):
                pass
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
    make_mock: MakeMock, aiohttp_server: Any
) -> None:
    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    rude = web.Application()
    rude.router.add_post("/hook", hang_up)
    server = await aiohttp_server(rude)
    mock = await make_mock(webhook_attempts=1)
    key, tenant = await mock.tenant()
    await mock.control("PUT", f"/tenants/{tenant}/webhook", {"url": str(server.make_url("/hook"))})
    await mock.force(await mock.place(key), "Completed")
    await mock.delivered()
    (attempt,) = await mock.deliveries()
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
