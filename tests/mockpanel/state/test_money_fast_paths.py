"""The money helpers' shortcuts give exactly what the general path gives.

``format_money`` reads an amount that is already at the money places from its text instead of
quantizing it again, and ``_context`` copies a template instead of building a context from
keyword arguments; neither may change a single answer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockpanel.state import money
from mockpanel.state.money import format_money, pro_rata, quantize, smallest_chargeable


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
# The text's shapes the shortcut reads: a point exactly ``places`` from the end but in an
# exponent form, a whole amount in exponent form, a sign, too few digits, too many places.
@example(amount=Decimal("1.0E-7"), places=4)
@example(amount=Decimal("1E+2"), places=0)
@example(amount=Decimal("-0.50"), places=2)
@example(amount=Decimal("5"), places=3)
@example(amount=Decimal("0.125"), places=2)
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


def _answers() -> list[Decimal | int]:
    return [
        quantize(Decimal("2.5"), 0),
        quantize(Decimal("0.000015"), 5),
        pro_rata(Decimal("1.00"), 1, 3, 2),
        smallest_chargeable(Decimal("0.001"), 5),
    ]


def test_the_shared_context_answers_alike_whatever_flags_earlier_calls_left() -> None:
    money._CONTEXT.clear_flags()
    before = _answers()
    money._CONTEXT.divide(Decimal(1), Decimal(3))  # inexact: leaves flags on the context
    assert money._CONTEXT.flags[Inexact]
    after = _answers()
    assert [str(d) for d in after] == [str(d) for d in before]  # (str: exponents too)
    assert before[:3] == [Decimal(3), Decimal("0.00002"), Decimal("0.33")]
    assert (money._CONTEXT.prec, money._CONTEXT.rounding) == (60, ROUND_HALF_UP)
    with pytest.raises(InvalidOperation):  # its traps still refuse what cannot be exact
        quantize(Decimal("1E+100"), 5)


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


@given(rate=_RATES, places=st.integers(0, 12))
def test_the_whole_rate_in_steps_is_the_rate_quantized(rate: Decimal, places: int) -> None:
    # A flat-priced add prices the whole rate as 1000 per 1000: it must be quantize(rate).
    steps = money.per_thousand_units(rate, 1000, places)
    assert Decimal(steps).scaleb(-places) == quantize(rate, places)


@given(units=st.lists(st.integers(0, 10**15), min_size=1, max_size=20), places=st.integers(0, 12))
def test_shared_amounts_are_the_steps_at_the_places_and_built_once(
    units: list[int], places: int
) -> None:
    amounts = money.SharedAmounts(places)
    for count in units:
        amount = amounts.of_units(count)
        assert amount == Decimal(count).scaleb(-places)
        assert amount.as_tuple().exponent == -places  # written with exactly the places
        assert amounts.of_units(count) is amount  # the same object the next time
    assert len(amounts) == len(set(units))


def test_shared_amounts_stop_keeping_at_their_limit() -> None:
    amounts = money.SharedAmounts(2, limit=2)
    kept = [amounts.of_units(count) for count in (1, 2)]
    beyond = amounts.of_units(3)
    assert (beyond, len(amounts)) == (Decimal("0.03"), 2)
    assert amounts.of_units(3) is not beyond  # built again: not kept
    assert [amounts.of_units(count) for count in (1, 2)] == kept
    with pytest.raises(ValueError, match="places must be >= 0"):
        money.SharedAmounts(-1)


@given(units=st.integers(0, 10**27 - 1), places=st.integers(0, 12))
def test_units_and_amounts_convert_exactly_both_ways(units: int, places: int) -> None:
    # The ledger keeps steps and answers Decimals: neither way may round or change the places.
    amount = money.from_units(units, places)
    assert amount == Decimal(units) / Decimal(10) ** places
    assert amount.as_tuple().exponent == -places
    assert money.at_places(amount, places)
    assert money.to_units(amount, places) == units
    assert money.to_units(quantize(amount, places), places) == units
