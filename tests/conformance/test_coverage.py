"""Every MUST clause is shown failing end to end, or listed with the reason it is not yet.

A check that always passes goes unnoticed until a panel that breaks its rule is run through
the whole harness and caught under it. ``coverage.py`` gathers what the two matrices catch.
"""

from __future__ import annotations

from pathlib import Path

from harness import contract
from tests.conformance.coverage import NOT_YET_DEMONSTRATED, caught, coverage_table

COVERAGE_MD = Path(__file__).with_name("COVERAGE.md")
MAX_NOT_YET = 5
"""The list may only shrink: lower this when a clause leaves it, never raise it."""


def _must() -> set[str]:
    return {c for c, clause in contract.clauses().items() if clause.level == "MUST"}


def test_every_must_clause_is_caught_or_listed_with_a_reason() -> None:
    shown = caught()
    missing = _must() - shown.keys() - NOT_YET_DEMONSTRATED.keys()
    assert missing == set(), f"MUST clauses no panel is caught under: {sorted(missing)}"


def test_the_not_yet_list_only_shrinks() -> None:
    shown = caught()
    assert set(NOT_YET_DEMONSTRATED) <= _must()
    stale = set(NOT_YET_DEMONSTRATED) & shown.keys()
    assert stale == set(), f"caught now, so off the list: {sorted(stale)}"
    assert all(reason.strip() for reason in NOT_YET_DEMONSTRATED.values())
    assert len(NOT_YET_DEMONSTRATED) <= MAX_NOT_YET
    assert len(NOT_YET_DEMONSTRATED) <= len(_must()) // 10


def test_coverage_md_is_generated_from_the_matrices() -> None:
    assert COVERAGE_MD.read_text(encoding="utf-8") == coverage_table(), (
        "COVERAGE.md is out of date: python -m tests.conformance.coverage "
        "> tests/conformance/COVERAGE.md"
    )
