"""Cancellation and its refund (CANCEL, BATCH-004..006)."""

from __future__ import annotations

import pytest

from harness import (
    Catalog,
    Judge,
    NaReason,
    NotApplicable,
    Panel,
    PlacedOrder,
    Secret,
    expect_success,
    require,
    values,
)


def _require_cancel(panel: Panel) -> None:
    panel.require_offered("cancel", {"orders": panel.never_issued()})


@pytest.mark.clause("CANCEL-001", "CANCEL-005", "BATCH-004", "BATCH-005")
def test_cancel_of_unknown_orders(panel: Panel, main_key: Secret) -> None:
    _require_cancel(panel)
    ids = [panel.never_issued(), panel.never_issued()]
    before = panel.quiet_balance(main_key)
    exchange = panel.cancel(main_key, ids)
    expect_success(exchange, "BATCH-004", "unknown ids are per-id errors, not one error")
    outcomes = panel.cancel_outcomes(exchange)
    for order_id in ids:
        require(outcomes.get(order_id) is False, "CANCEL-005",
                "cancelling an unknown order is a per-id error",
                f"order {order_id}: {outcomes.get(order_id)!r}", [exchange])
    after = panel.read_balance(main_key)
    require(after == before, "CANCEL-005", "no refund for an unknown order",
            f"balance {before} -> {after}", [exchange])


def _place_cancellable(panel: Panel) -> PlacedOrder:
    service, quantity = panel.cheapest_default(need="cancel")
    spec = panel.default_order(service, quantity)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    return panel.place(wallet, spec)


@pytest.mark.clause("CANCEL-002", "CANCEL-003", "CANCEL-004", "BATCH-006")
def test_cancel_refunds_once(panel: Panel, judge: Judge) -> None:
    _require_cancel(panel)
    order = _place_cancellable(panel)
    key = order.wallet.key
    unknown = panel.never_issued()
    exchange = panel.cancel(key, [order.id, unknown])
    outcomes = panel.cancel_outcomes(exchange)
    require(outcomes.get(unknown) is False, "BATCH-006", "a bad id does not stop the others",
            f"unknown id {unknown}: {outcomes.get(unknown)!r}", [exchange])
    if not outcomes.get(order.id):
        raise NotApplicable(NaReason.NOT_OFFERED, "the panel refused to cancel a fresh order",
                            clauses=["CANCEL-002", "CANCEL-003", "CANCEL-004", "BATCH-006"])
    history = panel.follow(key, order)
    final = history[-1][1]
    require(values.order_status(final.get("status")) is values.OrderStatus.CANCELED,
            "CANCEL-003", "an accepted cancel ends Canceled",
            f"status {final.get('status')!r}", [history[-1][0]])
    refunded = panel.read_balance(key)
    require(refunded == order.before, "CANCEL-003", "a cancelled order refunds its charge",
            f"balance {order.before} before the order, {order.after} after it, {refunded} "
            f"after the cancel", [exchange])
    again = panel.cancel(key, [order.id])
    twice = panel.cancel(key, [order.id, order.id])
    after = panel.read_balance(key)
    require(after == refunded, "CANCEL-004", "a second cancel refunds nothing",
            f"balance {refunded} -> {after}", [again, twice])


@pytest.mark.clause("CANCEL-006", "CANCEL-008")
def test_completed_order_cannot_be_cancelled(panel: Panel) -> None:
    _require_cancel(panel)
    order = _place_cancellable(panel)
    key = order.wallet.key
    panel.control.set_order_outcome(order.id, "Completed")
    exchange_before, before = panel.read_status(key, order)
    balance = panel.read_balance(key)
    exchange = panel.cancel(key, [order.id])
    require(panel.cancel_outcomes(exchange).get(order.id) is False, "CANCEL-006",
            "a completed order cannot be cancelled", "the cancel was not refused", [exchange])
    exchange_after, after = panel.read_status(key, order, exchange_before)
    require(after.get("status") == before.get("status"), "CANCEL-008",
            "a refused cancel leaves the order as it was",
            f"status {before.get('status')!r} -> {after.get('status')!r}", [exchange_after])
    require(panel.read_balance(key) == balance, "CANCEL-006", "no refund for a completed order",
            "the balance moved", [exchange])


@pytest.mark.clause("CANCEL-007", "CANCEL-008")
def test_service_without_cancel_cannot_be_cancelled(panel: Panel, catalog: Catalog) -> None:
    _require_cancel(panel)
    services = [s for s in catalog.of_type("Default") if s.cancel is False]
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Default service with cancel false")
    service = min(services, key=lambda s: s.price(panel.units(s)))
    spec = panel.default_order(service, panel.units(service))
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec)
    exchange_before, before = panel.read_status(wallet.key, order)
    balance = panel.read_balance(wallet.key)
    exchange = panel.cancel(wallet.key, [order.id])
    require(panel.cancel_outcomes(exchange).get(order.id) is False, "CANCEL-007",
            "an order of a service with cancel false cannot be cancelled",
            "the cancel was not refused", [exchange])
    exchange_after, after = panel.read_status(wallet.key, order, exchange_before)
    # The order may move on by itself meanwhile (black-box); a refused cancel must not have
    # cancelled it nor touched its charge.
    require(values.order_status(after.get("status")) is not values.OrderStatus.CANCELED
            and after.get("charge") == before.get("charge"), "CANCEL-008",
            "a refused cancel leaves the order as it was",
            f"status {before.get('status')!r} -> {after.get('status')!r}, charge "
            f"{before.get('charge')!r} -> {after.get('charge')!r}", [exchange_after])
    require(panel.read_balance(wallet.key) == balance, "CANCEL-007", "no refund",
            "the balance moved", [exchange])
