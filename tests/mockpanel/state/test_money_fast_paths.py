"""The money helpers' shortcuts give exactly what the general path gives.

``format_money`` reads an amount that is already at the money places from its text instead of
quantizing it again, and ``_context`` copies a template instead of building a context from
keyword arguments; neither may change a single answer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockpanel.state import money
from mockpanel.state.money import format_money, quantize


def _slow_format(amount: Decimal, places: int) -> str:
    # The general path: round half up to the places, then write every place.
    return f"{quantize(amount, places):.{places}f}"


_AMOUNTS = st.builds(
    lambda digits, exponent, negative: Decimal((int(negative), digits, exponent)),
    st.lists(st.integers(0, 9), min_size=1, max_size=12).map(tuple),
    st.integers(-9, 4),
    st.booleans(),
)


@given(amount=_AMOUNTS, places=st.integers(0, 8))
def test_format_money_equals_quantize_then_format(amount: Decimal, places: int) -> None:
    assert format_money(amount, places) == _slow_format(amount, places)


@given(amount=_AMOUNTS, places=st.integers(0, 8))
def test_an_amount_at_the_places_is_written_as_its_own_text(amount: Decimal, places: int) -> None:
    stored = quantize(amount, places)  # what the ledger keeps: exponent == -places
    assert format_money(stored, places) == f"{stored:f}"


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("places", [0, 5])
def test_a_non_finite_amount_is_refused_not_written(text: str, places: int) -> None:
    # "NaN" has no decimal point, like a whole amount at 0 places: it must not pass as one.
    with pytest.raises((ValueError, InvalidOperation)):
        format_money(Decimal(text), places)


def test_every_context_is_fresh_even_after_one_recorded_flags() -> None:
    first = money._context()
    first.divide(Decimal(1), Decimal(3))  # inexact: sets flags on this context only
    assert first.flags[Inexact]
    second = money._context()
    assert second is not first
    assert not any(second.flags.values())
    assert (second.prec, second.rounding) == (60, ROUND_HALF_UP)
    assert all(second.traps[signal] == first.traps[signal] for signal in first.traps)


@pytest.mark.parametrize("places", range(20))
def test_a_looked_up_quantum_is_the_computed_one(places: int) -> None:
    computed = Decimal(1).scaleb(-places)
    assert str(money.quantum(places)) == str(computed)  # same value and same exponent
    assert money.quantum(places).as_tuple() == computed.as_tuple()


def test_a_negative_quantum_is_still_refused() -> None:
    with pytest.raises(ValueError, match="places must be >= 0"):
        money.quantum(-1)


def _decimal_per_thousand(rate: Decimal, quantity: int, places: int) -> Decimal:
    # The Decimal formula per_thousand replaced: multiply, shift three places, round half up.
    ctx = Context(prec=80, rounding=ROUND_HALF_UP)
    exact = ctx.multiply(rate, Decimal(quantity)).scaleb(-3, context=ctx)
    return exact.quantize(Decimal(1).scaleb(-places), context=ctx)


_RATES = st.builds(
    lambda digits, exponent: Decimal((0, digits, exponent)),
    st.lists(st.integers(0, 9), min_size=1, max_size=10).map(tuple),
    st.integers(-8, 3),
)


@given(rate=_RATES, quantity=st.integers(0, 10**9), places=st.integers(0, 12))
def test_per_thousand_in_integers_equals_the_decimal_formula(
    rate: Decimal, quantity: int, places: int
) -> None:
    charge = money.per_thousand(rate, quantity, places)
    expected = _decimal_per_thousand(rate, quantity, places)
    assert charge == expected
    assert charge.as_tuple().exponent == -places  # written with exactly the money places
    assert format_money(charge, places) == f"{expected:.{places}f}"


@pytest.mark.parametrize("rate", [Decimal("NaN"), Decimal("Infinity"), Decimal("-0.5")])
def test_per_thousand_refuses_what_is_not_a_price(rate: Decimal) -> None:
    with pytest.raises(ValueError, match="finite rate"):
        money.per_thousand(rate, 10, 2)
