"""Timed transitions applied, and their webhooks sent, when they fall due with nothing else
happening (issue 22): seed 004 says the vendor POSTs every order status change, so a receiver
that waits for the push without polling must hear of an order starting and finishing.

These panels run on the real clock with lifecycles of a fraction of a second. After the order
is placed no test sends the panel a request until the pushes it waits for have arrived: a
transition applied lazily, by the next request, would never arrive. Waits are bounded
(``BOUND``), never asserted as durations beyond "not before it was due".
"""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from mockpanel.config import MockConfig
from mockpanel.state import LifecycleTimings, OrderStatus, OrderView
from mockpanel.state.persistence import Fingerprint, Store
from mockpanel.wire import create_app
from mockpanel.wire.keys import DUE_TIMER, FAILURES, STATE
from mockpanel.wire.timer import DueTimer
from tests.fixtures.constants import DEFAULT_SERVICE, LINK, TOKEN
from tests.fixtures.inprocess import MakePanel

BOUND = 10.0  # seconds a test waits for a push at most
QUICK = LifecycleTimings(order_pending=0.2, order_in_progress=0.3)


class Inbox:
    """A webhook receiver: every POSTed payload, in arrival order, with the loop time of its
    arrival; :meth:`next` waits for the next one."""

    def __init__(self) -> None:
        self.arrivals: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        payload = json.loads(await request.text(), parse_float=Decimal)
        await self.arrivals.put((asyncio.get_running_loop().time(), payload))
        return web.Response(status=204)

    async def next(self) -> tuple[float, Any]:
        return await asyncio.wait_for(self.arrivals.get(), BOUND)


@pytest.fixture
async def inbox(aiohttp_server: Any) -> Inbox:
    receiver = Inbox()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = str(server.make_url("/hook"))
    return receiver


def _live_loop_timers() -> list[asyncio.TimerHandle]:
    """The live (not cancelled) timed callbacks of the running loop.

    Reads the loop's private heap on purpose: it is where a timer per order would show up,
    whatever the timer object itself claims.
    """
    loop: Any = asyncio.get_running_loop()
    scheduled: list[asyncio.TimerHandle] = loop._scheduled
    return [handle for handle in scheduled if not handle.cancelled()]


def _timer_handles(timer: DueTimer) -> list[asyncio.TimerHandle]:
    """The live handles of the running loop that fire ``timer``."""
    handles: list[Any] = _live_loop_timers()
    return [h for h in handles if getattr(h._callback, "__self__", None) is timer]


async def test_an_idle_panel_pushes_in_progress_then_completed(
    make_panel: MakePanel, inbox: Inbox
) -> None:
    panel = await make_panel("extended", clock="real", timings=QUICK, webhook_url=inbox.url)
    key = await panel.tenant()
    placed_at = asyncio.get_running_loop().time()
    order = int(await panel.place(key, quantity=1000))
    # From here on: no request to the panel, only waiting for its pushes.
    started_at, started = await inbox.next()
    finished_at, finished = await inbox.next()
    assert (started["order_id"], started["status"], started["remains"]) == (
        order, "In progress", 1000
    )
    assert (finished["order_id"], finished["status"], finished["remains"]) == (
        order, "Completed", 0
    )
    assert finished["charge"] == Decimal("0.90000")
    # on time, not early: each push comes only once its phase is over
    assert started_at - placed_at >= QUICK.order_pending
    assert finished_at - placed_at >= QUICK.order_pending + QUICK.order_in_progress
    assert inbox.arrivals.empty()
    assert not panel.app[DUE_TIMER].armed  # nothing scheduled any more: no timer either


async def test_an_order_placed_from_another_thread_is_pushed_too(
    make_panel: MakePanel, inbox: Inbox
) -> None:
    panel = await make_panel("extended", clock="real", timings=QUICK, webhook_url=inbox.url)
    key = await panel.tenant()
    state = panel.app[STATE]
    owner = state.authenticate(key)
    assert owner is not None
    placed = await asyncio.get_running_loop().run_in_executor(
        None, lambda: state.place_order(owner, DEFAULT_SERVICE, {"link": LINK, "quantity": "100"})
    )
    statuses = [(await inbox.next())[1] for _ in range(2)]
    assert [(p["order_id"], p["status"]) for p in statuses] == [
        (int(placed.id), "In progress"), (int(placed.id), "Completed")
    ]


async def test_many_stored_orders_keep_one_timer_and_one_settle_applies_them_all(
    make_panel: MakePanel,
) -> None:
    timings = LifecycleTimings(order_pending=60.0, order_in_progress=0.2)
    panel = await make_panel("extended", clock="real", timings=timings)
    key = await panel.tenant()
    await panel.place(key)  # through the request path: the first event arms the timer
    timer, state = panel.app[DUE_TIMER], panel.app[STATE]
    assert len(_timer_handles(timer)) == 1
    before = len(_live_loop_timers())
    owner = state.authenticate(key)
    assert owner is not None
    count = 1000
    for _ in range(count):  # each a later event than the first: none moves the timer
        state.place_order(owner, DEFAULT_SERVICE, {"link": LINK, "quantity": "100"})
    assert len(state.orders(owner)) == count + 1
    assert len(_timer_handles(timer)) == 1
    assert len(_live_loop_timers()) == before  # no handle per order, on the loop at all
    assert timer.firings == 0

    heard: list[OrderView] = []
    everything_heard = asyncio.Event()

    def listen(view: OrderView) -> None:
        heard.append(view)
        if len(heard) == 2 * (count + 1):
            everything_heard.set()

    state.subscribe(listen)
    # The clock jumps to just before the orders start: the timer, armed for a minute of real
    # time, must re-arm for the half second now left (no request follows the advance).
    await panel.advance(timings.order_pending - 0.5)
    assert heard == []
    await asyncio.wait_for(everything_heard.wait(), BOUND)
    assert [v.status for v in heard[: count + 1]] == [OrderStatus.IN_PROGRESS] * (count + 1)
    assert [v.status for v in heard[count + 1 :]] == [OrderStatus.COMPLETED] * (count + 1)
    # a firing settles everything due by then; 2 * 1001 transitions took a handful of firings
    assert 2 <= timer.firings <= 20
    assert state.next_due == float("inf")
    assert not timer.armed
    assert _timer_handles(timer) == []


async def test_an_earlier_event_rearms_the_timer(make_panel: MakePanel) -> None:
    timings = LifecycleTimings(
        order_pending=60.0, order_in_progress=60.0, refill_pending=0.2, refill_in_progress=0.2
    )
    panel = await make_panel("extended", clock="real", timings=timings)
    key = await panel.tenant()
    await panel.place(key)  # a minute away: the timer is armed for it
    refill = await panel.refill_of(key, await panel.place(key))  # a fifth of a second away
    timer = panel.app[DUE_TIMER]
    assert timer.firings == 0
    # no request until the refill's two phases are over (the timer must fire for both)
    for _ in range(int(BOUND / 0.05)):
        if timer.firings >= 2:
            break
        await asyncio.sleep(0.05)
    assert timer.firings >= 2
    state = panel.app[STATE]
    assert state.next_due > state.clock.now() + 50  # only the minute-away order is left
    (stored,) = state.snapshot()["refills"]
    assert (stored["id"], stored["status"]) == (refill, "Completed")


async def test_a_durable_state_file_records_the_completion_the_timer_applied(
    aiohttp_client: Any, inbox: Inbox, tmp_path: Path
) -> None:
    path = tmp_path / "panel.sqlite"
    app = create_app(MockConfig(
        profile="extended", keys=(("k", Decimal(10)),), clock="real", timings=QUICK,
        state_file=str(path), webhook_url=inbox.url,
    ))
    client = await aiohttp_client(app)
    added = await client.post(
        "/api/v2", data={"key": "k", "action": "add", "service": "1", "link": LINK,
                         "quantity": "100"},
    )
    order = str(json.loads(await added.text())["order"])
    statuses = [(await inbox.next())[1]["status"] for _ in range(2)]
    assert statuses == ["In progress", "Completed"]  # a listener hears only what is committed
    config = app[STATE].config
    await client.close()  # the timer stops, then the state file is closed
    assert app[FAILURES] == []
    store = Store.open(path, Fingerprint.of(config))
    try:  # the rows as stored: loading settles nothing
        image = store.load({s.id: s for s in config.catalog}, config.money_places)
    finally:
        store.close()
    (stored,) = image.orders
    assert (stored.id, stored.status, stored.remains) == (order, OrderStatus.COMPLETED, 0)
    assert image.timers == ()


async def test_on_a_manual_clock_no_timer_runs_and_advance_pushes_at_once(
    make_panel: MakePanel, inbox: Inbox
) -> None:
    panel = await make_panel("extended", webhook_url=inbox.url)  # the manual clock
    key = await panel.tenant()
    order = int(await panel.place(key))
    timer = panel.app[DUE_TIMER]
    assert not timer.armed
    assert _timer_handles(timer) == []
    await panel.advance(3600)  # past the whole lifecycle: applied by the advance itself
    await panel.delivered()
    pushed = [inbox.arrivals.get_nowait()[1] for _ in range(2)]
    assert [(p["order_id"], p["status"]) for p in pushed] == [
        (order, "In progress"), (order, "Completed")
    ]
    assert timer.firings == 0


async def test_a_failing_settle_is_logged_kept_and_the_timer_goes_on(
    make_panel: MakePanel, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    panel = await make_panel("extended", clock="real", timings=QUICK, webhook_url=inbox.url)
    state = panel.app[STATE]
    settle, calls = state.settle_due, list[None]()

    def flaky() -> float:
        calls.append(None)
        if len(calls) == 1:
            raise RuntimeError("the disk is full")
        return settle()

    state.settle_due = flaky  # type: ignore[method-assign]
    key = await panel.tenant()
    order = int(await panel.place(key))
    with caplog.at_level(logging.ERROR, logger="mockpanel"):
        pushed = [(await inbox.next())[1] for _ in range(2)]
    assert [(p["order_id"], p["status"]) for p in pushed] == [
        (order, "In progress"), (order, "Completed")
    ]
    failures = panel.app[FAILURES]
    assert [str(exc) for exc in failures] == ["the disk is full"]
    assert "applying due lifecycle events failed" in caplog.text
    failures.clear()  # expected here; the fixture fails any other


async def test_the_timer_stops_with_the_app(aiohttp_client: Any) -> None:
    app = create_app(MockConfig(profile="extended", control_token=TOKEN, timings=QUICK))
    client = await aiohttp_client(app)
    state, timer = app[STATE], app[DUE_TIMER]
    tenant, _ = state.create_tenant(Decimal(10))
    state.place_order(tenant, DEFAULT_SERVICE, {"link": LINK, "quantity": "100"})
    assert timer.armed
    await client.close()
    assert not timer.armed
    assert _timer_handles(timer) == []
    state.place_order(tenant, DEFAULT_SERVICE, {"link": LINK, "quantity": "100"})
    assert not timer.armed  # no longer watching the state
    await asyncio.sleep(QUICK.order_pending + 0.1)
    assert timer.firings == 0
