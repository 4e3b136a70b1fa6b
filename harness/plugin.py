"""The pytest plugin: inert without ``--panel-url``; with it, certifies a panel clause by clause.

Registered through the ``pytest11`` entry point ``smm_harness``. Without a panel URL (from the
CLI, ``PANEL_URL`` or the ``panel_url`` ini option) it adds only its options: no collection
change, no header, no summary, so other suites are unaffected. With one:

- the shipped suite (``harness/suite/test_*.py``) is collected even in an empty directory: when
  no test paths were given on the command line, they are replaced by the suite's folder;
- every test item gets a :class:`~harness.judging.judge.Judge` for the clauses its
  ``@pytest.mark.clause`` cites; the outcome of the item becomes verdicts (PASS, NON-STRICT,
  FAIL, N/A) and ``--panel-clause`` deselects items citing none of the selected clauses;
- a NON-STRICT finding never fails an item, N/A becomes a skip, and the exit status is non-zero
  whenever a MUST clause failed;
- before any test (and before dialect detection), :mod:`harness.run.preflight` checks that the panel
  answers JSON and takes the keys and the control token: a failure stops the run with one
  paragraph and exit status 6, no clause judged;
- ``--panel-waivers FILE`` is read and checked at configure time; at the end of the run (after
  every worker's verdicts are merged, under xdist) its waivers turn the FAIL clauses they name
  WAIVED, and a run whose only failed tests failed on waived clauses exits 0;
- the terminal summary lists every clause with its verdict, the failures by root cause and,
  for failures, the evidence; it ends with the verdict line and the scope it covers (how many
  MUST clauses were checked, and why the others were not: :mod:`harness.reporting.scope`).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from datetime import date
from pathlib import Path

import pytest

from harness import contract
from harness.base.errors import ControlError, SpendRefused
from harness.judging.checks import CheckFailure
from harness.judging.judge import Judge, NotApplicable
from harness.judging.verdicts import NaReason, Verdict, Waiver
from harness.reporting.allure import AllureBridge, allure_active
from harness.reporting.allure_environment import write_environment
from harness.reporting.baseline import BaselinePlugin
from harness.reporting.certificate import CertificatePlugin
from harness.reporting.har import HarRecorder
from harness.reporting.scope import scope_of
from harness.reporting.terminal import (
    certified,
    header_lines,
    scope_colour,
    summary_lines,
    verdict_line,
)
from harness.run import config as options
from harness.run import fixtures, preflight, scenario_items, waivers
from harness.run import xdist as parallel
from harness.run.plan import PlanPlugin
from harness.run.session import RUN_KEY, HarnessRun
from harness.run.tally import TallyPlugin

__all__ = ["SUITE_DIR"]

SUITE_DIR = Path(__file__).resolve().parent / "suite"
_JUDGE_KEY = pytest.StashKey[Judge]()
_COLOURS = {Verdict.FAIL: "red", Verdict.NON_STRICT: "yellow", Verdict.PASS: "green",
            Verdict.WAIVED: "cyan"}
# The waivers of --panel-waivers and the UTC day they are judged on (read at configure time).
_WAIVERS_KEY = pytest.StashKey[tuple[tuple[Waiver, ...], date]]()
# The exit status as the harness left it (pytest_terminal_summary is given the one before).
_EXIT_KEY = pytest.StashKey[int]()
# How many failed tests a run excused because they failed on waived clauses only.
_EXCUSED_KEY = pytest.StashKey[int]()
# A failed report names the clause that failed it here (user properties travel with xdist).
_FAILED_CLAUSE = "smm_failed_clause"
# What a passed pre-flight saw, for the header.
_PREFLIGHT_KEY = pytest.StashKey[preflight.Preflight]()


def _run(config: pytest.Config) -> HarnessRun | None:
    return config.stash.get(RUN_KEY, None)


def _is_worker(run: HarnessRun) -> bool:
    """An xdist worker: it runs tests and hands its verdicts to the controller, which reports."""
    return run.shared is not None and not run.shared.plan.is_controller


def _cited(item: pytest.Item) -> tuple[str, ...]:
    return tuple(cid for mark in item.iter_markers("clause") for cid in mark.args)


def _in_suite(path: Path) -> bool:
    return path.resolve().is_relative_to(SUITE_DIR)


# ---------------------------------------------------------------------------------------------
# configuration and collection


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    panel_config = options.resolve(config)
    if panel_config is None:
        return
    loaded = _load_waivers(config, panel_config.waivers)
    panel_config, shared = parallel.configure(config, panel_config)
    config.addinivalue_line(
        "markers", "clause(*ids): the clauses of schemas/clauses.yaml a harness test checks"
    )
    run = config.stash[RUN_KEY] = HarnessRun(panel_config, shared=shared)
    if shared is not None and shared.plan.is_controller:
        hooks = parallel.ControllerHooks(
            shared.plan, run.book, run.guard, run.problems, run.cited
        )
        config.pluginmanager.register(hooks, "smm_harness_xdist")
    config.pluginmanager.register(fixtures, "smm_harness_fixtures")
    config.pluginmanager.register(run.progress_plugin(), "smm_harness_progress")
    config.pluginmanager.register(FailedTests(), FailedTests.NAME)
    config.pluginmanager.register(TallyPlugin(run.tally, worker=_is_worker(run)),
                                  TallyPlugin.NAME)
    if not _is_worker(run):  # the plan of the whole run, printed before its first test
        config.pluginmanager.register(PlanPlugin(run.config, run.tally, run.pacer),
                                      PlanPlugin.NAME)
    # Read and checked now; compared at the end, by the process that reports.
    if panel_config.baseline is not None and not _is_worker(run):
        config.pluginmanager.register(BaselinePlugin(run, panel_config.baseline),
                                      BaselinePlugin.NAME)
    # Checked writable now, written at sessionfinish (by the controller alone under xdist).
    if panel_config.report_dir is not None and not _is_worker(run):
        config.pluginmanager.register(CertificatePlugin(run, panel_config.report_dir))
    # Every process records its exchanges; the one that reports writes the file at the end.
    if panel_config.record is not None:
        config.pluginmanager.register(
            HarRecorder(run, panel_config.record, worker=_is_worker(run)), HarRecorder.NAME
        )
    if allure_active(config):
        in_force = [w for w in loaded[0] if w.in_force(loaded[1])]
        config.pluginmanager.register(AllureBridge(run, waivers=in_force), "smm_harness_allure")
    config.pluginmanager.register(scenario_items, "smm_harness_scenarios")
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(SUITE_DIR), *scenario_items.default_paths()]


class FailedTests:
    """Why each test failed: the clause whose FAIL failed it, or ``None`` when something else
    did (a harness error, a teardown error). Under xdist the controller sees every worker's
    reports, the clause riding in their user properties. A run whose failed tests all failed
    on clauses that ended WAIVED exits 0."""

    NAME = "smm_harness_failed_tests"

    def __init__(self) -> None:
        self.clauses: list[str | None] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and not hasattr(report, "wasxfail"):  # what pytest counts failed
            clause = next((v for k, v in report.user_properties if k == _FAILED_CLAUSE), None)
            self.clauses.append(None if clause is None else str(clause))

    def all_waived(self, run: HarnessRun, counted: int) -> bool:
        """Every one of the ``counted`` failed tests pytest counted failed on a WAIVED clause."""
        return (
            len(self.clauses) == counted > 0
            and all(c is not None and run.book.outcome(c).verdict is Verdict.WAIVED
                    for c in self.clauses)
        )


def _load_waivers(config: pytest.Config, path: Path | None) -> tuple[tuple[Waiver, ...], date]:
    """Read the waiver file now (a bad one is a UsageError before anything runs) and warn
    once, in the process that reports, about every expired waiver."""
    today = waivers.utc_today()
    loaded = () if path is None else waivers.load_waivers(path, contract.clauses().keys())
    config.stash[_WAIVERS_KEY] = (loaded, today)
    if not hasattr(config, "workerinput"):
        for message in waivers.expired_warnings(loaded, today):
            config.issue_config_time_warning(pytest.PytestConfigWarning(message), stacklevel=2)
    return loaded, today


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Inert runs never collect the shipped suite (it needs a panel)."""
    if _run(config) is None and _in_suite(collection_path):
        return True
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    run = _run(config)
    if run is None:
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        cited = _cited(item)
        if not cited and _in_suite(item.path):
            raise pytest.UsageError(f"{item.nodeid}: a harness test must cite its clauses")
        unknown = [cid for cid in cited if not run.book.knows(cid)]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown clause(s) {', '.join(unknown)}")
        if cited and not any(run.config.selects(cid) for cid in cited):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped and not keep and not hasattr(config, "workerinput"):
        # Every pattern names clauses (checked at configure time), but no test cites them:
        # clauses judged only by the generic checks, or scenarios left out of the paths.
        raise pytest.UsageError(
            f"--panel-clause {', '.join(run.config.clauses)}: no collected test cites the "
            "selected clauses (a clause no test cites is judged only by the checks that run "
            "on every answer of the tests that do run); select them with the clauses of "
            "the tests that exercise them, or run without --panel-clause"
        )
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    for item in keep:
        for cid in _cited(item):
            run.cited.setdefault(cid, []).append(item.nodeid)


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter prints the header
def pytest_sessionstart(session: pytest.Session) -> None:
    run = _run(session.config)
    if run is not None and not _is_worker(run) and not hasattr(session.config, "workerinput"):
        _preflight(session.config, run)
        run.detect_dialect()


def _preflight(config: pytest.Config, run: HarnessRun) -> None:
    """Stop the run before anything is judged when the setup is wrong (harness.run.preflight).

    Raised from here (before the terminal header, before xdist starts its workers), pytest's
    exit skips collection, the tests and the verdict table, and exits with the status given.
    """
    try:
        config.stash[_PREFLIGHT_KEY] = preflight.check(run)
    except preflight.PreflightFailed as failure:
        text = failure.paragraph(run.secrets.scrub)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text, red=True, bold=True)
        else:
            sys.stderr.write(text + "\n")
        pytest.exit(f"smm-harness: stopped by pre-flight before any test (exit status "
                    f"{preflight.EXIT_STATUS})", returncode=preflight.EXIT_STATUS)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = _run(config)
    if run is None:
        return None
    lines = header_lines(run.config, run.dialect)
    checked = config.stash.get(_PREFLIGHT_KEY, None)
    if checked is not None:
        lines.append(checked.line())
    if run.shared is not None:
        if run.control is not None:
            mode = "each its own minted tenants; a test moving the clock keeps it"
        elif run.config.max_spend > 0:
            mode = "one shared politeness limit; money moves, so one test at a time"
        else:
            mode = "one shared politeness limit"
        lines.append(f"smm-harness: workers: {run.shared.plan.workers} ({mode})")
    return lines


# ---------------------------------------------------------------------------------------------
# running one item


def _settle(judge: Judge, error: BaseException, item: pytest.Item, *, setup: bool) -> None:
    """Turn what stopped a test into verdicts; re-raise unless it is NON-STRICT in the call."""
    # A skip is reported at the test's own line when it has one (YAML scenario items do not).
    here = item.location[1] is not None
    if isinstance(error, SpendRefused):
        error = NotApplicable(NaReason.SPEND_CAP, f"needs up to {error.needed}")
    if isinstance(error, NotApplicable):
        judge.finish_not_applicable(error)
        root = judge.first_must_failure() if error.blocked_by is not None else None
        if root is not None:  # blocked by a failure this test saw: it fails with that cause
            raise root from None
        raise pytest.skip.Exception(f"N/A: {error.text}", _use_item_location=here) from None
    if isinstance(error, CheckFailure):
        verdict = judge.record_failure(error)
        blocker = judge.blocker_of(error) if verdict is Verdict.NA else error.clause
        judge.finish_blocked(blocker or error.clause)
        if verdict is Verdict.FAIL:
            raise error
        root = judge.first_must_failure()
        if root is not None:  # blocked by an unusable answer: the test fails with that cause
            raise root from None
        if setup:
            raise pytest.skip.Exception(
                f"stopped by a NON-STRICT finding: {error}", _use_item_location=here
            ) from None
        return
    if isinstance(error, pytest.skip.Exception):
        judge.finish_stopped(f"skipped: {error}")
    elif isinstance(error, ControlError):
        judge.finish_stopped(f"control API error: {error}")
    elif isinstance(error, Exception):
        judge.finish_stopped(f"{NaReason.HARNESS_ERROR.value}: {type(error).__name__}: {error}")
    raise error


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    run = _run(item.config)
    if run is None:
        return (yield)
    judge = Judge(run.book, run.registry, item.nodeid, _cited(item))
    item.stash[_JUDGE_KEY] = judge
    run.judge = judge
    if run.shared is not None:
        # Black-box with a cap above 0: the given keys' balances move, so one test at a time.
        run.shared.enter_test(
            money_moves=run.control is None and run.config.max_spend > 0,
            budgets_on_clock=run.control is not None and run.config.rate_limit is not None,
        )
    try:
        return (yield)
    except BaseException as error:
        _settle(judge, error, item, setup=True)
        raise  # _settle always raises in setup; this keeps the type checker honest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    judge = item.stash.get(_JUDGE_KEY, None)
    if judge is None:
        return (yield)
    try:
        result = yield
    except BaseException as error:
        _settle(judge, error, item, setup=False)
        return None
    failure = judge.first_must_failure()
    judge.finish_passed()
    if failure is not None:
        raise failure
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        run = _run(item.config)
        if run is not None:
            run.judge = None
            # Cancel what the test ordered with real money, unjudged: it is housekeeping.
            try:
                run.panel.release()
            finally:
                if run.shared is not None:
                    run.shared.leave_test()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None and report.failed and isinstance(call.excinfo.value, CheckFailure):
        failure = call.excinfo.value
        rows = [f"{failure.clause} {failure.title}: {failure.message}"]
        rows += [e.evidence() for e in failure.exchanges]
        report.longrepr = "\n".join(rows)
        report.user_properties.append((_FAILED_CLAUSE, failure.clause))
    return report


# ---------------------------------------------------------------------------------------------
# the end of the run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = _run(session.config)
    if run is None:
        return
    run.close()
    if _is_worker(run):
        assert run.shared is not None
        run.shared.close()
        workeroutput = getattr(session.config, "workeroutput", {})
        workeroutput[parallel.OUTPUT_KEY] = parallel.export_worker(
            run.book, run.guard, run.problems, run.cited
        )
        return
    for clause in run.book.clause_ids():
        if not run.config.selects(clause):
            run.book.record_na(clause, NaReason.NOT_SELECTED.value, test="(selection)")
    # Waivers apply to the final verdicts: here, after every worker's book was merged.
    loaded, today = session.config.stash[_WAIVERS_KEY]
    if loaded:
        run.book.waive(loaded, today=today)
    if run.book.must_failed():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif session.exitstatus == pytest.ExitCode.TESTS_FAILED and not _lost_workers(session.config):
        failed = session.config.pluginmanager.get_plugin(FailedTests.NAME)
        if isinstance(failed, FailedTests) and failed.all_waived(run, session.testsfailed):
            session.exitstatus = pytest.ExitCode.OK
            session.config.stash[_EXCUSED_KEY] = session.testsfailed
    # --panel-fail-on=regressions: only a MUST regression fails (harness.reporting.baseline).
    baseline = session.config.pluginmanager.get_plugin(BaselinePlugin.NAME)
    if isinstance(baseline, BaselinePlugin):
        failed = session.config.pluginmanager.get_plugin(FailedTests.NAME)
        clauses = (failed.clauses if isinstance(failed, FailedTests)
                   and not _lost_workers(session.config) else None)
        session.exitstatus = baseline.exit_status(int(session.exitstatus), clauses)
    session.config.stash[_EXIT_KEY] = int(session.exitstatus)
    if allure_active(session.config):
        _allure_environment(session.config, run, int(session.exitstatus))


def _allure_environment(config: pytest.Config, run: HarnessRun, exit_status: int) -> None:
    """The verdict and its scope on Allure's overview page (environment.properties)."""
    outcomes = run.book.outcomes()
    scope = scope_of(outcomes, spend_cap=run.config.max_spend)
    values = {
        "panel": run.config.display_url,
        "verdict": verdict_line(outcomes, exit_status),
        "certified": "yes" if certified(outcomes, exit_status) else "no",
        "scope": scope.summary(),
    }
    directory = config.invocation_params.dir / str(config.option.allure_report_dir)
    try:
        write_environment(directory, {k: run.secrets.scrub(v) for k, v in values.items()})
    except OSError as error:
        run.problems.append(f"Allure environment.properties not written: {error.strerror}")


def _lost_workers(config: pytest.Config) -> list[str]:
    hooks = config.pluginmanager.get_plugin("smm_harness_xdist")
    return hooks.lost if isinstance(hooks, parallel.ControllerHooks) else []


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    run = _run(config)
    if run is None or _is_worker(run):
        return
    if int(exitstatus) == pytest.ExitCode.USAGE_ERROR:
        return  # a usage error met while collecting judged nothing: its message says it all
    terminalreporter.write_sep("=", "SMM panel API v2 conformance")
    lines = summary_lines(run.book.outcomes(), run.guard.report(), run.problems,
                          exit_status=config.stash.get(_EXIT_KEY, int(exitstatus)),
                          waivers=run.book.waiver_results())
    excused = config.stash.get(_EXCUSED_KEY, 0)
    if excused:  # pytest's own summary still counts them failed: say why the run exits 0
        lines.insert(-1, (f"note: the {excused} failed test(s) failed only on waived clauses: "
                          "the run exits 0", None))
    lost = _lost_workers(config)
    if lost:
        # A worker's verdicts are missing: whatever the table says, nothing is certified.
        conclusion, _ = lines[-1]
        if "MUST clause(s) failed" not in conclusion:  # MUST failures say more; keep them
            lines[-1] = (f"NOT CERTIFIED: the verdicts of {', '.join(lost)} are missing",
                         Verdict.FAIL)
    # The verdict line stays as it always read (scripts match it whole); the next line says
    # what it covers: how many MUST clauses were checked, and why the others were not.
    outcomes = run.book.outcomes()
    scope = scope_of(outcomes, spend_cap=run.config.max_spend)
    ok = certified(outcomes, config.stash.get(_EXIT_KEY, int(exitstatus))) and not lost
    if ok and not scope.full:  # green is for a full certificate; a partial one is yellow
        lines[-1] = (lines[-1][0], Verdict.NON_STRICT)
    lines.append((scope.summary(), scope_colour(scope, ok)))
    for text, verdict in lines:
        colour = _COLOURS.get(verdict) if verdict is not None else None
        if colour:
            terminalreporter.write_line(text, **{colour: True})
        else:
            terminalreporter.write_line(text)
