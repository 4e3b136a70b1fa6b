"""Money arithmetic: exact ``Decimal`` amounts quantized to the panel's places, half up.

Every amount the state layer stores or reports passes through here, so rounding happens in
exactly one way. Arithmetic runs in a private context with enough precision that products of a
rate and a quantity are exact before the single final rounding; the thread's ambient decimal
context (which any caller may have changed) is never used.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Final

from mockpanel.shortcuts import NO_SHORTCUTS

__all__ = [
    "MAX_AMOUNT",
    "SharedAmounts",
    "at_places",
    "check_amount",
    "format_money",
    "format_money_reference",
    "format_money_shortcut",
    "fraction_units",
    "from_units",
    "parse_money",
    "per_thousand",
    "per_thousand_units",
    "pro_rata",
    "quantize",
    "quantum",
    "smallest_chargeable",
    "to_units",
]

# A ceiling on any balance or price: keeps every product far inside the private precision.
MAX_AMOUNT = Decimal(10) ** 15

_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


# The one context all arithmetic here runs in, shared: an operation only ever writes a
# context's flags, which nothing reads, and its precision, rounding and traps never change.
_CONTEXT: Final = Context(prec=60, rounding=ROUND_HALF_UP)
_ZERO: Final = Decimal(0)


def quantum(places: int) -> Decimal:
    """The smallest amount at ``places`` decimal places (``places=5`` -> ``0.00001``)."""
    found = _QUANTA.get(places)
    if found is not None:
        return found
    if places < 0:
        raise ValueError(f"places must be >= 0, got {places}")
    return Decimal(1).scaleb(-places)


# Quanta for the places a currency can have (a Decimal is immutable, so sharing is safe).
_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in range(13)}


def quantize(amount: Decimal, places: int) -> Decimal:
    """``amount`` rounded half up to ``places`` decimal places."""
    if not amount.is_finite():
        raise ValueError(f"amount must be finite, got {amount}")
    return _CONTEXT.quantize(amount, quantum(places))


def at_places(amount: Decimal, places: int) -> bool:
    """Whether ``amount`` is finite with nothing beyond ``places`` decimals (``quantize`` of it
    changes nothing): what every stored or moved amount must be."""
    return amount.is_finite() and quantize(amount, places) == amount


def to_units(amount: Decimal, places: int) -> int:
    """``amount``, finite and already at ``places`` (see :func:`at_places`), as a whole number
    of money steps (``10**-places`` each): exact, as every amount is far inside the precision."""
    return int(amount.scaleb(places, _CONTEXT))


def from_units(units: int, places: int) -> Decimal:
    """``units`` money steps as a Decimal written with exactly ``places`` decimals."""
    return Decimal(units).scaleb(-places, _CONTEXT)


def per_thousand(rate: Decimal, quantity: int, places: int) -> Decimal:
    """The charge of ``quantity`` units at ``rate`` per 1000, ``quantize(rate * qty / 1000)``."""
    return from_units(per_thousand_units(rate, quantity, places), places)


def per_thousand_units(rate: Decimal, quantity: int, places: int) -> int:
    """:func:`per_thousand` as a whole number of money steps (``10**-places`` each).

    In integers (every ``add`` prices one order): ``rate`` is exactly ``numerator /
    denominator``, so the charge in steps is that fraction times ``quantity * 10**places /
    1000``, rounded half up. A hypothesis test holds it to the Decimal formula.
    """
    if not rate.is_finite() or rate < _ZERO or quantity < 0 or places < 0:
        raise ValueError(f"need a finite rate >= 0, quantity >= 0, places >= 0: {rate}, "
                         f"{quantity}, {places}")
    return fraction_units(rate.as_integer_ratio(), quantity, places)


def fraction_units(rate: tuple[int, int], quantity: int, places: int) -> int:
    """:func:`per_thousand_units` of a rate given as its exact fraction ``(numerator,
    denominator)`` (``Decimal.as_integer_ratio()``), unchecked: what an ``add`` calls with a
    service's ``rate_fraction``, a figure the catalogue computed and checked once."""
    numerator, denominator = rate
    whole = denominator * 1000
    scaled: int = numerator * quantity * 10**places  # (10**places: int for places >= 0)
    units, rest = divmod(scaled, whole)
    if 2 * rest >= whole:
        units += 1
    return units


class SharedAmounts:
    """Amounts at one panel's places, each distinct amount one shared ``Decimal``.

    Orders repeat a few charges, so sharing one object per amount keeps the memory per order
    down (a Decimal is immutable: sharing changes no answer), and an amount seen before is not
    built again. Bounded: past ``limit`` distinct amounts a new one is built every time and
    not kept.
    """

    __slots__ = ("_kept", "_limit", "places")

    def __init__(self, places: int, limit: int = 4096) -> None:
        if places < 0:
            raise ValueError(f"places must be >= 0, got {places}")
        self.places = places
        self._limit = limit
        self._kept: dict[int, Decimal] = {}

    def __len__(self) -> int:
        """How many amounts are kept."""
        return len(self._kept)

    def of_units(self, units: int) -> Decimal:
        """``units`` money steps as a Decimal written with exactly ``places`` decimals."""
        amount = self._kept.get(units)
        if amount is None:
            amount = from_units(units, self.places)
            if len(self._kept) < self._limit:
                self._kept[units] = amount
        return amount


def pro_rata(charge: Decimal, part: int, whole: int, places: int) -> Decimal:
    """``quantize(charge * part / whole)`` computed exactly (integer half-up division).

    Used for partial refunds, where ``part`` is what was not delivered; the result is never
    more than ``charge`` because ``0 <= part <= whole``.
    """
    if whole <= 0 or not 0 <= part <= whole:
        raise ValueError(f"need 0 <= part <= whole and whole > 0, got {part}/{whole}")
    units = int(quantize(charge, places).scaleb(places, context=_CONTEXT))
    numerator = units * part
    rounded = (2 * numerator + whole) // (2 * whole)
    ctx = _CONTEXT
    return Decimal(rounded).scaleb(-places, context=ctx).quantize(quantum(places), context=ctx)


def parse_money(text: str, places: int) -> Decimal:
    """A non-negative amount from plain decimal text (``"12.5"``), refusing anything ambiguous.

    Refused with ``ValueError``: signs, exponents, NaN/Infinity, more than ``places`` decimals
    (money is never silently rounded on the way in) and amounts of ``MAX_AMOUNT`` or more.
    """
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"not a plain non-negative decimal amount: {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # unreachable for matched text; kept so errors stay typed
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    return check_amount(value, places)


def check_amount(value: Decimal, places: int) -> Decimal:
    """``value`` quantized to ``places`` if it is a finite, non-negative, exact amount."""
    if not value.is_finite():
        raise ValueError(f"amount must be finite, got {value}")
    if value < 0:
        raise ValueError(f"amount must not be negative, got {value}")
    if value >= MAX_AMOUNT:
        raise ValueError(f"amount must be below {MAX_AMOUNT}, got {value}")
    rounded = quantize(value, places)
    if rounded != value:
        raise ValueError(f"amount {value} has more than {places} decimal places")
    return rounded


def format_money_reference(amount: Decimal, places: int) -> str:
    """Fixed-point text with exactly ``places`` decimals, never an exponent (``"0.00001"``)."""
    return f"{quantize(amount, places):.{places}f}"


def format_money_shortcut(amount: Decimal, places: int) -> str:
    """:func:`format_money_reference`, with an amount already at ``places`` (as every stored
    amount is) written as its own text rather than quantized again."""
    text = str(amount)
    if "E" in text:  # str() writes a tiny amount in scientific notation
        text = f"{amount:f}"
    if places:
        if len(text) > places and text[-places - 1] == ".":  # (NaN and Infinity have none)
            return text
    elif "." not in text and amount.is_finite():
        return text
    return format_money_reference(amount, places)


# Shortcut: a stored amount written as it is (no quantize); twin: format_money_reference.
format_money = format_money_reference if NO_SHORTCUTS else format_money_shortcut


def smallest_chargeable(rate: Decimal, places: int) -> int:
    """The least quantity whose per-1000 charge at ``rate`` does not round to zero."""
    if not rate > 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    ctx = _CONTEXT
    # charge > 0  <=>  rate * q / 1000 >= quantum / 2  <=>  q >= 500 * quantum / rate
    bound = ctx.divide(ctx.multiply(Decimal(500), quantum(places)), rate)
    least = max(1, int(bound.to_integral_value(rounding=ROUND_CEILING, context=ctx)))
    while per_thousand(rate, least, places) == 0:  # guards the algebra; at most one step
        least += 1
    return least
