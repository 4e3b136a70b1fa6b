"""Drip-feed orders (DRIP): runs x quantity, checked against max and charged on the total.

The drip-feed services are the catalogue's ``dripfeed: true`` ones; a catalogue that flags
none but leaves some Default services unflagged (seed 002 documents ``runs`` and ``interval``
without a flag) is probed once per run within the spend cap (``harness.dripfeed``), and the
probe's order is the one DRIP-001 judges. SVC-010 is the flag's own clause.
"""

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
    dripfeed,
    fail,
    require,
    values,
)

RUNS = dripfeed.RUNS
INTERVAL = dripfeed.INTERVAL  # minutes; in every published interval list


def _without_dripfeed(catalog: Catalog) -> list[Service]:
    """The Default services whose catalogue item says ``dripfeed: false`` (never a service
    that says nothing: its refusal of a probe is no statement of the catalogue)."""
    services = [s for s in catalog.of_type("Default") if s.dripfeed is False]
    if not services:
        raise NotApplicable(NaReason.NOT_OFFERED,
                            "no Default service explicitly without drip-feed")
    return services


@pytest.mark.clause("DRIP-001")
def test_dripfeed_is_charged_on_the_total(panel: Panel) -> None:
    order = dripfeed.dripfeed_order(panel)
    spec = order.spec
    quantity = int(dict(spec.params)["quantity"])
    plain = spec.service.price(quantity)
    detail = f"{RUNS} runs of {quantity}: debited {order.debit}, expected {spec.price}"
    if charge_matches(order.debit, plain, panel.places):
        detail += (f", the price of one plain order of {quantity}: runs and interval were "
                   "ignored (or read as splitting the quantity)")
    require(charge_matches(order.debit, spec.price, panel.places), "DRIP-001",
            "a drip-feed order is charged on runs * quantity", detail, [order.exchange])
    exchange, status = panel.read_status(order.wallet.key, order)
    remains = values.count(status.get("remains"))
    require(remains is None or remains <= quantity * RUNS, "DRIP-001",
            "the drip-feed order totals runs * quantity",
            f"remains {status.get('remains')!r} for {RUNS} x {quantity}", [exchange])


@pytest.mark.clause("SVC-010")
def test_dripfeed_services_say_so(panel: Panel) -> None:
    found = dripfeed.drip_feed(panel)
    services = found.require()  # N/A when no service takes drip-feed, or none can be probed
    if not found.probed:
        return  # the catalogue flags its drip-feed services
    evidence = [panel.catalogue_answer()]
    if found.probe is not None:
        evidence.append(found.probe.attempt.exchange)
    fail("SVC-010", "a service that takes drip-feed states dripfeed: true",
         f"service {services[0].id} accepted runs={RUNS}&interval={INTERVAL}, yet no "
         "catalogue item states a dripfeed flag: a client cannot know before ordering",
         evidence)


@pytest.mark.clause("DRIP-002", "MONEY-004")
def test_dripfeed_total_is_checked_against_max(panel: Panel) -> None:
    services = dripfeed.drip_feed(panel).require()
    candidates = [s for s in services if s.max // RUNS + 1 >= s.min]
    if not candidates:
        raise NotApplicable(NaReason.NOT_OFFERED, "no drip-feed service with room above max/2")
    service = min(candidates, key=lambda s: s.price((s.max // RUNS + 1) * RUNS))
    quantity = service.max // RUNS + 1
    spec = panel.default_order(service, quantity, runs=RUNS, interval=INTERVAL)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    attempt = panel.attempt(wallet, spec.form_params(), spec.price)
    panel.expect_refused(attempt, "DRIP-002",
                         f"{RUNS} runs of {quantity} exceed max {service.max}",
                         ErrorKind.BAD_REQUEST)


@pytest.mark.clause("DRIP-003", "MONEY-004")
@pytest.mark.parametrize("field", ["runs", "interval"])
@pytest.mark.parametrize("value", ["0", "-1", "2.5", "abc"])
def test_runs_and_interval_are_positive_integers(
    panel: Panel, field: str, value: str
) -> None:
    services = dripfeed.drip_feed(panel).require()
    service = min(services, key=lambda s: s.price(panel.units(s) * 3))
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
    service = min(_without_dripfeed(catalog), key=lambda s: s.price(panel.units(s) * RUNS))
    spec = panel.default_order(service, panel.units(service), runs=RUNS, interval=INTERVAL)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    attempt = panel.attempt(wallet, spec.form_params(), spec.price)
    panel.expect_refused(attempt, "DRIP-004", "drip-feed on a service without it is refused")


@pytest.mark.clause("DRIP-005", "MONEY-004")
@pytest.mark.parametrize("present", ["runs", "interval"])
def test_runs_and_interval_come_together(panel: Panel, present: str) -> None:
    services = dripfeed.drip_feed(panel).require()
    service = min(services, key=lambda s: s.price(panel.units(s) * RUNS))
    quantity = panel.units(service)
    value = str(RUNS) if present == "runs" else str(INTERVAL)
    params = {"service": service.id, "link": panel.link(), "quantity": str(quantity),
              present: value}
    worst = service.price(quantity * RUNS)
    wallet = panel.spending_wallet(panel.worst_case(worst))
    attempt = panel.attempt(wallet, params, worst)
    panel.expect_refused(attempt, "DRIP-005", f"{present} alone is refused")
