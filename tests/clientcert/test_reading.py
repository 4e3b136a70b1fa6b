"""The lenient readers: exact money and counts, ids, errors carried in values."""

from __future__ import annotations

from decimal import Decimal

from clientcert.reading import carried_error, exact_count, exact_money, items_by_id, same_id


def test_money_read_exactly_in_any_exact_form_passes() -> None:
    for read in (Decimal("100.84292"), "100.84292", Decimal("100.842920")):
        assert exact_money(read, "100.84292") is None


def test_money_through_a_float_or_wrong_is_refused() -> None:
    assert "binary float" in (exact_money(100.84292, "100.84292") or "")
    assert exact_money(Decimal("100.84"), "100.84292") is not None
    assert exact_money(None, "1.00") is not None


def test_counts_accept_text_int_and_integral_float_but_not_another_number() -> None:
    assert exact_count("157", "157") is None
    assert exact_count(157, "157") is None
    assert exact_count(157.0, 157) is None
    assert exact_count(156, "157") is not None


def test_ids_compare_as_text_and_floats_are_not_ids() -> None:
    assert same_id(16701, "16701")
    assert same_id("K7M2X9", "K7M2X9")
    assert not same_id(None, "1")
    assert not same_id(16701.0, "16701")


def test_errors_carried_in_values() -> None:
    assert carried_error({"error": "Incorrect order ID"}) == "Incorrect order ID"
    assert carried_error(ValueError("x")) == "ValueError: x"
    assert carried_error({"status": "Pending"}) is None
    assert carried_error({"error": None}) is None


def test_batches_keyed_by_id_or_listed_with_order() -> None:
    assert items_by_id({1: "a"}) == {"1": "a"}
    assert items_by_id([{"order": 9, "cancel": 1}]) == {"9": {"order": 9, "cancel": 1}}
    assert items_by_id([{"cancel": 1}]) is None
