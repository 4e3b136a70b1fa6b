"""The model ledger alone: each invariant it holds a panel to, kept and broken."""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness.judging.checks import Grade
from harness.panel.ledger_model import Ledger, Violation

D = Decimal


def _ledger(start: str = "10.00", places: int = 2) -> Ledger:
    return Ledger(D(start), places)


def _clauses(found: list[Violation]) -> list[str]:
    return [v.clause for v in found]


def _placed(ledger: Ledger, order_id: str, price: str = "1.00", units: int = 100,
            debit: str | None = None, refillable: bool = False) -> None:
    found = ledger.placed(order_id, price=D(price), units=units,
                          debit=D(debit if debit is not None else price), refillable=refillable)
    assert found == []


# -- money ----------------------------------------------------------------------------------------


def test_balance_after_orders_cancels_and_partials_is_conserved() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    _placed(ledger, "2", price="2.00", units=200)
    _placed(ledger, "3", price="0.50", units=50)
    assert ledger.observe("1", "Canceled", "100") == []
    assert ledger.observe("2", "Partial", "50") == []  # refund 2.00 * 50 / 200 = 0.50
    assert ledger.observe("3", "Completed", "0") == []
    assert ledger.check_balance(D("8.00")) == []  # 10 - 1 - 2 - 0.5 + 1 + 0.5


def test_a_balance_off_by_one_step_breaks_conservation() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    found = ledger.check_balance(D("8.99"))
    assert _clauses(found) == ["MONEY-010"]
    assert "expects 9.00" in found[0].message
    assert ledger.check_balance(D("9.01"))[0].clause == "MONEY-010"
    assert ledger.check_balance(D("9.00")) == []


def test_a_refund_the_status_does_not_explain_breaks_conservation() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "In progress", "100") == []
    assert _clauses(ledger.check_balance(D("10.00"))) == ["MONEY-010"]


def test_partial_refunds_may_be_rounded_either_way() -> None:
    ledger = _ledger("1.00")
    _placed(ledger, "1", price="0.05", units=40)
    # refund 0.0125: 0.01 half-up, half-even or down; 0.02 rounded up
    assert ledger.observe("1", "Partial", "10") == []
    assert ledger.check_balance(D("0.96")) == []
    assert ledger.check_balance(D("0.97")) == []
    assert _clauses(ledger.check_balance(D("0.98"))) == ["MONEY-010"]
    assert _clauses(ledger.check_balance(D("0.95"))) == ["MONEY-010"]


def test_a_debit_off_the_price_may_be_the_charge_or_blurred() -> None:
    """A debit measured while another refund landed is not the order's charge; a panel that
    prices otherwise charged exactly its debit. Either balance conserves money."""
    ledger = _ledger()
    _placed(ledger, "1", price="1.00", debit="0.40")  # 1.00 charged, 0.60 refunded meanwhile
    assert ledger.orders["1"].charges == frozenset({D("1.00"), D("0.40")})
    assert ledger.check_balance(D("9.00")) == []
    assert ledger.check_balance(D("9.60")) == []
    assert _clauses(ledger.check_balance(D("9.30"))) == ["MONEY-010"]


def test_a_debit_at_the_price_is_the_charge() -> None:
    ledger = _ledger()
    _placed(ledger, "1", price="0.125", debit="0.13")
    assert ledger.orders["1"].charges == frozenset({D("0.13")})
    assert ledger.check_balance(D("9.87")) == []
    assert _clauses(ledger.check_balance(D("9.86"))) == ["MONEY-010"]


def test_a_repeated_cancel_that_refunds_again_is_a_double_refund() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.cancel_sent(["1"], {"1": True}) == []
    assert ledger.observe("1", "Canceled", "100") == []
    assert ledger.check_balance(D("10.00")) == []
    # A repeat acknowledgement is fine; a second refund is not.
    assert ledger.cancel_sent(["1"], {"1": True}) == []
    assert _clauses(ledger.check_balance(D("11.00"))) == ["CANCEL-004"]


def test_a_cancel_refunding_the_wrong_amount_is_blamed_on_the_cancel() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    ledger.cancel_sent(["1"], {"1": True})
    assert ledger.observe("1", "Canceled", "100") == []
    assert _clauses(ledger.check_balance(D("9.00"))) == ["CANCEL-003"]
    # The blame lasts one check: the next mismatch is conservation again.
    assert _clauses(ledger.check_balance(D("9.00"))) == ["MONEY-010"]


def test_a_refund_for_a_cancel_that_did_not_cancel_is_not_conservation() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "In progress", "100") == []
    ledger.cancel_sent(["1"], {"1": True})
    assert ledger.observe("1", "Completed", "0") == []
    assert _clauses(ledger.check_balance(D("10.00"))) == ["MONEY-010"]


def test_a_charged_refill_is_non_strict_and_taken_into_the_model() -> None:
    ledger = _ledger()
    _placed(ledger, "1", refillable=True)
    ledger.observe("1", "Completed", "0")
    assert ledger.refilled("1", "r1") == []
    found = ledger.check_balance(D("8.90"))
    assert [(v.clause, v.grade) for v in found] == [("REFILL-006", Grade.NON_STRICT)]
    assert ledger.check_balance(D("8.90")) == []


def test_a_partial_without_remains_leaves_the_balance_open() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    ledger.observe("1", "Partial", None)
    assert ledger.expected_balances() is None
    assert ledger.check_balance(D("3.00")) == []


# -- statuses -------------------------------------------------------------------------------------


def test_a_backwards_status_is_caught() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "Pending", "100") == []
    assert ledger.observe("1", "In progress", "80") == []
    assert ledger.observe("1", "Completed", "0") == []
    found = ledger.observe("1", "In progress", "0")
    assert _clauses(found) == ["STATUS-008"]
    assert "Completed" in found[0].message


def test_dialect_spellings_are_the_same_status() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "Inprogress", "100") == []
    assert ledger.observe("1", "Processing", "100") == []
    assert ledger.observe("1", "In progress", "90") == []
    assert ledger.observe("1", "Done", "0") == []
    assert ledger.observe("1", "Completed", "0") == []


def test_a_terminal_status_never_changes() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "Completed", "0") == []
    assert _clauses(ledger.observe("1", "Canceled", "0")) == ["LIFE-004"]
    partial = _ledger()
    _placed(partial, "2")
    assert partial.observe("2", "Partial", "40") == []
    assert _clauses(partial.observe("2", "Partial", "30")) == ["LIFE-004"]


def test_remains_never_grows() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "In progress", "60") == []
    assert _clauses(ledger.observe("1", "In progress", "70")) == ["STATUS-009"]


def test_unknown_words_and_orders_are_left_to_other_checks() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "Queued", "100") == []
    assert ledger.observe("404", "Completed", "0") == []
    assert ledger.orders["1"].status is None


# -- multi-status ---------------------------------------------------------------------------------


def _status(word: str, remains: str = "100", charge: str = "1.00") -> dict[str, object]:
    return {"status": word, "remains": remains, "charge": charge}


def test_a_multi_status_agreeing_with_single_status_passes() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    same = _status("Pending")
    assert ledger.multi_status("1", same, dict(same), same) == []
    moved = ledger.multi_status("1", _status("Pending"), _status("In progress", "90"),
                                _status("Completed", "0"))
    assert moved == []  # a transition between the reads: the member sits between them


def test_a_disagreeing_multi_status_is_caught() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", "In progress", "100") == []
    single = _status("In progress")
    found = ledger.multi_status("1", single, _status("Pending"), single)
    assert _clauses(found) == ["MSTATUS-003"]  # not taken as a backwards move as well
    assert _clauses(ledger.multi_status("1", single, _status("In progress", "50"), single)) == [
        "MSTATUS-003"]
    assert _clauses(ledger.multi_status("1", single, _status("In progress", charge="2.00"),
                                        single)) == ["MSTATUS-003"]
    assert _clauses(ledger.multi_status("1", single, {"error": "Incorrect order ID"},
                                        single)) == ["MSTATUS-003"]


def test_a_member_outside_a_transition_is_caught() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    found = ledger.multi_status("1", _status("Pending"), _status("Canceled", "100"),
                                _status("In progress"))
    assert _clauses(found) == ["MSTATUS-003"]


# -- ids ------------------------------------------------------------------------------------------


def test_a_reused_order_id_is_caught() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    found = ledger.placed("1", price=D("1.00"), units=100, debit=D("1.00"))
    assert _clauses(found) == ["ADD-008"]
    assert ledger.check_balance(D("9.00")) == []  # the second add is not in the model


def test_a_reused_refill_id_is_caught() -> None:
    ledger = _ledger()
    _placed(ledger, "1", refillable=True)
    _placed(ledger, "2", refillable=True)
    for order_id in ("1", "2"):
        assert ledger.observe(order_id, "Completed", "0") == []
    assert ledger.refillable() == ["1", "2"]
    assert ledger.refilled("1", "r1") == []
    assert ledger.refillable() == ["2"]
    assert _clauses(ledger.refilled("2", "r1")) == ["REFILL-001"]


@pytest.mark.parametrize("status", ["Completed", "Partial"])
def test_an_accepted_cancel_of_a_finished_order_is_caught(status: str) -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.observe("1", status, "0" if status == "Completed" else "50") == []
    assert _clauses(ledger.cancel_sent(["1"], {"1": True})) == ["CANCEL-006"]
    assert ledger.cancel_sent(["1"], {"1": False}) == []


def test_unsettled_orders_are_the_ones_to_read() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    _placed(ledger, "2")
    ledger.observe("2", "Canceled", "100")
    assert ledger.unsettled() == ["1"]


def test_a_cancel_sent_again_before_the_check_is_a_repeat() -> None:
    ledger = _ledger()
    _placed(ledger, "1")
    assert ledger.cancel_sent(["1"], {"1": True}) == []
    assert ledger.cancel_sent(["1"], {"1": True}) == []
    assert ledger.observe("1", "Canceled", "100") == []
    assert _clauses(ledger.check_balance(D("11.00"))) == ["CANCEL-004"]


def test_the_worst_balance_counts_every_charge_and_no_refund() -> None:
    ledger = _ledger()
    _placed(ledger, "1", price="0.125", debit="0.13")
    _placed(ledger, "2", price="1.00", debit="0.40")
    ledger.observe("1", "Canceled", "100")
    assert ledger.worst_balance() == D("8.87")
