"""Every row of the broken-client corpus (DEFECTS.md) is caught under its clause, with the
verdict it names, while the reference client passes the same clause in the same trial."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientcert.certify import new_book, record, run_scenario
from clientcert.scenarios import by_name
from harness import Verdict
from mockpanel.pytest_plugin import MockPanelServers
from tests.clientcert.broken_clients import CORPUS, Row, factory, table
from tests.clientcert.reference_adapter import make

TABLE = Path(__file__).resolve().parent / "DEFECTS.md"


@pytest.fixture(scope="module")
def servers() -> object:
    pool = MockPanelServers()
    yield pool
    pool.close()


def _verdict(servers: MockPanelServers, row: Row, adapter_factory: object) -> tuple[Verdict, str]:
    book = new_book()
    observed = run_scenario(servers, row.profile, by_name(row.scenario), adapter_factory)  # type: ignore[arg-type]
    record(book, row.name, observed)
    outcome = book.outcome(row.clause)
    return outcome.verdict, outcome.reason


@pytest.mark.parametrize("row", CORPUS, ids=[r.name for r in CORPUS])
def test_broken_client_is_caught(servers: MockPanelServers, row: Row) -> None:
    verdict, reason = _verdict(servers, row, factory(row.client))
    assert verdict.value == row.verdict, f"{row.name}: {row.clause} ended {verdict.value}: {reason}"


@pytest.mark.parametrize("row", CORPUS, ids=[r.name for r in CORPUS])
def test_reference_client_passes_the_same_trial(servers: MockPanelServers, row: Row) -> None:
    verdict, reason = _verdict(servers, row, make)
    assert verdict is Verdict.PASS, f"reference: {row.clause} ended {verdict.value}: {reason}"


def test_at_least_eight_defects_on_distinct_clauses() -> None:
    assert len(CORPUS) >= 8
    assert len({r.clause for r in CORPUS}) >= 8


def test_table_is_current() -> None:
    assert TABLE.read_text(encoding="utf-8") == table(), (
        "regenerate: python -m tests.clientcert.broken_clients table > "
        "tests/clientcert/DEFECTS.md")
