"""Order lifecycle (LIFE, STATUS-008/009, MONEY-011) and refills (REFILL, RSTATUS).

Controlled runs drive outcomes and the clock through the control API, so they are exact and
fast. Black-box runs poll up to ``--panel-order-timeout`` and use magic links
(``?mock_outcome=partial&mock_remains=N``) where the panel honours them.
"""

from __future__ import annotations

import pytest

from harness import (
    Catalog,
    ErrorKind,
    Judge,
    NaReason,
    NotApplicable,
    Panel,
    PlacedOrder,
    Secret,
    Service,
    expect_success,
    require,
    roundings,
    values,
)


def _place(panel: Panel, *, need: str | None = None, link: str | None = None) -> PlacedOrder:
    service, quantity = panel.cheapest_default(need=need)
    spec = panel.default_order(service, quantity, link=link)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    return panel.place(wallet, spec)


def _completed(panel: Panel, order: PlacedOrder) -> None:
    """Bring ``order`` to Completed: by the control API, or by waiting (black-box)."""
    if panel.controlled:
        panel.control.set_order_outcome(order.id, "Completed")
        return
    final = panel.follow(order.wallet.key, order)[-1][1]
    if values.order_status(final.get("status")) is not values.OrderStatus.COMPLETED:
        raise NotApplicable(NaReason.NOT_OFFERED, f"the order ended {final.get('status')!r}")


@pytest.mark.clause("STATUS-008", "STATUS-009", "LIFE-004")
def test_status_moves_forward_only(panel: Panel) -> None:
    order = _place(panel)
    history = panel.follow(order.wallet.key, order)
    # One more read after the end: a terminal status never changes (LIFE-004, pair check).
    panel.read_status(order.wallet.key, order, history[-1][0])


@pytest.mark.clause("LIFE-002")
def test_completed_order(panel: Panel) -> None:
    order = _place(panel)
    _completed(panel, order)
    exchange, status = panel.read_status(order.wallet.key, order)
    require(values.count(status.get("remains")) == 0, "LIFE-002",
            "a completed order has nothing remaining", f"remains {status.get('remains')!r}",
            [exchange])
    require(values.money(status.get("charge")) == order.debit, "LIFE-002",
            "a completed order keeps its full charge", f"charge {status.get('charge')!r}",
            [exchange])
    balance = panel.read_balance(order.wallet.key)
    require(balance == order.after, "LIFE-002", "a completed order is not refunded",
            f"balance {order.after} after the add, {balance} after completion", [exchange])


@pytest.mark.clause("LIFE-003", "MONEY-011")
def test_partial_order_refunds_the_undelivered_share(panel: Panel) -> None:
    _, quantity = panel.cheapest_default()
    remains = max(quantity // 3, 1)
    link = None if panel.controlled else panel.link(outcome="partial", remains=remains)
    order = _place(panel, link=link)
    key = order.wallet.key
    if panel.controlled:
        panel.control.set_order_outcome(order.id, "Partial", remains=remains)
    final_exchange, final = panel.follow(key, order)[-1]
    if values.order_status(final.get("status")) is not values.OrderStatus.PARTIAL:
        raise NotApplicable(NaReason.NOT_OFFERED,
                            f"magic links not honoured: the order ended {final.get('status')!r}")
    reported = values.count(final.get("remains"))
    if panel.controlled:
        # The control API set what was not delivered: the panel must report exactly that.
        require(reported == remains, "LIFE-003",
                "a partial order reports what was not delivered",
                f"remains {final.get('remains')!r}, {remains} not delivered", [final_exchange])
    else:
        # Black-box, the panel's provider decides (a magic link is only the mock's hint): a
        # Partial order reports some undelivered part of what was ordered.
        require(reported is not None and 0 < reported <= quantity, "LIFE-003",
                "a partial order reports what was not delivered",
                f"remains {final.get('remains')!r} of {quantity} ordered", [final_exchange])
    assert reported is not None
    balance = panel.read_balance(key)
    refund = balance - order.after
    expected = roundings(order.debit * reported / quantity, panel.places)
    require(refund in expected, "MONEY-011", "a partial order refunds charge * remains / quantity",
            f"refunded {refund}, expected {order.debit} * {reported} / {quantity}",
            [final_exchange])
    again = panel.read_balance(key)
    require(again == balance, "MONEY-011", "the partial refund happens once",
            f"balance {balance} -> {again}", [final_exchange])


@pytest.mark.clause("REFILL-001", "REFILL-005", "REFILL-006", "RSTATUS-001", "RSTATUS-004")
def test_refill_of_a_completed_order(panel: Panel) -> None:
    panel.require_offered("refill", {"order": panel.never_issued()})
    order = _place(panel, need="refill")
    key = order.wallet.key
    _completed(panel, order)
    before = panel.read_balance(key)
    created, refill_id = panel.refill_completed(key, order.id)
    after = panel.read_balance(key)
    require(after == before, "REFILL-006", "a refill costs nothing",
            f"balance {before} -> {after}", [created])
    if not panel.offers("refill_status", {"refill": panel.never_issued()}):
        raise NotApplicable(NaReason.NOT_OFFERED, "no refill_status action",
                            clauses=["RSTATUS-001", "RSTATUS-004"])
    polled = panel.refill_status(key, refill_id)
    expect_success(polled, "RSTATUS-001", "refill_status answers a status")
    if panel.controlled:
        panel.control.set_refill_outcome(refill_id, "Completed")
        done = panel.refill_status(key, refill_id)
        word = done.json.get("status") if isinstance(done.json, dict) else None
        require(values.refill_status(word) is values.RefillStatus.COMPLETED, "RSTATUS-001",
                "a completed refill reads Completed", f"status {word!r}", [done])


@pytest.mark.clause("REFILL-003")
def test_refill_of_an_unfinished_order_is_refused(panel: Panel, judge: Judge) -> None:
    panel.require_offered("refill", {"order": panel.never_issued()})
    order = _place(panel, need="refill")
    exchange = panel.refill(order.wallet.key, order.id)
    judge.expect_error(exchange, "REFILL-003", "a refill of a pending order is refused")


@pytest.mark.clause("REFILL-002")
def test_refill_needs_a_refill_service(panel: Panel, judge: Judge, catalog: Catalog) -> None:
    panel.require_offered("refill", {"order": panel.never_issued()})
    services = [s for s in catalog.of_type("Default") if s.refill is False]
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Default service with refill false")
    service: Service = min(services, key=lambda s: s.price(panel.units(s)))
    spec = panel.default_order(service, panel.units(service))
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec)
    # Completed first, so that the only reason left to refuse is the service.
    _completed(panel, order)
    exchange = panel.refill(wallet.key, order.id)
    judge.expect_error(exchange, "REFILL-002", "a refill of a no-refill service is refused")


@pytest.mark.clause("REFILL-004")
def test_refill_of_an_unknown_order(panel: Panel, judge: Judge, main_key: Secret) -> None:
    panel.require_offered("refill", {"order": panel.never_issued()})
    exchange = panel.refill(main_key, panel.never_issued())
    judge.expect_error(exchange, "REFILL-004", "a refill of a never-issued order is refused",
                       ErrorKind.NOT_FOUND)


@pytest.mark.clause("RSTATUS-002")
def test_unknown_refill_status(panel: Panel, judge: Judge, main_key: Secret) -> None:
    panel.require_offered("refill_status", {"refill": panel.never_issued()})
    # The dialect fingerprint asked exactly this before the first test: its answer is judged.
    exchange = (panel.asked_before("refill_status", main_key)
                or panel.refill_status(main_key, panel.never_issued()))
    judge.expect_error(exchange, "RSTATUS-002", "refill_status of a never-issued id is refused",
                       ErrorKind.NOT_FOUND)


@pytest.mark.clause("REFILL-007")
def test_multi_refill(panel: Panel, judge: Judge, main_key: Secret) -> None:
    panel.require_offered("refill", {"order": panel.never_issued()})
    ids = [panel.never_issued(), panel.never_issued()]
    exchange = panel.call("refill-multi", {"action": "refill", "orders": ",".join(ids)},
                          main_key)
    if not isinstance(exchange.json, list):
        judge.not_applicable("REFILL-007", NaReason.NOT_OFFERED, "refill with orders= refused")
        return
    for item in exchange.json:
        result = item.get("refill") if isinstance(item, dict) else None
        require(isinstance(item, dict) and ("error" in item or isinstance(result, dict)),
                "REFILL-007", "never-issued ids get per-id errors", f"item {item!r}",
                [exchange])


@pytest.mark.clause("RSTATUS-003")
def test_multi_refill_status(panel: Panel, judge: Judge, main_key: Secret) -> None:
    panel.require_offered("refill_status", {"refill": panel.never_issued()})
    ids = [panel.never_issued(), panel.never_issued()]
    exchange = panel.call(
        "refill_status-multi", {"action": "refill_status", "refills": ",".join(ids)}, main_key
    )
    if not isinstance(exchange.json, list):
        judge.not_applicable("RSTATUS-003", NaReason.NOT_OFFERED,
                             "refill_status with refills= refused")
        return
    for item in exchange.json:
        result = item.get("status") if isinstance(item, dict) else None
        require(isinstance(item, dict) and ("error" in item or isinstance(result, dict)),
                "RSTATUS-003", "never-issued ids get per-id errors", f"item {item!r}",
                [exchange])
