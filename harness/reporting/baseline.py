"""``--panel-baseline report.json``: the run compared with a previous one, clause by clause
(:mod:`harness.reporting.compare`), in the terminal summary and in the reports; and, with
``--panel-fail-on=regressions``, an exit status that only a MUST regression fails.

The baseline is read and checked when the plugin is made (configure time): a missing file, a
file that is not a report, or a report of another format version stops the run before its first
request. The comparison is made from the final verdicts (after an xdist controller merged its
workers' books and the waivers applied), each time it is asked for.

The exit status with ``--panel-fail-on=regressions`` (the default, ``must``, changes nothing):

- a MUST clause that FAILs now and did not in the baseline (a lapsed waiver, a clause a
  contract change added) fails the run (exit 1), whatever else happened;
- otherwise a run that failed only because of MUST clauses that failed in the baseline too
  exits 0; a test that failed for another reason (a harness error) still fails it, and so does
  anything that is not a test failure (an interrupt, an internal error, no test collected);
- the certificate does not change: a run with a MUST FAIL is NOT CERTIFIED whatever its exit
  status, and its ``baseline`` section says what was compared and how the exit was decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from harness import contract
from harness.judging.verdicts import ClauseOutcome, Verdict
from harness.reporting.compare import ClauseView, Comparison, RunView, compare, view_of_report
from harness.reporting.report_file import ReportFileError, read_report
from harness.reporting.terminal import baseline_lines
from harness.run.config import FailOn
from harness.run.session import HarnessRun

__all__ = ["BaselinePlugin", "view_of_run"]

_ORIGIN = "--panel-baseline (env PANEL_BASELINE, ini panel_baseline)"
_COLOURS = {Verdict.FAIL: "red", Verdict.NON_STRICT: "yellow", Verdict.PASS: "green"}


def view_of_run(outcomes: Sequence[ClauseOutcome], panel: str) -> RunView:
    """The comparison's view of this run's verdicts (the run is not over: no date yet)."""
    texts = contract.clauses()
    return RunView(
        panel=panel,
        finished_at=None,
        contract_hash=contract.contract_hash(),
        certified=None,
        clauses=tuple(
            ClauseView(id=o.id, level=o.level, title=o.title, text=texts[o.id].text,
                       verdict=o.verdict.value)
            for o in outcomes
        ),
    )


class BaselinePlugin:
    """Holds the baseline; compares, decides the exit status under ``regressions``, and
    prints the comparison after the verdict table. Registered by the process that reports
    (the controller, under xdist)."""

    NAME = "smm_harness_baseline"

    def __init__(self, run: HarnessRun, path: Path) -> None:
        self.run = run
        self.path = path
        self.fail_on = run.config.fail_on
        try:
            self.old = view_of_report(read_report(path))
        except ReportFileError as error:
            raise pytest.UsageError(f"{_ORIGIN}: {error}") from None
        self.exit_note: str | None = None

    def comparison(self) -> Comparison:
        return compare(self.old, view_of_run(self.run.book.outcomes(), self.run.config.display_url))

    def exit_status(self, status: int, failed: Sequence[str | None] | None) -> int:
        """The run's exit status under ``--panel-fail-on``, given the one the harness decided
        and the clause each failed test failed on (``None``: not a clause; ``failed`` itself
        ``None`` when unknown, a worker lost)."""
        if self.fail_on is not FailOn.REGRESSIONS:
            return status
        if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return status
        regressed = self.comparison().must_regressions
        if regressed:
            ids = ", ".join(c.id for c in regressed)
            self.exit_note = (f"--panel-fail-on=regressions: exit status 1: MUST clause(s) "
                              f"{ids} fail now and did not in the baseline")
            return int(pytest.ExitCode.TESTS_FAILED)
        if status == pytest.ExitCode.TESTS_FAILED:
            if failed is None or any(clause is None for clause in failed):
                return status  # something other than a clause failed a test: it still counts
            self.exit_note = ("--panel-fail-on=regressions: exit status 0: every MUST clause "
                              "that fails failed in the baseline too (still NOT CERTIFIED)")
            return int(pytest.ExitCode.OK)
        return status

    def record(self) -> dict[str, object]:
        """The ``baseline`` section of report.json."""
        return {"fail_on": self.fail_on.value, "exit_note": self.exit_note,
                **self.comparison().record()}

    @pytest.hookimpl(trylast=True)  # after the verdict table and the verdict line
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter,
                                exitstatus: int) -> None:
        if int(exitstatus) == pytest.ExitCode.USAGE_ERROR:
            return
        terminalreporter.write_sep("-", f"changes since the baseline {self.path}")
        if int(exitstatus) not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            # Stopped (pre-flight, an interrupt, an internal error): its N/As are not news.
            terminalreporter.write_line(f"not compared: the run did not end normally (exit "
                                        f"status {int(exitstatus)})", yellow=True)
            return
        scrub = self.run.secrets.scrub
        lines = baseline_lines(self.comparison())
        if self.exit_note is not None:
            lines.append((self.exit_note, None))
        for text, verdict in lines:
            colour = _COLOURS.get(verdict) if verdict is not None else None
            if colour:
                terminalreporter.write_line(scrub(text), **{colour: True})
            else:
                terminalreporter.write_line(scrub(text))
