"""Scenarios as pytest items: the files, the items, the hooks the plugin registers, and the
wiring of a :class:`~harness.scenarios.runner.ScenarioRunner` to the run (:func:`scenario_runner`).

harness.plugin registers this module (``smm_harness_scenarios``) when a panel is configured:
:func:`pytest_collect_file` turns the shipped ``scenarios/*.yaml`` into :class:`ScenarioFile`
nodes, and a failing :class:`ScenarioItem` reports the scenario step, not a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from harness import contract
from harness.base.errors import ControlError
from harness.base.exchange import Exchange
from harness.contract.resources import scenarios_dir
from harness.judging.checks import CheckFailure, Grade
from harness.judging.judge import Judge
from harness.run.config import PanelConfig
from harness.run.session import RUN_KEY, HarnessRun
from harness.scenarios.assertions import EXCERPT, ScenarioFailure, excerpt
from harness.scenarios.loader import ScenarioError, load_file
from harness.scenarios.model import Scenario
from harness.scenarios.runner import ScenarioRunner, ScenarioRuntimeError, ScenarioSettings

__all__ = [
    "ScenarioFile",
    "ScenarioItem",
    "default_paths",
    "pytest_collect_file",
    "pytest_runtest_makereport",
    "scenario_folder",
    "scenario_runner",
    "scenario_settings",
    "shipped_files",
]


def scenario_folder() -> Path | None:
    """The shipped scenarios as a real folder (``None`` if they are only inside an archive)."""
    folder = scenarios_dir()
    return folder if isinstance(folder, Path) and folder.is_dir() else None


# Everything below reads the folder through ``scenario_folder``: the one name a test (or a
# tool embedding the harness) replaces in this module to collect another folder.


def shipped_files() -> list[Path]:
    folder = scenario_folder()
    return sorted(folder.glob("*.yaml")) if folder is not None else []


def default_paths() -> list[str]:
    """What the plugin collects besides the Python suite when no path was given."""
    folder = scenario_folder()
    return [str(folder)] if folder is not None and shipped_files() else []


def scenario_settings(config: PanelConfig) -> ScenarioSettings:
    """What a scenario reads of the run's configuration."""
    return ScenarioSettings(
        order_timeout=config.order_timeout,
        max_spend=config.max_spend,
        rate_limit=config.rate_limit,
        second_key=config.second_key is not None,
    )


def scenario_runner(
    run: HarnessRun,
    scenario: Scenario,
    *,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> ScenarioRunner:
    """The runner of ``scenario`` wired to ``run``: its panel, its settings, the judge the
    plugin opened for the running item, and its progress display. Time passes through
    :meth:`HarnessRun.wait` (the control clock when there is one, else real time) unless
    ``sleep`` says otherwise; ``clock`` (monotonic time) bounds black-box polling."""

    def judge() -> Judge:
        current = run.judge
        if current is None:
            raise RuntimeError("no test is running: a scenario runs inside its item")
        return current

    return ScenarioRunner(
        run.panel, scenario, scenario_settings(run.config),
        judge=judge, sleep=sleep or run.wait, progress=run.progress,
        clock=clock or time.monotonic,
    )


class ScenarioFile(pytest.File):
    """One ``scenarios/*.yaml`` file: validated at collection, one item."""

    def collect(self) -> Iterable[pytest.Item]:
        try:
            scenario = load_file(self.path)
        except ScenarioError as error:
            raise self.CollectError(str(error)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    """A scenario as a test: it cites its clauses (so the plugin judges it like any harness
    test) and reports a failure as the scenario step, not as a traceback."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.trace: list[tuple[int, Exchange]] = []
        self.add_marker(pytest.mark.clause(*scenario.clauses))

    def runtest(self) -> None:
        runner = scenario_runner(self.config.stash[RUN_KEY], self.scenario)
        try:
            runner.run()
        finally:
            self.trace = runner.trace

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.scenario.name}"

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        error = excinfo.value
        if isinstance(error, CheckFailure):
            return self._render(error)
        if isinstance(error, ScenarioRuntimeError | ControlError):
            return f"scenario {self.scenario.name} ({self.scenario.source}): {error}"
        return super().repr_failure(excinfo, style)

    def _render(self, failure: CheckFailure) -> str:
        scenario = self.scenario
        info = contract.clauses().get(failure.clause)
        clause = f"{failure.clause} {info.level}: {info.title}" if info else failure.clause
        lines = [f"scenario {scenario.name} ({scenario.source}): {scenario.description.strip()}"]
        if isinstance(failure, ScenarioFailure):
            step = failure.step
            if step is not None:
                lines.append(f'step {step.number} of {len(scenario.steps)}: "{step.name}"')
            grade = "" if failure.grade is Grade.FAIL else f" ({failure.grade.value})"
            lines += [
                f"checks:   {scenario.source} {failure.source}",
                f"clause:   {clause}{grade}",
                f"expected: {failure.expected}",
                f"got:      {failure.got}",
            ]
        else:
            steps = {id(e): n for n, e in self.trace}
            numbers = sorted({steps.get(id(e), 0) for e in failure.exchanges})
            named = [f'{n} "{scenario.steps[n - 1].name}"' for n in numbers if n]
            if named:
                lines.append(f"step {', '.join(named)} of {len(scenario.steps)}")
            lines += [f"clause:   {clause}", f"problem:  {failure.title}: {failure.message}"]
        for exchange in failure.exchanges:
            lines += _exchange_lines(exchange)
        return "\n".join(lines)


def _exchange_lines(exchange: Exchange) -> list[str]:
    request = exchange.request
    shown = "&".join(f"{k}={v}" for k, v in request.params) or request.body
    shown = shown.replace("\r", "\\r").replace("\n", "\\n")
    if len(shown) > EXCERPT:
        shown = shown[:EXCERPT] + "...(truncated)"
    ctype = exchange.header("Content-Type") or "-"
    answer = (
        f"no HTTP answer ({exchange.transport_error})" if exchange.transport_error is not None
        else f"HTTP {exchange.status} {ctype} {excerpt(exchange.text)}"
    )
    return [f"request:  #{exchange.seq} {request.method} {exchange.url} {shown}",
            f"response: {answer}"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    """Scenario files are the ``.yaml`` files of the shipped scenarios folder."""
    folder = scenario_folder()
    if file_path.suffix != ".yaml" or folder is None:
        return None
    if not file_path.resolve().is_relative_to(folder.resolve()):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A scenario's failure reads as its step (repr_failure), after the plugin has had its say:
    this wrapper is the outermost one, so what it writes is what is printed."""
    report = yield
    if (
        isinstance(item, ScenarioItem) and report.failed and call.excinfo is not None
        and call.when == "call"
    ):
        report.longrepr = item.repr_failure(call.excinfo)
    return report
