"""Money under pressure (MONEY-005..007, 010): beyond the balance, concurrency, conservation.

These need an account whose balance is small next to an order: a tenant minted through the
control API, or (black-box) the second key, whose balance decides the order size.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from harness import (
    Applies,
    Catalog,
    ErrorKind,
    NaReason,
    NotApplicable,
    OrderSpec,
    Panel,
    PlacedOrder,
    Wallet,
    answer_kind,
    require,
    roundings,
    values,
)

CONCURRENT = 5


def _sized(panel: Panel, catalog: Catalog, target: Decimal) -> OrderSpec | None:
    """The Default order whose charge is closest to ``target`` without going over it."""
    best: OrderSpec | None = None
    for service in catalog.of_type("Default"):
        if service.rate == 0:
            continue
        quantity = int(target * 1000 / service.rate)
        quantity = min(quantity, service.max)
        if quantity < service.min:
            continue
        spec = panel.default_order(service, quantity)
        if best is None or spec.price > best.price:
            best = spec
    return best


def _over(panel: Panel, catalog: Catalog, funds: Decimal) -> OrderSpec | None:
    """The cheapest Default order whose rounded charge exceeds ``funds``."""
    step = Decimal(1).scaleb(-panel.places)
    best: OrderSpec | None = None
    for service in catalog.of_type("Default"):
        if service.rate == 0:
            continue
        quantity = max(service.min, int(funds * 1000 / service.rate))
        while quantity <= service.max and service.price(quantity).quantize(
            step, ROUND_DOWN
        ) <= funds:
            quantity += max(1, quantity // 1000)
        if quantity > service.max:
            continue
        spec = panel.default_order(service, quantity)
        if best is None or spec.price < best.price:
            best = spec
    return best


@pytest.mark.clause("MONEY-005", "MONEY-006", "MONEY-004")
def test_order_beyond_the_balance_is_refused(panel: Panel, catalog: Catalog) -> None:
    service, quantity = panel.cheapest_default()
    if panel.controlled:
        spec = panel.default_order(service, quantity)
        charge = min(roundings(spec.price, panel.places))
        funds = max(charge - Decimal(1).scaleb(-panel.places), Decimal(0))
        wallet = panel.poor_wallet(funds.quantize(Decimal(1).scaleb(-panel.places)))
    else:
        wallet = panel.second_wallet()
        funds = panel.read_balance(wallet.key)
        found = _over(panel, catalog, funds)
        if found is None:
            raise NotApplicable(NaReason.LOW_BALANCE,
                                "no valid order costs more than the second key's balance")
        spec = found
    attempt = panel.attempt(wallet, spec.form(), spec.price)
    panel.expect_refused(attempt, "MONEY-005", "an order costing more than the balance is refused",
                         ErrorKind.FUNDS)


@pytest.mark.clause("MONEY-007", "MONEY-006")
def test_concurrent_orders_never_overdraw(panel: Panel, catalog: Catalog) -> None:
    step = Decimal(1).scaleb(-panel.places)
    if panel.controlled:
        service, quantity = panel.cheapest_default()
        spec = panel.default_order(service, quantity)
        charge = max(roundings(spec.price, panel.places))
        wallet = panel.poor_wallet((charge * 5 / 2).quantize(step, ROUND_DOWN))
    else:
        wallet = panel.second_wallet()
        funds = panel.read_balance(wallet.key)
        found = _sized(panel, catalog, funds * 2 / 5)
        if found is None or found.price * CONCURRENT <= funds:
            raise NotApplicable(NaReason.LOW_BALANCE, "no order size fits the second key")
        spec = found
    specs = [panel.default_order(spec.service, spec.units or 0) for _ in range(CONCURRENT)]
    start = panel.quiet_balance(wallet.key)  # the wallet's own read, back to back
    answers = panel.concurrently(wallet, specs)
    # Read without read_balance's own MONEY-006 stop: an overdraft is this clause's finding.
    closing = panel.balance(wallet.key)
    end = values.signed_money(closing.json.get("balance") if isinstance(closing.json, dict)
                              else None)
    require(end is not None, "MONEY-007", "the balance is readable after the orders",
            "no balance", [closing])
    assert end is not None
    accepted = [a for a in answers if answer_kind(a) is Applies.SUCCESS]
    charges = roundings(spec.price, panel.places)
    affordable = int(start // min(charges)) if min(charges) > 0 else CONCURRENT
    require(len(accepted) <= affordable and end >= 0, "MONEY-007",
            "concurrent orders never overdraw",
            f"{len(accepted)} of {CONCURRENT} concurrent orders accepted, only {affordable} "
            f"affordable from {start}; the balance ends at {end}", [*answers, closing])
    require(any(start - end == len(accepted) * c for c in charges), "MONEY-007",
            "the balance equals the start minus the accepted charges",
            f"{start} -> {end} with {len(accepted)} accepted at {spec.price}",
            [*answers, closing])


def _refund(order: PlacedOrder, status: dict[str, object], places: int) -> set[Decimal]:
    """What the panel owes back for ``order`` in ``status``, as it may round it. Computed from
    the debit: after a refund a panel may report the charge net of it."""
    word = values.order_status(status.get("status"))
    if word is values.OrderStatus.CANCELED:
        return {order.debit}
    remains = values.count(status.get("remains"))
    if word is values.OrderStatus.PARTIAL and remains is not None and order.spec.units:
        return roundings(order.debit * remains / order.spec.units, places)
    return {Decimal(0)}


def _settle_orders(panel: Panel, wallet: Wallet, orders: list[PlacedOrder]) -> None:
    """Cancel the first order (API, or control) and make the second Partial (control)."""
    first, second = orders
    if panel.offers("cancel", {"orders": panel.never_issued()}):
        panel.cancel(wallet.key, [first.id])
    elif panel.controlled:
        panel.control.set_order_outcome(first.id, "Canceled")
    if panel.controlled:
        remains = max((second.spec.units or 2) // 2, 1)
        panel.control.set_order_outcome(second.id, "Partial", remains=remains)


@pytest.mark.clause("MONEY-010")
def test_money_is_conserved(panel: Panel) -> None:
    service, quantity = panel.cheapest_default(need="cancel")
    specs = [panel.default_order(service, quantity) for _ in range(2)]
    wallet = panel.spending_wallet(sum((panel.worst_case(s.price) for s in specs), Decimal(0)))
    start = panel.quiet_balance(wallet.key)  # the wallet's own read, back to back
    orders = [panel.place(wallet, spec) for spec in specs]
    _settle_orders(panel, wallet, orders)
    for _ in range(3):  # statuses and balance must be read from one quiet moment
        seen = [panel.read_status(wallet.key, order)[1] for order in orders]
        end = panel.read_balance(wallet.key)
        again = [panel.read_status(wallet.key, order)[1] for order in orders]
        if [s.get("status") for s in seen] == [s.get("status") for s in again]:
            break
    debits = sum((o.debit for o in orders), Decimal(0))
    first, second = (_refund(o, s, panel.places) for o, s in zip(orders, seen, strict=True))
    expected = {start - debits + a + b for a in first for b in second}
    require(end in expected, "MONEY-010", "money is conserved",
            f"start {start}, debits {debits}, statuses {[s.get('status') for s in seen]}: "
            f"expected one of {sorted(expected)}, balance is {end}",
            [o.exchange for o in orders])

