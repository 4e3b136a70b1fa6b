"""The catalogue as the run knows it (``dripfeed.known_catalog``): on a catalogue that flags no
service, the service the drip-feed probe proved reads ``dripfeed: true`` for the property
strategies and the scenario selectors; nothing else does, and the probe is never repeated."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import find, given, settings

from harness.panel import dripfeed, strategies
from harness.panel.catalog import OrderSpec
from tests.harness.panel.test_dripfeed_probe import DripPanel, _run, _service

FIND = settings(max_examples=2000, database=None, deadline=None, derandomize=True)
QUICK = settings(max_examples=200, database=None, deadline=None, derandomize=True)


def test_the_proven_service_reads_flagged_and_the_probe_is_not_repeated() -> None:
    panel = DripPanel()
    run, _ = _run(panel)
    known = dripfeed.known_catalog(run.panel)
    assert {s.id: s.dripfeed for s in known.services} == {
        "1": True, "2": None, "3": None, "4": None, "9": False}
    sent = len(panel.received)
    again = dripfeed.known_catalog(run.panel)
    assert len(panel.received) == sent
    assert again.services == known.services
    # The live catalogue itself is untouched: SVC-010 still sees no flag.
    assert all(s.dripfeed is None for s in run.panel.catalog().services if s.id != "9")


def test_the_strategies_order_drip_feed_on_the_proven_service() -> None:
    panel = DripPanel()
    run, _ = _run(panel)
    known = dripfeed.known_catalog(run.panel)
    places = run.panel.places
    spec = find(strategies.orders(known, budget=Decimal(1), places=places),
                lambda o: "runs" in dict(o.params), settings=FIND)
    assert spec.service.id == "1"
    # On the catalogue as read, no generated order is a drip-feed one.
    @given(strategies.orders(run.panel.catalog(), budget=Decimal(1), places=places))
    @QUICK
    def never_drip(order: OrderSpec) -> None:
        assert "runs" not in dict(order.params)

    never_drip()


def test_a_probe_that_proves_nothing_marks_nothing() -> None:
    # Service 1 takes runs but charges the plain order: no proof of drip-feed.
    panel = DripPanel(behaviour={"1": "ignore"})
    run, _ = _run(panel)
    known = dripfeed.known_catalog(run.panel)
    assert all(s.dripfeed is not True for s in known.services)


def test_a_flagged_catalogue_is_read_as_it_is_without_a_probe() -> None:
    services = [_service("1", "1.00"), _service("2", "3.00", True), _service("9", "0.50", False)]
    panel = DripPanel(services=services)
    run, _ = _run(panel)
    known = dripfeed.known_catalog(run.panel)
    assert {s.id: s.dripfeed for s in known.services} == {"1": None, "2": True, "9": False}
    assert panel.adds == []
