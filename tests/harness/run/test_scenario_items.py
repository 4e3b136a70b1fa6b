"""The shipped scenarios as users run them (pytester, in process): collected by the plugin,
passing against the reference mock, failing against a broken one with the step, request and
clause instead of a traceback, and sending no add at all under a spend cap of 0."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from harness.base.redaction import Secret, SecretBook
from harness.run import scenario_items
from harness.wire.client import HttpTransport
from harness.wire.control import ControlClient
from mockpanel.config import MockConfig
from mockpanel.profiles import RateLimit
from mockpanel.server import RunningPanel, run_panel
from mockpanel.state.money import quantize
from mockpanel.state.orders import Order, OrderStatus, Outcome
from tests.fixtures.fakepanel import KEY as FAKE_KEY
from tests.fixtures.fakepanel import Defects, FakePanel, serve

KEY = "plugin-main-key-Rw83k"
TOKEN = "plugin-control-token-Ty61"
FOLDER = scenario_items.scenario_folder()
NAMES = sorted(path.stem for path in scenario_items.shipped_files())


def reference(**changes: object) -> MockConfig:
    return MockConfig(
        keys=((KEY, Decimal(100)),), control_token=TOKEN, clock="manual", **changes  # type: ignore[arg-type]
    )



@pytest.fixture(scope="module")
def mock() -> Iterator[RunningPanel]:
    with run_panel(reference()) as panel:
        yield panel
        assert panel.failures == ()


def run(
    pytester: pytest.Pytester, panel: RunningPanel, *args: str, control: bool = True,
    spend: str = "5",
) -> pytest.RunResult:
    options = [f"--panel-url={panel.url}", f"--panel-key={KEY}", f"--panel-max-spend={spend}",
               "--panel-request-rate=1000", "-p", "no:cacheprovider"]
    if control:
        options += [f"--panel-control-url={panel.control_url}", f"--panel-control-token={TOKEN}"]
    return pytester.runpytest_inprocess(*options, *args)


def path_of(name: str) -> str:
    assert FOLDER is not None
    return str(Path(FOLDER) / f"{name}.yaml")


def verdicts(result: pytest.RunResult) -> dict[str, str]:
    table = {}
    for line in result.outlines:
        match = re.match(r"^([A-Z]+-\d{3})\s+(?:MUST|SHOULD|MAY)\s+(\S+)", line)
        if match:
            table[match.group(1)] = match.group(2)
    return table


def adds_in_journal(panel: RunningPanel) -> int:
    control = ControlClient(
        panel.control_url or "", Secret(TOKEN, "control token"), transport=HttpTransport(),
        secrets=SecretBook(),
    )
    answer = control.journal()
    assert isinstance(answer, dict)
    return sum(1 for entry in answer["exchanges"] if entry["action"] == "add")


def test_every_scenario_passes_against_the_reference_mock(
    clean: pytest.Pytester, mock: RunningPanel
) -> None:
    assert FOLDER is not None
    result = run(clean, mock, str(FOLDER), "-rs")
    # rate-limit needs an advertised limit, which the reference profile does not have
    result.assert_outcomes(passed=len(NAMES) - 1, skipped=1)
    result.stdout.fnmatch_lines([
        "RATE-001*N/A*no advertised rate limit (--panel-rate-limit)",
        "CERTIFIED: no MUST clause failed",
        "SKIPPED*N/A: no advertised rate limit (--panel-rate-limit)",
    ])
    table = verdicts(result)
    assert "FAIL" not in table.values()
    for clause in ("MONEY-001", "MONEY-002", "ADD-010", "MONEY-011", "DRIP-001", "CANCEL-003",
                   "REFILL-001", "RSTATUS-001", "MSTATUS-002", "ISO-001", "ISO-005", "ISO-006",
                   "ADD-007", "STATUS-005"):
        assert table[clause] == "PASS", clause
    assert KEY not in result.stdout.str()
    assert TOKEN not in result.stdout.str()


def test_the_rate_limit_scenario_passes_against_a_rate_limited_mock(
    clean: pytest.Pytester,
) -> None:
    with run_panel(reference(rate_limit=RateLimit(20, "key"))) as limited:
        result = run(clean, limited, path_of("rate-limit"), "--panel-rate-limit=20")
    result.assert_outcomes(passed=1)
    table = verdicts(result)
    for clause in ("RATE-001", "RATE-002", "RATE-003", "RATE-004", "RATE-005"):
        assert table[clause] == "PASS", clause


def test_a_panel_that_refunds_nothing_on_cancel_fails_the_cancel_scenario(
    clean: pytest.Pytester, mock: RunningPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    refund_for = Order.refund_for

    def keep_the_money(order: Order, outcome: Outcome, places: int) -> Decimal:
        if outcome.status is OrderStatus.CANCELED:
            return quantize(Decimal(0), places)
        return refund_for(order, outcome, places)

    monkeypatch.setattr(Order, "refund_for", keep_the_money)
    result = run(clean, mock, path_of("cancel"))
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*_ scenario cancel _*",
        "scenario cancel (cancel.yaml): A cancelled order refunds its whole charge*",
        'step 3 of 10: "the order becomes Canceled"',
        "checks:   cancel.yaml /steps/2/expect/0",
        "clause:   CANCEL-003 MUST: A cancelled order refunds its charge once",
        "expected: the balance rose by exactly the charge",
        "got:      after - opening = 0.00000; paid = 0.00001; with after = *, opening = *",
        "request:  #* POST http://127.0.0.1:*/api/v2 key=<redacted>:tenant *&action=status&order=*",
        'response: HTTP 200 application/json {"charge":"0.00001",*"status":"Canceled"*',
    ])
    assert verdicts(result)["CANCEL-003"] == "FAIL"
    assert "Traceback" not in output
    assert "harness/scenarios/" not in output
    assert KEY not in output
    assert TOKEN not in output
    assert "NOT CERTIFIED" in output


@pytest.mark.parametrize("control", [True, False], ids=["controlled", "black-box"])
def test_a_spend_cap_of_zero_sends_no_add(clean: pytest.Pytester, control: bool) -> None:
    with run_panel(reference()) as fresh:
        assert FOLDER is not None
        result = run(clean, fresh, str(FOLDER), "-rs", control=control, spend="0")
        assert adds_in_journal(fresh) == 0
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes["passed"] >= 1
    result.stdout.fnmatch_lines([
        "CANCEL-003*N/A*not allowed by the spend cap: --panel-max-spend is 0*",
        "spent 0 of cap 0 *",
    ])
    assert verdicts(result)["STATUS-005"] == "PASS"


def test_scenarios_are_collected_with_the_suite_from_an_empty_directory(
    clean: pytest.Pytester, mock: RunningPanel
) -> None:
    result = run(clean, mock, "--collect-only", "-q")
    collected = result.stdout.str()
    for name in NAMES:
        assert f"{name}.yaml::{name}" in collected
    assert "test_01_transport.py::" in collected


def test_scenarios_are_selected_by_clause(clean: pytest.Pytester, mock: RunningPanel) -> None:
    assert FOLDER is not None
    result = run(clean, mock, str(FOLDER), "--panel-clause=CANCEL-00*", "--collect-only", "-q")
    selected = [line for line in result.outlines if ".yaml::" in line]
    assert len(selected) == 1
    assert selected[0].endswith("cancel.yaml::cancel")
    result.stdout.fnmatch_lines([f"1/{len(NAMES)} tests collected ({len(NAMES) - 1} deselected)*"])


def test_without_a_panel_url_no_scenario_is_collected(clean: pytest.Pytester) -> None:
    assert FOLDER is not None
    result = clean.runpytest_inprocess(str(FOLDER), "-p", "no:cacheprovider")
    result.assert_outcomes()
    assert ".yaml" not in result.stdout.str()


def test_a_broken_scenario_file_is_a_collection_error_naming_file_and_pointer(
    clean: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = clean.mkdir("suite")
    (folder / "broken.yaml").write_text(
        "name: broken\ndescription: A scenario with one assertion citing no clause.\n"
        "clauses: [BAL-001]\nneeds: [none]\nsteps:\n  - name: read\n    action: balance\n"
        "    expect:\n      - {outcome: ok}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(scenario_items, "scenario_folder", lambda: folder)
    with serve(FakePanel()) as url:  # a panel that passes pre-flight (it runs before collection)
        result = clean.runpytest_inprocess(
            str(folder), f"--panel-url={url}", f"--panel-key={FAKE_KEY}",
            "-p", "no:cacheprovider",
        )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR collecting*broken.yaml*",
        "broken.yaml is not a valid scenario:",
        "  /steps/0/expect/0: 'clause' is a required property",
    ])
    assert "Traceback" not in result.stdout.str()


def one_scenario(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """A scenarios folder holding ``text`` as its only file, in place of the shipped one."""
    folder = pytester.mkdir("own")
    name = text.split("\n", 1)[0].removeprefix("name: ")
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(scenario_items, "scenario_folder", lambda: folder)
    return folder


def test_a_check_failure_seen_by_the_registry_names_the_step_that_caused_it(
    clean: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = one_scenario(clean, monkeypatch, (
        "name: html\ndescription: The panel answers an unknown action with an HTML page.\n"
        "clauses: [BAL-001]\nneeds: [none]\nsteps:\n"
        "  - name: poke an unknown action\n    action: no_such_action\n"
        "  - name: read the balance\n    action: balance\n"
        "    expect:\n      - {outcome: ok, clause: BAL-001}\n"
    ))
    panel = FakePanel(defects=Defects(unknown_action_html=True))
    with serve(panel) as url:
        result = clean.runpytest_inprocess(
            str(folder), f"--panel-url={url}", f"--panel-key={FAKE_KEY}",
            "--panel-request-rate=1000", "-p", "no:cacheprovider",
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "scenario html (html.yaml): The panel answers an unknown action with an HTML page.",
        'step 1 "poke an unknown action" of 2',
        "clause:   GEN-002 MUST: *",
        "problem:  every answer is JSON: body is not JSON*",
        "request:  #* POST * key=<redacted>:main key&action=no_such_action",
        "response: HTTP 200 text/html* <html>500 oops</html>",
    ])
    assert "Traceback" not in result.stdout.str()
    assert FAKE_KEY not in result.stdout.str()


def test_a_control_api_refusal_stops_the_scenario_in_one_line(
    clean: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mock: RunningPanel
) -> None:
    folder = one_scenario(clean, monkeypatch, (
        "name: nothing-to-finish\ndescription: Asks the control API to finish an order that"
        " was never placed.\nclauses: [BAL-001]\nneeds: [control]\nsteps:\n"
        "  - name: read the balance\n    action: balance\n"
        "    expect:\n      - {outcome: ok, clause: BAL-001}\n"
        "  - name: finish a never-issued order\n"
        "    control: {order_outcome: {order: '${never_issued}', status: Completed}}\n"
    ))
    result = run(clean, mock, str(folder))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "scenario nothing-to-finish (nothing-to-finish.yaml): POST /orders/*/outcome: HTTP 404*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert verdicts(result)["BAL-001"] == "PASS"
