"""The harness catches every flaw of the independent panel, under the clause it breaks.

Each flawed panel (``flaws.py``) is the correct ``perfectpanel-classic`` panel, written apart
from the mock, with one rule broken. It is run against the whole shipped suite and the
scenarios as a vendor would run them (black-box with a spend cap and a second key, or
controlled where the row says so). A run must fail, FAIL the clauses the flaw breaks with
evidence from the harness test that catches it, and leave every other clause's verdict where
the same run leaves it on the unbroken panel (PASS, NON-STRICT and N/A included), except the
documented cross-talk.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness import contract
from tests.conformance import flawed_ledger, flawed_wire
from tests.conformance.flaws import BASE_PANEL, FlawedPanel
from tests.conformance.harness_runs import (
    Keys,
    Verdicts,
    read_verdicts,
    run_harness,
    serve_legit,
    summary_of,
)
from tests.conformance.legit_ledger import LEDGER_FLAWS
from tests.conformance.legit_wire import WIRE_FLAWS

FLAWED: tuple[FlawedPanel, ...] = (*flawed_wire.FLAWED, *flawed_ledger.FLAWED)
BALANCES = (Decimal("500.00"), Decimal("1.00"))
MAX_SPEND = "100"
_BASELINES: dict[bool, Verdicts] = {}


def _run(pytester: pytest.Pytester, controlled: bool, flaw: str | None
         ) -> tuple[pytest.RunResult, Keys]:
    keys = Keys()
    with serve_legit(BASE_PANEL, keys, BALANCES, controlled=controlled, flaw=flaw) as url:
        result = run_harness(pytester, url, keys, max_spend=MAX_SPEND, controlled=controlled)
    return result, keys


def baseline(pytester: pytest.Pytester, controlled: bool) -> Verdicts:
    """The unbroken panel's verdict table in the same set-up (run once per process)."""
    if controlled not in _BASELINES:
        result, _ = _run(pytester, controlled, None)
        verdicts = read_verdicts(result.outlines)
        assert result.ret == pytest.ExitCode.OK, summary_of(result.outlines)
        _BASELINES[controlled] = verdicts
    return _BASELINES[controlled]


@pytest.mark.parametrize("panel", FLAWED, ids=[p.name for p in FLAWED])
def test_the_harness_fails_the_flawed_panel_under_its_clause(
    pytester: pytest.Pytester, panel: FlawedPanel
) -> None:
    unbroken = baseline(pytester, panel.controlled)
    result, keys = _run(pytester, panel.controlled, panel.name)
    verdicts = read_verdicts(result.outlines)
    summary = summary_of(result.outlines)

    assert result.ret == pytest.ExitCode.TESTS_FAILED, summary
    assert any(line.startswith("NOT CERTIFIED") for line in result.outlines), summary
    for clause in (*panel.catches, *panel.also_fails):
        assert verdicts.verdict(clause) == "FAIL", f"{panel.name}: {clause} not FAIL\n{summary}"
    for clause in panel.catches:
        shown = verdicts.evidence.get(clause, ())
        assert any(test.startswith(panel.caught_by) for test in shown), (
            f"{panel.name}: {clause} evidence names {shown}, expected one of {panel.caught_by}"
        )
    # The whole table, not only FAIL: a flaw that also moves another clause from PASS to
    # NON-STRICT or N/A is seen.
    expected = {*panel.catches, *panel.also_fails, *(c for c, _ in panel.crosstalk)}
    moved = {c: f"{unbroken.verdict(c)} -> {verdicts.verdict(c)}" for c in unbroken.rows
             if c not in expected and verdicts.verdict(c) != unbroken.verdict(c)}
    assert moved == {}, f"{panel.name}: verdicts moved beyond the flaw {moved}\n{summary}"
    output = "\n".join(result.outlines + result.errlines)
    for secret in keys.all():
        assert secret not in output


def test_every_flaw_is_one_rule_of_the_contract() -> None:
    clauses = contract.clauses()
    names = [panel.name for panel in FLAWED]
    assert len(names) == len(set(names))
    assert set(names) <= LEDGER_FLAWS | WIRE_FLAWS
    assert not LEDGER_FLAWS & WIRE_FLAWS
    for panel in FLAWED:
        cited = (*panel.catches, *panel.also_fails, *(c for c, _ in panel.crosstalk))
        assert panel.catches, panel.name
        assert panel.caught_by, panel.name
        assert panel.defect, panel.name
        assert all(c in clauses for c in cited), panel.name
        assert len(set(cited)) == len(cited), f"{panel.name}: a clause listed twice"
        assert all(reason.strip() for _, reason in panel.crosstalk), panel.name
