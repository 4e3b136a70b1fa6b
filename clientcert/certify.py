"""Run scenarios against an adapter in mock profiles and record verdicts in a harness
:class:`~harness.VerdictBook` (the same book, verdicts and aggregation as a panel run).
No pytest here: the plugin and the tests both drive these functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from clientcert.bench import Bench
from clientcert.clauses import client_clauses
from clientcert.protocol import AdapterFactory
from clientcert.scenarios import SCENARIOS, Observation, Scenario
from clientcert.scenarios.labels import unreadable
from clientcert.scenarios.numbers import BALANCE
from clientcert.trial import Trial
from harness import Verdict, VerdictBook
from mockpanel.pytest_plugin import MockPanelServers

__all__ = ["DEFAULT_TIMEOUT", "KEY_CLAUSE", "certify", "new_book", "record", "run_scenario"]

#: The timeout a library is asked to use: short, so the slow-panel and fault clauses cost
#: about a second each.
DEFAULT_TIMEOUT = 0.5
KEY_CLAUSE = "CLIENT-012"


def new_book() -> VerdictBook:
    return VerdictBook(client_clauses().values())


def run_scenario(servers: MockPanelServers, profile: str, scenario: Scenario,
                 factory: AdapterFactory, timeout: float = DEFAULT_TIMEOUT) -> list[Observation]:
    """One trial: a fresh tenant and adapter, the scenario's observations, then CLIENT-012
    from every call's captured texts."""
    bench = Bench(servers, profile, BALANCE)
    trial = Trial.open(bench, factory, timeout)
    try:
        # Where the library cannot read the dialect's answers at all, a scenario that rests on
        # reading them would only repeat that one finding (CLIENT-014) under its own clauses.
        cannot = unreadable(trial) if scenario.reads else None
        if cannot is not None:
            found = [Observation(clause, Verdict.NA, cannot) for clause in scenario.clauses]
        else:
            found = scenario.run(trial)
    finally:
        bench.disarm()
        trial.close()
    # A message quotes what the library raised: never let its key travel into a report.
    found = [Observation(o.clause, o.verdict, o.message.replace(bench.key, "[KEY]"))
             for o in found]
    if trial.leaks:
        found.append(Observation(KEY_CLAUSE, Verdict.FAIL,
                                 f"the API key appeared in {trial.leaks[0]}"))
    elif trial.calls:
        found.append(Observation(KEY_CLAUSE, Verdict.PASS, f"{trial.calls} call(s), no key seen"))
    return found


def record(book: VerdictBook, test: str, observations: Iterable[Observation]) -> None:
    for seen in observations:
        if seen.verdict is Verdict.NA:
            book.record_na(seen.clause, seen.message, test=test)
        else:
            book.record(seen.clause, seen.verdict, test=test, message=seen.message)


def certify(factory: AdapterFactory, profiles: Sequence[str], *,
            scenarios: Sequence[Scenario] = SCENARIOS, timeout: float = DEFAULT_TIMEOUT,
            servers: MockPanelServers | None = None) -> VerdictBook:
    """Every scenario in every profile; the book holds the verdicts."""
    book = new_book()
    own = servers is None
    pool = servers if servers is not None else MockPanelServers()
    try:
        for profile in profiles:
            for scenario in scenarios:
                observed = run_scenario(pool, profile, scenario, factory, timeout)
                record(book, f"{profile}::{scenario.name}", observed)
    finally:
        if own:
            pool.close()
    return book
