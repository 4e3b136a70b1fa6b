"""The harness raises no false alarm on the legit-panels corpus: zero MUST failures each.

Each legit panel (``legit_panels.py``) is correct and differs from the mock the way a real
family does. It is run against the whole shipped suite and the scenarios as a vendor would run
them: black-box (no control API) with a spend cap and a second key, and, where the panel offers
one, controlled as well. A run must exit OK, print the certificate line and FAIL no MUST clause;
the assertion message is the run's whole verdict story, so a false alarm names its clause, its
evidence and the harness test that raised it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from tests.conformance.harness_runs import Keys, read_verdicts, run_harness, serve_legit, summary_of
from tests.conformance.legit_ledger import QuantitySyntax, Rules, Status
from tests.conformance.legit_panels import LEGIT_PANELS, LegitPanel, legit_table
from tests.conformance.legit_wire import (
    FlagStyle,
    IdJson,
    MiB,
    OtherMethods,
    OverLimit,
    PendingCount,
)

# As for the broken panels: the main key pays for the suite, the second key's balance is
# small, so that a valid order costing more than it exists.
BALANCES = (Decimal("500.00"), Decimal("1.00"))
MAX_SPEND = "100"
LEGIT_MD = Path(__file__).with_name("LEGIT.md")
MODES = {False: "black-box", True: "controlled"}
# Clauses every legit panel offers what they need for, in both modes: each must be judged
# (PASS or NON-STRICT), so that a false alarm is fixed by accepting the variant, never by no
# longer looking. Money safety, isolation and the core actions.
JUDGED = (
    "BAL-001", "AUTH-002", "AUTH-004", "ADD-001", "ADD-003", "ADD-004", "ADD-005",
    "MONEY-001", "MONEY-003", "MONEY-004", "MONEY-005", "MONEY-006", "MONEY-007", "MONEY-010",
    "STATUS-001", "STATUS-008", "ISO-001", "ISO-002", "ISO-003", "ISO-005", "ROBUST-001",
)

RUNS = [
    pytest.param(panel, controlled, id=f"{panel.name}-{MODES[controlled]}")
    for panel in LEGIT_PANELS
    for controlled in ((False, True) if panel.control else (False,))
]


@pytest.mark.parametrize(("panel", "controlled"), RUNS)
def test_the_harness_certifies_the_legit_panel(
    pytester: pytest.Pytester, panel: LegitPanel, controlled: bool
) -> None:
    keys = Keys()
    with serve_legit(panel.name, keys, BALANCES, controlled=controlled) as url:
        result = run_harness(pytester, url, keys, max_spend=MAX_SPEND, controlled=controlled)
    verdicts = read_verdicts(result.outlines)
    summary = summary_of(result.outlines)

    assert verdicts.rows, f"no verdict table\n{summary}"
    false_alarms = verdicts.with_verdict("FAIL", "MUST")
    assert false_alarms == {}, f"{panel.name}: MUST FAIL on a correct panel\n{summary}"
    unjudged = {c: verdicts.rows[c][2] for c in JUDGED if verdicts.verdict(c) == "N/A"}
    assert unjudged == {}, f"{panel.name}: core clauses left unjudged\n{summary}"
    assert result.ret == pytest.ExitCode.OK, summary
    assert "CERTIFIED: no MUST clause failed" in result.outlines, summary
    output = "\n".join(result.outlines + result.errlines)
    for secret in keys.all():
        assert secret not in output


# Every behaviour issue 16 lists for the corpus, as a test of a row's knobs.
BEHAVIOURS: dict[str, Callable[[LegitPanel], bool]] = {
    "a stock 501 page for PUT/DELETE": lambda p: p.wire.other_methods is OtherMethods.STOCK_501,
    "a stock 405 page for PUT/DELETE": lambda p: p.wire.other_methods is OtherMethods.HTML_405,
    "batches over 100 truncated": lambda p: p.wire.over_limit is OverLimit.TRUNCATE,
    "batches over 100 answered whole": lambda p: p.wire.over_limit is OverLimit.WHOLE,
    "a 4 MiB body answered": lambda p: p.wire.max_body > 4 * MiB,
    "4 places, half-even": lambda p: (p.rules.places, p.rules.rounding) == (4, ROUND_HALF_EVEN),
    "7 places, truncated": lambda p: (p.rules.places, p.rules.rounding) == (7, ROUND_DOWN),
    "start_count null while Pending": lambda p: p.wire.pending_count is PendingCount.NULL,
    "start_count 0 while Pending": lambda p: p.wire.pending_count is PendingCount.ZERO,
    'flags as "true"': lambda p: p.wire.flags is FlagStyle.WORDS,
    'flags as "1"': lambda p: p.wire.flags is FlagStyle.STR01,
    "JSON as text/html with leading whitespace":
        lambda p: p.wire.content_type.startswith("text/html") and p.wire.prefix.isspace(),
    "interval=0 accepted": lambda p: p.rules.interval_min == 0,
    "runs x quantity above max accepted": lambda p: not p.rules.drip_total_checked,
    "quantity=1e3 read as 1000":
        lambda p: p.rules.quantity_syntax is QuantitySyntax.PHP_NUMERIC,
    "cancel only while Pending": lambda p: p.rules.cancellable == {Status.PENDING},
    "refill only within N days": lambda p: p.rules.refill_days < Rules().refill_days,
    "errors as HTTP 422": lambda p: p.wire.statuses.bad_request == 422,
    "string order ids": lambda p: p.wire.order_ids is IdJson.STRING,
    "served at /api/v1": lambda p: p.wire.path == "/api/v1",
}


def test_the_corpus_covers_every_behaviour_of_the_issue() -> None:
    names = [panel.name for panel in LEGIT_PANELS]
    assert len(names) == len(set(names)) >= 15
    for panel in LEGIT_PANELS:
        assert panel.family, panel.name
        assert panel.variation, panel.name
        assert panel.sources, panel.name
    missing = [what for what, shown in BEHAVIOURS.items()
               if not any(shown(panel) for panel in LEGIT_PANELS)]
    assert missing == []


def test_legit_md_is_generated_from_the_matrix() -> None:
    assert LEGIT_MD.read_text(encoding="utf-8") == legit_table(), (
        "LEGIT.md is out of date: python tests/conformance/legit_panels.py table "
        "> tests/conformance/LEGIT.md"
    )
