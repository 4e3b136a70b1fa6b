"""The plan printed before the first test (issue 21): tests, expected requests, duration at
the current pace, worst-case spend; from the last run's counts when the cache has them."""

from __future__ import annotations

import ast
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from harness.base.redaction import Secret
from harness.plugin import SUITE_DIR
from harness.run.config import PanelConfig
from harness.run.plan import (
    UNKNOWN_TEST,
    current_pace,
    estimates,
    estimates_from_reports,
    make_plan,
    run_kind,
)
from harness.run.scenario_items import default_paths
from tests.fixtures.fakepanel import KEY, SECOND_KEY, FakePanel, serve

URL = "https://panel.example/api/v2"
TESTS = ["harness/suite/test_01_transport.py::test_balance_over_a_form_post",
         "harness/suite/test_07_status.py::test_status_needs_a_usable_id[-1]",
         "mine/test_own.py::test_something_new"]


def config(**given: object) -> PanelConfig:
    fields: dict[str, object] = {"url": URL, "key": Secret(KEY, "main key"), **given}
    return PanelConfig(**fields)  # type: ignore[arg-type]


def test_a_read_only_run_spends_nothing_and_estimates_each_test() -> None:
    table, after = estimates("read-only")
    plan = make_plan(config(), TESTS, sent=9)
    expected = 9 + after + sum(
        int(-(-table.get(name, UNKNOWN_TEST) // 1)) for name in (
            "test_01_transport.py::test_balance_over_a_form_post",
            "test_07_status.py::test_status_needs_a_usable_id", "no such test"))
    assert plan.tests == 3
    assert plan.requests == expected
    assert plan.spend == 0
    assert "estimated from the suite's counts against the mock" in plan.line()
    assert "worst-case spend 0 (read-only" in plan.line()
    assert "order lifecycles" not in plan.line()


def test_the_last_runs_counts_come_first() -> None:
    measured = {"test_01_transport.py::test_balance_over_a_form_post": 4,
                "test_07_status.py::test_status_needs_a_usable_id[-1]": 1,
                "test_own.py::test_something_new": 7}
    plan = make_plan(config(), TESTS, sent=2, measured=measured)
    assert plan.requests == 2 + estimates("read-only")[1] + 12
    assert "as counted in the last run against this panel" in plan.line()
    partly = make_plan(config(), TESTS, sent=2, measured={"test_own.py::test_something_new": 7})
    assert "1 tests as counted in the last run, 2 estimated" in partly.line()


def test_a_spending_run_is_bounded_by_its_cap_and_waits_for_orders() -> None:
    plan = make_plan(config(max_spend=Decimal("0.50"), second_key=Secret(SECOND_KEY, "2nd")),
                     TESTS, sent=0)
    assert plan.spend == Decimal("0.50")
    assert "worst-case spend 0.50 (the spend cap, --panel-max-spend)" in plan.line()
    assert "order lifecycles come on top" in plan.line()
    assert run_kind(config(max_spend=Decimal(1))) == "spend"
    assert run_kind(config()) == "read-only"


def test_a_controlled_run_spends_sandbox_money_only() -> None:
    controlled = config(max_spend=Decimal(5), control_url="http://127.0.0.1:9/_mock",
                        control_token=Secret("token-123456789", "token"))
    plan = make_plan(controlled, TESTS, sent=0)
    assert plan.spend == 0
    assert "sandbox tenants" in plan.line()
    assert run_kind(controlled) == "spend-second-key"


@pytest.mark.parametrize(
    ("given", "panel_pace", "expected"),
    [
        ({"request_rate": 5.0}, None, 5.0),  # only politeness
        ({"request_rate": 5.0, "rate_limit": 60}, None, 0.9),  # 90 % of the advertised 60/min
        ({"request_rate": 0.5, "rate_limit": 60}, None, 0.5),  # politeness is slower
        ({"request_rate": 5.0, "rate_limit": 60}, 0.4, 0.4),  # what the pacer learnt wins
        ({"request_rate": 5.0}, 0.75, 0.75),
    ],
)
def test_the_pace_is_the_slowest_limit_known(given: dict[str, object],
                                             panel_pace: float | None,
                                             expected: float) -> None:
    assert current_pace(config(**given), panel_pace) == pytest.approx(expected)


def test_the_duration_is_the_requests_at_the_pace() -> None:
    plan = make_plan(config(request_rate=5.0, rate_limit=60), TESTS, sent=0,
                     measured={t.rsplit("/", 1)[-1]: 36 for t in TESTS})
    assert plan.requests == 108 + estimates("read-only")[1]
    assert plan.seconds == pytest.approx(plan.requests / 0.9)
    assert "at 54 requests/min" in plan.line()
    assert "about 2 min" in plan.line()


def test_with_no_limit_known_the_plan_also_gives_the_duration_at_a_strict_one() -> None:
    measured = {t.rsplit("/", 1)[-1]: 30 for t in TESTS}
    unknown = make_plan(config(request_rate=1000.0), TESTS, sent=0, measured=measured).line()
    assert "at 1000 requests/s (no limit of the panel known yet: at 60/min" in unknown
    assert "about 1 min 40 s)" in unknown  # 90 requests at 54 a minute
    learnt = make_plan(config(request_rate=1000.0), TESTS, sent=0, measured=measured,
                       panel_pace=0.9).line()
    advertised = make_plan(config(request_rate=1000.0, rate_limit=60), TESTS, sent=0,
                           measured=measured).line()
    assert "no limit" not in learnt
    assert "no limit" not in advertised
    assert "about 1 min 40 s at 54 requests/min" in advertised


def suite_functions() -> set[str]:
    names = set()
    for path in sorted(SUITE_DIR.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {f"{path.name}::{node.name}" for node in tree.body
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    for folder in default_paths():
        names |= {f"{p.name}::{p.stem}" for p in Path(folder).glob("*.yaml")}
    return names


def test_every_shipped_test_has_an_estimate() -> None:
    # When this fails, a test was added or renamed: regenerate the table from three report.json
    # files (python -m harness.run.plan READ_ONLY SPEND SPEND_SECOND_KEY > harness/...json).
    table, _ = estimates("read-only")
    assert suite_functions() - set(table) == set()


def test_the_estimates_are_built_from_reports() -> None:
    def report(counts: dict[str, int], after: int) -> dict[str, object]:
        return {"requests": {"by_test": [{"test": t, "requests": n} for t, n in counts.items()],
                             "outside_tests": {"before": 9, "after": after}}}

    built = estimates_from_reports([
        report({"a/test_x.py::test_p[1]": 1, "a/test_x.py::test_p[2]": 3}, 0),
        report({"a/test_x.py::test_p[1]": 4}, 1),
        report({}, 2),
    ])
    assert built["tests"] == {"test_x.py::test_p": [2.0, 4.0, 0.0]}
    assert built["after_tests"] == [0, 1, 2]
    with pytest.raises(ValueError, match="expected 3 reports"):
        estimates_from_reports([])


def plan_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "smm-harness: plan:" in line]


def test_the_plan_is_printed_before_the_first_test_and_learns_from_the_last_run(
    clean: pytest.Pytester,
) -> None:
    fake = FakePanel()
    args = ["--panel-clause=AUTH-*", "--panel-clause=ERR-*"]
    with serve(fake) as url:
        first = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}", *args)
        sent = len(fake.bodies)
        second = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}", *args)
    outcomes = first.parseoutcomes()
    selected = sum(outcomes.get(kind, 0) for kind in ("passed", "skipped", "failed"))
    [line] = plan_lines(first)
    assert line.startswith(f"smm-harness: plan: {selected} tests, about ")
    assert "worst-case spend 0 (read-only" in line
    # Printed before the first test's progress line.
    progress = next(i for i, text in enumerate(first.outlines) if text.startswith("test_0"))
    assert first.outlines.index(line) < progress
    [again] = plan_lines(second)
    assert f"about {sent} requests (as counted in the last run against this panel)" in again
    cached = json.loads(next((clean.path / ".pytest_cache").rglob("requests")).read_text())
    assert len(cached) == 1
    assert KEY not in json.dumps(cached)


def test_under_xdist_the_controller_prints_the_plan_and_counts_every_worker(
    clean: pytest.Pytester,
) -> None:
    fake = FakePanel()
    with serve(fake) as url:
        result = clean.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", "--panel-clause=AUTH-*",
            "--panel-clause=ERR-*", "-n", "2", "-p", "no:cacheprovider")
    [line] = plan_lines(result)
    assert line.startswith("smm-harness: plan: ")
    progress = next(i for i, text in enumerate(result.outlines)
                    if re.match(r"[.sFE]+ +\[", text))
    assert result.outlines.index(line) < progress
    # The workers' counts reach the controller with their tests' reports.
    [requests] = [text for text in result.outlines if text.startswith("requests: ")]
    assert requests.startswith(f"requests: {len(fake.bodies)} total (")
