"""A verdict that states its scope: how many MUST clauses were checked and why the others were
not, named (full, read-only, black-box, ...) on the terminal, in report.json (valid against its
schema), in report.md and in report.html's banner; ``certified`` keeps meaning "no MUST clause
failed", a partial run included."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness import contract
from harness.base.redaction import Secret
from harness.contract.resources import schemas_dir
from harness.judging.verdicts import NaReason, Verdict, VerdictBook, Waiver
from harness.reporting.certificate import build_certificate
from harness.reporting.scope import Scope, scope_of
from harness.reporting.terminal import conclusion
from harness.reporting.writers import render_html, render_markdown
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.fixtures.fakepanel import KEY, FakePanel, serve
from tests.fixtures.transports import RecordingTransport

MUST = [c.id for c in contract.clauses().values() if c.level == "MUST"]
SHOULD = next(c.id for c in contract.clauses().values() if c.level == "SHOULD")


def book() -> VerdictBook:
    return VerdictBook(contract.clauses().values())


def na(reason: NaReason, detail: str = "") -> str:
    return f"{reason.value}: {detail}" if detail else reason.value


def all_pass(verdicts: VerdictBook, clauses: list[str]) -> None:
    for clause in clauses:
        verdicts.record(clause, Verdict.PASS, test="t.py::test_ok")


def scope(verdicts: VerdictBook, cap: str = "0") -> Scope:
    return scope_of(verdicts.outcomes(), spend_cap=Decimal(cap))


# ---------------------------------------------------------------------------------------------
# counting


def test_every_must_clause_checked_is_a_full_scope() -> None:
    verdicts = book()
    all_pass(verdicts, MUST)
    found = scope(verdicts)
    assert (found.name, found.full, found.must_checked) == ("full", True, len(MUST))
    assert found.summary() == f"full scope: all {len(MUST)} MUST clauses checked"


def test_a_read_only_run_names_its_scope_and_counts_each_reason() -> None:
    verdicts = book()
    spend, second, control, checked = MUST[:5], MUST[5:7], MUST[7:8], MUST[8:]
    all_pass(verdicts, checked)
    for clause in spend:
        verdicts.record_na(clause, na(NaReason.SPEND_CAP, "needs up to 4.99"), test="t.py::a")
    for clause in second:
        verdicts.record_na(clause, na(NaReason.NO_SECOND_KEY), test="t.py::b")
    verdicts.record_na(control[0], na(NaReason.NO_CONTROL), test="t.py::c")
    verdicts.record_na(SHOULD, na(NaReason.SPEND_CAP), test="t.py::d")  # not a MUST: not counted
    found = scope(verdicts)
    assert found.name == "read-only"
    assert not found.full
    assert (found.must_total, found.must_checked, found.unchecked) == (len(MUST), len(checked), 8)
    assert found.not_checked == (("spend cap", tuple(spend)), ("no second key", tuple(second)),
                                 ("no control API", tuple(control)))
    assert found.summary() == (f"read-only scope: {len(checked)} of {len(MUST)} MUST clauses "
                               "checked (8 not checked: 5 spend cap, 2 no second key, "
                               "1 no control API)")
    assert scope(verdicts, cap="0.50").name == "spend-capped"  # money, but not enough


def test_a_blocked_clause_is_not_checked_and_names_its_blocker() -> None:
    verdicts = book()
    all_pass(verdicts, MUST[2:])
    verdicts.record(MUST[0], Verdict.FAIL, test="t.py::x", message="broken")
    verdicts.record_blocked(MUST[1], by=MUST[0], test="t.py::x")
    found = scope(verdicts)
    assert found.not_checked == ((f"blocked by {MUST[0]}", (MUST[1],)),)
    assert found.must_checked == len(MUST) - 1  # the FAIL itself was checked
    assert found.name == "partial"


def test_not_offered_is_not_a_gap_unless_another_reason_applies() -> None:
    verdicts = book()
    all_pass(verdicts, MUST[2:])
    verdicts.record_na(MUST[0], na(NaReason.NOT_OFFERED, "no refill"), test="t.py::a")
    # N/A in one test for the spend cap and in another as not offered: the cap is the reason.
    verdicts.record_na(MUST[1], na(NaReason.NOT_OFFERED, "no Package"), test="t.py::b")
    verdicts.record_na(MUST[1], na(NaReason.SPEND_CAP, "needs 3"), test="t.py::c")
    found = scope(verdicts, cap="1")
    assert found.not_offered == (MUST[0],)
    assert found.not_checked == (("spend cap", (MUST[1],)),)
    assert found.name == "spend-capped"
    only_offered = book()
    all_pass(only_offered, MUST[1:])
    only_offered.record_na(MUST[0], na(NaReason.NOT_OFFERED, "no refill"), test="t.py::a")
    full = scope(only_offered)
    assert full.full
    assert full.summary() == (f"full scope: {len(MUST) - 1} of {len(MUST)} MUST clauses checked "
                              "(1 not offered by the panel)")


@pytest.mark.parametrize(
    ("reason", "name"),
    [(NaReason.NO_CONTROL, "black-box"), (NaReason.NO_SECOND_KEY, "single-key"),
     (NaReason.NOT_SELECTED, "selected-clauses"), (NaReason.TIMEOUT, "partial"),
     (NaReason.NOT_COVERED, "partial")],
)
def test_the_scope_is_named_after_the_limit_that_left_clauses_unchecked(
    reason: NaReason, name: str
) -> None:
    verdicts = book()
    all_pass(verdicts, MUST[1:])
    verdicts.record_na(MUST[0], na(reason), test="t.py::a")
    assert scope(verdicts).name == name


def test_a_waived_failure_was_checked() -> None:
    verdicts = book()
    all_pass(verdicts, MUST[1:])
    verdicts.record(MUST[0], Verdict.FAIL, test="t.py::x", message="known")
    verdicts.waive([Waiver(MUST[0], "fixed in v3", date(2099, 1, 1))], today=date(2026, 1, 1))
    assert scope(verdicts).full


# ---------------------------------------------------------------------------------------------
# the record and the banners


def record_of(verdicts_for: list[str], na_for: list[str], *, exit_status: int = 0) -> dict:  # type: ignore[type-arg]
    run = HarnessRun(PanelConfig(url="https://panel.example/api/v2",
                                 key=Secret("scope-key-0001", "main key")),
                     transport=RecordingTransport())
    all_pass(run.book, verdicts_for)
    for clause in na_for:
        run.book.record_na(clause, na(NaReason.SPEND_CAP, "needs 1"), test="t.py::a")
    return build_certificate(run, exit_status=exit_status)


def schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads((schemas_dir() / "report.schema.json").read_text()))


def test_a_partial_certificate_says_so_in_every_report() -> None:
    record = record_of(MUST[3:], MUST[:3])
    schema().validate(record)
    assert record["certified"] is True  # no MUST clause failed: unchanged meaning
    assert record["verdict"] == "CERTIFIED: no MUST clause failed"
    assert record["scope"] == {
        "name": "read-only", "full": False, "must_total": len(MUST),
        "must_checked": len(MUST) - 3, "must_not_checked": 3,
        "not_checked": [{"reason": "spend cap", "count": 3, "clauses": MUST[:3]}],
        "not_offered": [],
        "summary": f"read-only scope: {len(MUST) - 3} of {len(MUST)} MUST clauses checked "
                   "(3 not checked: 3 spend cap)",
    }
    summary = record["scope"]["summary"]
    assert record["conclusion"] == f"CERTIFIED: no MUST clause failed — {summary}"
    markdown = render_markdown(record)
    assert f"**{record['conclusion']}**" in markdown
    assert f"| spend cap | 3 | {', '.join(MUST[:3])} |" in markdown
    page = render_html(record)
    banner = re.search(r'<p class="verdict (\w+)">(.*?)</p>', page)
    assert banner is not None
    assert banner.group(1) == "partial"  # not the green of a full certificate
    assert "read-only scope: " in banner.group(2)


def test_a_full_certificate_is_green_and_a_failed_run_red() -> None:
    full = record_of(MUST, [])
    schema().validate(full)
    assert full["scope"]["full"] is True
    assert re.search(r'<p class="verdict ok">CERTIFIED: no MUST clause failed — full scope: all ',
                     render_html(full))
    failed = record_of(MUST, [], exit_status=2)
    schema().validate(failed)
    assert failed["certified"] is False
    assert '<p class="verdict bad">NOT CERTIFIED: ' in render_html(failed)


def test_the_schema_refuses_a_full_scope_with_unchecked_clauses() -> None:
    record = record_of(MUST[1:], MUST[:1])
    record["scope"]["full"] = True
    assert not schema().is_valid(record)


def test_conclusion_joins_the_verdict_and_the_scope() -> None:
    verdicts = book()
    all_pass(verdicts, MUST)
    outcomes = verdicts.outcomes()
    found = scope_of(outcomes, spend_cap=Decimal(0))
    assert conclusion(outcomes, 0, found) == (
        f"CERTIFIED: no MUST clause failed — full scope: all {len(MUST)} MUST clauses checked")


# ---------------------------------------------------------------------------------------------
# the terminal, end to end


def test_a_read_only_run_prints_its_scope_under_the_verdict(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", "--panel-request-rate=1000",
            f"--panel-report={report}", "-p", "no:cacheprovider", "--panel-examples=2")
    output = "\n".join(result.outlines)
    assert result.ret == 0, output
    verdict = result.outlines.index("CERTIFIED: no MUST clause failed")
    line = result.outlines[verdict + 1]
    assert re.fullmatch(r"read-only scope: \d+ of \d+ MUST clauses checked \(\d+ not checked: "
                        r"\d+ spend cap(, \d+ [a-z /A-Z-]+)*\)", line), line
    record = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert record["scope"]["summary"] == line
    assert record["certified"] is True
    assert record["scope"]["name"] == "read-only"
    assert KEY not in output


# ---------------------------------------------------------------------------------------------
# Allure


def test_allure_environment_keeps_other_lines_and_escapes(tmp_path: Path) -> None:
    from harness.reporting.allure_environment import write_environment

    (tmp_path / "environment.properties").write_text("Browser=none\nsmm.scope=stale\n",
                                                     encoding="latin-1")
    write_environment(tmp_path, {"scope": "read-only scope: 1 of 2 — a\\b\nc"})
    lines = (tmp_path / "environment.properties").read_text(encoding="latin-1").splitlines()
    assert lines == ["Browser=none", "smm.scope=read-only scope: 1 of 2 \\u2014 a\\\\b\\nc"]


def test_an_allure_run_shows_the_verdict_and_its_scope(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    allure = tmp_path / "allure"
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", "--panel-request-rate=1000",
            "--panel-clause=GEN-001", f"--alluredir={allure}", "-p", "no:cacheprovider")
    assert result.ret == 0, "\n".join(result.outlines)
    properties = dict(line.split("=", 1) for line in
                      (allure / "environment.properties").read_text("latin-1").splitlines())
    assert properties["smm.verdict"] == "CERTIFIED: no MUST clause failed"
    assert properties["smm.certified"] == "yes"
    assert properties["smm.scope"].startswith("selected-clauses scope: ")
    assert properties["smm.scope"] == result.outlines[
        result.outlines.index("CERTIFIED: no MUST clause failed") + 1]
