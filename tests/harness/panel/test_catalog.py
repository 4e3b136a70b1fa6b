"""Catalogue arithmetic (``harness.panel.catalog``): money at the panel's precision, worst cases,
never-issued ids.

Both ways for each rule: a legitimately rounded debit (half-up, half-even, truncated, rounded
up) is accepted, and a debit a rounding cannot explain is caught.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from harness.panel.catalog import (
    NEVER_ISSUED_PREFIX,
    Service,
    charge_matches,
    cost_if_accepted,
    never_issued,
    roundings,
    worst_case,
)

EXACT = Decimal("0.009135")


@pytest.mark.parametrize(
    "debited", ["0.00914", "0.00913", "0.009135"], ids=["half-up-or-even-or-up", "down", "exact"]
)
def test_a_debit_rounded_by_any_real_mode_matches(debited: str) -> None:
    # A panel keeping 5 decimals that truncates debits 0.00913 (the false alarm of the issue).
    assert charge_matches(Decimal(debited), EXACT, 5)


def test_every_rounding_mode_is_one_step_at_most_from_the_exact_amount() -> None:
    for amount in (Decimal("1.23456789"), Decimal("0.0000001"), Decimal("17.5")):
        for places in (0, 2, 4, 7):
            step = Decimal(1).scaleb(-places)
            assert all(abs(r - amount) < step for r in roundings(amount, places))


@pytest.mark.parametrize("off", [-2, 2, 3, -5])
def test_a_debit_two_steps_off_is_caught(off: int) -> None:
    # The tolerance is tight: a charge of 100 steps or more off by two units in the last place
    # cannot be any rounding of the exact amount.
    for places, exact in ((2, Decimal("1.235")), (4, Decimal("0.01234567")),
                          (7, Decimal("0.123456789"))):
        step = Decimal(1).scaleb(-places)
        nearest = exact.quantize(step, ROUND_HALF_EVEN)
        assert not charge_matches(nearest + off * step, exact, places), (places, off)


def test_half_even_and_half_up_differ_and_both_match() -> None:
    exact = Decimal("0.125")
    assert charge_matches(Decimal("0.12"), exact, 2)  # half-even (and down)
    assert charge_matches(Decimal("0.13"), exact, 2)  # half-up (and up)
    assert not charge_matches(Decimal("0.11"), exact, 2)
    assert not charge_matches(Decimal("0.14"), exact, 2)



def test_the_worst_case_rounds_up_to_the_panel_places() -> None:
    assert worst_case(Decimal("0.009131"), 5) == Decimal("0.00914")
    assert worst_case(Decimal("0.00913"), 5) == Decimal("0.00913")
    assert worst_case(Decimal("1.001"), 2) == Decimal("1.01")
    # a generated absurd quantity is priced exactly, beyond the default 28 digits
    assert worst_case(Decimal("1e30") + Decimal("0.000001"), 5) == Decimal("1e30") + Decimal(
        "0.00001")
    # every rounding a panel may apply fits under the reservation
    exact = Decimal("0.0123451")
    assert max(roundings(exact, 5)) <= worst_case(exact, 5)


def test_what_a_wrongly_accepted_add_can_cost() -> None:
    per_thousand = Service("1", "likes", "Default", Decimal("2"), 10, 1000)
    package = Service("2", "pack", "Package", Decimal("7"), 1, 1)
    assert cost_if_accepted(per_thousand, 500) == Decimal("1")
    assert cost_if_accepted(per_thousand, 10**9) == Decimal("20")  # bounded by ten times max
    assert cost_if_accepted(per_thousand, None) == Decimal("2")  # no quantity: the max
    assert cost_if_accepted(package, 50) == Decimal("7")  # flat, whatever the quantity


def test_never_issued_ids_are_thirteen_digits_from_nine_and_reproducible() -> None:
    first = [never_issued(random.Random(7)) for _ in range(2)]
    assert first[0] == first[1]
    for _ in range(50):
        value = never_issued(random.Random())
        assert len(value) == 13
        assert value.startswith(NEVER_ISSUED_PREFIX)
        assert value.isdigit()
