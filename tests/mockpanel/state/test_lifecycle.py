"""Order lifecycle on the injected clock: timed phases, magic links, control outcomes, money."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from mockpanel.errors import DomainError
from mockpanel.state import (
    InvalidTransition,
    LifecycleTimings,
    ManualClock,
    OrderStatus,
    OrderView,
    PanelState,
    RealClock,
    StateConfig,
    Tenant,
)
from mockpanel.state.orders import Order

LINK = "https://instagram.com/p/abc"
MakeTenant = Callable[..., Tenant]


def followers(panel: PanelState, tenant: Tenant, link: str = LINK, quantity: int = 1000) -> Any:
    """Service 1: rate 0.90 per 1000, so 1000 cost exactly 0.90000."""
    return panel.place_order(tenant, "1", {"link": link, "quantity": str(quantity)})


def test_manual_clock_nothing_moves_until_advanced(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant)
    assert (order.status, order.start_count, order.remains) == (OrderStatus.PENDING, None, 1000)
    for _ in range(5):
        assert panel.order(tenant, order.id).status is OrderStatus.PENDING


def test_timed_lifecycle_pending_in_progress_completed(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant)
    panel.advance_clock(1.999)
    assert panel.order(tenant, order.id).status is OrderStatus.PENDING
    panel.advance_clock(0.001)
    started = panel.order(tenant, order.id)
    assert started.status is OrderStatus.IN_PROGRESS
    assert isinstance(started.start_count, int)
    assert started.remains == 1000
    panel.advance_clock(4)  # half of the 8 s delivery
    assert panel.order(tenant, order.id).remains == 500
    panel.advance_clock(3.999)
    assert 0 < panel.order(tenant, order.id).remains <= 1
    panel.advance_clock(0.001)
    done = panel.order(tenant, order.id)
    assert (done.status, done.remains, done.refunded) == (OrderStatus.COMPLETED, 0, Decimal(0))
    assert done.start_count == started.start_count
    assert done.finished_at == 10.0
    assert panel.balance(tenant) == Decimal("99.10000")


def test_remains_never_rise_and_statuses_never_go_back(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant, quantity=777)
    rank = {OrderStatus.PENDING: 0, OrderStatus.IN_PROGRESS: 1, OrderStatus.COMPLETED: 2}
    last = panel.order(tenant, order.id)
    for _ in range(60):
        panel.advance_clock(0.25)
        now = panel.order(tenant, order.id)
        assert now.remains <= last.remains
        assert rank[now.status] >= rank[last.status]
        last = now
    assert last.status is OrderStatus.COMPLETED


def test_start_count_is_deterministic_per_seed() -> None:
    def start_count(seed: int) -> int | None:
        panel = PanelState(StateConfig(seed=seed), ManualClock())
        tenant, _ = panel.create_tenant(Decimal(10))
        order = followers(panel, tenant)
        panel.advance_clock(2)
        return panel.order(tenant, order.id).start_count

    assert start_count(1) == start_count(1)
    assert len({start_count(seed) for seed in range(5)}) > 1


def test_one_big_advance_applies_every_phase_in_order(panel: PanelState, tenant: Tenant) -> None:
    heard: list[OrderView] = []
    panel.subscribe(heard.append)
    order = followers(panel, tenant)
    panel.advance_clock(1000)
    assert [(v.status, v.remains) for v in heard] == [
        (OrderStatus.IN_PROGRESS, 1000),
        (OrderStatus.COMPLETED, 0),
    ]
    assert all(v.id == order.id for v in heard)
    assert panel.snapshot()["scheduled_events"] == 0


def test_zero_timings_finish_on_the_next_call(make_tenant: MakeTenant) -> None:
    timings = LifecycleTimings(order_pending=0, order_in_progress=0)
    panel = PanelState(StateConfig(timings=timings), ManualClock())
    tenant, _ = panel.create_tenant(Decimal(10))
    order = followers(panel, tenant)
    assert order.status is OrderStatus.PENDING
    assert panel.order(tenant, order.id).status is OrderStatus.COMPLETED


def test_real_clock_can_be_fast_forwarded() -> None:
    panel = PanelState(StateConfig(), RealClock())
    tenant, _ = panel.create_tenant(Decimal(10))
    order = followers(panel, tenant)
    panel.advance_clock(60)
    assert panel.order(tenant, order.id).status is OrderStatus.COMPLETED


# ------------------------------------------------------------------ magic links


def test_magic_partial_refunds_pro_rata_once(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant, LINK + "?x=1&mock_outcome=partial&mock_remains=157")
    panel.advance_clock(6)  # half way: remains fall toward 157, never below it
    assert panel.order(tenant, order.id).remains == 157 + 422
    panel.advance_clock(4)
    done = panel.order(tenant, order.id)
    assert (done.status, done.remains) == (OrderStatus.PARTIAL, 157)
    assert done.charge == Decimal("0.90000")
    assert done.refunded == Decimal("0.14130")  # 0.9 * 157 / 1000
    assert panel.balance(tenant) == Decimal("99.24130")
    panel.advance_clock(10_000)
    for _ in range(3):
        panel.order(tenant, order.id)
    assert panel.balance(tenant) == Decimal("99.24130")


@pytest.mark.parametrize(
    ("query", "remains"),
    [
        ("mock_outcome=partial", 500),  # default quantity // 2
        ("mock_outcome=PARTIAL&mock_remains=0", 1),  # clamped up, case-insensitive
        ("mock_outcome=partial&mock_remains=5000", 1000),  # clamped down
        ("mock_remains=3&mock_outcome=partial", 3),
    ],
)
def test_magic_partial_remains_are_clamped(
    panel: PanelState, tenant: Tenant, query: str, remains: int
) -> None:
    order = followers(panel, tenant, f"{LINK}?{query}")
    panel.advance_clock(10)
    assert panel.order(tenant, order.id).remains == remains


def test_magic_canceled_refunds_everything(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant, LINK + "?mock_outcome=canceled")
    panel.advance_clock(10)
    done = panel.order(tenant, order.id)
    assert (done.status, done.remains, done.refunded) == (
        OrderStatus.CANCELED, 1000, Decimal("0.90000")
    )
    assert panel.balance(tenant) == Decimal("100.00000")


def test_magic_completed_and_plain_links_complete(panel: PanelState, tenant: Tenant) -> None:
    a = followers(panel, tenant, LINK + "?mock_outcome=completed&mock_remains=9")
    b = followers(panel, tenant, LINK + "?remains=9")
    panel.advance_clock(10)
    for order in (a, b):
        assert panel.order(tenant, order.id).status is OrderStatus.COMPLETED
        assert panel.order(tenant, order.id).remains == 0


# --------------------------------------------------------------- control outcomes


def test_control_in_progress_then_partial_moves_money_once(
    panel: PanelState, tenant: Tenant
) -> None:
    order = followers(panel, tenant)
    view = panel.set_order_outcome(order.id, OrderStatus.IN_PROGRESS, remains=800, start_count=42)
    assert (view.status, view.remains, view.start_count) == (OrderStatus.IN_PROGRESS, 800, 42)
    panel.advance_clock(1000)  # timers are void after a control outcome
    assert panel.order(tenant, order.id).status is OrderStatus.IN_PROGRESS
    assert panel.order(tenant, order.id).remains == 800
    view = panel.set_order_outcome(order.id, OrderStatus.PARTIAL, remains=250)
    assert (view.status, view.remains, view.refunded) == (
        OrderStatus.PARTIAL, 250, Decimal("0.22500")
    )
    assert view.start_count == 42
    assert panel.balance(tenant) == Decimal("99.32500")
    with pytest.raises(InvalidTransition):
        panel.set_order_outcome(order.id, OrderStatus.CANCELED)
    assert panel.balance(tenant) == Decimal("99.32500")


@pytest.mark.parametrize(
    ("status", "remains", "expected_remains", "refund"),
    [
        (OrderStatus.COMPLETED, None, 0, "0"),
        (OrderStatus.COMPLETED, 0, 0, "0"),
        (OrderStatus.PARTIAL, None, 500, "0.45000"),
        (OrderStatus.PARTIAL, 1000, 1000, "0.90000"),
        (OrderStatus.PARTIAL, 1, 1, "0.00090"),
        (OrderStatus.CANCELED, None, 1000, "0.90000"),
        (OrderStatus.CANCELED, 1000, 1000, "0.90000"),
    ],
)
@pytest.mark.parametrize("from_status", [OrderStatus.PENDING, OrderStatus.IN_PROGRESS])
def test_control_final_outcomes_move_exact_money(
    panel: PanelState,
    tenant: Tenant,
    from_status: OrderStatus,
    status: OrderStatus,
    remains: int | None,
    expected_remains: int,
    refund: str,
) -> None:
    order = followers(panel, tenant)
    if from_status is OrderStatus.IN_PROGRESS:
        panel.advance_clock(3)
    view = panel.set_order_outcome(order.id, status, remains=remains)
    assert (view.status, view.remains, view.refunded) == (status, expected_remains, Decimal(refund))
    assert panel.balance(tenant) == Decimal("99.10000") + Decimal(refund)
    assert (view.start_count is None) == (
        status is OrderStatus.CANCELED and from_status is OrderStatus.PENDING
    )
    panel.advance_clock(1000)
    assert panel.order(tenant, order.id) == view


def test_control_accepts_status_strings(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant)
    view = panel.set_order_outcome(order.id, "Completed", start_count=7)  # type: ignore[arg-type]
    assert (view.status, view.start_count) == (OrderStatus.COMPLETED, 7)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": OrderStatus.PARTIAL, "remains": 0}, ValueError),
        ({"status": OrderStatus.PARTIAL, "remains": 1001}, ValueError),
        ({"status": OrderStatus.COMPLETED, "remains": 5}, ValueError),
        ({"status": OrderStatus.CANCELED, "remains": 3}, ValueError),
        ({"status": OrderStatus.IN_PROGRESS, "remains": -1}, ValueError),
        ({"status": OrderStatus.IN_PROGRESS, "start_count": -1}, ValueError),
        ({"status": OrderStatus.IN_PROGRESS, "start_count": True}, ValueError),
        ({"status": OrderStatus.PENDING}, InvalidTransition),
        ({"status": "Done"}, ValueError),
    ],
)
def test_bad_control_requests_change_nothing(
    panel: PanelState, tenant: Tenant, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    order = followers(panel, tenant)
    before = panel.snapshot()
    with pytest.raises(error):
        panel.set_order_outcome(order.id, **kwargs)
    assert panel.snapshot() == before
    panel.advance_clock(10)  # the timers were not voided either
    assert panel.order(tenant, order.id).status is OrderStatus.COMPLETED


def test_control_moves_that_go_backwards_are_invalid(panel: PanelState, tenant: Tenant) -> None:
    order = followers(panel, tenant)
    panel.advance_clock(3)
    with pytest.raises(InvalidTransition):
        panel.set_order_outcome(order.id, OrderStatus.IN_PROGRESS)
    panel.advance_clock(10)
    for status in OrderStatus:
        with pytest.raises(InvalidTransition):
            panel.set_order_outcome(order.id, status)
    assert panel.balance(tenant) == Decimal("99.10000")


def test_control_of_an_unknown_order_is_a_key_error(panel: PanelState) -> None:
    with pytest.raises(KeyError):
        panel.set_order_outcome("nope", OrderStatus.COMPLETED)


def test_listeners_hear_control_and_cancel_changes(panel: PanelState, tenant: Tenant) -> None:
    heard: list[tuple[str, OrderStatus]] = []
    panel.subscribe(lambda view: heard.append((view.id, view.status)))
    a = followers(panel, tenant)
    b = panel.place_order(tenant, "2", {"link": LINK, "quantity": "10"})
    panel.set_order_outcome(a.id, OrderStatus.IN_PROGRESS)
    panel.set_order_outcome(a.id, OrderStatus.COMPLETED)
    panel.cancel(tenant, b.id)
    with pytest.raises(DomainError):
        panel.cancel(tenant, b.id)
    assert heard == [
        (a.id, OrderStatus.IN_PROGRESS),
        (a.id, OrderStatus.COMPLETED),
        (b.id, OrderStatus.CANCELED),
    ]


def test_reading_one_order_touches_only_that_order(
    panel: PanelState, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [followers(panel, tenant, quantity=50).id for _ in range(300)]
    calls: list[str] = []
    original = Order.view

    def counting(self: Order, now: float) -> OrderView:
        calls.append(self.id)
        return original(self, now)

    monkeypatch.setattr(Order, "view", counting)
    panel.order(tenant, ids[150])
    panel.balance(tenant)
    panel.advance_clock(1)  # nothing due yet: no order is visited
    assert calls == [ids[150]]
