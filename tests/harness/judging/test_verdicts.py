"""Verdict aggregation: worst wins, N/A only alone, levels, bounded evidence; blocked clauses
and root causes; waivers on the final verdict; the judge; the terminal summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from harness import contract
from harness.base.budget import SpendGuard
from harness.judging.checks import DEFAULT_REGISTRY, CheckFailure, ErrorKind, Grade
from harness.judging.judge import Judge, NotApplicable
from harness.judging.verdicts import (
    MAX_EVIDENCE_CHARS,
    MAX_EVIDENCE_PER_CLAUSE,
    NaReason,
    Verdict,
    VerdictBook,
    Waiver,
    WaiverResult,
    WaiverStatus,
    root_causes,
)
from harness.reporting.terminal import summary_lines, verdict_line
from tests.harness.judging.test_checks import ERROR, ex


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


def test_a_stopped_test_leaves_unreached_clauses_blocked_by_its_failure() -> None:
    j, verdicts = judge(("ERR-005", "ERR-006"))
    j.record_failure(CheckFailure("ERR-005", "t", "m"))
    j.finish_blocked("ERR-005")
    assert verdicts.outcome("ERR-006").verdict is Verdict.NA
    assert verdicts.outcome("ERR-006").blocked_by == "ERR-005"
    assert verdicts.outcome("ERR-005").verdict is Verdict.FAIL


def test_not_applicable_targets_the_cited_or_the_named_clauses() -> None:
    j, verdicts = judge(("ERR-005", "ERR-006"))
    j.finish_not_applicable(NotApplicable(NaReason.NO_SECOND_KEY, clauses=["ERR-006"]))
    assert verdicts.outcome("ERR-006").reason == "no second key"
    assert verdicts.outcome("ERR-005").verdict is Verdict.NA
    assert verdicts.outcome("ERR-005").reason == NaReason.NOT_COVERED.value


def test_should_failures_do_not_fail_the_run() -> None:
    j, verdicts = judge(("ERR-002",))
    failure = CheckFailure("ERR-002", "t", "m", Grade.FAIL)
    assert not j.stops(failure)  # recorded, and the test goes on
    assert j.record_failure(failure) is Verdict.NON_STRICT
    assert verdicts.outcome("ERR-002").counts[Verdict.NON_STRICT] == 1
    assert j.first_must_failure() is None


def test_only_a_must_fail_on_a_usable_answer_stops_the_test() -> None:
    """One road per failure: a helper raises what stops the test (the plugin records it) and
    records anything else; the judge says which is which."""
    j, _ = judge(("BAL-001",))
    assert j.stops(CheckFailure("BAL-001", "t", "m", Grade.FAIL))
    assert not j.stops(CheckFailure("BAL-001", "t", "m", Grade.NON_STRICT))
    broken = ex("balance", None, status=500, ctype="text/html", text="<h1>oops</h1>")
    # A FAIL shown by an unusable answer is that answer's generic clause's: it blocks, not stops.
    assert not j.stops(CheckFailure("BAL-001", "t", "m", Grade.FAIL, [broken]))


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


# -- blocked clauses: one defect, one failure ----------------------------------------------------


def test_a_blocked_clause_is_na_naming_its_blocker_and_loses_to_any_real_verdict() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.FAIL, test="t1", message="no cancel")
    verdicts.record_blocked("D-001", by="A-001", test="t1", detail="cancel is not offered")
    outcome = verdicts.outcome("D-001")
    assert (outcome.verdict, outcome.blocked_by) == (Verdict.NA, "A-001")
    assert outcome.reason == "blocked by A-001: cancel is not offered"
    verdicts.record_blocked("B-001", by="A-001", test="t1")
    assert verdicts.outcome("B-001").reason == "blocked by A-001"
    # Aggregation is unchanged: a PASS recorded anywhere wins, and then nothing is blocked.
    verdicts.record("D-001", Verdict.PASS, test="t2")
    assert (verdicts.outcome("D-001").verdict, verdicts.outcome("D-001").blocked_by) == (
        Verdict.PASS, None)
    assert verdicts.outcome("A-001").blocked_by is None  # FAIL: never "blocked"


def test_blocking_needs_two_known_different_clauses() -> None:
    verdicts = book()
    with pytest.raises(KeyError, match="Z-999"):
        verdicts.record_blocked("A-001", by="Z-999", test="t")
    with pytest.raises(KeyError, match="Z-999"):
        verdicts.record_blocked("Z-999", by="A-001", test="t")
    with pytest.raises(ValueError, match="itself"):
        verdicts.record_blocked("A-001", by="A-001", test="t")


def test_the_blocker_kept_is_the_first_in_contract_order_whatever_the_recording_order() -> None:
    first, second = book(), book()
    first.record_blocked("D-001", by="C-001", test="t1")
    first.record_blocked("D-001", by="A-001", test="t2")
    second.record_blocked("D-001", by="A-001", test="t2")
    second.record_blocked("D-001", by="C-001", test="t1")
    assert first.outcome("D-001").blocked_by == second.outcome("D-001").blocked_by == "A-001"


def test_blocked_clauses_survive_export_and_merge() -> None:
    worker = book()
    worker.record("A-001", Verdict.FAIL, test="t1", message="m")
    worker.record_blocked("D-001", by="A-001", test="t1", detail="no cancel")
    merged = book()
    merged.record_blocked("D-001", by="C-001", test="t0")
    merged.merge(json.loads(json.dumps(worker.export())))
    outcome = merged.outcome("D-001")
    assert outcome.blocked_by == "A-001"
    assert set(outcome.reason.split("; ")) == {"blocked by C-001", "blocked by A-001: no cancel"}
    assert outcome.counts[Verdict.NA] == 2
    with pytest.raises(KeyError, match="NOPE-001"):
        merged.merge({"D-001": {"counts": {"N/A": 1}, "blocked_by": ["NOPE-001"]}})
    with pytest.raises(ValueError, match="WAIVED"):
        merged.merge({"D-001": {"counts": {"WAIVED": 1}}})


def test_root_causes_group_each_failure_with_what_it_blocked_following_chains() -> None:
    verdicts = VerdictBook([C("A-001", "MUST"), C("B-001", "MUST"), C("C-001", "MUST"),
                            C("D-001", "MUST"), C("E-001", "MAY"), C("F-001", "MUST")])
    verdicts.record("C-001", Verdict.FAIL, test="t", message="cancel answers null")
    verdicts.record_blocked("A-001", by="C-001", test="t")
    verdicts.record_blocked("B-001", by="A-001", test="t")  # B <- A <- C: C is the root
    verdicts.record("F-001", Verdict.FAIL, test="t", message="wrong debit")
    verdicts.record_blocked("D-001", by="E-001", test="t")  # E N/A itself: E is the root
    verdicts.record_na("E-001", "feature not offered", test="t")
    causes = root_causes(verdicts.outcomes())
    assert [(c.outcome.id, c.blocked) for c in causes] == [
        ("C-001", ("A-001", "B-001")), ("F-001", ()), ("E-001", ("D-001",))]
    assert [c.line() for c in causes] == [
        "C-001 FAIL — blocked: A-001, B-001", "F-001 FAIL", "E-001 N/A — blocked: D-001"]


def test_a_blocking_cycle_never_makes_a_clause_its_own_root() -> None:
    verdicts = book()
    verdicts.record_blocked("A-001", by="D-001", test="t")
    verdicts.record_blocked("D-001", by="A-001", test="t")
    causes = {c.outcome.id: c.blocked for c in root_causes(verdicts.outcomes())}
    assert causes == {"A-001": ("D-001",), "D-001": ("A-001",)}


def test_a_clean_book_has_no_root_causes() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.PASS, test="t")
    verdicts.record("B-001", Verdict.FAIL, test="t", message="a SHOULD: NON-STRICT")
    assert root_causes(verdicts.outcomes()) == []


def test_the_judge_settles_a_blocked_clause_without_stopping() -> None:
    j, verdicts = judge(("CANCEL-001", "CANCEL-002", "BATCH-006"))
    j.record_failure(CheckFailure("CANCEL-001", "t", "cancel answered null"))
    j.blocked("CANCEL-002", "CANCEL-001", "cancel is not offered")
    j.finish_passed()
    assert verdicts.outcome("CANCEL-002").verdict is Verdict.NA
    assert verdicts.outcome("CANCEL-002").reason == "blocked by CANCEL-001: cancel is not offered"
    assert verdicts.outcome("CANCEL-002").blocked_by == "CANCEL-001"
    assert verdicts.outcome("BATCH-006").verdict is Verdict.PASS  # unsettled: it held
    assert j.blocked_clauses() == {"CANCEL-002": "CANCEL-001"}


def test_not_applicable_blocked_by_a_clause_blocks_the_unsettled_cited_ones() -> None:
    j, verdicts = judge(("CANCEL-001", "CANCEL-002", "CANCEL-003"))
    j.not_applicable("CANCEL-003", NaReason.NOT_OFFERED, "no such service")
    error = NotApplicable(NaReason.BLOCKED, "cancel is not offered", blocked_by="CANCEL-001")
    assert error.text == "blocked by CANCEL-001: cancel is not offered"
    j.finish_not_applicable(error)
    assert verdicts.outcome("CANCEL-002").blocked_by == "CANCEL-001"
    assert verdicts.outcome("CANCEL-002").reason == "blocked by CANCEL-001: cancel is not offered"
    assert verdicts.outcome("CANCEL-003").blocked_by is None  # settled before: left alone
    # The blocker is cited too, but its verdict is its own test's: nothing recorded for it here.
    assert sum(verdicts.outcome("CANCEL-001").counts.values()) == 0
    plain = NotApplicable(NaReason.NOT_OFFERED, "x", blocked_by="ERR-005")
    assert plain.text == "blocked by ERR-005: feature not offered: x"


# -- waivers -------------------------------------------------------------------------------------

TODAY = date(2026, 3, 15)


def test_a_waiver_in_force_turns_a_final_fail_into_waived_and_the_run_does_not_fail() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.FAIL, test="t1", message="broken", exchanges=["#1 x"])
    verdicts.record("A-001", Verdict.PASS, test="t2")
    assert verdicts.must_failed()
    waiver = Waiver("A-001", "known gateway bug, ticket 42", date(2026, 3, 15))  # last day
    verdicts.waive([waiver], today=TODAY)
    outcome = verdicts.outcome("A-001")
    assert outcome.verdict is Verdict.WAIVED
    assert outcome.waiver is waiver
    assert outcome.reason == "waived until 2026-03-15 (known gateway bug, ticket 42); " \
        "was FAIL: broken [t1]"
    assert [e.exchanges for e in outcome.evidence] == [("#1 x",)]  # what was excused
    assert not verdicts.must_failed()
    assert verdicts.waiver_results() == [WaiverResult(waiver, WaiverStatus.APPLIED,
                                                      Verdict.WAIVED)]


def test_a_waiver_applies_to_the_final_verdict_after_merging() -> None:
    """Under xdist the FAIL may come from another worker: the waiver sees the merged book."""
    controller = book()
    controller.waive([Waiver("A-001", "r", date(2027, 1, 1))], today=TODAY)
    controller.record("A-001", Verdict.PASS, test="t1")
    assert controller.waiver_results()[0].status is WaiverStatus.STALE
    worker = book()
    worker.record("A-001", Verdict.FAIL, test="t2", message="m")
    controller.merge(json.loads(json.dumps(worker.export())))
    assert controller.outcome("A-001").verdict is Verdict.WAIVED
    assert controller.waiver_results()[0].status is WaiverStatus.APPLIED
    assert "WAIVED" not in json.dumps(controller.export())  # never recorded, never exported


@pytest.mark.parametrize(
    ("record", "ends"),
    [("pass", Verdict.PASS), ("should-fail", Verdict.NON_STRICT), ("na", Verdict.NA),
     ("nothing", Verdict.NA)],
)
def test_a_waiver_whose_clause_did_not_fail_is_stale(record: str, ends: Verdict) -> None:
    verdicts = book()
    clause = "B-001" if record == "should-fail" else "A-001"
    if record == "pass":
        verdicts.record(clause, Verdict.PASS, test="t")
    elif record == "should-fail":
        verdicts.record(clause, Verdict.FAIL, test="t", message="a SHOULD: NON-STRICT")
    elif record == "na":
        verdicts.record_na(clause, "no second key", test="t")
    waiver = Waiver(clause, "r", date(2027, 1, 1))
    verdicts.waive([waiver], today=TODAY)
    assert verdicts.outcome(clause).verdict is ends
    assert verdicts.outcome(clause).waiver is None
    [result] = verdicts.waiver_results()
    assert (result.status, result.verdict) == (WaiverStatus.STALE, ends)
    assert result.line().startswith(f"{clause} waiver is stale: the clause ended {ends.value}")


def test_an_expired_waiver_is_ignored_and_the_fail_stands() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.FAIL, test="t", message="broken")
    waiver = Waiver("A-001", "was to be fixed", date(2026, 3, 14))  # the day before TODAY
    verdicts.waive([waiver], today=TODAY)
    assert verdicts.outcome("A-001").verdict is Verdict.FAIL
    assert verdicts.must_failed()
    [result] = verdicts.waiver_results()
    assert (result.status, result.verdict) == (WaiverStatus.EXPIRED, Verdict.FAIL)
    assert result.line() == ("A-001 waiver expired on 2026-03-14 and was ignored "
                             "(the clause ended FAIL): was to be fixed")
    # The same waiver one day earlier is in force.
    verdicts.waive([waiver], today=date(2026, 3, 14))
    assert verdicts.outcome("A-001").verdict is Verdict.WAIVED


def test_waived_is_never_recorded_and_waivers_need_known_clauses() -> None:
    verdicts = book()
    with pytest.raises(ValueError, match="final verdict"):
        verdicts.record("A-001", Verdict.WAIVED, test="t")
    with pytest.raises(KeyError, match="Z-999"):
        verdicts.waive([Waiver("Z-999", "r", TODAY)], today=TODAY)
    assert Verdict.NON_STRICT.rank < Verdict.WAIVED.rank < Verdict.FAIL.rank


def test_the_terminal_summary_shows_waived_rows_root_causes_and_every_waiver() -> None:
    verdicts = VerdictBook([C("A-001", "MUST", "cancel works"), C("B-001", "MUST"),
                            C("C-001", "MUST"), C("D-001", "MUST"), C("E-001", "MUST")])
    verdicts.record("A-001", Verdict.FAIL, test="t.py::t1", message="cancel answered null",
                    exchanges=["#3 POST cancel -> HTTP 200 null"])
    verdicts.record_blocked("B-001", by="A-001", test="t.py::t1")
    verdicts.record_blocked("C-001", by="A-001", test="t.py::t2")
    verdicts.record("D-001", Verdict.PASS, test="t.py::t3")
    verdicts.record("E-001", Verdict.FAIL, test="t.py::t4", message="wrong debit")
    verdicts.waive([Waiver("A-001", "cancel arrives in v3", date(2026, 12, 31)),
                    Waiver("D-001", "flaky last month", date(2026, 12, 31)),
                    Waiver("E-001", "old", date(2026, 1, 1))], today=TODAY)
    lines = summary_lines(verdicts.outcomes(), SpendGuard(Decimal(0)).report(), exit_status=1,
                          waivers=verdicts.waiver_results())
    texts = [text for text, _ in lines]
    rows = {t[:5]: t for t in texts if t[:5] in ("A-001", "B-001")}
    assert rows["A-001"].startswith("A-001        MUST   WAIVED     waived until 2026-12-31")
    assert rows["B-001"].startswith("B-001        MUST   N/A        blocked by A-001")
    causes = texts.index("root causes (each failure once, with the clauses it blocked):")
    assert texts[causes + 1:causes + 3] == ["  E-001 FAIL",
                                            "  A-001 WAIVED — blocked: B-001, C-001"]
    assert "--- A-001 cancel works (WAIVED)" in texts  # the excused evidence is shown
    assert "    #3 POST cancel -> HTTP 200 null" in texts
    start = texts.index("waivers (--panel-waivers):")
    assert texts[start + 1:start + 4] == [
        "  A-001 WAIVED until 2026-12-31: cancel arrives in v3",
        "  D-001 waiver is stale: the clause ended PASS, nothing to excuse (expires 2026-12-31):"
        " flaky last month",
        "  E-001 waiver expired on 2026-01-01 and was ignored (the clause ended FAIL): old",
    ]
    assert "MUST: 1 PASS, 1 WAIVED, 1 FAIL, 2 N/A" in texts
    assert lines[-1] == ("NOT CERTIFIED: 1 MUST clause(s) failed (1 waived: A-001)", Verdict.FAIL)


def test_a_run_whose_only_failure_is_waived_is_certified_and_says_so() -> None:
    verdicts = book()
    verdicts.record("A-001", Verdict.FAIL, test="t", message="m")
    verdicts.waive([Waiver("A-001", "r", date(2026, 12, 31))], today=TODAY)
    outcomes = verdicts.outcomes()
    assert verdict_line(outcomes, 0) == "CERTIFIED: no MUST clause failed (1 waived: A-001)"
    lines = summary_lines(outcomes, SpendGuard(Decimal(0)).report())
    assert lines[-1] == ("CERTIFIED: no MUST clause failed (1 waived: A-001)", Verdict.PASS)
