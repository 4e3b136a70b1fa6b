"""The harness catches every defect of the broken-panels matrix, under the clause it breaks.

Each broken panel (``broken_panels.py``) is run against the whole shipped suite and the
scenarios, as a vendor would run them: black-box (no control API) with a spend cap and a second
key, except where the table says controlled. A run must fail (non-zero exit), FAIL the clauses
the defect breaks, show the evidence from the harness test that catches it, and FAIL no other
MUST clause beyond what the defect implies. The same run against the unbroken mock passes, so
every FAIL comes from the defect and not from the set-up.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from broken_panels import BROKEN_PANELS, UNBROKEN, BrokenPanel, Mode, defects_table
from harness_runs import Keys, read_verdicts, run_harness, serve_broken, summary_of

from harness import contract

pytest_plugins = ["pytester"]

# The main key pays for the suite; the second key's balance is small, so that a valid order
# costing more than it exists (the beyond-balance and overdraw tests need one).
BALANCES = (Decimal("500.00"), Decimal("1.00"))
MAX_SPEND = "100"
DEFECTS_MD = Path(__file__).with_name("DEFECTS.md")



def certify(pytester: pytest.Pytester, panel: BrokenPanel) -> tuple[pytest.RunResult, Keys]:
    keys = Keys()
    with serve_broken(panel.name, keys, BALANCES) as url:
        result = run_harness(pytester, url, keys, max_spend=MAX_SPEND,
                             controlled=panel.mode is Mode.CONTROLLED)
    return result, keys


def _no_secret_in(result: pytest.RunResult, keys: Keys) -> None:
    output = "\n".join(result.outlines + result.errlines)
    for secret in keys.all():
        assert secret not in output


@pytest.mark.parametrize("panel", BROKEN_PANELS, ids=[p.name for p in BROKEN_PANELS])
def test_the_harness_fails_the_broken_panel_under_its_clause(
    pytester: pytest.Pytester, panel: BrokenPanel
) -> None:
    result, keys = certify(pytester, panel)
    verdicts = read_verdicts(result.outlines)
    summary = summary_of(result.outlines)

    assert result.ret == pytest.ExitCode.TESTS_FAILED, summary
    assert any(line.startswith("NOT CERTIFIED") for line in result.outlines), summary
    for clause in panel.catches:
        assert verdicts.verdict(clause) == "FAIL", f"{panel.name}: {clause} not FAIL\n{summary}"
        shown = verdicts.evidence.get(clause, ())
        assert any(test.startswith(panel.caught_by) for test in shown), (
            f"{panel.name}: {clause} evidence names {shown}, expected one of {panel.caught_by}"
        )
    collateral = verdicts.failed() - set(panel.catches) - set(panel.implied)
    assert collateral == set(), f"{panel.name}: unrelated FAIL {collateral}\n{summary}"
    # A defect is reported when it is seen, never by waiting out the order timeout: an answer
    # the harness cannot read (a status word of no dialect) ends the wait at once.
    waited = {c: r for c, r in verdicts.with_verdict("N/A").items() if "did not finish" in r}
    assert waited == {}, f"{panel.name}: waited out the timeout\n{summary}"
    _no_secret_in(result, keys)


def test_the_same_run_passes_the_unbroken_panel(pytester: pytest.Pytester) -> None:
    result, keys = certify(pytester, UNBROKEN)
    verdicts = read_verdicts(result.outlines)
    summary = summary_of(result.outlines)

    assert result.ret == pytest.ExitCode.OK, summary
    assert verdicts.failed() == set(), summary
    assert "CERTIFIED: no MUST clause failed" in result.outlines
    # Every clause a black-box broken panel is caught under is really judged in this mode.
    judged = {clause for panel in BROKEN_PANELS if panel.mode is Mode.BLACK_BOX
              for clause in (*panel.catches, *panel.implied)}
    assert {c: verdicts.verdict(c) for c in judged if verdicts.verdict(c) != "PASS"} == {}
    _no_secret_in(result, keys)


def test_the_matrix_covers_every_defect_of_the_issue() -> None:
    clauses = contract.clauses()
    names = [panel.name for panel in BROKEN_PANELS]
    assert len(names) == len(set(names)) >= 19
    for panel in BROKEN_PANELS:
        cited = (*panel.catches, *panel.implied)
        assert panel.catches, panel.name
        assert all(clauses[c].level == "MUST" for c in cited), panel.name
        assert not set(panel.catches) & set(panel.implied), panel.name
        assert panel.caught_by, panel.name
        assert panel.variation, panel.name
        # Exactly one variation: a state subclass or a wire rewrite, never both or neither.
        assert (panel.rewire is None) != (panel.state_type is UNBROKEN.state_type), panel.name


def test_defects_md_is_generated_from_the_matrix() -> None:
    assert DEFECTS_MD.read_text(encoding="utf-8") == defects_table(), (
        "DEFECTS.md is out of date: python tests/conformance/broken_panels.py table "
        "> tests/conformance/DEFECTS.md"
    )
