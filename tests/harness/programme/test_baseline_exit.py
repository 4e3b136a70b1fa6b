"""``--panel-fail-on``'s exit status, decided by :class:`harness.reporting.baseline.BaselinePlugin`
from the final verdicts, the baseline and the clause each failed test failed on: ``must`` (the
default) never changes it; ``regressions`` fails on a MUST regression only, and excuses nothing
but failures on clauses that failed in the baseline too."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from harness.base.redaction import Secret
from harness.judging.verdicts import Verdict
from harness.reporting.baseline import BaselinePlugin
from harness.run.config import FailOn, PanelConfig
from harness.run.session import HarnessRun
from tests.fixtures.transports import RecordingTransport
from tests.harness.programme.reports import FAIL, PASS, record, write_report

OK, FAILED = int(pytest.ExitCode.OK), int(pytest.ExitCode.TESTS_FAILED)


def plugin(tmp_path: Path, fail_on: FailOn, now: dict[str, Verdict]) -> BaselinePlugin:
    """A run whose verdicts are ``now``, against a baseline where GEN-001 PASSed and ADD-003
    FAILed."""
    baseline = write_report(tmp_path / "old", record({"GEN-001": PASS, "ADD-003": FAIL}))
    config = PanelConfig(url="http://127.0.0.1:9/api/v2", key=Secret("exit-key-0001", "main key"),
                         max_spend=Decimal(0), baseline=baseline, fail_on=fail_on)
    run = HarnessRun(config, transport=RecordingTransport())
    for clause, verdict in now.items():
        run.book.record(clause, verdict, test=f"t.py::test_{clause}", message="m")
    return BaselinePlugin(run, baseline)


def test_must_never_changes_the_exit_status(tmp_path: Path) -> None:
    same = plugin(tmp_path, FailOn.MUST, {"GEN-001": PASS, "ADD-003": FAIL})
    for status in (OK, FAILED, 2, 3, 5):
        assert same.exit_status(status, ["ADD-003"]) == status
    assert same.exit_note is None
    assert same.record()["fail_on"] == "must"


def test_regressions_excuses_failures_the_baseline_had(tmp_path: Path) -> None:
    same = plugin(tmp_path, FailOn.REGRESSIONS, {"GEN-001": PASS, "ADD-003": FAIL})
    assert same.exit_status(FAILED, ["ADD-003", "ADD-003"]) == OK
    assert same.exit_note is not None
    assert "exit status 0" in same.exit_note
    assert same.record()["exit_note"] == same.exit_note


def test_regressions_fails_on_a_regression(tmp_path: Path) -> None:
    worse = plugin(tmp_path, FailOn.REGRESSIONS, {"GEN-001": FAIL, "ADD-003": FAIL})
    assert worse.exit_status(FAILED, ["GEN-001", "ADD-003"]) == FAILED
    assert worse.exit_note == ("--panel-fail-on=regressions: exit status 1: MUST clause(s) "
                               "GEN-001 fail now and did not in the baseline")


@pytest.mark.parametrize(
    ("status", "failed"),
    [(FAILED, ["ADD-003", None]),   # a test failed on something else than a clause
     (FAILED, None),                # a worker's reports are missing
     (2, ["ADD-003"]),              # interrupted
     (3, ["ADD-003"]),              # internal error
     (5, [])],                      # nothing collected
)
def test_regressions_keeps_every_other_failure(
    tmp_path: Path, status: int, failed: list[str | None] | None
) -> None:
    same = plugin(tmp_path, FailOn.REGRESSIONS, {"GEN-001": PASS, "ADD-003": FAIL})
    assert same.exit_status(status, failed) == status
    assert same.exit_note is None
