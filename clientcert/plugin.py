"""The pytest plugin (``pytest11`` entry point ``clientcert``): ``--client-adapter`` and its
twins, the shipped suite's parametrization, the verdict table and the certificate.

Inert without ``--client-adapter``: the shipped suite is then never collected. With it, and
no test paths on the command line, the suite's folder is what runs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clientcert import options
from clientcert.certify import new_book, record, run_scenario
from clientcert.clauses import client_clauses
from clientcert.report import build_record, write
from clientcert.scenarios import SCENARIOS, Scenario
from harness import Verdict, VerdictBook
from mockpanel.pytest_plugin import MockPanelServers

__all__ = ["SUITE_DIR", "ClientCase", "ClientRun"]

SUITE_DIR = Path(__file__).resolve().parent / "suite"
_RUN_KEY = pytest.StashKey["ClientRun"]()
_COLOURS = {Verdict.FAIL: "red", Verdict.NON_STRICT: "yellow", Verdict.PASS: "green"}


@dataclass(frozen=True, slots=True)
class ClientCase:
    profile: str
    scenario: Scenario

    @property
    def id(self) -> str:
        return f"{self.profile}-{self.scenario.name}"


@dataclass
class ClientRun:
    """The run's settings, its mock servers (started on first use) and its verdict book."""

    config: options.ClientConfig
    book: VerdictBook = field(default_factory=new_book)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    cited: dict[str, list[str]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    servers: MockPanelServers = field(default_factory=MockPanelServers)

    def cases(self) -> list[ClientCase]:
        return [ClientCase(p, s) for p in self.config.profiles for s in SCENARIOS]

    def judge(self, case: ClientCase) -> list[str]:
        """Run one case into the book; the messages of its MUST failures."""
        observed = run_scenario(self.servers, case.profile, case.scenario, self.config.factory,
                                self.config.timeout)
        test = f"{case.profile}::{case.scenario.name}"
        record(self.book, test, observed)
        for seen in observed:
            self.cited.setdefault(seen.clause, []).append(test)
        levels = {c.id: c.level for c in client_clauses().values()}
        _allure_labels(case)
        return [f"{s.clause} FAIL: {s.message}" for s in observed
                if s.verdict is Verdict.FAIL and levels[s.clause] == "MUST"]


def _allure_labels(case: ClientCase) -> None:
    """Label the test in Allure (when allure-pytest is recording) with its clauses."""
    with contextlib.suppress(Exception):
        import allure

        dynamic: Any = allure.dynamic  # allure-pytest ships no type hints
        dynamic.parent_suite("client conformance")
        dynamic.suite(case.profile)
        dynamic.sub_suite(case.scenario.name)
        for clause in case.scenario.clauses:
            dynamic.tag(clause)


def _run(config: pytest.Config) -> ClientRun | None:
    return config.stash.get(_RUN_KEY, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    resolved = options.resolve(config)
    if resolved is None:
        return
    config.stash[_RUN_KEY] = ClientRun(resolved)
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(SUITE_DIR)]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if _run(config) is None and collection_path.resolve().is_relative_to(SUITE_DIR):
        return True
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    run = _run(metafunc.config)
    if run is not None and "client_case" in metafunc.fixturenames:
        cases = run.cases()
        metafunc.parametrize("client_case", cases, ids=[c.id for c in cases])


@pytest.fixture(scope="session")
def client_run(pytestconfig: pytest.Config) -> ClientRun:
    run = _run(pytestconfig)
    if run is None:
        pytest.skip("no --client-adapter given")
    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = _run(session.config)
    if run is None:
        return
    run.servers.close()
    if run.book.must_failed() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if run.config.report is not None:
        rec = build_record(run.book, adapter=run.config.adapter, profiles=run.config.profiles,
                           exit_status=int(session.exitstatus), started=run.started,
                           tests=run.cited)
        write(rec, run.config.report, secrets=run.keys)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    run = _run(config)
    if run is None:
        return
    import harness

    outcomes = run.book.outcomes()
    write_line = terminalreporter.write_line
    terminalreporter.section("client conformance")
    write_line(f"adapter {run.config.adapter}; profiles {', '.join(run.config.profiles)}; "
               f"timeout {run.config.timeout:g} s")
    write_line(f"{'clause':<12} {'level':<6} {'verdict':<10} reason / evidence")
    for outcome in outcomes:
        colour = _COLOURS.get(outcome.verdict)
        write_line(outcome.line(120), **({colour: True} if colour else {}))
    line = harness.verdict_line(outcomes, int(terminalreporter._session.exitstatus)
                                if terminalreporter._session else exitstatus)
    write_line(line, **({"red": True} if run.book.must_failed() else {"green": True}))
    if run.config.report is not None:
        write_line(f"client report written to {run.config.report}")
