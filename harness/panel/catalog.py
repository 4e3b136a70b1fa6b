"""The catalogue, as pure arithmetic: services read leniently, prices, worst cases, roundings.

The one copy of what the driver, the strategies, the scenarios and the model ledger know about
a panel's services and money; no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    localcontext,
)
from typing import Final

from harness import contract
from harness.base import values

__all__ = [
    "FLAT_TYPES",
    "NEVER_ISSUED_PREFIX",
    "ROUNDING_MODES",
    "Catalog",
    "OrderSpec",
    "Service",
    "charge_matches",
    "cost_if_accepted",
    "never_issued",
    "roundings",
    "visible_units",
    "worst_case",
]

FLAT_TYPES: Final = frozenset({"Package", "Custom Comments Package"})
"""Service types priced once per order, whatever the quantity."""
NEVER_ISSUED_PREFIX: Final = "9"
"""Ids the harness asks about but no panel issued are 13 digits starting with 9: a cancel or
refill of one must never touch an order the account really has."""


def never_issued(rng: random.Random) -> str:
    """An id no panel can have issued (13 digits starting with 9, drawn from ``rng``)."""
    return f"{NEVER_ISSUED_PREFIX}{rng.randrange(10**11, 10**12)}"


def worst_case(price: Decimal, places: int) -> Decimal:
    """What an order of exact ``price`` can take at most at ``places`` decimals (rounded up):
    what the spend guard reserves before the order is sent. Exact for any size: a generated
    quantity of 10**30 units prices far past the default context's 28 digits."""
    with localcontext() as context:
        context.prec = max(context.prec, price.adjusted() + places + 2)
        return price.quantize(Decimal(1).scaleb(-places), ROUND_CEILING)


def cost_if_accepted(service: Service, units: int | None) -> Decimal:
    """What an add of ``units`` (``None``: unreadable) of ``service`` can cost if the panel
    wrongly accepts it, exact (before :func:`worst_case` rounds it): absurd quantities are
    bounded by ten times the service's max (the wallet's balance bounds a real debit anyway)."""
    if service.flat:
        return service.rate
    return service.price(service.max if units is None else min(units, 10 * service.max))


def _flag(value: object) -> bool | None:
    """A catalogue flag as panels write it: a boolean, 0/1, or either as text."""
    if value in (True, 1, "1", "true"):
        return True
    if value in (False, 0, "0", "false"):
        return False
    return None


@dataclass(frozen=True, slots=True)
class Service:
    """One catalogue entry, read leniently."""

    id: str
    name: str
    type: str
    rate: Decimal
    min: int
    max: int
    refill: bool | None = None
    cancel: bool | None = None
    dripfeed: bool | None = None

    @property
    def flat(self) -> bool:
        """Package types charge the rate once, whatever the quantity."""
        return self.type in FLAT_TYPES

    def price(self, units: int) -> Decimal:
        """The exact (unrounded) charge for ``units``."""
        return self.rate if self.flat else self.rate * units / 1000

    @classmethod
    def parse(cls, item: object) -> Service | None:
        if not isinstance(item, dict):
            return None
        service_id = values.id_text(item.get("service"))
        rate = values.money(item.get("rate"))
        low, high = values.count(item.get("min")), values.count(item.get("max"))
        kind = item.get("type")
        if service_id is None or rate is None or not low or not high or low > high:
            return None
        if not isinstance(kind, str):
            return None
        return cls(
            id=service_id,
            name=str(item.get("name", "")),
            type=_canonical_type(kind),
            rate=rate,
            min=low,
            max=high,
            refill=_flag(item.get("refill")),
            cancel=_flag(item.get("cancel")),
            dripfeed=_flag(item.get("dripfeed")),
        )


def _canonical_type(kind: str) -> str:
    """``custom_comments`` (SmartPanel) and ``default`` read as ``Custom Comments``, ``Default``."""
    by_snake = {name: label for label, name in contract.service_types().items()}
    return by_snake.get(kind, by_snake.get(kind.lower(), kind))


class Catalog:
    """The services a panel offers, with the choices the suite makes among them."""

    def __init__(self, services: Iterable[Service]) -> None:
        self.services = tuple(services)

    @classmethod
    def parse(cls, body: object) -> Catalog:
        items = body if isinstance(body, list) else []
        return cls(s for s in (Service.parse(item) for item in items) if s is not None)

    def of_type(self, *types: str) -> list[Service]:
        return [s for s in self.services if s.type in types]

    def unknown_id(self) -> str:
        """A service id the catalogue does not hold."""
        numeric = [int(s.id) for s in self.services if s.id.isdigit()]
        return str(max(numeric, default=0) + 900_000_001)

    def most_expensive(self, units: int) -> Decimal:
        return max((s.price(units) for s in self.services), default=Decimal(0))


def visible_units(service: Service, places: int) -> int:
    """The smallest valid quantity whose charge shows at ``places`` decimals (else ``min``)."""
    if service.flat or service.rate == 0:
        return service.min
    smallest = Decimal(1).scaleb(-places)
    needed = int((smallest * 1000 / service.rate).to_integral_value(ROUND_CEILING))
    return min(max(service.min, needed), service.max)


ROUNDING_MODES = (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP)
"""How real panels round money to their precision: half-up (PHP ``round``), half-even (banker's
rounding, Python and database decimals), down (truncation: ``floor`` or a DECIMAL column
that cuts) and up (a panel that never undercharges)."""


def roundings(amount: Decimal, places: int) -> set[Decimal]:
    """``amount`` exact, or rounded to ``places`` decimals by any mode of :data:`ROUNDING_MODES`:
    each is within one step of the exact amount, so anything further off is a wrong amount."""
    step = Decimal(1).scaleb(-places)
    return {amount, *(amount.quantize(step, mode) for mode in ROUNDING_MODES)}


def charge_matches(actual: Decimal, exact: Decimal, places: int) -> bool:
    """Whether ``actual`` is ``exact`` at the panel's precision (rate * quantity / 1000 may
    need rounding; the rounding mode is the panel's choice, see :data:`ROUNDING_MODES`)."""
    return actual in roundings(exact, places)


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An ``add`` to send: its service, parameters, units ordered and exact price."""

    service: Service
    params: tuple[tuple[str, str], ...]
    units: int | None
    price: Decimal

    def form(self) -> dict[str, str]:
        return {"action": "add", **self.form_params()}

    def form_params(self) -> dict[str, str]:
        """The order's fields without the action (what :meth:`Panel.attempt` takes)."""
        return {"service": self.service.id, **dict(self.params)}
