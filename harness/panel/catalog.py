"""The catalogue, as pure arithmetic: services read leniently, prices, worst cases, roundings.

The one copy of what the driver, the strategies, the scenarios and the model ledger know about
a panel's services and money; no I/O.

Most types have one pricing. ``Custom Comments Package`` has two, one per documented add form,
and a catalogue does not say which form a panel takes: PerfectPanel-family panels take
``link`` + ``comments`` at a flat rate (protocol-variants.md section 5, "flat `rate` [V SP]"),
seed 004 takes ``username``, ``min``, ``max``, ``delay``, ``posts`` and bills ``posts * max``
at the upper bound (quoted at :data:`PER_POST_TYPES`), priced per 1000 of that total like
every per-quantity price. The harness sends both forms' parameters (each panel reads its own
and ignores the rest, as panels ignore unknown fields), reserves the dearer price, and
accepts a charge matching either (:attr:`OrderSpec.prices`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
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
from enum import StrEnum
from typing import Final

from harness import contract
from harness.base import values

__all__ = [
    "FLAT_TYPES",
    "NEVER_ISSUED_PREFIX",
    "PER_POST_PARAMS",
    "PER_POST_TYPES",
    "ROUNDING_MODES",
    "Catalog",
    "OrderSpec",
    "Pricing",
    "Service",
    "charge_matches",
    "cost_if_accepted",
    "is_never_issued",
    "names_per_post_param",
    "never_issued",
    "roundings",
    "visible_units",
    "worst_case",
]

FLAT_TYPES: Final = frozenset({"Package", "Custom Comments Package"})
"""Service types a documented form prices once per order, whatever the quantity."""
# Seed 004, Custom Comments Package: "Total quantity is computed server-side as posts × max;  # noqa: RUF003
# charge is billed at the upper bound and the undelivered slice is pro-rata refunded at
# completion." The harness orders min = max, so there is no undelivered slice to refund.
PER_POST_TYPES: Final = frozenset({"Custom Comments Package"})
"""Service types seed 004 takes per post: ``posts * max`` units billed per 1000 at the rate."""
PER_POST_PARAMS: Final = ("username", "min", "max", "delay", "posts", "old_posts", "expiry")
"""Seed 004's parameters of the per-post form (the first four required, the rest optional)."""
NEVER_ISSUED_PREFIX: Final = "9"
"""Ids the harness asks about but no panel issued are 13 digits starting with 9: a cancel or
refill of one must never touch an order the account really has."""


def never_issued(rng: random.Random) -> str:
    """An id no panel can have issued (13 digits starting with 9, drawn from ``rng``)."""
    return f"{NEVER_ISSUED_PREFIX}{rng.randrange(10**11, 10**12)}"


def is_never_issued(value: str) -> bool:
    """Whether ``value`` is an id of :func:`never_issued`'s kind: any of them asks the same."""
    return len(value) == 13 and value.isdigit() and value.startswith(NEVER_ISSUED_PREFIX)


def worst_case(price: Decimal, places: int) -> Decimal:
    """What an order of exact ``price`` can take at most at ``places`` decimals (rounded up):
    what the spend guard reserves before the order is sent. Exact for any size: a generated
    quantity of 10**30 units prices far past the default context's 28 digits."""
    with localcontext() as context:
        context.prec = max(context.prec, price.adjusted() + places + 2)
        return price.quantize(Decimal(1).scaleb(-places), ROUND_CEILING)


def cost_if_accepted(service: Service, units: int | None) -> Decimal:
    """What an add of ``units`` (``None``: unreadable) of ``service`` can cost if the panel
    wrongly accepts it, exact (before :func:`worst_case` rounds it), under the dearest pricing
    the type has: absurd quantities are bounded by ten times the service's max (the wallet's
    balance bounds a real debit anyway)."""
    return service.price(service.max if units is None else min(units, 10 * service.max))


_REFUSAL_WORDS = re.compile(r"\b(?:missing|required|invalid|empty|wrong|incorrect)\b", re.I)
_PER_POST_NAMES = re.compile(rf"\b(?:{'|'.join(PER_POST_PARAMS)})\b", re.I)


def names_per_post_param(message: str | None) -> bool:
    """Whether a refusal's message names a parameter of seed 004's per-post form as missing or
    invalid ("username is required", "Invalid delay"): the panel takes that form and refused
    the values the harness chose for it (its own limits per post, its delay list), which is
    evidence of the form, not a refusal of a valid order."""
    if not message:
        return False
    return bool(_PER_POST_NAMES.search(message) and _REFUSAL_WORDS.search(message))


class Pricing(StrEnum):
    """How a charge follows from a service's rate."""

    PER_1000 = "per-1000"
    """``rate * quantity / 1000``."""
    FLAT = "flat"
    """The rate once per order."""
    PER_POST = "per-post"
    """Seed 004's upper bound: ``rate * posts * max / 1000``."""


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
    def pricings(self) -> tuple[Pricing, ...]:
        """Each documented form's pricing of this type, the classic (PerfectPanel) form's first."""
        found = []
        if self.type in FLAT_TYPES:
            found.append(Pricing.FLAT)
        if self.type in PER_POST_TYPES:
            found.append(Pricing.PER_POST)
        return tuple(found) or (Pricing.PER_1000,)

    @property
    def flat(self) -> bool:
        """A form of the type (Package, Custom Comments Package) charges the rate once."""
        return self.type in FLAT_TYPES

    @property
    def per_post(self) -> bool:
        """Seed 004's form of the type orders ``posts * max`` units, billed per 1000."""
        return self.type in PER_POST_TYPES

    @property
    def metered(self) -> bool:
        """Some form of the type charges by the units ordered (every type but Package)."""
        return self.pricings != (Pricing.FLAT,)

    def charges(self, units: int) -> dict[Pricing, Decimal]:
        """Each pricing's exact (unrounded) charge for ``units`` (for a per-post order: its
        ``posts * max``)."""
        return {p: self.rate if p is Pricing.FLAT else self.rate * units / 1000
                for p in self.pricings}

    def price(self, units: int) -> Decimal:
        """The exact (unrounded) charge for ``units``; for a type with two pricings the dearer,
        which is what the spend guard must reserve."""
        return max(self.charges(units).values())

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
    if not service.metered or service.rate == 0:
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
    """The exact charge to reserve: the dearest of :attr:`prices`."""
    alternatives: tuple[tuple[Pricing, Decimal], ...] = ()
    """Every pricing's exact charge when the type has more than one (see the module's
    docstring); empty: :attr:`price` is the only one."""

    @classmethod
    def priced(cls, service: Service, params: Iterable[tuple[str, str]],
               units: int | None) -> OrderSpec:
        """The order of ``units`` of ``service`` with ``params``, priced by every pricing its
        type has (``units`` is ``None`` only for a type charged the flat rate alone)."""
        if units is None and service.metered:
            raise ValueError(f"a {service.type} order needs its units to be priced")
        charges = service.charges(units or 0)
        return cls(service, tuple(params), units, max(charges.values()),
                   tuple(charges.items()) if len(charges) > 1 else ())

    @property
    def prices(self) -> Mapping[Pricing, Decimal]:
        """Each exact charge a panel may rightly take for this order, by pricing."""
        if self.alternatives:
            return dict(self.alternatives)
        return {self.service.pricings[0]: self.price}

    def charged(self, actual: Decimal, places: int) -> bool:
        """Whether ``actual`` is one of :attr:`prices` at ``places`` decimals (a panel of
        either form is right)."""
        return any(charge_matches(actual, exact, places) for exact in self.prices.values())

    def refusal_shows_form(self, message: str | None) -> bool:
        """For an order sent in two forms at once, whether a refusal's ``message`` names a
        parameter of seed 004's per-post form (:func:`names_per_post_param`): the panel takes
        that form and refused the harness's values for it, which is no defect."""
        return self.service.per_post and names_per_post_param(message)

    def describe_prices(self) -> str:
        """The expected charges, for a failure message: ``0.08 (per-post) or 8 (flat)``."""
        if not self.alternatives:
            return str(self.price)
        return " or ".join(f"{exact} ({pricing.value})" for pricing, exact in self.alternatives)

    def form(self) -> dict[str, str]:
        return {"action": "add", **self.form_params()}

    def form_params(self) -> dict[str, str]:
        """The order's fields without the action (what :meth:`Panel.attempt` takes)."""
        return {"service": self.service.id, **dict(self.params)}
