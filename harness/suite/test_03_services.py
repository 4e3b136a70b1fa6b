"""The services catalogue (SVC); the item checks run on every services answer."""

from __future__ import annotations

import pytest

from harness import Judge, NaReason, Panel, expect_success


@pytest.mark.clause(
    "SVC-001", "SVC-002", "SVC-003", "SVC-004", "SVC-005", "SVC-006", "SVC-007", "SVC-009"
)
def test_catalogue(panel: Panel) -> None:
    # The run asks for the catalogue once (Panel.catalogue_answer); this test judges it.
    exchange = panel.catalogue_answer(judged_here=True)
    expect_success(exchange, "SVC-001", "services answers the catalogue")


@pytest.mark.clause("SVC-008")
def test_dripfeed_flags(panel: Panel, judge: Judge) -> None:
    exchange = panel.catalogue_answer(judged_here=True)
    body = expect_success(exchange, "SVC-001", "services answers the catalogue")
    items = body if isinstance(body, list) else []
    if not any(isinstance(item, dict) and "dripfeed" in item for item in items):
        judge.not_applicable("SVC-008", NaReason.NOT_OFFERED, "no service states dripfeed")
