"""Isolation between keys (ISO): another key's orders and refills are invisible and untouchable."""

from __future__ import annotations

import pytest

from harness import (
    Catalog,
    ErrorKind,
    Exchange,
    Judge,
    NaReason,
    Panel,
    PlacedOrder,
    expect_success,
    require,
    values,
)


def _same_refusal(mine: Exchange, never: Exchange, mine_id: str, never_id: str) -> bool:
    """Both refused the same way, once the id each names is set aside."""
    first = (mine.error_message or "").replace(mine_id, "<id>")
    second = (never.error_message or "").replace(never_id, "<id>")
    return mine.status == never.status and first == second


def _place(panel: Panel, *, need: str | None = None) -> PlacedOrder:
    service, quantity = panel.cheapest_default(need=need)
    spec = panel.default_order(service, quantity)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    return panel.place(wallet, spec)


@pytest.mark.clause("ISO-001", "ISO-002", "ISO-003", "ISO-004", "ISO-005")
def test_another_keys_order_is_invisible(panel: Panel, judge: Judge) -> None:
    other = panel.second_wallet()
    other_before = panel.read_balance(other.key)
    order = _place(panel, need="cancel")
    owner = order.wallet.key
    never = panel.never_issued()

    theirs = panel.status(other.key, order.id)
    unknown = panel.status(other.key, never)
    judge.expect_error(theirs, "ISO-001", "another key's order is unknown", ErrorKind.NOT_FOUND)
    require(_same_refusal(theirs, unknown, order.id, never), "ISO-001",
            "another key's order is answered like a never-issued id",
            f"{theirs.error_message!r} vs {unknown.error_message!r}", [theirs, unknown])

    if panel.multi_status_action() is None:
        judge.not_applicable("ISO-002", NaReason.NOT_OFFERED, "no multi-status")
    else:
        multi = panel.multi_status(other.key, [order.id])
        body = expect_success(multi, "ISO-002", "a multi-status with another key's id answers")
        member = body.get(order.id) if isinstance(body, dict) else None
        require(isinstance(member, str) or (isinstance(member, dict) and "error" in member),
                "ISO-002", "another key's order is a per-id error in multi-status",
                f"member {order.id}: {member!r}", [multi])

    if not panel.offers("cancel", {"orders": never}):
        judge.not_applicable("ISO-003", NaReason.NOT_OFFERED, "no cancel action")
    else:
        _, before = panel.read_status(owner, order)
        cancel = panel.cancel(other.key, [order.id])
        require(panel.cancel_outcomes(cancel).get(order.id) is not True, "ISO-003",
                "another key's order cannot be cancelled", "the cancel was accepted", [cancel])
        _, after = panel.read_status(owner, order)
        require(values.order_status(after.get("status")) is not values.OrderStatus.CANCELED,
                "ISO-003", "the owner's order keeps its status",
                f"{before.get('status')!r} -> {after.get('status')!r}", [cancel])
        require(panel.read_balance(owner) == order.after, "ISO-003",
                "the owner's balance is unchanged", "it moved", [cancel])

    if not panel.offers("refill", {"order": never}):
        judge.not_applicable("ISO-004", NaReason.NOT_OFFERED, "no refill action")
    else:
        refill = panel.refill(other.key, order.id)
        judge.expect_error(refill, "ISO-004", "another key's order cannot be refilled")

    other_after = panel.read_balance(other.key)
    require(other_after == other_before, "ISO-005", "balances are independent",
            f"the other key's balance moved {other_before} -> {other_after}", [order.exchange])


@pytest.mark.clause("ISO-006")
def test_another_keys_refill_is_unknown(panel: Panel, judge: Judge, catalog: Catalog) -> None:
    panel.require_offered("refill", {"order": panel.never_issued()})
    panel.require_offered("refill_status", {"refill": panel.never_issued()})
    other = panel.second_wallet()
    order = _place(panel, need="refill")
    panel.control.set_order_outcome(order.id, "Completed")
    _, refill_id = panel.refill_completed(order.wallet.key, order.id)
    theirs = panel.refill_status(other.key, refill_id)
    judge.expect_error(theirs, "ISO-006", "another key's refill is unknown", ErrorKind.NOT_FOUND)
