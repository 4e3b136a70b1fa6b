"""Cancel (only while cancellable, refunded once) and refills (rules, window, lifecycle)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import (
    InvalidTransition,
    ManualClock,
    OrderStatus,
    PanelState,
    RefillStatus,
    StateConfig,
    Tenant,
)

LINK = "https://instagram.com/p/abc"
DAY = 86_400
MakeTenant = Callable[..., Tenant]


def order(panel: PanelState, tenant: Tenant, service: int = 1, link: str = LINK) -> Any:
    """Service 1 (refill 30 days, cancel): 1000 for 0.90000. Service 2: no refill. 3: no cancel."""
    quantity = {1: "1000", 2: "10", 3: "20"}[service]
    return panel.place_order(tenant, str(service), {"link": link, "quantity": quantity})


def test_cancel_refunds_the_whole_charge_once(panel: PanelState, tenant: Tenant) -> None:
    placed = order(panel, tenant)
    assert panel.balance(tenant) == Decimal("99.10000")
    canceled = panel.cancel(tenant, placed.id)
    assert (canceled.status, canceled.remains, canceled.refunded) == (
        OrderStatus.CANCELED, 1000, Decimal("0.90000")
    )
    assert panel.balance(tenant) == Decimal("100.00000")
    with pytest.raises(DomainError) as again:
        panel.cancel(tenant, placed.id)
    assert again.value.code is ErrorCode.ORDER_NOT_CANCELLABLE
    assert again.value.params == {"order": placed.id, "status": OrderStatus.CANCELED}
    panel.advance_clock(1000)  # the voided timers never complete it
    assert panel.order(tenant, placed.id).status is OrderStatus.CANCELED
    assert panel.balance(tenant) == Decimal("100.00000")


def test_a_service_without_cancel_refuses(panel: PanelState, tenant: Tenant) -> None:
    placed = order(panel, tenant, service=3)
    with pytest.raises(DomainError) as caught:
        panel.cancel(tenant, placed.id)
    assert caught.value.code is ErrorCode.ORDER_NOT_CANCELLABLE
    assert caught.value.params == {"order": placed.id, "status": OrderStatus.PENDING}
    assert panel.balance(tenant) == Decimal("99.95000")


def test_in_progress_is_not_cancellable_by_default(panel: PanelState, tenant: Tenant) -> None:
    placed = order(panel, tenant)
    panel.advance_clock(3)
    with pytest.raises(DomainError) as caught:
        panel.cancel(tenant, placed.id)
    assert caught.value.params["status"] is OrderStatus.IN_PROGRESS
    panel.advance_clock(10)
    with pytest.raises(DomainError):
        panel.cancel(tenant, placed.id)
    assert panel.balance(tenant) == Decimal("99.10000")


def test_cancellable_statuses_are_configurable() -> None:
    config = StateConfig(cancellable=frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS}))
    panel = PanelState(config, ManualClock())
    tenant, _ = panel.create_tenant(Decimal(1))
    placed = order(panel, tenant)
    panel.advance_clock(2)  # In progress, nothing delivered yet: a plain full cancel
    assert panel.order(tenant, placed.id).status is OrderStatus.IN_PROGRESS
    canceled = panel.cancel(tenant, placed.id)
    assert (canceled.status, canceled.remains, canceled.refunded) == (
        OrderStatus.CANCELED, 1000, Decimal("0.90000"))
    assert panel.balance(tenant) == Decimal("1.00000")


def test_a_cancel_mid_delivery_refunds_the_undelivered_share_and_keeps_remains() -> None:
    """Remains never grow back (STATUS-009): a cancel 3 s into an 8 s delivery of 1000 ends
    Partial with the 625 not delivered, refunded 0.90000 * 625 / 1000."""
    config = StateConfig(cancellable=frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS}))
    panel = PanelState(config, ManualClock())
    tenant, _ = panel.create_tenant(Decimal(1))
    placed = order(panel, tenant)
    panel.advance_clock(5)
    before = panel.order(tenant, placed.id)
    assert (before.status, before.remains) == (OrderStatus.IN_PROGRESS, 625)
    canceled = panel.cancel(tenant, placed.id)
    assert (canceled.status, canceled.remains, canceled.refunded) == (
        OrderStatus.PARTIAL, 625, Decimal("0.56250"))
    assert panel.balance(tenant) == Decimal("1.00000") - Decimal("0.90000") + Decimal("0.56250")
    panel.advance_clock(1000)
    assert panel.order(tenant, placed.id).remains == 625


def completed(panel: PanelState, tenant: Tenant, service: int = 1) -> Any:
    placed = order(panel, tenant, service)
    panel.advance_clock(10)
    assert panel.order(tenant, placed.id).status is OrderStatus.COMPLETED
    return placed


def test_refill_lifecycle(panel: PanelState, tenant: Tenant) -> None:
    placed = completed(panel, tenant)
    refill = panel.refill(tenant, placed.id)
    assert (refill.status, refill.order_id, refill.tenant_id) == (
        RefillStatus.PENDING, placed.id, tenant.id
    )
    panel.advance_clock(2)
    assert panel.refill_status(tenant, refill.id).status is RefillStatus.IN_PROGRESS
    panel.advance_clock(8)
    assert panel.refill_status(tenant, refill.id).status is RefillStatus.COMPLETED
    assert panel.balance(tenant) == Decimal("99.10000")  # refills are free


def test_several_refills_get_distinct_ids(panel: PanelState, tenant: Tenant) -> None:
    placed = completed(panel, tenant)
    ids = {panel.refill(tenant, placed.id).id for _ in range(5)}
    assert len(ids) == 5


def test_refill_refusals_in_order(panel: PanelState, tenant: Tenant) -> None:
    no_refill = completed(panel, tenant, service=2)
    with pytest.raises(DomainError) as caught:
        panel.refill(tenant, no_refill.id)
    assert (caught.value.code, caught.value.params) == (
        ErrorCode.REFILL_NOT_AVAILABLE, {"order": no_refill.id}
    )
    pending = order(panel, tenant)
    with pytest.raises(DomainError) as caught:
        panel.refill(tenant, pending.id)
    assert (caught.value.code, caught.value.params) == (
        ErrorCode.ORDER_NOT_COMPLETED, {"order": pending.id, "status": OrderStatus.PENDING}
    )
    partial = order(panel, tenant, link=LINK + "?mock_outcome=partial")
    panel.advance_clock(10)
    with pytest.raises(DomainError) as caught:
        panel.refill(tenant, partial.id)
    assert caught.value.params["status"] is OrderStatus.PARTIAL
    assert panel.snapshot()["refills"] == []


def test_refill_window_is_refill_days_after_completion(
    panel: PanelState, tenant: Tenant
) -> None:
    first, second = order(panel, tenant), order(panel, tenant)
    panel.advance_clock(10)  # both completed at t=10
    panel.advance_clock(30 * DAY)
    assert panel.refill(tenant, first.id).status is RefillStatus.PENDING  # last moment
    panel.advance_clock(0.5)
    with pytest.raises(DomainError) as caught:
        panel.refill(tenant, second.id)
    assert (caught.value.code, caught.value.params) == (
        ErrorCode.REFILL_WINDOW_EXPIRED, {"order": second.id}
    )


def test_control_refill_outcome(panel: PanelState, tenant: Tenant) -> None:
    placed = completed(panel, tenant)
    refill = panel.refill(tenant, placed.id)
    rejected = panel.set_refill_outcome(refill.id, RefillStatus.REJECTED)
    assert rejected.status is RefillStatus.REJECTED
    panel.advance_clock(100)  # its timers are void
    assert panel.refill_status(tenant, refill.id).status is RefillStatus.REJECTED
    with pytest.raises(InvalidTransition):
        panel.set_refill_outcome(refill.id, RefillStatus.COMPLETED)
    other = panel.refill(tenant, placed.id)
    panel.advance_clock(3)
    assert panel.set_refill_outcome(other.id, "Completed").status is (  # type: ignore[arg-type]
        RefillStatus.COMPLETED
    )
    with pytest.raises(ValueError, match="Completed or Rejected"):
        panel.set_refill_outcome(panel.refill(tenant, placed.id).id, RefillStatus.IN_PROGRESS)
    with pytest.raises(KeyError):
        panel.set_refill_outcome("nope", RefillStatus.REJECTED)


def test_unknown_refill(panel: PanelState, tenant: Tenant) -> None:
    with pytest.raises(DomainError) as caught:
        panel.refill_status(tenant, "12345")
    assert (caught.value.code, caught.value.params) == (
        ErrorCode.UNKNOWN_REFILL, {"refill": "12345"}
    )


def test_alphanumeric_ids() -> None:
    panel = PanelState(StateConfig(id_style="alphanumeric"), ManualClock())
    tenant, _ = panel.create_tenant(Decimal(10))
    placed = completed(panel, tenant)
    refill = panel.refill(tenant, placed.id)
    assert len(placed.id) == 6
    assert placed.id.isalnum()
    assert placed.id.isupper()
    assert refill.id.startswith("R")
    assert len(refill.id) == 6
