"""Flaws of the wire (``legit_wire.py``): answers of the wrong shape, type or envelope.

Each entry names a flaw of :data:`~tests.conformance.legit_wire.WIRE_FLAWS` and what the
harness must say about the ``perfectpanel-classic`` panel that has it (``flaws.py``).

Cross-talk is listed clause by clause with why it moves; where one cause moves many clauses
(an unreadable catalogue or balance, a status read that fails), the clauses share one reason.
"""

from __future__ import annotations

from tests.conformance.flaws import FlawedPanel

__all__ = ["FLAWED"]

_CATALOGUE = "test_03_services.py::test_catalogue"
_CATALOGUE_READERS = (_CATALOGUE, "test_01_transport.py::test_reading_changes_nothing",
                      "test_02_errors_and_keys.py::test_wrong_key_add_creates_no_order")
_BALANCE = "test_01_transport.py::test_balance_over_a_form_post"


def _each(reason: str, *clauses: str) -> tuple[tuple[str, str], ...]:
    return tuple((clause, reason) for clause in clauses)


# Every order test starts from a Default service of the catalogue the driver parses: with
# no list to parse, each is N/A "no Default service" (not "blocked by SVC-001").
_NO_CATALOGUE = _each(
    "N/A: the driver reads services from a JSON list only, finds no Default service and "
    "reports every test that orders as 'feature not offered' (not blocked by SVC-001)",
    "AUTH-004", "SVC-008", "SVC-010", "ADD-001", "ADD-002", "ADD-003", "ADD-004", "ADD-005",
    "ADD-006", "ADD-007", "ADD-008", "MONEY-001", "MONEY-002", "MONEY-003", "MONEY-004",
    "MONEY-005", "MONEY-006", "MONEY-007", "MONEY-009", "MONEY-010", "DRIP-001", "DRIP-002",
    "DRIP-003", "DRIP-004", "DRIP-005", "STATUS-001", "STATUS-008", "STATUS-009", "MSTATUS-002",
    "MSTATUS-003", "BATCH-006", "CANCEL-003", "CANCEL-004", "CANCEL-007", "CANCEL-008",
    "REFILL-001", "REFILL-002", "REFILL-003", "REFILL-005", "REFILL-006", "RSTATUS-001",
    "RSTATUS-004", "ISO-001", "ISO-002", "ISO-003", "ISO-004", "ISO-005", "ROBUST-009", "LIFE-001",
    "LIFE-002", "LIFE-004",
)

# The driver reads every balance through the same answer: each test that measures money (or
# reads a balance at all) stops at BAL-001's "the balance is readable".
_NO_BALANCE = _each(
    "N/A, blocked by BAL-001: every test that reads a balance stops at the driver's 'the "
    "balance is readable'",
    "GEN-001", "GEN-004", "ERR-005", "AUTH-004", "AUTH-005", "ADD-001", "ADD-002", "ADD-003",
    "ADD-004", "ADD-005", "ADD-006", "ADD-007", "ADD-008", "MONEY-001", "MONEY-002",
    "MONEY-003", "MONEY-004", "MONEY-005", "MONEY-006", "MONEY-007", "MONEY-009", "MONEY-010",
    "DRIP-001", "DRIP-002", "DRIP-003", "DRIP-004", "DRIP-005", "STATUS-001", "STATUS-008",
    "STATUS-009", "MSTATUS-002", "MSTATUS-003", "BATCH-002", "BATCH-003", "BATCH-006",
    "CANCEL-001", "CANCEL-002", "CANCEL-003", "CANCEL-004", "CANCEL-005", "CANCEL-007",
    "CANCEL-008", "REFILL-001", "REFILL-002", "REFILL-003", "REFILL-005", "REFILL-006",
    "RSTATUS-001", "RSTATUS-004", "ISO-001", "ISO-002", "ISO-003", "ISO-004", "ISO-005",
    "ROBUST-009", "LIFE-001", "LIFE-002", "LIFE-004",
)

# The first status read of every order fails (STATUS-001 outside test_04): the tests and
# scenarios that follow an order stop there.
_FIRST_READ_FAILS = (
    *_each("FAIL: a scenario judges its own first status read of an order under the step's "
           "clause, not LIFE-001", "ADD-001", "MONEY-003", "CANCEL-003", "ISO-003"),
    *_each("N/A, blocked by STATUS-001 or LIFE-001: the test stopped at the first status "
           "read of its order", "MONEY-009", "STATUS-008", "STATUS-009", "MSTATUS-002",
           "MSTATUS-003", "BATCH-006", "CANCEL-004", "CANCEL-007", "CANCEL-008", "REFILL-001",
           "REFILL-002", "REFILL-005", "REFILL-006", "RSTATUS-001", "RSTATUS-004", "LIFE-002",
           "LIFE-004"),
)

FLAWED: tuple[FlawedPanel, ...] = (
    FlawedPanel(
        "services-keyed-by-id",
        "services answers an object keyed by service id ({\"101\": {...}, ...}: PHP's "
        "$rows[$row['id']] = $row, json_encoded) instead of a JSON array",
        catches=("SVC-001",),
        caught_by=_CATALOGUE_READERS,
        crosstalk=_NO_CATALOGUE,
    ),
    FlawedPanel(
        "service-without-category",
        "one catalogue item (service 104, whose category row was deleted) has no category",
        catches=("SVC-002",),
        caught_by=_CATALOGUE_READERS,
        also_fails=("SVC-001",),  # the item is off the services schema, which needs category
    ),
    FlawedPanel(
        "service-min-above-max",
        "the catalogue lists a service entered with min and max swapped (min 1000, max 100)",
        catches=("SVC-003",),
        caught_by=_CATALOGUE_READERS,
    ),
    FlawedPanel(
        "service-negative-rate",
        "the catalogue lists a promotional service whose discount exceeds its price: rate "
        "\"-0.12000\"",
        catches=("SVC-004",),
        caught_by=_CATALOGUE_READERS,
        also_fails=("SVC-001",),  # a negative rate is off the services schema
        crosstalk=(("MONEY-008", "NON-STRICT (SHOULD): the money-format check reads every "
                    "rate too, and a negative one is no plain decimal"),),
    ),
    FlawedPanel(
        "service-listed-twice",
        "a service in two categories is listed twice under one id (a JOIN on categories "
        "repeats the row)",
        catches=("SVC-005",),
        caught_by=_CATALOGUE_READERS,
    ),
    FlawedPanel(
        "balance-without-currency",
        "balance answers {\"balance\": \"500.00000\"} without the currency",
        catches=("BAL-001",),
        caught_by=(_BALANCE,),
        crosstalk=(
            ("BAL-004", "FAIL: BAL-004's check reads a missing currency as a malformed one "
             "('currency None'); the absence is BAL-001's"),
            ("MONEY-009", "FAIL: test_04 compares status's currency with the balance's, "
             "None, instead of leaving the comparison to BAL-001"),
            ("GEN-001", "N/A: test_balance_over_a_form_post stops at BAL-001's failure"),
            ("AUTH-005", "N/A: test_balance_over_a_form_post stops at BAL-001's failure"),
            ("GEN-005", "NON-STRICT (SHOULD): the canonical balance schema needs currency"),
            ("MONEY-002", "N/A: the order property test stops at the first BAL-004 failure "
             "of a balance read"),
            ("LIFE-001", "N/A: test_valid_order_debits_rate_times_quantity stops at "
             "MONEY-009's failure"),
        ),
    ),
    FlawedPanel(
        "balance-with-symbol",
        "balance answers \"$500.00000\": the dashboard's money formatter reused for the API",
        catches=("BAL-002",),
        caught_by=(_BALANCE, "test_01_transport.py::test_reading_changes_nothing"),
        also_fails=("BAL-001",),  # off the balance schema, and no balance can be read
        crosstalk=(
            ("MONEY-008", "NON-STRICT (SHOULD): the money-format check reads every balance"),
            *_NO_BALANCE,
        ),
    ),
    FlawedPanel(
        "currency-lower-case",
        "the currency is kept as the payment gateway returns it: \"usd\" (in balance and "
        "status alike)",
        catches=("BAL-004",),
        caught_by=(_BALANCE,),
        crosstalk=(
            ("GEN-005", "NON-STRICT (SHOULD): the canonical schemas want an upper-case code"),
            ("MONEY-002", "N/A: the order property test stops at the first BAL-004 failure "
             "of a balance read"),
        ),
    ),
    FlawedPanel(
        "add-errors-as-message-list",
        "add's validation refusals carry the validator's messages as a list: {\"error\": "
        "[\"Quantity less than minimal 100\"]}, not a string",
        catches=("ERR-001",),
        caught_by=("test_04_add.py::",),
    ),
    FlawedPanel(
        "errors-as-201",
        "every refusal comes with HTTP 201 (a NestJS @Post() handler returning the error "
        "keeps the default status)",
        catches=("ERR-003",),
        caught_by=("test_01_transport.py::", "test_02_errors_and_keys.py::"),
        crosstalk=(("ERR-002", "NON-STRICT (SHOULD): a refusal not sent with HTTP 200, by "
                    "the flaw's nature"),),
    ),
    FlawedPanel(
        "missing-action-lists-services",
        "a request with no action (or an empty one) is answered with the catalogue: the "
        "action switch's default branch",
        catches=("ERR-006",),
        caught_by=("test_02_errors_and_keys.py::test_missing_action_is_an_error",),
        also_fails=("ROBUST-002",),  # its no-action body is the same request
    ),
    FlawedPanel(
        "funds-error-with-balance",
        "the not-enough-funds refusal also carries the balance: {\"error\": \"Not enough "
        "funds on balance\", \"balance\": \"1.00000\"}",
        catches=("ERR-007",),
        caught_by=("test_06_money.py::",),
    ),
    FlawedPanel(
        "successes-as-201",
        "every success comes with HTTP 201 (NestJS @Post() handlers without @HttpCode(200)); "
        "refusals keep 200",
        catches=("GEN-001",),
        caught_by=(_BALANCE,),
        crosstalk=(("AUTH-005", "N/A: test_balance_over_a_form_post stops at GEN-001's "
                    "failure"),),
    ),
    FlawedPanel(
        "php-warning-before-json",
        "an add whose quantity is not numeric gets PHP 7's 'Warning: A non-numeric value "
        "encountered' HTML before the JSON refusal (display_errors on)",
        catches=("GEN-002",),
        caught_by=("test_04_add.py::", "test_13_properties.py::"),
    ),
    FlawedPanel(
        "unknown-order-reads-pending",
        "status of a well-formed id the key does not own answers the LEFT JOIN's default row "
        "(Pending, charge 0) instead of the error envelope",
        catches=("STATUS-005",),
        caught_by=("test_07_status.py::test_unknown_order_is_an_error", "bad-ids.yaml::"),
        crosstalk=(
            ("ISO-001", "FAIL: another key's order gets the same default row as a never-issued "
             "id (nothing leaks), but ISO-001's check wants that answer to be an error"),
            ("ISO-002", "N/A: the isolation test stops at ISO-001's failure"),
            ("ISO-003", "N/A: the isolation test stops at ISO-001's failure"),
            ("ISO-004", "N/A: the isolation test stops at ISO-001's failure"),
        ),
    ),
    FlawedPanel(
        "status-without-id-reads-pending",
        "status with no order (or an empty one) answers the default row (Pending, charge 0) "
        "of a query for id ''",
        catches=("STATUS-006",),
        caught_by=("test_07_status.py::test_status_needs_a_usable_id", "bad-ids.yaml::"),
    ),
    FlawedPanel(
        "refill-status-as-code",
        "refill_status answers the raw TINYINT column: {\"status\": \"0\"} for Pending, "
        "\"2\" for Completed",
        catches=("RSTATUS-001",),
        caught_by=("test_10_lifecycle.py::test_refill_of_a_completed_order",),
    ),
    FlawedPanel(
        "unknown-refill-reads-pending",
        "refill_status of a never-issued refill id answers {\"status\": \"Pending\"}",
        catches=("RSTATUS-002",),
        caught_by=("test_10_lifecycle.py::test_unknown_refill_status", "bad-ids.yaml::"),
    ),
    FlawedPanel(
        "services-without-key",
        "services without a key field answers the catalogue (its route skips the auth guard)",
        catches=("AUTH-001",),
        caught_by=("test_02_errors_and_keys.py::test_no_key_is_refused",),
    ),
    FlawedPanel(
        "status-in-provider-currency",
        "status reports the upstream provider's currency (EUR) while balance reports USD",
        catches=("MONEY-009",),
        caught_by=("test_04_add.py::test_valid_order_debits_rate_times_quantity",),
        crosstalk=(("LIFE-001", "N/A: test_valid_order_debits_rate_times_quantity stops at "
                    "MONEY-009's failure before its end"),),
    ),
    FlawedPanel(
        "oversized-body-hangs-up",
        "a body over the panel's 1 MiB limit is read, then the connection is closed with no "
        "answer (the worker killed at its memory limit)",
        catches=("ROBUST-004",),
        caught_by=("test_11_robustness.py::test_oversized_body",),
    ),
    FlawedPanel(
        "non-form-body-crashes",
        "any body not labelled as a form is parsed as JSON and the parse error escapes as "
        "HTTP 500 (text/plain, XML, multipart)",
        catches=("ROBUST-005",),
        caught_by=("test_11_robustness.py::test_unexpected_content_types",),
    ),
    FlawedPanel(
        "huge-refill-id-crashes",
        "refill_status with a refill id beyond 64 bits crashes with HTTP 500 (SQLSTATE[22003] "
        "numeric value out of range)",
        catches=("ROBUST-007",),
        caught_by=("test_11_robustness.py::test_out_of_range_ids",),
    ),
    FlawedPanel(
        "multi-refill-items-unnamed",
        "refill with orders= answers items without the order they are about: [{\"refill\": "
        "{\"error\": \"Incorrect order ID\"}}, ...]",
        catches=("BATCH-005",),
        caught_by=("test_10_lifecycle.py::test_multi_refill", "test_13_properties.py::"),
        crosstalk=(("REFILL-007", "NON-STRICT (MAY): the refill-multi schema needs order in "
                    "each item, by the flaw's nature"),),
    ),
    FlawedPanel(
        "multi-status-as-list",
        "status with orders= answers a JSON array of status objects, each with its order "
        "($result[] = ...), instead of an object keyed by id",
        catches=("MSTATUS-001",),
        caught_by=("test_01_transport.py::test_reading_changes_nothing", "test_07_status.py::",
                   "multi-status.yaml::"),
        crosstalk=(
            *_each("FAIL: the check reads multi-status members by id key and a list has "
                   "none, so it fails on the shape MSTATUS-001 fails", "MSTATUS-002",
                   "BATCH-001", "BATCH-004", "ISO-002", "ROBUST-007"),
            ("MSTATUS-003", "N/A: the test stops at MSTATUS-002's failure"),
        ),
    ),
    FlawedPanel(
        "new-order-invisible-to-status",
        "status reads a cache that add does not fill: the first status read of an order "
        "answers 'Incorrect order ID' (and fills the cache), later reads are right",
        catches=("LIFE-001",),
        caught_by=("test_04_add.py::test_valid_order_debits_rate_times_quantity",),
        also_fails=("STATUS-001",),  # an own order's status read is refused
        crosstalk=_FIRST_READ_FAILS,
    ),
    FlawedPanel(
        "cancel-batch-one-error",
        "one unknown id in a cancel batch answers the whole batch with one error envelope",
        catches=("BATCH-004",),
        caught_by=("test_08_cancel.py::", "cancel.yaml::"),
        also_fails=("CANCEL-005",),  # the unknown id's refusal is no per-id error either
        crosstalk=(
            ("BATCH-006", "FAIL: the good ids were cancelled, but the one error hides their "
                          "outcome; the check cannot tell stopped from unreported"),
            ("ISO-003", "FAIL: isolation.yaml expects a per-id refusal of another key's order "
                        "in its batch and reads the whole-batch error as a breach"),
            ("CANCEL-007", "NON-STRICT (SHOULD): judged on the same batch answer"),
            ("CANCEL-008", "N/A: judged after BATCH-004 in the same test, which stops"),
        ),
    ),
    FlawedPanel(
        "multi-status-ignores-owner",
        "the multi-status query selects orders by id alone: another key's order is shown",
        catches=("ISO-002",),
        caught_by=("test_09_isolation.py::", "isolation.yaml::"),
        crosstalk=(("ISO-003", "N/A: judged after ISO-002 in the same test, which stops"),
                   ("ISO-004", "N/A: judged after ISO-002 in the same test, which stops")),
    ),
    FlawedPanel(
        "multi-status-from-stale-copy",
        "multi-status reads a replica that never saw delivery start: every order reads "
        "Pending there while status shows its real state",
        catches=("MSTATUS-003",),
        caught_by=("test_07_status.py::", "test_14_stateful.py::", "multi-status.yaml::"),
        controlled=True,  # black-box, the first reads come while the order is still Pending
    ),
    FlawedPanel(
        "batch-limit-fifty",
        "batches are refused above 50 ids, below the documented 100",
        catches=("BATCH-001",),
        caught_by=("test_07_status.py::",),
    ),
)
