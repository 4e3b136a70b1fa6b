"""Drip-feed orders (DRIP): runs x quantity, checked against max and charged on the total."""

from __future__ import annotations

import pytest

from harness import (
    Catalog,
    ErrorKind,
    NaReason,
    NotApplicable,
    Panel,
    Service,
    charge_matches,
    require,
    values,
)

RUNS = 2
INTERVAL = 5  # minutes; in every published interval list


def _drip_services(catalog: Catalog, flag: bool) -> list[Service]:
    services = [s for s in catalog.of_type("Default") if s.dripfeed is flag]
    if not services:
        state = "with" if flag else "explicitly without"
        raise NotApplicable(NaReason.NOT_OFFERED, f"no Default service {state} drip-feed")
    return services


@pytest.mark.clause("DRIP-001")
def test_dripfeed_is_charged_on_the_total(panel: Panel, catalog: Catalog) -> None:
    candidates = [s for s in _drip_services(catalog, True) if panel.units(s) * RUNS <= s.max]
    if not candidates:
        raise NotApplicable(NaReason.NOT_OFFERED, "no drip-feed service fits two runs")
    service = min(candidates, key=lambda s: s.price(panel.units(s) * RUNS))
    quantity = panel.units(service)
    spec = panel.default_order(service, quantity, runs=RUNS, interval=INTERVAL)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec, clause="DRIP-001")
    require(charge_matches(order.debit, spec.price, panel.places), "DRIP-001",
            "a drip-feed order is charged on runs * quantity",
            f"{RUNS} runs of {quantity}: debited {order.debit}, expected {spec.price}",
            [order.exchange])
    exchange, status = panel.read_status(wallet.key, order)
    remains = values.count(status.get("remains"))
    require(remains is None or remains <= quantity * RUNS, "DRIP-001",
            "the drip-feed order totals runs * quantity",
            f"remains {status.get('remains')!r} for {RUNS} x {quantity}", [exchange])


@pytest.mark.clause("DRIP-002", "MONEY-004")
def test_dripfeed_total_is_checked_against_max(panel: Panel, catalog: Catalog) -> None:
    candidates = [s for s in _drip_services(catalog, True) if s.max // RUNS + 1 >= s.min]
    if not candidates:
        raise NotApplicable(NaReason.NOT_OFFERED, "no drip-feed service with room above max/2")
    service = min(candidates, key=lambda s: s.price((s.max // RUNS + 1) * RUNS))
    quantity = service.max // RUNS + 1
    spec = panel.default_order(service, quantity, runs=RUNS, interval=INTERVAL)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    attempt = panel.attempt(wallet, spec.form(), spec.price)
    panel.expect_refused(attempt, "DRIP-002",
                         f"{RUNS} runs of {quantity} exceed max {service.max}",
                         ErrorKind.BAD_REQUEST)


@pytest.mark.clause("DRIP-003", "MONEY-004")
@pytest.mark.parametrize("field", ["runs", "interval"])
@pytest.mark.parametrize("value", ["0", "-1", "2.5", "abc"])
def test_runs_and_interval_are_positive_integers(
    panel: Panel, catalog: Catalog, field: str, value: str
) -> None:
    service = min(_drip_services(catalog, True), key=lambda s: s.price(panel.units(s) * 3))
    quantity = panel.units(service)
    params = {"service": service.id, "link": panel.link(), "quantity": str(quantity),
              "runs": str(RUNS), "interval": str(INTERVAL), field: value}
    # A panel that misreads the value might run the order up to three times.
    worst = service.price(quantity * 3)
    wallet = panel.spending_wallet(panel.worst_case(worst))
    attempt = panel.attempt(wallet, params, worst)
    panel.expect_refused(attempt, "DRIP-003", f"{field}={value!r} is refused",
                         ErrorKind.BAD_REQUEST)


@pytest.mark.clause("DRIP-004", "MONEY-004")
def test_dripfeed_needs_a_dripfeed_service(panel: Panel, catalog: Catalog) -> None:
    service = min(_drip_services(catalog, False), key=lambda s: s.price(panel.units(s) * RUNS))
    spec = panel.default_order(service, panel.units(service), runs=RUNS, interval=INTERVAL)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    attempt = panel.attempt(wallet, spec.form(), spec.price)
    panel.expect_refused(attempt, "DRIP-004", "drip-feed on a service without it is refused")


@pytest.mark.clause("DRIP-005", "MONEY-004")
@pytest.mark.parametrize("present", ["runs", "interval"])
def test_runs_and_interval_come_together(
    panel: Panel, catalog: Catalog, present: str
) -> None:
    service = min(_drip_services(catalog, True), key=lambda s: s.price(panel.units(s) * RUNS))
    quantity = panel.units(service)
    value = str(RUNS) if present == "runs" else str(INTERVAL)
    params = {"service": service.id, "link": panel.link(), "quantity": str(quantity),
              present: value}
    worst = service.price(quantity * RUNS)
    wallet = panel.spending_wallet(panel.worst_case(worst))
    attempt = panel.attempt(wallet, params, worst)
    panel.expect_refused(attempt, "DRIP-005", f"{present} alone is refused")
