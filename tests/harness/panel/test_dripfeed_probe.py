"""Drip-feed on a catalogue that flags no service (seed 002): one probe per run, within the cap.

A fake panel (a harness Transport) plays the catalogue and one behaviour per service for an
``add`` with ``runs``: honour them (charge runs * quantity), ignore them (charge the plain
order), refuse them, or refuse them and charge anyway. Each test proves what the probe sent and
what it concluded, for the panel it must catch and the one it must accept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl

import pytest

from harness.base.redaction import Secret
from harness.judging.checks import CheckFailure
from harness.judging.judge import NotApplicable
from harness.judging.verdicts import NaReason, Verdict
from harness.panel import dripfeed
from harness.panel.catalog import roundings
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from harness.wire.client import RawResponse
from tests.harness.panel.test_requests import SpyJudge

KEY = "drip-key-Hq31vv8Lm2"
CENTS = Decimal("0.01")


def _service(sid: str, rate: str, flag: object = None, *, low: int = 10,
             high: int = 10_000) -> dict[str, object]:
    item: dict[str, object] = {"service": int(sid), "name": f"S{sid}", "type": "Default",
                               "category": "Test", "rate": rate, "min": str(low),
                               "max": str(high), "refill": False, "cancel": True}
    if flag is not None:
        item["dripfeed"] = flag
    return item


# Drip-feed orders (2 runs of a per-run charge of at least two cents): service 1 costs 0.04,
# service 2 0.06, service 3 0.10, service 4 0.16; service 9, flagged false, is the cheapest.
FLAGLESS = [_service("1", "1.00"), _service("2", "3.00"), _service("3", "5.00"),
            _service("4", "8.00"), _service("9", "0.50", False)]


@dataclass
class DripPanel:
    """A tiny panel: ``behaviour`` maps a service id to what its ``add`` does with ``runs``:
    ``honour`` (the default), ``ignore``, ``refuse`` or ``refuse-and-charge``."""

    services: list[dict[str, object]] = field(default_factory=lambda: list(FLAGLESS))
    behaviour: Mapping[str, str] = field(default_factory=dict)
    balance: Decimal = Decimal("10.00")
    adds: list[dict[str, str]] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    orders: dict[str, int] = field(default_factory=dict)  # id -> units

    def send(self, method: str, url: str, headers: Mapping[str, str],
             body: bytes | None) -> RawResponse:
        params = dict(parse_qsl((body or b"").decode()))
        action = params.get("action", "")
        self.received.append(action)
        if params.get("key") != KEY:
            return self.answer({"error": "Invalid API key"})
        if action == "balance":
            return self.answer({"balance": f"{self.balance:.2f}", "currency": "USD"})
        if action == "services":
            return self.answer(self.services)
        if action == "add":
            self.adds.append(params)
            return self.add(params)
        if action == "status" and params.get("order") in self.orders:
            units = self.orders[params["order"]]
            return self.answer({"charge": "0.04", "start_count": "0", "status": "Pending",
                                "remains": str(units), "currency": "USD"})
        if action == "cancel":
            return self.answer([{"order": i, "cancel": {"error": "Cannot cancel"}}
                                for i in params.get("orders", "").split(",")])
        return self.answer({"error": "Incorrect request"})

    def add(self, params: dict[str, str]) -> RawResponse:
        service = next(s for s in self.services if str(s["service"]) == params["service"])
        units = int(params["quantity"])
        does = self.behaviour.get(params["service"], "honour")
        if "runs" in params and does.startswith("refuse"):
            if does == "refuse-and-charge":
                self.balance -= CENTS
            return self.answer({"error": "This service does not support drip-feed"})
        if "runs" in params and does == "honour":
            units *= int(params["runs"])
        rate = Decimal(str(service["rate"]))
        self.balance -= (rate * units / 1000).quantize(CENTS, ROUND_HALF_UP)
        order = str(500 + len(self.orders))
        self.orders[order] = units
        return self.answer({"order": int(order)})

    @staticmethod
    def answer(body: object) -> RawResponse:
        return RawResponse(200, (("Content-Type", "application/json"),),
                           json.dumps(body).encode())


def _run(panel: DripPanel, spend: str = "5") -> tuple[HarnessRun, SpyJudge]:
    config = PanelConfig(url="http://panel.invalid/api/v2", key=Secret(KEY, "main key"),
                         max_spend=Decimal(spend), request_rate=1000.0)
    run = HarnessRun(config, transport=panel)
    judge = SpyJudge(run, "test_drip")
    run.judge = judge
    return run, judge


def _probed_services(panel: DripPanel) -> list[str]:
    return [add["service"] for add in panel.adds if "runs" in add]


def test_a_flagless_service_that_honours_runs_is_proven_by_one_order() -> None:
    panel = DripPanel()
    run, _ = _run(panel)
    found = dripfeed.drip_feed(run.panel)
    assert found.probed
    assert [s.id for s in found.services] == ["1"]
    assert _probed_services(panel) == ["1"]
    assert panel.adds[0]["runs"] == "2"
    assert panel.adds[0]["interval"] == "5"
    # Asked again (another DRIP test), the run's answer stands: nothing more is sent.
    sent = len(panel.received)
    assert dripfeed.drip_feed(run.panel) is found
    assert len(panel.received) == sent


def test_drip_001_judges_the_probe_s_order_instead_of_paying_twice() -> None:
    panel = DripPanel()
    run, _ = _run(panel)
    dripfeed.drip_feed(run.panel)
    order = dripfeed.dripfeed_order(run.panel)
    assert len(panel.adds) == 1
    assert order.id == "500"
    assert order.debit == Decimal("0.04")  # 2 runs of 20 at 1.00 per 1000
    # The probe's order is judged once; asked again, a new drip-feed order is placed.
    dripfeed.dripfeed_order(run.panel)
    assert len(panel.adds) == 2


def test_flagged_services_are_used_without_a_probe() -> None:
    services = [_service("1", "1.00"), _service("2", "3.00", True), _service("9", "0.50", False)]
    panel = DripPanel(services=services)
    run, _ = _run(panel)
    found = dripfeed.drip_feed(run.panel)
    assert not found.probed
    assert [s.id for s in found.services] == ["2"]
    assert panel.adds == []


def test_services_flagged_false_are_never_probed() -> None:
    panel = DripPanel(services=[_service("9", "0.50", False), _service("8", "0.90", "0")])
    run, _ = _run(panel)
    with pytest.raises(NotApplicable) as raised:
        dripfeed.drip_feed(run.panel).require()
    assert raised.value.reason is NaReason.NOT_OFFERED
    assert "every Default service states dripfeed: false" in raised.value.text
    assert panel.adds == []


def test_refusals_are_not_offered_after_at_most_three_candidates() -> None:
    panel = DripPanel(behaviour=dict.fromkeys("1234", "refuse"))
    run, _ = _run(panel)
    with pytest.raises(NotApplicable) as raised:
        dripfeed.drip_feed(run.panel).require()
    assert raised.value.reason is NaReason.NOT_OFFERED
    assert "service 1 refused it: 'This service does not support drip-feed'" in raised.value.text
    # Cheapest first, never the flagged-false one, and no more than the limit.
    assert _probed_services(panel) == ["1", "2", "3"]
    assert dripfeed.PROBE_CANDIDATES == 3
    assert run.book.outcome("MONEY-004").verdict is not Verdict.FAIL


def test_a_refusal_then_an_acceptance_proves_the_second_service() -> None:
    panel = DripPanel(behaviour={"1": "refuse"})
    run, _ = _run(panel)
    found = dripfeed.drip_feed(run.panel)
    assert [s.id for s in found.services] == ["2"]
    assert found.refusals == ["service 1 refused it: 'This service does not support drip-feed'"]
    assert _probed_services(panel) == ["1", "2"]


def test_a_panel_that_ignores_runs_proves_nothing_and_fails_drip_001() -> None:
    panel = DripPanel(behaviour={"1": "ignore"})
    run, _ = _run(panel)
    found = dripfeed.drip_feed(run.panel)
    assert found.services == ()
    with pytest.raises(NotApplicable) as raised:
        found.require()
    assert raised.value.blocked_by == "DRIP-001"
    assert "a plain order of the per-run quantity" in raised.value.text
    # Not another candidate: the panel answered drip-feed with a plain order.
    assert _probed_services(panel) == ["1"]
    order = dripfeed.dripfeed_order(run.panel)
    spec = order.spec
    assert order.debit == Decimal("0.02")  # 20 units, not 2 runs of 20
    assert order.debit not in roundings(spec.price, run.panel.places)


def test_a_probe_the_cap_does_not_allow_is_not_sent_and_says_why() -> None:
    panel = DripPanel()
    run, _ = _run(panel, spend="0.03")
    with pytest.raises(NotApplicable) as raised:
        dripfeed.drip_feed(run.panel).require()
    assert raised.value.reason is NaReason.SPEND_CAP
    assert ("a drip-feed probe on service 1 (2 runs of 20) needs up to 0.04, and the cap "
            "leaves 0.03") in raised.value.text
    assert panel.adds == []


def test_a_read_only_run_sends_no_probe() -> None:
    panel = DripPanel()
    run, _ = _run(panel, spend="0")
    with pytest.raises(NotApplicable) as raised:
        dripfeed.drip_feed(run.panel).require()
    assert raised.value.reason is NaReason.SPEND_CAP
    assert panel.adds == []


def test_a_refused_probe_that_charges_fails_money_004() -> None:
    panel = DripPanel(behaviour={"1": "refuse-and-charge"})
    run, _ = _run(panel)
    found = dripfeed.drip_feed(run.panel)
    assert [s.id for s in found.services] == ["2"]
    outcome = run.book.outcome("MONEY-004")
    assert outcome.verdict is Verdict.FAIL
    assert "the drip-feed probe was refused, yet the balance moved" in outcome.reason


def test_a_probe_accepted_without_an_order_id_fails_drip_001_when_judged() -> None:
    @dataclass
    class NoId(DripPanel):
        def add(self, params: dict[str, str]) -> RawResponse:
            super().add(params)
            return self.answer({"order": ""})

    run, _ = _run(NoId())
    assert [s.id for s in dripfeed.drip_feed(run.panel).services] == ["1"]
    with pytest.raises(CheckFailure, match="no order id") as raised:
        dripfeed.dripfeed_order(run.panel)
    assert raised.value.clause == "DRIP-001"


@pytest.mark.parametrize("rate", ["0.001", "0.333", "1.00", "7.77", "0.90"])
@pytest.mark.parametrize("places", [2, 5])
def test_the_per_run_quantity_tells_a_plain_charge_from_a_drip_feed_one(
    rate: str, places: int
) -> None:
    panel = DripPanel(services=[_service("1", rate, low=1, high=10**9)])
    run, _ = _run(panel)
    driver = run.panel
    driver.learn_places(f"1.{'0' * places}")
    [service] = driver.catalog().services
    units = dripfeed.drip_units(driver, service)
    plain, drip = service.price(units), service.price(units * dripfeed.RUNS)
    assert not roundings(plain, places) & roundings(drip, places)
    # The smallest such quantity: one unit less charges under two steps.
    assert service.price(units - 1) < Decimal(2).scaleb(-places) or units == 1
