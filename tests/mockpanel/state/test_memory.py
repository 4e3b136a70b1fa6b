"""Memory per stored order: values every plain order has in common are shared, not copied."""

from __future__ import annotations

from decimal import Decimal

import pytest

import mockpanel.state.panel as panel_module
from mockpanel.state import ManualClock, OrderStatus, PanelState, StateConfig, Tenant
from mockpanel.state.orders import Order

LINK = "https://instagram.com/p/abc"


def _records(panel: PanelState, tenant: Tenant, count: int, quantity: str = "1000") -> list[Order]:
    views = [
        panel.place_order(tenant, "1", {"link": f"{LINK}{n}", "quantity": quantity})
        for n in range(count)
    ]
    return [panel._orders[view.id] for view in views]


def test_plain_orders_share_their_planned_outcome_refund_and_equal_charge(
    panel: PanelState, tenant: Tenant
) -> None:
    first, second = _records(panel, tenant, 2)
    assert first.planned is second.planned
    assert first.refunded is second.refunded
    assert first.charge is second.charge
    assert (first.charge, first.refunded) == (Decimal("0.90000"), Decimal("0.00000"))


def test_a_shared_refund_still_moves_per_order(panel: PanelState, tenant: Tenant) -> None:
    canceled, kept = _records(panel, tenant, 2)
    panel.cancel(tenant, canceled.id)
    assert canceled.refunded == canceled.charge
    assert kept.refunded == Decimal("0.00000")
    assert panel.order(tenant, kept.id).status is OrderStatus.PENDING


def test_the_table_of_shared_charges_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(panel_module, "_SHARED_CHARGES", 2)
    panel = PanelState(StateConfig(), ManualClock())
    tenant, _key = panel.create_tenant(Decimal("1000"))
    first, _second, third, fourth, fifth = (
        _records(panel, tenant, 1, quantity)[0] for quantity in ("100", "200", "300", "300", "100")
    )
    assert fifth.charge is first.charge  # the first two charges are kept and shared
    assert third.charge == fourth.charge
    assert third.charge is not fourth.charge  # a third one is built each time, not kept
