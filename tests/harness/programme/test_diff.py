"""Run-to-run diffs: :func:`harness.reporting.compare.compare` on synthetic runs, and
``smm-conformance diff OLD NEW`` on reports, with its exit status (1 on a MUST regression only).

Each kind of change is made on purpose and must land in its section, and nothing else may:
regressions (a lapsed waiver and a failing new clause included), fixes, moved verdicts (a FAIL
that became N/A or WAIVED is not a fix), a contract change adding, removing, rewording and
re-levelling clauses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.programme.cli import main
from harness.reporting.compare import (
    ChangeKind,
    ClauseView,
    RunView,
    compare,
    view_of_report,
)
from tests.harness.programme.reports import FAIL, PASS, record, write_report

HASH_A, HASH_B = "a" * 64, "b" * 64


def clause(cid: str, verdict: str, level: str = "MUST", text: str = "") -> ClauseView:
    return ClauseView(cid, level, f"title of {cid}", text or f"text of {cid}", verdict)


def run(*clauses: ClauseView, contract: str = HASH_A) -> RunView:
    return RunView("https://panel.example/api/v2", "2030-01-01T00:00:00Z", contract, None,
                   clauses)


def kinds(comparison: Any) -> dict[str, ChangeKind]:
    return {c.id: c.kind for c in comparison.changes}


def test_identical_runs_have_no_change() -> None:
    same = run(clause("GEN-001", "PASS"), clause("ADD-001", "FAIL"))
    comparison = compare(same, same)
    assert comparison.changes == ()
    assert not comparison.contract_changed
    assert comparison.summary() == "no clause's verdict changed"


def test_each_verdict_change_lands_in_its_section() -> None:
    old = run(
        clause("A-001", "PASS"), clause("A-002", "FAIL"), clause("A-003", "FAIL"),
        clause("A-004", "FAIL"), clause("A-005", "PASS"), clause("A-006", "NON-STRICT", "SHOULD"),
        clause("A-007", "WAIVED"), clause("A-008", "N/A"), clause("A-009", "FAIL"),
        clause("A-010", "PASS"),
    )
    new = run(
        clause("A-001", "FAIL"),          # regression
        clause("A-002", "PASS"),          # fix
        clause("A-003", "N/A"),           # not a fix: no longer judged
        clause("A-004", "WAIVED"),        # not a fix: excused
        clause("A-005", "N/A"),           # moved
        clause("A-006", "PASS", "SHOULD"),  # moved
        clause("A-007", "FAIL"),          # the waiver lapsed: a regression
        clause("A-008", "PASS"),          # moved
        clause("A-009", "NON-STRICT"),    # fix
        clause("A-010", "PASS"),          # unchanged: not listed
    )
    comparison = compare(old, new)
    assert kinds(comparison) == {
        "A-001": ChangeKind.REGRESSION, "A-002": ChangeKind.FIX, "A-003": ChangeKind.MOVED,
        "A-004": ChangeKind.MOVED, "A-005": ChangeKind.MOVED, "A-006": ChangeKind.MOVED,
        "A-007": ChangeKind.REGRESSION, "A-008": ChangeKind.MOVED, "A-009": ChangeKind.FIX,
    }
    assert [c.id for c in comparison.must_regressions] == ["A-001", "A-007"]
    assert comparison.summary() == "2 regression(s) (2 MUST: A-001, A-007); 2 fix(es); 5 moved"
    lines = comparison.lines()
    assert "regressions (fail now, did not before): 2" in lines
    assert any(line.split() == ["A-001", "MUST", "PASS", "->", "FAIL", "title", "of", "A-001"]
               for line in lines)


def test_a_should_level_regression_is_not_a_must_regression() -> None:
    # Only MUST clauses FAIL in real reports; a hand-made SHOULD FAIL must still not count.
    comparison = compare(run(clause("S-001", "PASS", "SHOULD")),
                         run(clause("S-001", "FAIL", "SHOULD")))
    assert [c.id for c in comparison.regressions] == ["S-001"]
    assert comparison.must_regressions == ()
    assert comparison.summary() == "1 regression(s) (none MUST)"


def test_a_contract_change_is_said_and_its_clauses_listed_apart() -> None:
    old = run(clause("A-001", "PASS"), clause("A-002", "PASS"), clause("A-003", "PASS", "SHOULD"),
              clause("A-004", "FAIL"), contract=HASH_A)
    new = run(clause("A-001", "PASS", text="reworded"), clause("A-003", "PASS", "MUST"),
              clause("A-004", "FAIL"), clause("A-005", "PASS"), clause("A-006", "FAIL"),
              contract=HASH_B)
    comparison = compare(old, new)
    assert comparison.contract_changed
    assert kinds(comparison) == {
        "A-001": ChangeKind.REWORDED, "A-003": ChangeKind.REWORDED,
        "A-005": ChangeKind.ADDED, "A-006": ChangeKind.REGRESSION, "A-002": ChangeKind.REMOVED,
    }
    added = next(c for c in comparison.changes if c.id == "A-006")
    assert added.added
    assert added.old is None
    relevelled = next(c for c in comparison.changes if c.id == "A-003")
    assert relevelled.old_level == "SHOULD"
    assert relevelled.level == "MUST"
    assert "(was SHOULD)" in relevelled.line()
    assert comparison.head()[2] == ("the contract changed: aaaaaaaaaaaa -> bbbbbbbbbbbb "
                                    "(1 clause(s) added, 1 removed, 2 reworded)")
    assert comparison.summary().endswith("; the contract changed")
    assert [c.id for c in comparison.must_regressions] == ["A-006"]


def test_the_record_is_the_reports_baseline_section() -> None:
    old = run(clause("A-001", "PASS"), clause("A-002", "FAIL"))
    new = run(clause("A-001", "FAIL"), clause("A-002", "PASS"))
    record_ = compare(old, new).record()
    assert record_["must_regressions"] == ["A-001"]
    assert record_["regressions"] == [{"clause": "A-001", "level": "MUST",
                                       "title": "title of A-001", "old": "PASS", "new": "FAIL",
                                       "old_level": "MUST", "reworded": False}]
    fixes = record_["fixes"]
    assert isinstance(fixes, list)
    assert [c["clause"] for c in fixes] == ["A-002"]
    assert record_["moved"] == record_["added"] == record_["removed"] == []


# ---------------------------------------------------------------------------------------------
# the command


def reports(tmp_path: Path, old: dict[str, Any], new: dict[str, Any]) -> tuple[Path, Path]:
    return (write_report(tmp_path / "old", old) / "report.json",
            write_report(tmp_path / "new", new))  # a file and a --panel-report directory


def test_diff_exits_1_on_a_must_regression_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = reports(tmp_path, record({"GEN-001": PASS, "ADD-003": FAIL}),
                       record({"GEN-001": FAIL, "ADD-003": PASS}))
    assert main(["diff", str(old), str(new)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert "regressions (fail now, did not before): 1" in out
    assert "fixes (failed before, pass now): 1" in out
    assert "summary: 1 regression(s) (1 MUST: GEN-001); 1 fix(es)" in out
    assert "contract changed" not in out


def test_diff_exits_0_on_fixes_and_moves_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = reports(tmp_path, record({"GEN-001": FAIL, "GEN-002": PASS}),
                       record({"GEN-001": PASS}))  # GEN-002 not judged: N/A
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "summary: 1 fix(es); 1 moved" in out
    assert main(["diff", str(old), str(old)]) == 0
    assert "summary: no clause's verdict changed" in capsys.readouterr().out


def test_diff_says_the_contract_changed_and_lists_its_clauses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_record = record({"GEN-001": PASS})
    new_record = json.loads(json.dumps(old_record))
    new_record["contract"]["hash"] = "c" * 64
    new_record["clauses"] = [c for c in new_record["clauses"] if c["id"] != "GEN-002"]
    extra = {**new_record["clauses"][0], "id": "GEN-099", "verdict": "FAIL",
             "title": "A new rule"}
    new_record["clauses"].append(extra)
    old, new = reports(tmp_path, old_record, new_record)
    assert main(["diff", str(old), str(new), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["contract_changed"] is True
    assert data["must_regressions"] == ["GEN-099"]
    assert [c["clause"] for c in data["removed"]] == ["GEN-002"]
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert f"the contract changed: {old_record['contract']['hash'][:12]} -> cccccccccccc" in out
    assert "GEN-099" in out
    assert "(new clause)" in out


def test_view_of_report_reads_what_compare_needs() -> None:
    data = record({"GEN-001": FAIL})
    view = view_of_report(data)
    assert view.contract_hash == data["contract"]["hash"]
    assert view.certified is False
    assert [c.id for c in view.clauses] == [c["id"] for c in data["clauses"]]
    assert next(c for c in view.clauses if c.id == "GEN-001").verdict == "FAIL"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such report"),
        ("not json", "not JSON: Expecting value (line 1, column 1)"),
        ("[1, 2]", "not a conformance report (a JSON array, not an object)"),
        ('{"format": "something-else"}', 'not a conformance report (no "format": '),
        ('{"format": "smm-conformance-report/3"}',
         "a report of format 'smm-conformance-report/3'; this harness reads "
         "smm-conformance-report/2"),
        ('{"format": "smm-conformance-report/2"}',
         "not a valid smm-conformance-report/2 report: at (top level): "),
        ('{"a": NaN}', "NaN is not a JSON number"),
        (b"\xff\xfe{}", "not UTF-8 text (byte 0)"),
    ],
)
def test_diff_refuses_bad_input_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None,
    message: str,
) -> None:
    good = write_report(tmp_path / "good", record({"GEN-001": PASS}))
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif content is not None:
        bad.write_text(content)
    for argv in (["diff", str(bad), str(good)], ["diff", str(good), str(bad)]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"smm-conformance diff: {bad}: ")
        assert message in err
        assert err.count("\n") == 1
