"""A harness run with ``--panel-report``, ``--panel-sign-key`` and ``--panel-baseline`` against
the in-process fake panel: report.json is signed as written (``verify`` accepts it, and refuses
it once edited), the comparison with the baseline is in the terminal summary and in all three
reports, and ``--panel-fail-on=regressions`` fails the run on a MUST regression only, while the
certificate keeps saying NOT CERTIFIED. The default exit status does not change with a baseline.

A conforming panel and one that takes any key (AUTH-002 fails) are certified on two clauses
(AUTH-002, GEN-001), which keeps each run to a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.plugin import SUITE_DIR
from harness.programme.cli import main
from harness.run.config import OPTIONS
from tests.fixtures.fakepanel import KEY, SECOND_KEY, Defects, FakePanel
from tests.fixtures.fakepanel import serve as serve_panel

CLAUSES = ("--panel-clause=AUTH-002", "--panel-clause=GEN-001")


@pytest.fixture(autouse=True)
def _no_environment_options(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)


def run_suite(pytester: pytest.Pytester, url: str, *args: str) -> pytest.RunResult:
    """The shipped Python suite (as tests/harness/run/test_plugin.py runs it)."""
    return pytester.runpytest_inprocess(
        str(SUITE_DIR), *args, f"--panel-url={url}", f"--panel-key={KEY}",
        f"--panel-second-key={SECOND_KEY}", "--panel-request-rate=1000")


def certify(pytester: pytest.Pytester, *, broken: bool, args: list[str]) -> pytest.RunResult:
    panel = FakePanel(defects=Defects(accept_any_key=True)) if broken else FakePanel()
    with serve_panel(panel) as url:
        return run_suite(pytester, url, *CLAUSES, *args)


def read(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def baseline(clean: pytest.Pytester, tmp_path: Path) -> Path:
    """A conforming run's report directory: AUTH-002 and GEN-001 PASS."""
    directory = tmp_path / "baseline"
    result = certify(clean, broken=False, args=[f"--panel-report={directory}"])
    assert result.ret == pytest.ExitCode.OK, "\n".join(result.outlines[-20:])
    verdicts = {c["id"]: c["verdict"] for c in read(directory)["clauses"]}
    assert verdicts["AUTH-002"] == verdicts["GEN-001"] == "PASS"
    assert not (directory / "report.json.sig").exists()
    return directory


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    key = tmp_path / "keys" / "vendor.key"
    assert main(["keygen", str(key)]) == 0
    capsys.readouterr()
    return key, key.with_name("vendor.key.pub")


def test_a_signed_run_with_a_baseline_reports_the_regression_everywhere(
    clean: pytest.Pytester, tmp_path: Path, baseline: Path, keys: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    key, public = keys
    report = tmp_path / "now"
    result = certify(clean, broken=True, args=[
        f"--panel-report={report}", f"--panel-sign-key={key}",
        f"--panel-baseline={baseline / 'report.json'}"])
    output = "\n".join(result.outlines)
    # The default: a MUST FAIL fails the run, baseline or not.
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    result.stdout.fnmatch_lines([
        "NOT CERTIFIED: 1 MUST clause(s) failed",
        f"*changes since the baseline {baseline / 'report.json'}*",
        "regressions (fail now, did not before): 1",
        "  AUTH-002 * MUST * PASS -> FAIL *",
        "since the baseline: 1 regression(s) (1 MUST: AUTH-002)*",
    ])
    assert f"panel report written to {report}: report.json, report.json.sig, report.md, " \
           "report.html" in output

    record = read(report)
    section = record["baseline"]
    assert section["must_regressions"] == ["AUTH-002"]
    assert [(c["clause"], c["old"], c["new"]) for c in section["regressions"]] == [
        ("AUTH-002", "PASS", "FAIL")]
    assert section["fail_on"] == "must"
    assert section["exit_note"] is None
    assert section["contract_hash"] == record["contract"]["hash"]
    assert section["contract_changed"] is False
    assert section["certified"] is True
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "## Changes since the baseline" in markdown
    assert "| AUTH-002 | MUST | PASS | FAIL |" in markdown
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "<h2>Changes since the baseline</h2>" in html
    assert ('<tr class="fail"><td class="cid">AUTH-002</td><td>MUST</td><td class="v">PASS'
            '</td><td class="v">FAIL</td>') in html
    assert KEY not in markdown + html + (report / "report.json.sig").read_text()

    # The signature: made with the run's key, over the file as written.
    capsys.readouterr()  # what the in-process run printed
    assert main(["verify", str(report), "--trust", str(public)]) == 0
    assert capsys.readouterr().out.startswith(f"VERIFIED: {report / 'report.json'} signed by ")
    edited = read(report)
    edited["baseline"]["must_regressions"] = []
    (report / "report.json").write_text(json.dumps(edited), encoding="utf-8")
    assert main(["verify", str(report), "--trust", str(public)]) == 1
    assert "field 'baseline' changed" in capsys.readouterr().err

    # diff of the two reports says what the run said.
    assert main(["diff", str(baseline), str(tmp_path / "now")]) == 1


def test_fail_on_regressions_fails_only_on_a_regression(
    clean: pytest.Pytester, tmp_path: Path, baseline: Path
) -> None:
    failing = tmp_path / "failing"
    first = certify(clean, broken=True, args=[f"--panel-report={failing}"])
    assert first.ret == pytest.ExitCode.TESTS_FAILED

    # Against a baseline where AUTH-002 failed too: nothing regressed, the run exits 0 ...
    same = certify(clean, broken=True, args=[
        f"--panel-report={tmp_path / 'same'}", f"--panel-baseline={failing}",
        "--panel-fail-on=regressions"])
    assert same.ret == pytest.ExitCode.OK, "\n".join(same.outlines[-30:])
    same.stdout.fnmatch_lines([
        "NOT CERTIFIED: 1 MUST clause(s) failed",
        "since the baseline: no clause's verdict changed",
        "--panel-fail-on=regressions: exit status 0: every MUST clause that fails failed in "
        "the baseline too (still NOT CERTIFIED)",
    ])
    record = read(tmp_path / "same")
    assert record["run"]["exit_status"] == 0
    assert record["certified"] is False  # the certificate still tells the truth
    assert record["verdict"] == "NOT CERTIFIED: 1 MUST clause(s) failed"
    assert record["baseline"]["fail_on"] == "regressions"
    assert "exit status 0" in record["baseline"]["exit_note"]

    # ... and against the conforming baseline, AUTH-002 regressed: the run fails.
    worse = certify(clean, broken=True, args=[f"--panel-baseline={baseline}",
                                              "--panel-fail-on=regressions"])
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines([
        "--panel-fail-on=regressions: exit status 1: MUST clause(s) AUTH-002 fail now and did "
        "not in the baseline"])

    # A conforming run against a failing baseline: a fix, exit 0 either way.
    fixed = certify(clean, broken=False, args=[f"--panel-baseline={failing}"])
    assert fixed.ret == pytest.ExitCode.OK
    fixed.stdout.fnmatch_lines(["fixes (failed before, pass now): 1",
                                "  AUTH-002 * MUST * FAIL -> PASS *"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--panel-baseline=MISSING"], "--panel-baseline (env PANEL_BASELINE, ini "
                                       "panel_baseline): MISSING: no such report"),
        (["--panel-baseline=NOTJSON"], "NOTJSON: not JSON"),
        (["--panel-sign-key=KEY"], "--panel-sign-key: signs the certificate --panel-report "
                                   "writes: give --panel-report DIR too"),
        (["--panel-sign-key=NOTKEY", "--panel-report=OUT"],
         "--panel-sign-key (env PANEL_SIGN_KEY, ini panel_sign_key): NOTKEY: not a PEM "
         "private key"),
        (["--panel-fail-on=regressions"], "--panel-fail-on: 'regressions' are counted against "
                                          "a baseline: give --panel-baseline REPORT too"),
        (["--panel-fail-on=everything", "--panel-baseline=GOOD"],
         "--panel-fail-on: expected one of 'must', 'regressions'"),
    ],
)
def test_bad_baseline_key_and_fail_on_stop_the_run_before_it_starts(
    clean: pytest.Pytester, tmp_path: Path, keys: tuple[Path, Path], args: list[str],
    message: str,
) -> None:
    (tmp_path / "notjson.json").write_text("{")
    (tmp_path / "notkey.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n")
    (tmp_path / "good").mkdir()
    paths = {"MISSING": tmp_path / "missing.json", "NOTJSON": tmp_path / "notjson.json",
             "KEY": keys[0], "NOTKEY": tmp_path / "notkey.pem", "OUT": tmp_path / "out",
             "GOOD": tmp_path / "good"}
    argv = [arg.split("=")[0] + "=" + str(paths.get(arg.split("=")[1], arg.split("=")[1]))
            for arg in args]
    expected = message
    for name in sorted(paths, key=len, reverse=True):  # NOTKEY before KEY
        expected = expected.replace(f"{name}:", f"{paths[name]}:")
    panel = FakePanel()
    with serve_panel(panel) as url:
        result = run_suite(clean, url, *CLAUSES, *argv)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert expected in errors
    assert "Traceback" not in errors
    assert not (tmp_path / "out" / "report.json").exists()

