"""Custom Comments Package judged end to end in both documented forms (issue 22).

Seed 004 (the mock's ``extended`` profile) takes the type per post ("Total quantity is
computed server-side as posts × max; charge is billed at the upper bound"), the reference
profile takes ``link`` + ``comments`` at a flat rate (protocol-variants.md section 5). A whole
harness run with a spend cap large enough for the dearer pricing places the package orders on
both, and judges them PASS under the package clauses: on ``extended`` at the per-post price
(8 per 1000 comments), on ``reference`` at the flat rate, as before.
"""  # noqa: RUF002

from __future__ import annotations

import json
import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from tests.conformance.harness_runs import (
    Keys,
    Verdicts,
    control_url,
    read_verdicts,
    run_harness,
    serve_profile,
    summary_of,
)

PACKAGE = "Custom Comments Package"
# The property test's valid orders (test_13), the package test (test_04) and the
# balance-debits scenario all judge MONEY-002; few examples keep the run short, and the cap
# must let one example reserve the dearer price of the package (8.00 flat on extended).
RUN = ["--panel-clause=MONEY-002", "--panel-examples=4"]
CLAUSES = ("ADD-001", "MONEY-002", "MONEY-003")


def _state(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(control_url(url) + "/state",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        state: dict[str, Any] = json.load(answer)
    return state


def _run(pytester: pytest.Pytester, profile: str
         ) -> tuple[Verdicts, pytest.RunResult, list[dict[str, Any]]]:
    keys = Keys()
    with serve_profile(profile, keys, Decimal("5000")) as url:
        result = run_harness(pytester, url, keys, max_spend="1000", controlled=True,
                             extra=RUN)
        orders = [o for o in _state(url, keys.token)["orders"] if o["service_type"] == PACKAGE]
    return read_verdicts(result.outlines), result, orders


def test_extended_s_per_post_package_orders_are_placed_and_pass(
    pytester: pytest.Pytester,
) -> None:
    verdicts, result, orders = _run(pytester, "extended")
    summary = summary_of(result.outlines)
    assert {c: verdicts.verdict(c) for c in CLAUSES} == dict.fromkeys(CLAUSES, "PASS"), summary
    assert verdicts.failed() == set(), summary
    # Placed by the properties and by the scenario, each billed per post (rate 8 per 1000 of
    # posts * max), never the flat 8.00 the link + comments form would have cost.
    assert len(orders) >= 2, summary
    for order in orders:
        assert Decimal(order["charge"]) == Decimal(8) * order["quantity"] / 1000, order
        assert order["link"] is None, order  # seed 004's form carries no link


def test_reference_s_flat_package_orders_still_pass(pytester: pytest.Pytester) -> None:
    verdicts, result, orders = _run(pytester, "reference")
    summary = summary_of(result.outlines)
    assert {c: verdicts.verdict(c) for c in CLAUSES} == dict.fromkeys(CLAUSES, "PASS"), summary
    assert verdicts.failed() == set(), summary
    assert len(orders) >= 2, summary
    assert {Decimal(o["charge"]) for o in orders} == {Decimal("3.50")}, orders
