"""Done and Failed (seed 004: "Possible status values: Pending In progress Partial Completed
Done Canceled Failed"): reachable where the dialect names them, through the lifecycle (magic
links), the control outcome, and with the money each one means; refused everywhere else."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import (
    FINAL_ORDER_STATUSES,
    InvalidTransition,
    ManualClock,
    OrderStatus,
    OrderView,
    PanelState,
    StateConfig,
)
from mockpanel.state.orders import CANONICAL_ORDER_STATUSES
from mockpanel.state.tenants import Tenant

DONE, FAILED = OrderStatus.DONE, OrderStatus.FAILED
SEED_004_WORDS = CANONICAL_ORDER_STATUSES | {DONE, FAILED}
FOLLOWERS = "1"  # refill, cancel, rate 0.90
LINK = "https://x.test/p"
LIFETIME = 20.0


def order(panel: PanelState, tenant: Tenant, link: str = LINK) -> OrderView:
    return panel.place_order(tenant, FOLLOWERS, {"link": link, "quantity": "1000"})  # 0.90


@pytest.fixture
def seed_panel(clock: ManualClock) -> PanelState:
    return PanelState(StateConfig(order_statuses=SEED_004_WORDS), clock)


@pytest.fixture
def buyer(seed_panel: PanelState) -> Tenant:
    tenant, _ = seed_panel.create_tenant(Decimal("100"))
    return tenant


def test_they_are_final_statuses() -> None:
    assert {DONE, FAILED} <= FINAL_ORDER_STATUSES
    assert {DONE, FAILED}.isdisjoint(CANONICAL_ORDER_STATUSES)


def test_a_vocabulary_must_keep_the_canonical_five() -> None:
    with pytest.raises(ValueError, match="canonical"):
        StateConfig(order_statuses=frozenset({DONE, FAILED}))


@pytest.mark.parametrize("start", ["pending", "in progress"])
def test_control_done_is_completed_in_another_word(
    seed_panel: PanelState, buyer: Tenant, start: str
) -> None:
    placed = order(seed_panel, buyer)
    if start == "in progress":
        seed_panel.advance_clock(3)
    view = seed_panel.set_order_outcome(placed.id, DONE)
    assert (view.status, view.remains, view.refunded) == (DONE, 0, Decimal("0.00000"))
    assert view.start_count is not None
    assert seed_panel.balance(buyer) == Decimal("99.10000")
    refill = seed_panel.refill(buyer, placed.id)  # refillable, as a Completed order is
    assert refill.order_id == placed.id
    with pytest.raises(DomainError) as refused:
        seed_panel.cancel(buyer, placed.id)
    assert refused.value.code is ErrorCode.ORDER_NOT_CANCELLABLE


@pytest.mark.parametrize("start", ["pending", "in progress"])
def test_control_failed_refunds_the_whole_charge_once(
    seed_panel: PanelState, buyer: Tenant, start: str
) -> None:
    placed = order(seed_panel, buyer)
    if start == "in progress":
        seed_panel.advance_clock(3)
    view = seed_panel.set_order_outcome(placed.id, FAILED)
    assert (view.status, view.remains, view.refunded) == (FAILED, 1000, Decimal("0.90000"))
    assert (view.start_count is None) is (start == "pending")  # nothing ever started
    assert seed_panel.balance(buyer) == Decimal("100.00000")
    with pytest.raises(InvalidTransition):
        seed_panel.set_order_outcome(placed.id, FAILED)
    with pytest.raises(DomainError) as refused:
        seed_panel.refill(buyer, placed.id)
    assert refused.value.code is ErrorCode.ORDER_NOT_COMPLETED
    seed_panel.advance_clock(LIFETIME)
    assert seed_panel.balance(buyer) == Decimal("100.00000")


def test_control_numbers_must_fit_the_word(seed_panel: PanelState, buyer: Tenant) -> None:
    placed = order(seed_panel, buyer)
    with pytest.raises(ValueError, match="Done means remains 0"):
        seed_panel.set_order_outcome(placed.id, DONE, remains=5)
    with pytest.raises(ValueError, match="Failed means remains == quantity"):
        seed_panel.set_order_outcome(placed.id, FAILED, remains=5)
    assert seed_panel.order(buyer, placed.id).status is OrderStatus.PENDING
    assert seed_panel.balance(buyer) == Decimal("99.10000")


@pytest.mark.parametrize(
    ("word", "status", "remains", "balance"),
    [("done", DONE, 0, "99.10000"), ("FAILED", FAILED, 1000, "100.00000")],
)
def test_magic_links_end_the_lifecycle_with_them(
    seed_panel: PanelState, buyer: Tenant, word: str, status: OrderStatus, remains: int,
    balance: str,
) -> None:
    heard: list[tuple[OrderStatus, int]] = []
    seed_panel.subscribe(lambda view: heard.append((view.status, view.remains)))
    placed = order(seed_panel, buyer, f"{LINK}?mock_outcome={word}")
    seed_panel.advance_clock(3)
    assert seed_panel.order(buyer, placed.id).status is OrderStatus.IN_PROGRESS
    seed_panel.advance_clock(LIFETIME)
    view = seed_panel.order(buyer, placed.id)
    assert (view.status, view.remains) == (status, remains)
    assert seed_panel.balance(buyer) == Decimal(balance)
    assert heard[-1] == (status, remains)  # a webhook hears it as any change


def test_a_dialect_without_them_refuses_them_and_changes_nothing(
    panel: PanelState, tenant: Tenant
) -> None:
    placed = order(panel, tenant)
    for status in (DONE, FAILED):
        with pytest.raises(ValueError, match="dialect has no order status"):
            panel.set_order_outcome(placed.id, status)
    before = panel.snapshot()
    for word in ("done", "failed"):
        with pytest.raises(DomainError) as refused:
            order(panel, tenant, f"{LINK}?mock_outcome={word}")
        assert refused.value.code is ErrorCode.INVALID_PARAM
        assert refused.value.params["param"] == "mock_outcome"
    assert panel.snapshot() == before
    assert panel.order(tenant, placed.id).status is OrderStatus.PENDING


def test_a_failed_ending_survives_a_restart_and_refunds_once(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    config = StateConfig(order_statuses=SEED_004_WORDS)
    key = "f" * 32
    first = PanelState.open(path, config, ManualClock(), keys=[(key, Decimal("10"))])
    tenant = first.authenticate(key)
    assert tenant is not None
    placed = order(first, tenant, f"{LINK}?mock_outcome=failed")
    first.close()
    for _ in range(2):
        again = PanelState.open(path, config, ManualClock())
        tenant = again.authenticate(key)
        assert tenant is not None
        again.advance_clock(LIFETIME)
        view = again.order(tenant, placed.id)
        assert (view.status, view.refunded) == (FAILED, Decimal("0.90000"))
        assert again.balance(tenant) == Decimal("10.00000")
        again.close()
