"""Verdict aggregation: worst wins, N/A only alone, levels, bounded evidence; and the judge."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from test_harness_checks import ERROR, ex

from harness import contract
from harness.budget import SpendGuard
from harness.checks import DEFAULT_REGISTRY, CheckFailure, ErrorKind, Grade
from harness.judge import Judge, NotApplicable
from harness.report import summary_lines, verdict_line
from harness.verdicts import (
    MAX_EVIDENCE_CHARS,
    MAX_EVIDENCE_PER_CLAUSE,
    NaReason,
    Verdict,
    VerdictBook,
)


@dataclass(frozen=True)
class C:
    id: str
    level: str
    title: str = "a rule"


def book() -> VerdictBook:
    return VerdictBook([C("A-001", "MUST"), C("B-001", "SHOULD"), C("C-001", "MAY"),
                        C("D-001", "MUST")])


def test_worst_wins() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.PASS, test="t1")
    verdicts.record_na("A-001", "no second key", test="t2")
    assert verdicts.outcome("A-001").verdict is Verdict.PASS
    verdicts.record("A-001", Verdict.NON_STRICT, test="t3", message="variant")
    assert verdicts.outcome("A-001").verdict is Verdict.NON_STRICT
    verdicts.record("A-001", Verdict.FAIL, test="t4", message="broken")
    verdicts.record("A-001", Verdict.PASS, test="t5")
    outcome = verdicts.outcome("A-001")
    assert outcome.verdict is Verdict.FAIL
    assert outcome.reason == "broken [t4]"
    assert outcome.counts[Verdict.PASS] == 2


def test_na_only_when_nothing_else_was_recorded_and_with_its_reasons() -> None:
    verdicts = book()
    verdicts.record_na("A-001", NaReason.SPEND_CAP.value, test="t1")
    verdicts.record_na("A-001", NaReason.NO_CONTROL.value, test="t2")
    verdicts.record_na("A-001", NaReason.SPEND_CAP.value, test="t3")
    outcome = verdicts.outcome("A-001")
    assert outcome.verdict is Verdict.NA
    assert outcome.reason == "not allowed by the spend cap; no control API"
    assert verdicts.outcome("D-001").reason == NaReason.NOT_COVERED.value


def test_a_fail_counts_as_fail_on_must_clauses_only() -> None:
    verdicts = book()
    assert verdicts.record("B-001", Verdict.FAIL, test="t", message="x") is Verdict.NON_STRICT
    assert verdicts.record("C-001", Verdict.FAIL, test="t", message="x") is Verdict.NON_STRICT
    assert not verdicts.must_failed()
    assert verdicts.record("A-001", Verdict.FAIL, test="t", message="x") is Verdict.FAIL
    assert verdicts.must_failed()


def test_evidence_is_kept_for_failures_and_bounded() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.PASS, test="t", exchanges=["never kept"])
    for n in range(MAX_EVIDENCE_PER_CLAUSE + 3):
        verdicts.record("A-001", Verdict.FAIL, test=f"t{n}", message="m",
                        exchanges=["x" * (MAX_EVIDENCE_CHARS * 2)])
    outcome = verdicts.outcome("A-001")
    assert len(outcome.evidence) == MAX_EVIDENCE_PER_CLAUSE
    assert all(len(e.render()) <= MAX_EVIDENCE_CHARS + 40 for e in outcome.evidence)
    verdicts.record("D-001", Verdict.NON_STRICT, test="t", message="m", exchanges=["y"])
    verdicts.record("D-001", Verdict.FAIL, test="t", message="m", exchanges=["z"])
    assert [e.exchanges for e in verdicts.outcome("D-001").evidence] == [("z",)]
    assert verdicts.outcome("C-001").evidence == ()


def test_unknown_clauses_and_reasonless_na_are_refused() -> None:
    verdicts = book()
    with pytest.raises(KeyError, match="Z-999"):
        verdicts.record("Z-999", Verdict.PASS, test="t")
    with pytest.raises(KeyError):
        verdicts.record_na("Z-999", "x", test="t")
    with pytest.raises(ValueError, match="reason"):
        verdicts.record("A-001", Verdict.NA, test="t")


def test_outcomes_keep_contract_order_and_lines_are_bounded() -> None:
    verdicts = book()
    verdicts.record("B-001", Verdict.NON_STRICT, test="t", message="m" * 300)
    assert [o.id for o in verdicts.outcomes()] == ["A-001", "B-001", "C-001", "D-001"]
    assert len(verdicts.outcome("B-001").line(80)) == 80


# -- the judge -------------------------------------------------------------------------------


def judge(cited: tuple[str, ...] = ("ERR-005",)) -> tuple[Judge, VerdictBook]:
    verdicts = VerdictBook(contract.clauses().values())
    return Judge(verdicts, DEFAULT_REGISTRY, "test_x", cited), verdicts


def test_observing_records_every_check_result_on_its_clause() -> None:
    j, verdicts = judge()
    j.observe(ex(None, None, text="<html>nope</html>"))
    assert verdicts.outcome("GEN-002").verdict is Verdict.FAIL
    assert verdicts.outcome("ROBUST-001").verdict is Verdict.PASS
    failure = j.first_must_failure()
    assert failure is not None
    assert failure.clause == "GEN-002"


def test_a_finished_test_passes_its_unsettled_cited_clauses() -> None:
    j, verdicts = judge(("ERR-005", "ERR-006", "SVC-008"))
    j.record_failure(CheckFailure("ERR-006", "t", "m"))
    j.not_applicable("SVC-008", NaReason.NOT_OFFERED, "no flag")
    j.finish_passed()
    assert verdicts.outcome("ERR-005").verdict is Verdict.PASS
    assert verdicts.outcome("ERR-006").verdict is Verdict.FAIL
    assert verdicts.outcome("SVC-008").verdict is Verdict.NA
    assert verdicts.outcome("SVC-008").reason == "feature not offered: no flag"


def test_a_stopped_test_leaves_unreached_clauses_na() -> None:
    j, verdicts = judge(("ERR-005", "ERR-006"))
    j.record_failure(CheckFailure("ERR-005", "t", "m"))
    j.finish_stopped(NaReason.NOT_REACHED.value)
    assert verdicts.outcome("ERR-006").verdict is Verdict.NA
    assert verdicts.outcome("ERR-005").verdict is Verdict.FAIL


def test_not_applicable_targets_the_cited_or_the_named_clauses() -> None:
    j, verdicts = judge(("ERR-005", "ERR-006"))
    j.finish_not_applicable(NotApplicable(NaReason.NO_SECOND_KEY, clauses=["ERR-006"]))
    assert verdicts.outcome("ERR-006").reason == "no second key"
    assert verdicts.outcome("ERR-005").verdict is Verdict.NA
    assert verdicts.outcome("ERR-005").reason == NaReason.NOT_COVERED.value


def test_a_failure_is_recorded_once_and_should_failures_do_not_fail_the_run() -> None:
    j, verdicts = judge(("ERR-002",))
    failure = CheckFailure("ERR-002", "t", "m", Grade.FAIL)
    assert j.record_failure(failure) is Verdict.NON_STRICT
    assert j.record_failure(failure) is Verdict.NON_STRICT
    assert verdicts.outcome("ERR-002").counts[Verdict.NON_STRICT] == 1
    assert j.first_must_failure() is None


def test_expect_error_also_grades_the_4xx_meaning() -> None:
    j, verdicts = judge(("AUTH-002",))
    assert j.expect_error(ex(None, ERROR, status=404), "AUTH-002", "refused",
                          kind=ErrorKind.AUTH)
    assert verdicts.outcome("ERR-004").verdict is Verdict.NON_STRICT


def test_the_conclusion_needs_no_must_failure_and_a_clean_end() -> None:
    """The terminal's last line and every report conclude alike: a harness error or an
    interrupt (a non-zero exit with no MUST failure) certifies nothing."""
    verdicts = book()
    verdicts.record("A-001", Verdict.PASS, test="t1")
    outcomes = verdicts.outcomes()
    spend = SpendGuard(Decimal(0)).report()
    assert verdict_line(outcomes, 0) == "CERTIFIED: no MUST clause failed"
    assert summary_lines(outcomes, spend)[-1] == ("CERTIFIED: no MUST clause failed",
                                                  Verdict.PASS)
    assert summary_lines(outcomes, spend, exit_status=1)[-1] == (
        "NOT CERTIFIED: the run did not end cleanly (exit status 1)", Verdict.FAIL)
    verdicts.record("D-001", Verdict.FAIL, test="t2", message="broken")
    assert verdict_line(verdicts.outcomes(), 1) == "NOT CERTIFIED: 1 MUST clause(s) failed"
