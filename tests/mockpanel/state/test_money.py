"""Money helpers: one rounding rule (half up at the configured places), exact arithmetic.

``format_money`` has a shortcut and a reference twin (``MOCKPANEL_NO_SHORTCUTS``): the tests of
what it writes run on both, and :class:`TestShortcutMatchesReference` holds them to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import money
from mockpanel.state.ledger import Ledger
from mockpanel.state.money import (
    at_places,
    format_money_reference,
    format_money_shortcut,
    parse_money,
    per_thousand,
    pro_rata,
    quantize,
    smallest_chargeable,
)

WriteMoney = Callable[[Decimal, int], str]
WRITERS = pytest.mark.parametrize(
    "format_money", [format_money_reference, format_money_shortcut], ids=["reference", "shortcut"]
)


@pytest.mark.parametrize(
    ("rate", "quantity", "places", "expected"),
    [
        ("0.90", 1000, 5, "0.90000"),
        ("0.90", 333, 5, "0.29970"),
        ("0.001", 10, 5, "0.00001"),
        ("0.001", 14, 5, "0.00001"),  # 0.000014 rounds down
        ("0.001", 15, 5, "0.00002"),  # 0.000015 is a half: rounds up
        ("8", 3, 2, "0.02"),  # 0.024
        ("1.2345", 7, 5, "0.00864"),  # 0.0086415
        ("0.27819", 1000, 5, "0.27819"),
    ],
)
def test_per_thousand_is_quantized_half_up(
    rate: str, quantity: int, places: int, expected: str
) -> None:
    assert per_thousand(Decimal(rate), quantity, places) == Decimal(expected)
    assert str(per_thousand(Decimal(rate), quantity, places)) == expected


def test_arithmetic_ignores_a_hostile_ambient_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = "ROUND_DOWN"
        assert per_thousand(Decimal("123.456789"), 999_999_999, 5) == Decimal("123456788.87654")
        assert quantize(Decimal("0.000015"), 5) == Decimal("0.00002")


@pytest.mark.parametrize(
    ("charge", "part", "whole", "expected"),
    [
        ("0.27819", 157, 500, "0.08735"),  # 0.08735166
        ("0.00003", 1, 2, "0.00002"),  # 0.000015: half up
        ("0.00001", 1, 3, "0.00000"),
        ("1.00000", 1, 3, "0.33333"),
        ("2.00000", 1, 3, "0.66667"),
        ("5.00000", 10, 10, "5.00000"),
        ("5.00000", 0, 10, "0.00000"),
    ],
)
def test_pro_rata_rounds_half_up_exactly(charge: str, part: int, whole: int, expected: str) -> None:
    result = pro_rata(Decimal(charge), part, whole, 5)
    assert result == Decimal(expected)
    assert result <= Decimal(charge)


@pytest.mark.parametrize(("part", "whole"), [(-1, 10), (11, 10), (1, 0)])
def test_pro_rata_refuses_impossible_fractions(part: int, whole: int) -> None:
    with pytest.raises(ValueError, match="part"):
        pro_rata(Decimal("1"), part, whole, 5)


def test_parse_money_accepts_plain_amounts_exactly() -> None:
    assert parse_money("12.5", 5) == Decimal("12.50000")
    assert parse_money("0", 2) == Decimal("0.00")
    assert parse_money("100.84292", 5) == Decimal("100.84292")


@pytest.mark.parametrize(
    "text", ["", "-1", "+1", "1e3", "NaN", "Infinity", "1.", ".5", " 1", "1,5", "0.000001",
             "1000000000000000", "\u0661"]
)
def test_parse_money_refuses_anything_ambiguous(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_money(text, 5)


@WRITERS
def test_format_money_is_fixed_point_with_all_places(format_money: WriteMoney) -> None:
    assert format_money(Decimal("1E-5"), 5) == "0.00001"
    assert format_money(Decimal("100"), 5) == "100.00000"
    assert format_money(Decimal("2.5"), 0) == "3"


@pytest.mark.parametrize(("rate", "places"), [("0.001", 5), ("0.001", 2), ("0.90", 2), ("3", 0)])
def test_smallest_chargeable_is_the_first_quantity_that_costs_something(
    rate: str, places: int
) -> None:
    least = smallest_chargeable(Decimal(rate), places)
    assert per_thousand(Decimal(rate), least, places) > 0
    assert least == 1 or per_thousand(Decimal(rate), least - 1, places) == 0


@pytest.mark.parametrize(
    ("amount", "places", "expected"),
    [
        ("0.00001", 5, True),
        ("0.1000000", 5, True),  # more digits written, the same value at 5 places
        ("12", 0, True),
        ("0.000015", 5, False),
        ("0.5", 0, False),
        ("-0.25", 2, True),  # the sign is the caller's question, not this one's
        ("NaN", 5, False),
        ("sNaN", 5, False),
        ("Infinity", 5, False),
    ],
)
def test_at_places_is_whether_quantizing_changes_nothing(
    amount: str, places: int, expected: bool
) -> None:
    assert at_places(Decimal(amount), places) is expected
    with localcontext() as ctx:  # the ambient context plays no part
        ctx.prec = 1
        assert at_places(Decimal(amount), places) is expected


@pytest.mark.parametrize("amount", ["0", "-0.01", "0.001", "NaN", "Infinity", "-Infinity"])
def test_the_ledger_moves_only_positive_amounts_at_its_places(amount: str) -> None:
    ledger = Ledger(2)
    ledger.open("t1", Decimal("10.00"))
    for move in (ledger.debit, ledger.credit):
        with pytest.raises(ValueError, match="positive amount at 2 places"):
            move("t1", Decimal(amount))
    assert ledger.account("t1").balance == Decimal("10.00")  # nothing moved


def test_a_debit_beyond_the_balance_is_refused_and_changes_nothing() -> None:
    ledger = Ledger(2)
    ledger.open("t1", Decimal("1.00"))
    assert ledger.debit("t1", Decimal("0.40")) == Decimal("0.60")
    with pytest.raises(DomainError) as refused:
        ledger.debit("t1", Decimal("0.61"))
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    account = ledger.account("t1")
    assert (account.debited, account.balance) == (Decimal("0.40"), Decimal("0.60"))


def test_the_ledger_keeps_steps_and_answers_decimals_at_its_places() -> None:
    ledger = Ledger(5)
    ledger.open("t1", Decimal("2"))
    assert str(ledger.balance("t1")) == "2.00000"  # written with exactly the places
    ledger.debit_units("t1", 12_345)  # what an add debits: its price in steps
    assert str(ledger.balance("t1")) == "1.87655"
    assert str(ledger.credit("t1", Decimal("0.00005"))) == "1.87660"
    assert str(ledger.debit("t1", Decimal("1.8766"))) == "0.00000"
    account = ledger.account("t1")
    assert [str(figure) for figure in (account.opening, account.debited, account.credited)] == [
        "2.00000", "2.00005", "0.00005",
    ]
    assert account.opening - account.debited + account.credited == account.balance


def test_a_balance_read_before_a_movement_is_not_shown_after_it() -> None:
    # The ledger keeps the last balance it wrote as a Decimal: every movement must drop it.
    ledger = Ledger(2)
    ledger.open("t1", Decimal("5.00"))
    assert ledger.balance("t1") == Decimal("5.00")
    ledger.debit_units("t1", 1)
    assert ledger.balance("t1") == Decimal("4.99")
    ledger.credit("t1", Decimal("0.50"))
    assert ledger.balance("t1") == Decimal("5.49")
    ledger.debit("t1", Decimal("5.49"))
    assert ledger.balance("t1") == Decimal("0.00")


@pytest.mark.parametrize("units", [0, -1, True, 1.0])
def test_a_debit_in_steps_moves_only_a_positive_whole_number(units: object) -> None:
    ledger = Ledger(2)
    ledger.open("t1", Decimal("10.00"))
    with pytest.raises(ValueError, match="positive amount at 2 places"):
        ledger.debit_units("t1", units)  # type: ignore[arg-type]
    assert ledger.account("t1").debited == Decimal("0.00")


def test_a_debit_in_steps_beyond_the_balance_names_both_amounts_at_the_places() -> None:
    ledger = Ledger(2)
    ledger.open("t1", Decimal("1.00"))
    with pytest.raises(DomainError) as refused:
        ledger.debit_units("t1", 101)
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert {name: str(value) for name, value in refused.value.params.items()} == {
        "needed": "1.01", "balance": "1.00",
    }
    assert ledger.balance("t1") == Decimal("1.00")


@WRITERS
@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("places", [0, 5])
def test_a_non_finite_amount_is_refused_not_written(
    format_money: WriteMoney, text: str, places: int
) -> None:
    # "NaN" has no decimal point, like a whole amount at 0 places: it must not pass as one.
    with pytest.raises((ValueError, InvalidOperation)):
        format_money(Decimal(text), places)


_AMOUNTS = st.builds(
    lambda digits, exponent, negative: Decimal((int(negative), digits, exponent)),
    st.lists(st.integers(0, 9), min_size=1, max_size=12).map(tuple),
    st.integers(-9, 4),
    st.booleans(),
)


class TestShortcutMatchesReference:
    """``format_money_shortcut`` writes a stored amount as its own text, without quantizing."""

    @given(amount=_AMOUNTS, places=st.integers(0, 8))
    # The text's shapes the shortcut reads: a point exactly ``places`` from the end but in an
    # exponent form, a whole amount in exponent form, a sign, too few digits, too many places.
    @example(amount=Decimal("1.0E-7"), places=4)
    @example(amount=Decimal("1E+2"), places=0)
    @example(amount=Decimal("-0.50"), places=2)
    @example(amount=Decimal("5"), places=3)
    @example(amount=Decimal("0.125"), places=2)
    def test_any_amount(self, amount: Decimal, places: int) -> None:
        assert format_money_shortcut(amount, places) == format_money_reference(amount, places)

    @given(amount=_AMOUNTS, places=st.integers(0, 8))
    def test_a_stored_amount_is_its_own_text(self, amount: Decimal, places: int) -> None:
        stored = quantize(amount, places)  # what the ledger keeps: exponent == -places
        assert format_money_shortcut(stored, places) == f"{stored:f}"
        assert format_money_reference(stored, places) == f"{stored:f}"


def _answers() -> list[Decimal | int]:
    return [
        quantize(Decimal("2.5"), 0),
        quantize(Decimal("0.000015"), 5),
        pro_rata(Decimal("1.00"), 1, 3, 2),
        smallest_chargeable(Decimal("0.001"), 5),
    ]


def test_answers_do_not_depend_on_what_earlier_calls_rounded() -> None:
    # All arithmetic shares one decimal context: the flags a rounding call leaves on it must
    # change no later answer.
    before = _answers()
    pro_rata(Decimal("1.00"), 1, 7, 2)  # inexact: rounds
    quantize(Decimal("1.23456789"), 2)
    after = _answers()
    assert [str(d) for d in after] == [str(d) for d in before]  # (str: exponents too)
    assert before[:3] == [Decimal(3), Decimal("0.00002"), Decimal("0.33")]
    with pytest.raises(InvalidOperation):  # what cannot be exact is still refused
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
    # The Decimal formula of a price: multiply, shift three places, round half up.
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
    assert format_money_reference(charge, places) == f"{expected:.{places}f}"


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
