"""The plugin as users run it, through pytester: inert by default, the whole suite from an empty
directory, per-clause verdicts, and an exit status that only a failed MUST clause sets (not a
waived one); blocked clauses grouped under their root cause."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from harness.plugin import SUITE_DIR
from harness.run.waivers import utc_today
from tests.fixtures.fakepanel import KEY, SECOND_KEY, Defects, FakePanel, serve


def run(pytester: pytest.Pytester, url: str, *args: str) -> pytest.RunResult:
    """The shipped Python suite only (the YAML scenarios have tests of their own)."""
    return pytester.runpytest_inprocess(str(SUITE_DIR), *args,
        f"--panel-url={url}", f"--panel-key={KEY}", f"--panel-second-key={SECOND_KEY}",
        "--panel-request-rate=1000",
    )


def verdict(result: pytest.RunResult, clause: str) -> str:
    for line in result.outlines:
        match = re.match(rf"^{clause}\s+(?:MUST|SHOULD|MAY)\s+(\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError(f"{clause} is not in the verdict table")


def test_inert_without_a_panel_url(clean: pytest.Pytester) -> None:
    clean.makepyfile(test_inner_other="def test_ok():\n    assert True\n")
    result = clean.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    output = "\n".join(result.outlines)
    assert "smm-harness:" not in output
    assert "API v2 conformance" not in output
    explicit = clean.runpytest_inprocess(str(SUITE_DIR))
    assert explicit.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    options = clean.runpytest_inprocess("--help")
    options.stdout.fnmatch_lines(["*--panel-url=PANEL_URL*", "*--panel-clause=ID*"])


def test_the_whole_suite_runs_from_an_empty_directory(clean: pytest.Pytester) -> None:
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}", "--co",
                                           "-q")
    collected = [line for line in result.outlines if "::test_" in line]
    assert len(collected) > 80
    assert any(line.startswith("test_01_transport.py::") for line in collected)
    assert result.ret == pytest.ExitCode.OK


def test_the_header_says_how_to_reproduce_the_run(clean: pytest.Pytester) -> None:
    with serve(FakePanel()) as url:
        result = run(clean, url, "--panel-clause=GEN-001", "--panel-seed=42",
                     "--panel-profile=perfectpanel")
    header = [line for line in result.outlines if line.startswith("smm-harness")]
    assert any(f"panel {url} (profile perfectpanel, mode black-box)" in line for line in header)
    assert any("spend cap 0 on the given keys, seed 42, clauses GEN-001" in line
               for line in header)
    assert KEY not in "\n".join(result.outlines)


def test_a_failed_must_clause_fails_the_run_with_evidence(clean: pytest.Pytester) -> None:
    with serve(FakePanel(defects=Defects(unknown_action_html=True))) as url:
        result = run(clean, url, "--panel-clause=ERR-005")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # One defect, one failure: the HTML page is GEN-002's failure; ERR-005, which could not
    # be judged on it, is blocked by GEN-002 and grouped under it.
    assert verdict(result, "GEN-002") == "FAIL"
    assert verdict(result, "ERR-005") == "N/A"
    result.stdout.fnmatch_lines([
        "*GEN-002 every answer is JSON: body is not JSON*",
        "ERR-005 * N/A * blocked by GEN-002*",
        "  GEN-002 FAIL — blocked: ERR-005",
        "evidence (keys redacted):",
        "--- GEN-002 Every response body is JSON",
        "*action=no_such_action*",
        "*HTTP 200 text/html*<html>500 oops</html>*",
        "NOT CERTIFIED: 1 MUST clause(s) failed",
    ])


def test_a_conforming_answer_passes(clean: pytest.Pytester) -> None:
    with serve(FakePanel()) as url:
        result = run(clean, url, "--panel-clause=ERR-005")
    assert result.ret == pytest.ExitCode.OK
    assert verdict(result, "ERR-005") == "PASS"
    assert verdict(result, "ADD-001") == "N/A"
    result.stdout.fnmatch_lines(["ADD-001 * N/A * not selected (--panel-clause)",
                                 "CERTIFIED: no MUST clause failed"])


def test_a_should_deviation_is_non_strict_and_does_not_fail(clean: pytest.Pytester) -> None:
    with serve(FakePanel(defects=Defects(errors_as_400=True))) as url:
        result = run(clean, url, "--panel-clause=ERR-005")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    assert verdict(result, "ERR-002") == "NON-STRICT"
    assert verdict(result, "ERR-005") == "PASS"


def test_selection_by_glob_deselects_the_rest(clean: pytest.Pytester) -> None:
    with serve(FakePanel()) as url:
        result = run(clean, url, "--panel-clause=AUTH-00[12]", "-q")
    result.assert_outcomes(passed=8)  # 2 no-key + 6 wrong-key tests
    assert verdict(result, "AUTH-001") == "PASS"
    assert verdict(result, "AUTH-002") == "PASS"
    assert verdict(result, "AUTH-003") == "N/A"


def test_a_broken_panel_fails_the_clause_it_breaks(clean: pytest.Pytester) -> None:
    with serve(FakePanel(defects=Defects(accept_any_key=True))) as url:
        result = run(clean, url, "--panel-clause=AUTH-002")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert verdict(result, "AUTH-002") == "FAIL"


def test_own_tests_reuse_the_fixtures_and_record_verdicts(clean: pytest.Pytester) -> None:
    clean.makepyfile(
        test_inner_mine="""
        import pytest
        from harness.judging.checks import CheckFailure, Grade, require
        from harness.judging.judge import NotApplicable
        from harness.judging.verdicts import NaReason

        @pytest.mark.clause("BAL-002")
        def test_balance(panel, main_key):
            assert panel.read_balance(main_key) >= 0

        @pytest.mark.clause("SVC-007")
        def test_should(panel):
            raise CheckFailure("SVC-007", "flags", "made up deviation", Grade.FAIL)

        @pytest.mark.clause("HOOK-001")
        def test_na(panel):
            raise NotApplicable(NaReason.NOT_OFFERED, "no webhooks here")

        @pytest.mark.clause("LIFE-005")
        def test_bug(panel):
            raise ZeroDivisionError("oops")
        """
    )
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}",
                                           "test_inner_mine.py", "-rs")
    result.assert_outcomes(passed=2, skipped=1, failed=1)
    assert verdict(result, "BAL-002") == "PASS"
    assert verdict(result, "SVC-007") == "NON-STRICT"
    assert verdict(result, "HOOK-001") == "N/A"
    result.stdout.fnmatch_lines([
        "LIFE-005 * N/A * harness error: ZeroDivisionError: oops",
        "HOOK-001 * N/A * feature not offered: no webhooks here",
        "*test_inner_mine.py:*: N/A: feature not offered: no webhooks here",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a harness error never certifies


def test_unknown_clauses_are_refused(clean: pytest.Pytester) -> None:
    clean.makepyfile(test_inner_typo='import pytest\n\n@pytest.mark.clause("ADD-999")\n'
                               "def test_x():\n    pass\n")
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}",
                                           "test_inner_typo.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown clause(s) ADD-999*"])


# ---------------------------------------------------------------------------------------------
# waivers and root causes, end to end


def waiver_file(folder: Path, clause: str, expires: date, reason: str = "fix due in v3") -> Path:
    path = folder / "waivers.yaml"
    path.write_text(f"waivers:\n  - clause: {clause}\n    reason: {reason}\n"
                    f"    expires: {expires.isoformat()}\n"
                    f"  - clause: GEN-001\n    reason: was flaky\n    expires: 2099-01-01\n",
                    encoding="utf-8")
    return path


def test_a_waived_failure_is_waived_everywhere_and_the_run_exits_0(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    waivers = waiver_file(tmp_path, "AUTH-002", utc_today() + timedelta(days=30))
    report = tmp_path / "report"
    with serve(FakePanel(defects=Defects(accept_any_key=True))) as url:
        result = run(clean, url, "--panel-clause=AUTH-002", "--panel-clause=GEN-001",
                     f"--panel-waivers={waivers}", f"--panel-report={report}")
    output = "\n".join(result.outlines)
    assert result.ret == pytest.ExitCode.OK, output
    assert verdict(result, "AUTH-002") == "WAIVED"
    assert verdict(result, "GEN-001") == "PASS"
    result.stdout.fnmatch_lines([
        "AUTH-002 * MUST * WAIVED * waived until * (fix due in v3); was FAIL: *",
        "root causes (each failure once, with the clauses it blocked):",
        "  AUTH-002 WAIVED",
        "--- AUTH-002 * (WAIVED)",
        "waivers (--panel-waivers):",
        "  AUTH-002 WAIVED until *: fix due in v3",
        "  GEN-001 waiver is stale: the clause ended PASS, nothing to excuse *",
        "note: the * failed test(s) failed only on waived clauses: the run exits 0",
        "CERTIFIED: no MUST clause failed (1 waived: AUTH-002)",
    ])
    assert result.parseoutcomes()["failed"] >= 1  # the tests did fail: the evidence stays
    record = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert record["certified"] is True
    assert record["run"]["exit_status"] == 0
    assert record["failed_must"] == []
    assert [(w["clause"], w["status"]) for w in record["waivers"]] == [
        ("AUTH-002", "applied"), ("GEN-001", "stale")]
    assert next(c for c in record["clauses"] if c["id"] == "AUTH-002")["verdict"] == "WAIVED"
    assert "| AUTH-002 | MUST | WAIVED |" in (report / "report.md").read_text(encoding="utf-8")
    assert KEY not in output


def test_an_expired_waiver_is_ignored_with_a_warning_and_the_run_fails(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    waivers = waiver_file(tmp_path, "AUTH-002", utc_today() - timedelta(days=1))
    with serve(FakePanel(defects=Defects(accept_any_key=True))) as url:
        result = run(clean, url, "--panel-clause=AUTH-002", f"--panel-waivers={waivers}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert verdict(result, "AUTH-002") == "FAIL"
    result.stdout.fnmatch_lines([
        "*PytestConfigWarning: --panel-waivers * the waiver of AUTH-002 expired on * and is "
        "ignored: a FAIL of AUTH-002 fails the run (fix due in v3)",
        "  AUTH-002 waiver expired on * and was ignored (the clause ended FAIL): fix due in v3",
        "NOT CERTIFIED: 1 MUST clause(s) failed",
    ])


def test_a_waiver_does_not_excuse_a_failure_on_another_clause(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    waivers = waiver_file(tmp_path, "ERR-006", utc_today() + timedelta(days=30))
    with serve(FakePanel(defects=Defects(accept_any_key=True))) as url:
        result = run(clean, url, "--panel-clause=AUTH-002", f"--panel-waivers={waivers}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert verdict(result, "AUTH-002") == "FAIL"
    result.stdout.fnmatch_lines(["  ERR-006 waiver is stale: the clause ended N/A*"])


def test_a_bad_waiver_file_stops_the_run_before_it_starts(clean: pytest.Pytester,
                                                         tmp_path: Path) -> None:
    bad = tmp_path / "waivers.yaml"
    bad.write_text("waivers:\n  - clause: AUTH-002\n    reason: ''\n    expires: soon\n",
                   encoding="utf-8")
    result = run(clean, "http://127.0.0.1:9/api/v2", f"--panel-waivers={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert "entry 1 (AUTH-002), field expires: must be an ISO date" in errors
    assert "entry 1 (AUTH-002), field reason: must be a non-empty text" in errors
    assert "Traceback" not in errors
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("waivers:\n  - {clause: AUTH-999, reason: r, expires: 2099-01-01}\n",
                       encoding="utf-8")
    result = run(clean, "http://127.0.0.1:9/api/v2", f"--panel-waivers={unknown}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*entry 1 (AUTH-999), field clause: 'AUTH-999' is not a clause*"])


def test_blocked_clauses_are_na_and_grouped_under_their_root_cause(
    clean: pytest.Pytester,
) -> None:
    clean.makepyfile(
        test_inner_blocked="""
        import pytest
        from harness.judging.checks import CheckFailure
        from harness.judging.judge import NotApplicable
        from harness.judging.verdicts import NaReason

        @pytest.mark.clause("AUTH-002")
        def test_wrong_key(panel):
            raise CheckFailure("AUTH-002", "wrong key", "a wrong key read the balance")

        @pytest.mark.clause("ISO-001", "ISO-002")
        def test_isolation(panel):
            raise NotApplicable(NaReason.BLOCKED, "any key reads the first account",
                                blocked_by="AUTH-002")

        @pytest.mark.clause("AUTH-004", "AUTH-005")
        def test_wrong_key_add(panel, judge):
            judge.blocked("AUTH-004", "AUTH-002")
        """
    )
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}",
                                           "test_inner_blocked.py", "-rs")
    result.assert_outcomes(passed=1, skipped=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert verdict(result, "AUTH-002") == "FAIL"
    for clause in ("ISO-001", "ISO-002", "AUTH-004"):
        assert verdict(result, clause) == "N/A"
    assert verdict(result, "AUTH-005") == "PASS"
    result.stdout.fnmatch_lines([
        "AUTH-004 * N/A * blocked by AUTH-002",
        "ISO-001 * N/A * blocked by AUTH-002: any key reads the first account",
        "root causes (each failure once, with the clauses it blocked):",
        "  AUTH-002 FAIL — blocked: AUTH-004, ISO-001, ISO-002",
        "NOT CERTIFIED: 1 MUST clause(s) failed",
        "*test_inner_blocked.py:*: N/A: blocked by AUTH-002: any key reads the first account",
    ])


def test_under_xdist_the_controller_applies_waivers_after_merging(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    waivers = waiver_file(tmp_path, "AUTH-002", utc_today() + timedelta(days=30))
    report = tmp_path / "report"
    with serve(FakePanel(defects=Defects(accept_any_key=True))) as url:
        result = run(clean, url, "--panel-clause=AUTH-002", "--panel-clause=GEN-001",
                     f"--panel-waivers={waivers}", f"--panel-report={report}", "-n", "2")
    output = "\n".join(result.outlines)
    assert "smm-harness: workers: 2" in output
    assert result.ret == pytest.ExitCode.OK, output
    assert verdict(result, "AUTH-002") == "WAIVED"
    assert output.count("CERTIFIED: no MUST clause failed (1 waived: AUTH-002)") == 1
    assert "PytestConfigWarning" not in output  # nothing expired: no warning from any process
    record = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert (record["certified"], record["run"]["exit_status"]) == (True, 0)
