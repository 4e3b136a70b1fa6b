"""The pytest plugin: inert without ``--panel-url``; with it, certifies a panel clause by clause.

Registered through the ``pytest11`` entry point ``smm_harness``. Without a panel URL (from the
CLI, ``PANEL_URL`` or the ``panel_url`` ini option) it adds only its options: no collection
change, no header, no summary, so other suites are unaffected. With one:

- the shipped suite (``harness/suite/test_*.py``) is collected even in an empty directory: when
  no test paths were given on the command line, they are replaced by the suite's folder;
- every test item gets a :class:`~harness.judge.Judge` for the clauses its
  ``@pytest.mark.clause`` cites; the outcome of the item becomes verdicts (PASS, NON-STRICT,
  FAIL, N/A) and ``--panel-clause`` deselects items citing none of the selected clauses;
- a NON-STRICT finding never fails an item, N/A becomes a skip, and the exit status is non-zero
  whenever a MUST clause failed;
- the terminal summary lists every clause with its verdict and, for failures, the evidence.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from harness import config as options
from harness import fixtures, parallel, scenarios
from harness.allure_bridge import AllureBridge, allure_active
from harness.budget import SpendRefused
from harness.certificate import CertificatePlugin
from harness.checks import CheckFailure
from harness.control import ControlError
from harness.judge import Judge, NotApplicable
from harness.report import header_lines, summary_lines
from harness.session import RUN_KEY, HarnessRun
from harness.verdicts import NaReason, Verdict

__all__ = ["SUITE_DIR"]

SUITE_DIR = Path(__file__).resolve().parent / "suite"
_JUDGE_KEY = pytest.StashKey[Judge]()
_COLOURS = {Verdict.FAIL: "red", Verdict.NON_STRICT: "yellow", Verdict.PASS: "green"}


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
    # Checked writable now, written at sessionfinish (by the controller alone under xdist).
    if panel_config.report_dir is not None and not _is_worker(run):
        config.pluginmanager.register(CertificatePlugin(run, panel_config.report_dir))
    if allure_active(config):
        config.pluginmanager.register(AllureBridge(run), "smm_harness_allure")
    config.pluginmanager.register(scenarios.collect, "smm_harness_scenarios")
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(SUITE_DIR), *scenarios.default_paths()]


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
        run.detect_dialect()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = _run(config)
    if run is None:
        return None
    lines = header_lines(run.config, run.dialect)
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
        raise pytest.skip.Exception(f"N/A: {error.text}", _use_item_location=here) from None
    if isinstance(error, CheckFailure):
        verdict = judge.record_failure(error)
        judge.finish_stopped(f"{NaReason.NOT_REACHED.value} ({error.clause})")
        if verdict is Verdict.FAIL:
            raise error
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
    if run.book.must_failed():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    run = _run(config)
    if run is None or _is_worker(run):
        return
    terminalreporter.write_sep("=", "SMM panel API v2 conformance")
    lines = summary_lines(run.book.outcomes(), run.guard.report(), run.problems,
                          exit_status=int(exitstatus))
    hooks = config.pluginmanager.get_plugin("smm_harness_xdist")
    if isinstance(hooks, parallel.ControllerHooks) and hooks.lost:
        # A worker's verdicts are missing: whatever the table says, nothing is certified.
        conclusion, _ = lines[-1]
        if "MUST clause(s) failed" not in conclusion:  # MUST failures say more; keep them
            lines[-1] = (f"NOT CERTIFIED: the verdicts of {', '.join(hooks.lost)} are missing",
                         Verdict.FAIL)
    for text, verdict in lines:
        colour = _COLOURS.get(verdict) if verdict is not None else None
        if colour:
            terminalreporter.write_line(text, **{colour: True})
        else:
            terminalreporter.write_line(text)
