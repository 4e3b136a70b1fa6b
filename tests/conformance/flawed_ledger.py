"""Flaws of the books (``legit_ledger.py``): money, lifecycle, isolation and batch rules broken.

Each entry names a flaw of :data:`~tests.conformance.legit_ledger.LEDGER_FLAWS` and what the
harness must say about the ``perfectpanel-classic`` panel that has it (``flaws.py``).

A crosstalk entry is a clause that moves although the flaw is not its defect. Most are
*blocked*: the harness test (or scenario) that judges them stops at the flaw's failure first,
and a stopped test's other clauses are N/A. A SHOULD or MAY clause the flaw breaks as well
is graded NON-STRICT, not FAIL, so it is listed here rather than in ``also_fails``.
"""

from __future__ import annotations

from tests.conformance.flaws import FlawedPanel

__all__ = ["FLAWED"]

_T01 = "test_01_transport.py::"
_T02 = "test_02_errors_and_keys.py::"
_T04 = "test_04_add.py::"
_T05 = "test_05_dripfeed.py::"
_T06 = "test_06_money.py::"
_T08 = "test_08_cancel.py::"
_T09 = "test_09_isolation.py::"
_T10 = "test_10_lifecycle.py::"
_T11 = "test_11_robustness.py::"
_T13 = "test_13_properties.py::"

FLAWED: tuple[FlawedPanel, ...] = (
    # -- reads ------------------------------------------------------------------------------
    FlawedPanel(
        "status-miss-billed",
        "a status of an id the panel does not hold (single or in a multi-status) is looked up "
        "at the upstream provider, whose per-lookup fee, one money step, is billed to the "
        "customer: a read moves money",
        catches=("GEN-004",),
        caught_by=(f"{_T01}test_reading_changes_nothing",
                   f"{_T13}test_valid_requests_of_every_action_get_contract_answers"),
        also_fails=("MONEY-004",),  # the status of an unknown id is refused, yet charged
        crosstalk=(
            ("ISO-005", "test_09 reads the second key's balance around the second key's own "
             "status reads of ids it does not hold: their fee shows as the second key's "
             "balance moving while the main key ordered"),
        ),
    ),
    # -- cancel -----------------------------------------------------------------------------
    FlawedPanel(
        "cancel-unknown-acknowledged",
        "a cancel is an UPDATE whose affected rows are never counted: a never-issued id is "
        "answered as cancelled (\"cancel\": 1), though nothing is refunded",
        catches=("CANCEL-005",),
        caught_by=(f"{_T08}test_cancel_of_unknown_orders", "cancel.yaml::cancel"),
        also_fails=("BATCH-006",),  # the unknown id of a mixed batch gets no per-id error
    ),
    FlawedPanel(
        "refused-cancel-marks-canceled",
        "the order is marked Canceled before the provider is asked; for a service without "
        "cancel the provider refuses, the error is answered, and the order stays Canceled "
        "(with no refund)",
        catches=("CANCEL-008",),
        caught_by=(f"{_T08}test_service_without_cancel_cannot_be_cancelled",
                   "cancel.yaml::cancel"),
    ),
    # -- refill -----------------------------------------------------------------------------
    FlawedPanel(
        "refill-status-misspelt",
        "the refill check compares the order's status with \"Complete\", which no order "
        "has: a completed order of a refill service is refused ('The order is not "
        "completed') and no refill id is ever answered",
        catches=("REFILL-001",),
        caught_by=(f"{_T10}test_refill_of_a_completed_order",
                   f"{_T09}test_another_keys_refill_is_unknown",
                   "isolation-refills.yaml::isolation-refills"),
        crosstalk=tuple((clause, "blocked: every test judging it needs a refill first and "
                         "stops at REFILL-001's failure")
                        for clause in ("REFILL-005", "REFILL-006", "RSTATUS-001",
                                       "RSTATUS-004", "ISO-006")),
        # Black-box, a refusal right after completion cannot be told from a refill cooldown
        # (LAR-BRL's 24 hours): REFILL-001 is N/A there, and only a moved clock shows it.
        controlled=True,
    ),
    FlawedPanel(
        "refill-unknown-order-queued",
        "a refill request is queued for the provider without looking the order up: a "
        "never-issued order id gets a refill id",
        catches=("REFILL-004",),
        caught_by=(f"{_T10}test_refill_of_an_unknown_order", "bad-ids.yaml::bad-ids"),
        crosstalk=(
            ("REFILL-007", "a MAY clause: the multi refill's item for a never-issued id "
             "carries a refill id, which its check grades NON-STRICT (the defect is "
             "REFILL-004's)"),
        ),
    ),
    # -- isolation --------------------------------------------------------------------------
    FlawedPanel(
        "status-lookup-ignores-owner",
        "the status lookup (single and multi, one query) finds an order by its id alone: "
        "another key's order is answered in full",
        catches=("ISO-001",),
        caught_by=(f"{_T09}test_another_keys_order_is_invisible", "isolation.yaml::isolation"),
        crosstalk=(
            ("ISO-002", "broken too (the multi-status shares the lookup), but test_09 and "
             "isolation.yaml stop at ISO-001 before their multi-status: N/A, blocked"),
            ("ISO-003", "blocked: test_09 and isolation.yaml stop at ISO-001's failure"),
            ("ISO-004", "blocked: test_09 and isolation.yaml stop at ISO-001's failure"),
        ),
    ),
    FlawedPanel(
        "refill-ignores-owner",
        "the refill finds the order by its id alone: another key refills a completed order "
        "of a refill service (the refill is the asking key's)",
        catches=("ISO-004",),
        caught_by=("isolation-refills.yaml::isolation-refills",),
        # Only a completed order of a refill service shows it (any other is refused for its
        # status or service first): isolation-refills completes one through the control API.
        controlled=True,
    ),
    FlawedPanel(
        "referral-credit-to-others",
        "a 5% referral commission on each order is credited to the referrer, and the "
        "referrer lookup lost its condition: every other account is credited when one "
        "account orders",
        catches=("ISO-005",),
        caught_by=(f"{_T09}test_another_keys_order_is_invisible", "isolation.yaml::isolation"),
        crosstalk=tuple((clause, "blocked: test_09 judges ISO-005 last and a stopped test's "
                         "other clauses are N/A; isolation.yaml stops at its first step")
                        for clause in ("ISO-001", "ISO-002", "ISO-003", "ISO-004")),
    ),
    FlawedPanel(
        "refill-status-ignores-owner",
        "refill_status finds a refill by its id alone: another key reads it",
        catches=("ISO-006",),
        caught_by=(f"{_T09}test_another_keys_refill_is_unknown",
                   "isolation-refills.yaml::isolation-refills"),
        controlled=True,  # a refill needs a completed order: the control API completes it
    ),
    # -- keys -------------------------------------------------------------------------------
    FlawedPanel(
        "unknown-key-falls-back",
        "a long-running worker keeps the last authenticated account in a global, and a "
        "request whose key matches no account is served as that account: a wrong-key add "
        "places an order and charges it",
        catches=("AUTH-004",),
        caught_by=(f"{_T02}test_wrong_key_add_creates_no_order", "bad-input.yaml::bad-input"),
        also_fails=("AUTH-002",),  # every action with a wrong key is served too
    ),
    # -- add --------------------------------------------------------------------------------
    FlawedPanel(
        "dripfeed-add-without-id",
        "a drip-feed order is filed under its first run, which has no id yet: its add is "
        "accepted and charged but answers an empty order id",
        catches=("ADD-001",),
        caught_by=(f"{_T05}test_dripfeed_is_charged_on_the_total", "drip-feed.yaml::drip-feed",
                   f"{_T13}test_valid_orders_of_every_offered_type_are_accepted_and_priced"),
        crosstalk=(
            ("ADD-002", "a SHOULD: the empty id is also graded as not a JSON integer "
             "(NON-STRICT)"),
            ("DRIP-001", "a SHOULD: the drip-feed test stops at the missing id before the "
             "charge is judged (NON-STRICT)"),
        ),
    ),
    FlawedPanel(
        "missing-quantity-defaults-to-min",
        "an add without a quantity (or with an empty one) is read as the service's minimum, "
        "accepted and charged",
        catches=("ADD-006",),
        caught_by=(f"{_T04}test_missing_field_is_refused",
                   f"{_T13}test_malformed_orders_are_refused_and_move_no_money"),
    ),
    # -- lifecycle --------------------------------------------------------------------------
    FlawedPanel(
        "completed-keeps-remains",
        "a Completed order keeps the remains the provider last reported while it ran (the "
        "whole quantity): it reads Completed with everything remaining",
        catches=("LIFE-002",),
        caught_by=(f"{_T10}test_completed_order",),
    ),
    FlawedPanel(
        "partial-remains-zeroed",
        "when the provider reports Partial, remains is copied from the wrong field (0): the "
        "order reads Partial with nothing undelivered, and is refunded on that (nothing)",
        catches=("LIFE-003",),
        caught_by=(f"{_T10}test_partial_order_refunds_the_undelivered_share",
                   "partial-refunds.yaml::partial-refunds"),
        controlled=True,  # this panel ends no order Partial by itself: the control API does
    ),
    FlawedPanel(
        "partial-remains-updated-late",
        "the provider's late report, an hour after an order ended Partial, halves its "
        "remains: a terminal order's remains changes (the status stays Partial, the refund "
        "already made is not adjusted)",
        catches=("LIFE-004",),
        caught_by=("partial-refunds.yaml::partial-refunds",),
        controlled=True,  # a Partial order and a clock moved an hour on
    ),
    FlawedPanel(
        "remains-counts-drops",
        "remains is start_count + quantity - the provider's live count, and the count fell "
        "below its start (unfollows) while the order runs: In progress, more remains than "
        "was ordered",
        catches=("STATUS-004",),
        caught_by=(f"{_T10}test_status_moves_forward_only",
                   "test_14_stateful.py::test_the_ledger_holds_through_random_sequences"),
        crosstalk=(
            ("STATUS-009", "a SHOULD the flaw breaks as well (remains grows from the quantity "
             "to above it): NON-STRICT"),
        ),
        # Black-box it is caught too, but an order turning In progress between the reads
        # around a multi-status would move MSTATUS-003 now and then: the manual clock moves
        # only when the harness says.
        controlled=True,
    ),
    # -- money ------------------------------------------------------------------------------
    FlawedPanel(
        "below-min-refusal-keeps-debit",
        "the order is debited before it is validated, and the 'Quantity less than minimal' "
        "refusal forgets to give the money back: a refused add is charged",
        catches=("MONEY-004",),
        caught_by=(f"{_T04}test_quantity_below_min_is_refused",
                   f"{_T13}test_malformed_orders_are_refused_and_move_no_money"),
    ),
    FlawedPanel(
        "funds-check-in-cents",
        "the funds check was written for a 2-decimal wallet: it compares the balance with "
        "the charge cut to cents, so a balance short by less than a cent pays all the same "
        "and goes below zero",
        catches=("MONEY-006",),
        caught_by=(f"{_T06}test_order_beyond_the_balance_is_refused",),
        also_fails=(
            "MONEY-007",  # concurrent orders overdraw: the same check lets each through
            "BAL-001",  # a negative balance is off the balance schema
            "BAL-002",  # the balance is a non-negative amount
        ),
        crosstalk=(
            ("MONEY-005", "broken too, but test_06 stops at MONEY-006 when it reads the "
             "negative balance, before it judges the acceptance: N/A, blocked"),
            ("MONEY-008", "a SHOULD: the negative balance is not a plain non-negative decimal "
             "(NON-STRICT)"),
        ),
        # Black-box the second key (the only poor one) would stay negative for the rest of
        # the run; a controlled run overdraws a throwaway sandbox tenant.
        controlled=True,
    ),
    FlawedPanel(
        "cancel-refund-twice",
        "a cancel credits the refund, and the provider's cancellation callback credits it "
        "again: the balance ends a whole charge above what it should",
        catches=("MONEY-010",),
        caught_by=(f"{_T06}test_money_is_conserved",),
        also_fails=("CANCEL-003",),  # a cancel refunds its charge, exactly once
        crosstalk=(
            ("CANCEL-004", "blocked: test_08 and cancel.yaml stop at CANCEL-003's failure"),
            ("BATCH-006", "blocked: test_08 stops at CANCEL-003's failure"),
        ),
    ),
    FlawedPanel(
        "partial-refund-step-short",
        "a Partial order refunds one money step less than charge * remains / quantity at "
        "the panel's precision (0.00188 where 0.00573 * 33 / 100 is 0.0018909)",
        catches=("MONEY-011",),
        caught_by=(f"{_T10}test_partial_order_refunds_the_undelivered_share",
                   "partial-refunds.yaml::partial-refunds"),
        crosstalk=(
            ("LIFE-003", "blocked: test_10 and partial-refunds.yaml stop at MONEY-011's "
             "failure (a stopped test's other clauses are N/A)"),
        ),
        controlled=True,  # this panel ends no order Partial by itself: the control API does
    ),
    # -- robustness -------------------------------------------------------------------------
    FlawedPanel(
        "bad-dripfeed-placed-plain",
        "runs or interval that is not a whole number (runs=-3, interval=abc) is dropped and "
        "the order placed as a plain one: a malformed add is accepted and charged",
        catches=("ROBUST-009",),
        caught_by=(f"{_T11}test_malformed_orders_change_no_money",
                   f"{_T13}test_malformed_orders_are_refused_and_move_no_money"),
        crosstalk=(
            ("DRIP-003", "a SHOULD the flaw breaks as well (runs or interval that is not a "
             "positive integer is not refused): NON-STRICT"),
        ),
    ),
)
