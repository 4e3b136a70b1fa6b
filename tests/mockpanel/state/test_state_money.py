"""Money helpers: one rounding rule (half up at the configured places), exact arithmetic."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state.ledger import Ledger
from mockpanel.state.money import (
    at_places,
    format_money,
    parse_money,
    per_thousand,
    pro_rata,
    quantize,
    smallest_chargeable,
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


def test_format_money_is_fixed_point_with_all_places() -> None:
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
