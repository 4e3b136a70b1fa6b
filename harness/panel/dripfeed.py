"""Which services take drip-feed orders: the catalogue's flags, or else one probe per run.

Seed 000's catalogue states "which features (refill, dripfeed) are supported" and seed 001's
items carry ``"dripfeed": false``; but seed 002 documents ``runs`` and ``interval`` on ``add``
("Optional. Split delivery into N runs for drip-feed effect.") with a catalogue that has no
``dripfeed`` flag at all, and seeds 003 and 004 show none either. A catalogue in which no
service says ``dripfeed: true`` may therefore still take drip-feed orders; such a panel
deviates from SVC-010 (a SHOULD: a missing flag is never a MUST failure), and its DRIP clauses
are judged on what one drip-feed order shows:

- the harness tries the cheapest Default services that say nothing of drip-feed (never one
  that says ``dripfeed: false``: the panel has answered that question), a few at most, within
  the spend cap, until one accepts;
- accepted and charged on runs * quantity: the service takes drip-feed, and that order is
  the one DRIP-001 judges (it is not paid for twice);
- accepted and charged as a plain order of the per-run quantity: runs and interval were
  ignored (or read as splitting the quantity), which is no proof of drip-feed but DRIP-001's
  failure; the other DRIP clauses are blocked by it;
- refused: drip-feed is not offered there (N/A), and the next candidate is tried;
- not affordable within ``--panel-max-spend``: the DRIP clauses stay N/A and say so.

The answer is kept for the run (per :class:`~harness.panel.driver.Panel`, so per xdist worker).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from typing import Final

from harness.base import values
from harness.base.budget import Wallet
from harness.judging.checks import Applies, CheckFailure, Grade, answer_kind, fail, unusable_by
from harness.judging.judge import NotApplicable
from harness.judging.verdicts import NaReason
from harness.panel.catalog import Catalog, OrderSpec, Service, charge_matches
from harness.panel.driver import Attempt, Panel, PlacedOrder

__all__ = [
    "INTERVAL",
    "PROBE_CANDIDATES",
    "RUNS",
    "DripFeed",
    "Probe",
    "drip_feed",
    "drip_order",
    "drip_units",
    "dripfeed_order",
    "known_catalog",
]

RUNS: Final = 2
INTERVAL: Final = 5
"""Minutes between runs: in every published interval list (SmartPanel's {0,5,10,15,30,60,90})."""
PROBE_CANDIDATES: Final = 3
"""Flagless services tried at most before a catalogue is taken to offer no drip-feed: a panel
with thousands of services is not ordered from thousands of times."""
_TELLING_STEPS: Final = 2
"""A per-run charge of at least two steps of the money precision: then no rounding of the
plain charge (quantity alone) can equal any rounding of the drip-feed's (runs * quantity)."""


def drip_units(panel: Panel, service: Service) -> int:
    """The per-run quantity of a drip-feed order of ``service``: the smallest valid quantity
    whose charge shows in the balance and is at least :data:`_TELLING_STEPS` steps, so that a
    panel which ignores ``runs`` cannot pass for one that honours it."""
    units = panel.units(service)  # reads the balance first when the precision is unknown
    if service.flat or service.rate <= 0:
        return units
    floor = Decimal(_TELLING_STEPS).scaleb(-panel.places)
    needed = int((floor * 1000 / service.rate).to_integral_value(ROUND_CEILING))
    return max(units, needed)


def drip_order(panel: Panel, service: Service) -> OrderSpec:
    """A drip-feed ``add`` of :data:`RUNS` runs of :func:`drip_units` each."""
    return panel.default_order(service, drip_units(panel, service), runs=RUNS, interval=INTERVAL)


def _fits(panel: Panel, service: Service) -> bool:
    return drip_units(panel, service) * RUNS <= service.max


def _price(panel: Panel, service: Service) -> tuple[Decimal, str]:
    """The order of choice among services: the cheapest drip-feed order first."""
    return service.price(drip_units(panel, service) * RUNS), service.id


@dataclass(frozen=True, slots=True)
class Probe:
    """The drip-feed order the probe placed (accepted), with the balance around it."""

    spec: OrderSpec
    wallet: Wallet
    attempt: Attempt
    order_id: str | None

    @property
    def debit(self) -> Decimal:
        return self.attempt.before - self.attempt.after

    def placed(self) -> PlacedOrder:
        """The order, as :meth:`Panel.place` would have returned it; an accepted ``add``
        without an order id fails DRIP-001 as it would have there."""
        if self.order_id is None:
            fail("DRIP-001", "a valid order is accepted", "the answer carries no order id",
                 [self.attempt.exchange])
        a = self.attempt
        return PlacedOrder(self.order_id, self.spec, a.exchange, a.before, a.after, self.wallet)


@dataclass(slots=True)
class DripFeed:
    """What the run knows of drip-feed on the panel."""

    services: tuple[Service, ...]
    """The Default services that take drip-feed: flagged ``dripfeed: true``, or the one the
    probe proved (empty: none can be used, see :attr:`unavailable`)."""
    probed: bool = False
    """Whether the services were found by the probe (the catalogue flags none)."""
    unavailable: NotApplicable | None = None
    """Why no service can be used (the N/A every DRIP test that needs one ends with)."""
    probe: Probe | None = None
    """The probe's accepted order (SVC-010's evidence; DRIP-001's order, see
    :meth:`take_probe`)."""
    probe_taken: bool = False
    """Whether DRIP-001 has judged the probe's order (it is judged once)."""
    refusals: list[str] = field(default_factory=list)
    """How each flagless service the probe tried refused drip-feed."""

    def require(self) -> tuple[Service, ...]:
        """The drip-feed services, or the N/A that says why there are none."""
        if self.services:
            return self.services
        error = self.unavailable or NotApplicable(NaReason.NOT_OFFERED, "no drip-feed service")
        # A fresh exception each time: one instance raised by several tests would carry
        # every test's traceback.
        raise NotApplicable(error.reason, error.detail, blocked_by=error.blocked_by)

    def take_probe(self) -> Probe | None:
        """The probe's order, once: DRIP-001 judges it instead of placing another."""
        if self.probe_taken:
            return None
        self.probe_taken = True
        return self.probe


_RUNS: weakref.WeakKeyDictionary[Panel, DripFeed] = weakref.WeakKeyDictionary()


def drip_feed(panel: Panel) -> DripFeed:
    """The run's drip-feed services: the catalogue's flags, else the probe's finding (probed
    once per run; a probe cut short by a failure is tried again by the next test)."""
    found = _RUNS.get(panel)
    if found is None:
        found = _find(panel)
        _RUNS[panel] = found
    return found


def _find(panel: Panel) -> DripFeed:
    defaults = panel.catalog().of_type("Default")
    flagged = tuple(s for s in defaults if s.dripfeed is True)
    if flagged:
        return DripFeed(flagged)
    unsaid = [s for s in defaults if s.dripfeed is None]
    if not unsaid:
        detail = ("no Default service" if not defaults
                  else "every Default service states dripfeed: false")
        return DripFeed((), unavailable=NotApplicable(NaReason.NOT_OFFERED, detail))
    # Free services prove nothing by their debit (0 for runs or not).
    candidates = [s for s in unsaid if s.rate > 0 and _fits(panel, s)]
    if not candidates:
        return DripFeed((), unavailable=NotApplicable(
            NaReason.NOT_OFFERED,
            "no service states dripfeed, and none that leaves it unsaid has room for "
            f"{RUNS} runs of a visible charge to probe"))
    candidates.sort(key=lambda s: _price(panel, s))
    return _probe(panel, candidates[:PROBE_CANDIDATES])


def _probe(panel: Panel, candidates: list[Service]) -> DripFeed:
    found = DripFeed((), probed=True)
    for service in candidates:
        per_run = drip_units(panel, service)
        spec = panel.default_order(service, per_run, runs=RUNS, interval=INTERVAL)
        try:
            wallet = panel.spending_wallet(panel.worst_case(spec.price))
            attempt = panel.attempt(wallet, spec.form_params(), spec.price)
        except NotApplicable as refused:
            needs = (f"a drip-feed probe on service {service.id} ({RUNS} runs of {per_run}) "
                     f"needs up to {panel.worst_case(spec.price)}")
            if refused.reason is NaReason.SPEND_CAP:
                needs += f", and the cap leaves {panel.guard.remaining}"
            elif refused.detail:
                needs += f" ({refused.detail})"
            found.unavailable = NotApplicable(refused.reason, _detail(found, needs))
            return found
        exchange = attempt.exchange
        blocker = unusable_by(exchange)
        if blocker is not None:  # already failed by the registered checks: one defect
            found.unavailable = NotApplicable(
                NaReason.BLOCKED, f"the drip-feed probe on service {service.id} got no usable "
                "answer", blocked_by=blocker)
            return found
        if answer_kind(exchange) is Applies.ERROR:
            _charged_for_refusal(panel, attempt)
            found.refusals.append(f"service {service.id} refused it: {exchange.error_message!r}")
            continue
        body = exchange.json
        order_id = values.id_text(body.get("order")) if isinstance(body, dict) else None
        found.probe = Probe(spec, wallet, attempt, order_id)
        # A plain order's charge (the per-run quantity alone): runs and interval ignored.
        plain = service.price(per_run)
        debit = found.probe.debit
        if charge_matches(debit, plain, panel.places) and not charge_matches(
                debit, spec.price, panel.places):
            found.unavailable = NotApplicable(
                NaReason.BLOCKED,
                f"service {service.id} took runs={RUNS}&interval={INTERVAL} but charged "
                f"{debit}, a plain order of the per-run quantity: no proof of drip-feed",
                blocked_by="DRIP-001")
            return found
        found.services = (service,)
        return found
    found.unavailable = NotApplicable(NaReason.NOT_OFFERED, _detail(found, ""))
    return found


def _detail(found: DripFeed, tail: str) -> str:
    """Why the probe proved no drip-feed service: the refusals it met, then ``tail``."""
    parts = ["no service states dripfeed: true", *found.refusals]
    if tail:
        parts.append(tail)
    return "; ".join(parts)


def _charged_for_refusal(panel: Panel, attempt: Attempt) -> None:
    """A refused probe must cost nothing (MONEY-004), as every refused ``add``."""
    if attempt.before != attempt.after:
        panel.judge.record_failure(CheckFailure(
            "MONEY-004", "nothing is charged for a rejected request",
            f"the drip-feed probe was refused, yet the balance moved {attempt.before} -> "
            f"{attempt.after}", Grade.FAIL, [attempt.exchange]))


def dripfeed_order(panel: Panel) -> PlacedOrder:
    """DRIP-001's order: the probe's when the probe placed one (judged, not paid for twice),
    else a new one of the cheapest drip-feed service that fits :data:`RUNS` runs."""
    found = drip_feed(panel)
    probe = found.take_probe()
    if probe is not None:
        return probe.placed()
    candidates = [s for s in found.require() if _fits(panel, s)]
    if not candidates:
        raise NotApplicable(NaReason.NOT_OFFERED, f"no drip-feed service fits {RUNS} runs")
    service = min(candidates, key=lambda s: _price(panel, s))
    spec = drip_order(panel, service)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    return panel.place(wallet, spec, clause="DRIP-001")


def known_catalog(panel: Panel) -> Catalog:
    """The panel's catalogue with drip-feed as the run knows it: on a catalogue that flags no
    service, the service the probe proved reads ``dripfeed: true`` (a probe that proved none,
    or only a plain charge, marks nothing). What the property strategies and the scenario
    selectors pick drip-feed orders from. It probes (once per run, within the cap) only when
    the run does not know yet: call it before generating examples, never inside one."""
    catalog = panel.catalog()
    found = drip_feed(panel)
    if not found.probed or not found.services:
        return catalog
    proven = {s.id for s in found.services}
    return Catalog(replace(s, dripfeed=True) if s.id in proven else s for s in catalog.services)
