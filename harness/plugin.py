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
from harness import fixtures, scenarios
from harness.budget import SpendRefused
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
    if hasattr(config, "workerinput") or (config.getoption("numprocesses", None) or 0):
        raise pytest.UsageError(
            "--panel-url: the harness runs in one process (the spend cap and the verdicts "
            "belong to one run); drop -n"
        )
    config.addinivalue_line(
        "markers", "clause(*ids): the clauses of schemas/clauses.yaml a harness test checks"
    )
    config.stash[RUN_KEY] = HarnessRun(panel_config)
    config.pluginmanager.register(fixtures, "smm_harness_fixtures")
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


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = _run(config)
    return header_lines(run.config) if run is not None else None


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
            run.panel.release()


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
    for clause in run.book.clause_ids():
        if not run.config.selects(clause):
            run.book.record_na(clause, NaReason.NOT_SELECTED.value, test="(selection)")
    if run.book.must_failed():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    run = _run(config)
    if run is None:
        return
    terminalreporter.write_sep("=", "SMM panel API v2 conformance")
    for text, verdict in summary_lines(
        run.book.outcomes(), run.guard.report(), run.problems
    ):
        colour = _COLOURS.get(verdict) if verdict is not None else None
        if colour:
            terminalreporter.write_line(text, **{colour: True})
        else:
            terminalreporter.write_line(text)
