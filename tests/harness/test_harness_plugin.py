"""The plugin as users run it, through pytester: inert by default, the whole suite from an empty
directory, per-clause verdicts, and an exit status that only a failed MUST clause sets."""

from __future__ import annotations

import re

import pytest
from fakepanel import KEY, SECOND_KEY, Defects, FakePanel, serve

from harness.plugin import SUITE_DIR

pytest_plugins = ["pytester"]




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
    assert verdict(result, "ERR-005") == "FAIL"
    assert verdict(result, "GEN-002") == "FAIL"
    result.stdout.fnmatch_lines([
        "*ERR-005 an unknown action is refused: expected an error envelope*",
        "evidence (keys redacted):",
        "--- ERR-005 An unknown action gets the error envelope",
        "*action=no_such_action*",
        "*HTTP 200 text/html*<html>500 oops</html>*",
        "NOT CERTIFIED: 2 MUST clause(s) failed",
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
        from harness.checks import CheckFailure, Grade, require
        from harness.judge import NotApplicable
        from harness.verdicts import NaReason

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
