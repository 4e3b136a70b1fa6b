"""Placing orders (ADD) and what they cost (MONEY-001..003, 008, 009).

Every ``add`` here can spend: each is reserved under the cap (or sent from a sandbox tenant of
the control API) and the balance is read around it. Orders are placed at the cheapest valid
service and quantity, and cancelled at the end of the run where the panel allows it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness import (
    Applies,
    Attempt,
    Catalog,
    CheckFailure,
    ErrorKind,
    Exchange,
    Grade,
    Judge,
    NaReason,
    NotApplicable,
    Panel,
    PlacedOrder,
    Secret,
    Service,
    answer_kind,
    charge_matches,
    require,
    values,
    visible_units,
)

BAD_QUANTITIES = ["0", "-5", "1.5", "abc", "99999999999999999999"]
# "1e3" is not among them: PHP reads it as 1000 ((int) of a numeric string), so a panel may
# refuse it or take it for 1000; test_exponent_quantity judges both.


@pytest.mark.clause(
    "ADD-001", "ADD-002", "ADD-009", "MONEY-001", "MONEY-003", "MONEY-008", "MONEY-009",
    "LIFE-001", "STATUS-001", "STATUS-002", "STATUS-004",
)
def test_valid_order_debits_rate_times_quantity(panel: Panel, judge: Judge) -> None:
    service, quantity = panel.cheapest_default(telling=True)
    spec = panel.default_order(service, quantity)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec)
    require(charge_matches(order.debit, spec.price, panel.places), "MONEY-001",
            "a per-1000 order debits rate * quantity / 1000",
            f"debited {order.debit}, expected {spec.price} ({service.rate} * {quantity} / 1000) "
            f"at {panel.places} decimals", [order.exchange])

    exchange, status = _first_status(panel, wallet.key, order)
    charge = values.money(status.get("charge"))
    require(charge == order.debit, "MONEY-003", "the charge in status equals the debit",
            f"status says {status.get('charge')!r}, the balance moved by {order.debit}",
            [exchange])
    # Against the balances around this order, not the precision learnt from charges too.
    shown = max(values.decimal_places(order.before), values.decimal_places(order.after))
    require(values.decimal_places(status.get("charge")) <= shown, "MONEY-008",
            "no charge has more decimals than the balance",
            f"charge {status.get('charge')!r}, balance written with {shown} decimals",
            [exchange])
    currency = status.get("currency")
    if currency is None:
        judge.not_applicable("MONEY-009", NaReason.NOT_OFFERED, "status carries no currency")
    else:
        require(currency == panel.currency(wallet.key), "MONEY-009",
                "orders are priced in the balance currency",
                f"status {currency!r}, balance {panel.currency(wallet.key)!r}", [exchange])

    added = order.exchange.json if isinstance(order.exchange.json, dict) else {}
    if "charge" not in added and "remains" not in added:
        judge.not_applicable("ADD-009", NaReason.NOT_OFFERED, "add answers the order id only")
    else:
        if "charge" in added:
            require(values.money(added["charge"]) == order.debit, "ADD-009",
                    "add's reported charge equals the debit",
                    f"add says {added['charge']!r}, debited {order.debit}", [order.exchange])
        remains = values.count(added.get("remains", 0))
        require(remains is not None and remains <= quantity, "ADD-009",
                "add's remains is within the quantity", f"remains {added.get('remains')!r}",
                [order.exchange])


def _first_status(
    panel: Panel, key: Secret, order: PlacedOrder
) -> tuple[Exchange, dict[str, object]]:
    """The status read right after the ``add``: a refusal of the id ``add`` just returned is
    LIFE-001's failure (the new order is not visible yet); any other answer is judged as every
    status read is (STATUS-001)."""
    try:
        return panel.read_status(key, order)
    except CheckFailure as failure:
        if failure.clause != "STATUS-001" or not any(
                answer_kind(e) is Applies.ERROR for e in failure.exchanges):
            raise
        raise CheckFailure("LIFE-001", "a new order is immediately visible to status",
                           failure.message, Grade.FAIL, failure.exchanges) from None


@pytest.mark.clause("ADD-008")
def test_add_is_not_idempotent(panel: Panel, judge: Judge) -> None:
    service, quantity = panel.cheapest_default()
    spec = panel.default_order(service, quantity)
    wallet = panel.spending_wallet(panel.worst_case(spec.price) * 2)
    first = panel.place(wallet, spec)
    again = panel.attempt(wallet, spec.form_params(), spec.price)
    if answer_kind(again.exchange) is Applies.ERROR:
        # Laravel and TR panels refuse a second order on a link whose order still runs (what
        # stops a retried add from charging twice): ADD-008 speaks of accepted adds only.
        panel.expect_refused(again, "ADD-008", "a refused repeat of an add moves no money")
        judge.not_applicable("ADD-008", NaReason.NOT_OFFERED,
                             "a repeated add on a running link is refused")
        return
    second_id = values.id_text(again.exchange.json.get("order")) if isinstance(
        again.exchange.json, dict) else None
    debit = again.before - again.after
    require(second_id is not None and first.id != second_id, "ADD-008",
            "each accepted add creates a distinct order",
            f"first order {first.id}, then {second_id}", [first.exchange, again.exchange])
    require(debit == first.debit and first.debit > 0, "ADD-008", "each add debits",
            f"debits {first.debit} then {debit}", [first.exchange, again.exchange])


def _attempt(panel: Panel, service: Service, params: dict[str, str], worst: Decimal) -> Attempt:
    wallet = panel.spending_wallet(panel.worst_case(worst))
    return panel.attempt(wallet, {"service": service.id, **params}, worst)


def _refusal(panel: Panel, service: Service, params: dict[str, str], worst: Decimal,
             clause: str, what: str, kind: ErrorKind | None = ErrorKind.BAD_REQUEST) -> None:
    panel.expect_refused(_attempt(panel, service, params, worst), clause, what, kind)


def _defaults(catalog: Catalog) -> list[Service]:
    services = catalog.of_type("Default")
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Default service")
    return services


@pytest.mark.clause("ADD-003", "MONEY-004")
def test_quantity_below_min_is_refused(panel: Panel, catalog: Catalog) -> None:
    candidates = [s for s in _defaults(catalog) if s.min > 1]
    if not candidates:
        raise NotApplicable(NaReason.NOT_OFFERED, "every Default service has min 1")
    service = min(candidates, key=lambda s: s.price(s.min - 1))
    quantity = service.min - 1
    _refusal(panel, service, {"link": panel.link(), "quantity": str(quantity)},
             service.price(quantity), "ADD-003", f"quantity {quantity} < min {service.min}")


@pytest.mark.clause("ADD-004", "MONEY-004")
def test_quantity_above_max_is_refused(panel: Panel, catalog: Catalog) -> None:
    service = min(_defaults(catalog), key=lambda s: s.price(s.max + 1))
    quantity = service.max + 1
    _refusal(panel, service, {"link": panel.link(), "quantity": str(quantity)},
             service.price(quantity), "ADD-004", f"quantity {quantity} > max {service.max}")


@pytest.mark.clause("ADD-005", "MONEY-004")
def test_unknown_service_is_refused(panel: Panel, catalog: Catalog) -> None:
    _, quantity = panel.cheapest_default()
    unknown = Service(catalog.unknown_id(), "unknown", "Default", Decimal(0), 1, 1)
    _refusal(panel, unknown, {"link": panel.link(), "quantity": str(quantity)},
             catalog.most_expensive(quantity), "ADD-005", "an unknown service id is refused",
             ErrorKind.NOT_FOUND)


@pytest.mark.clause("ADD-006", "MONEY-004")
@pytest.mark.parametrize("field", ["service", "link", "quantity"])
@pytest.mark.parametrize("empty", [False, True], ids=["missing", "empty"])
def test_missing_field_is_refused(
    panel: Panel, catalog: Catalog, field: str, empty: bool
) -> None:
    service, quantity = panel.cheapest_default()
    params = {"service": service.id, "link": panel.link(), "quantity": str(quantity)}
    if empty:
        params[field] = ""
    else:
        del params[field]
    worst = catalog.most_expensive(quantity) if field == "service" else service.price(quantity)
    wallet = panel.spending_wallet(panel.worst_case(worst))
    attempt = panel.attempt(wallet, params, worst)
    state = "empty" if empty else "missing"
    panel.expect_refused(attempt, "ADD-006", f"an add with {field} {state} is refused",
                         ErrorKind.BAD_REQUEST)


@pytest.mark.clause("ADD-007", "MONEY-004")
@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_quantity_must_be_a_positive_integer(
    panel: Panel, catalog: Catalog, quantity: str
) -> None:
    service = min(_defaults(catalog), key=lambda s: s.price(s.max))
    _refusal(panel, service, {"link": panel.link(), "quantity": quantity},
             service.price(service.max), "ADD-007", f"quantity {quantity!r} is refused")


@pytest.mark.clause("ADD-007", "MONEY-001")
def test_exponent_quantity_is_refused_or_read_as_its_value(
    panel: Panel, catalog: Catalog
) -> None:
    fitting = [s for s in _defaults(catalog) if s.min <= 1000 <= s.max]
    if not fitting:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Default service takes 1000")
    service = min(fitting, key=lambda s: s.price(1000))
    attempt = _attempt(panel, service, {"link": panel.link(), "quantity": "1e3"},
                       service.price(1000))
    if answer_kind(attempt.exchange) is Applies.ERROR:
        panel.expect_refused(attempt, "ADD-007", "quantity '1e3' is refused")
        return
    debit = attempt.before - attempt.after
    require(charge_matches(debit, service.price(1000), panel.places), "MONEY-001",
            "quantity '1e3', accepted, is charged as 1000",
            f"debited {debit}, expected {service.price(1000)} for 1000", [attempt.exchange])


@pytest.mark.clause("MONEY-002")
def test_package_debits_the_flat_rate(panel: Panel, catalog: Catalog) -> None:
    packages = catalog.of_type("Package")
    if not packages:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Package service")
    service = min(packages, key=lambda s: s.rate)
    spec = panel.package_order(service)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec)
    require(charge_matches(order.debit, service.rate, panel.places), "MONEY-002",
            "a package debits its flat rate", f"debited {order.debit}, rate {service.rate}",
            [order.exchange])


def _comments(count: int) -> str:
    """``count`` non-empty comment lines with blank lines between them (to be ignored)."""
    return "\n\n".join(f"conformance comment {n}" for n in range(1, count + 1)) + "\n \n"


@pytest.mark.clause("ADD-010")
def test_custom_comments_quantity_is_the_line_count(panel: Panel, catalog: Catalog) -> None:
    services = catalog.of_type("Custom Comments")
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Custom Comments service")
    service = min(services, key=lambda s: s.price(visible_units(s, panel.places)))
    lines = visible_units(service, panel.places)
    spec = panel.comments_order(service, _comments(lines))
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec, clause="ADD-010")
    require(charge_matches(order.debit, spec.price, panel.places), "ADD-010",
            "custom comments are charged per non-empty line",
            f"{lines} lines: debited {order.debit}, expected {spec.price}", [order.exchange])
    exchange, status = panel.read_status(wallet.key, order)
    remains = values.count(status.get("remains"))
    require(remains is None or remains <= lines, "ADD-010",
            "the order's quantity is the number of non-empty lines",
            f"remains {status.get('remains')!r} for {lines} lines", [exchange])


@pytest.mark.clause("ADD-011", "MONEY-004")
@pytest.mark.parametrize("comments", [None, "\n \n\t\n"], ids=["missing", "blank-lines"])
def test_custom_comments_without_lines_is_refused(
    panel: Panel, catalog: Catalog, comments: str | None
) -> None:
    services = catalog.of_type("Custom Comments")
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Custom Comments service")
    service = min(services, key=lambda s: s.price(s.max))
    params = {"link": panel.link()}
    if comments is not None:
        params["comments"] = comments
    _refusal(panel, service, params, service.price(service.max), "ADD-011",
             "custom comments without a non-empty line are refused")


@pytest.mark.clause("ADD-012", "MONEY-004")
def test_subscriptions_are_refused(panel: Panel, catalog: Catalog) -> None:
    services = catalog.of_type("Subscriptions")
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, "no Subscriptions service")
    service = services[0]
    params = {"username": "conformance", "min": str(service.min), "max": str(service.max),
              "delay": "0"}
    _refusal(panel, service, params, service.price(service.max), "ADD-012",
             "a subscription is refused over the API", None)


# A type whose required parameter is left out, and the parameters it keeps.
_TYPE_PARAMS = {
    "SEO": "keywords",
    "Poll": "answer_number",
    "Invites from Groups": "groups",
}


@pytest.mark.clause("ADD-013", "MONEY-004")
@pytest.mark.parametrize("kind", sorted(_TYPE_PARAMS))
def test_type_specific_parameters_are_required(
    panel: Panel, catalog: Catalog, kind: str
) -> None:
    services = catalog.of_type(kind)
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED, f"no {kind} service")
    service = min(services, key=lambda s: s.price(panel.units(s)))
    quantity = panel.units(service)
    params = {"link": panel.link(), "quantity": str(quantity)}
    _refusal(panel, service, params, service.price(quantity), "ADD-013",
             f"a {kind} order without {_TYPE_PARAMS[kind]} is refused")
