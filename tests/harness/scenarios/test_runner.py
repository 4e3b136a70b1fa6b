"""The scenario runner on its own: the rate-limit scenario against a small fake panel that
answers 429 with Retry-After (and against broken variants of it), and the runner's rules
against the reference mock: needs become N/A before anything is sent, optional services skip
their steps, a SHOULD failure is recorded and the scenario goes on, a MUST failure stops it."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from harness.base.redaction import Secret
from harness.judging.judge import Judge, NotApplicable
from harness.judging.verdicts import NaReason, Verdict
from harness.run.config import PanelConfig
from harness.run.scenario_items import scenario_folder, scenario_runner
from harness.run.session import HarnessRun
from harness.scenarios import (
    Scenario,
    ScenarioFailure,
    ScenarioRunner,
    load_file,
    load_scenario,
)
from harness.wire.client import RawResponse
from mockpanel.config import MockConfig
from mockpanel.server import RunningPanel, run_panel

KEY = "scenario-main-key-7Yq2"
TOKEN = "scenario-control-token-3Lm9"
LIMIT = 5


def scenario_file(name: str) -> Scenario:
    folder = scenario_folder()
    assert folder is not None
    return load_file(Path(folder) / f"{name}.yaml")


def judged(run: HarnessRun, scenario: Scenario, **runner: object) -> ScenarioRunner:
    """A runner wired to ``run`` as the item wires it, with a judge opened the way the
    plugin opens one for the item."""
    run.judge = Judge(run.book, run.registry, scenario.name, scenario.clauses)
    return scenario_runner(run, scenario, **runner)  # type: ignore[arg-type]


def play(run: HarnessRun, scenario: Scenario, **runner: object) -> ScenarioFailure | None:
    """Run to the end (the judge then PASSes what it did not settle) or to a MUST failure."""
    scenario_runner = judged(run, scenario, **runner)
    try:
        scenario_runner.run()
    except ScenarioFailure as failure:
        assert run.judge is not None
        run.judge.record_failure(failure)  # as the plugin records a raised failure
        return failure
    assert run.judge is not None
    run.judge.finish_passed()
    return None


def verdict(run: HarnessRun, clause: str) -> Verdict:
    return run.book.outcome(clause).verdict


# ---------------------------------------------------------------------------------------------
# A fake panel that throttles


@dataclass
class ThrottlingPanel:
    """A harness Transport answering ``balance`` for KEY, ``serve`` requests per 60-second
    window of its own clock, then ``status`` with a ``Retry-After`` (``"exact"``: the seconds
    until the window ends; ``None``: no header; else that text). ``windows`` bounds how many
    windows it ever opens. ``sleep`` is the harness's way of letting time pass."""

    serve: int | None = LIMIT
    status: int = 429
    retry_after: str | None = "exact"
    windows: int | None = None
    now: float = 0.0
    window_start: float | None = None
    used: int = 0
    opened: int = 0
    received: list[str] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        params = dict(parse_qsl((body or b"").decode()))
        self.received.append(params.get("action", ""))
        if params.get("key") != KEY:
            return self.answer(200, {"error": "Invalid API key"})
        expired = self.window_start is None or self.now >= self.window_start + 60
        if expired and (self.windows is None or self.opened < self.windows):
            self.window_start, self.used = self.now, 0
            self.opened += 1
        if self.serve is not None and self.used >= self.serve:
            extra: list[tuple[str, str]] = []
            if self.retry_after == "exact" and self.window_start is not None:
                wait = math.ceil(self.window_start + 60 - self.now)
                extra.append(("Retry-After", str(wait)))
            elif self.retry_after is not None:
                extra.append(("Retry-After", self.retry_after))
            return self.answer(self.status, {"error": "Too many requests"}, extra)
        self.used += 1
        return self.answer(200, {"balance": "10.00000", "currency": "USD"})

    @staticmethod
    def answer(
        status: int, body: object, extra: list[tuple[str, str]] | None = None
    ) -> RawResponse:
        headers = [("Content-Type", "application/json"), *(extra or [])]
        return RawResponse(status, tuple(headers), json.dumps(body).encode())


def throttled_run(
    panel: ThrottlingPanel, monkeypatch: pytest.MonkeyPatch, limit: int = LIMIT
) -> HarnessRun:
    # The run lets time pass with time.sleep when there is no control API: on the fake's clock.
    monkeypatch.setattr(time, "sleep", panel.sleep)
    config = PanelConfig(
        url="http://panel.invalid/api/v2", key=Secret(KEY, "main key"), rate_limit=limit,
        request_rate=1000.0,
    )
    return HarnessRun(config, transport=panel)


def test_a_panel_that_throttles_as_advertised_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = ThrottlingPanel()
    run = throttled_run(panel, monkeypatch)
    assert play(run, scenario_file("rate-limit")) is None
    for clause in ("RATE-001", "RATE-002", "RATE-003", "RATE-004", "RATE-005"):
        assert verdict(run, clause) is Verdict.PASS, clause
    # one opening balance, a quiet minute, LIMIT served + the first refusal, the announced
    # wait, one more request served
    assert panel.received == ["balance"] * (1 + LIMIT + 1 + 1)
    assert panel.slept == [60.0, 60.0]


def test_a_panel_that_never_throttles_fails_rate_002(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = ThrottlingPanel(serve=None)
    run = throttled_run(panel, monkeypatch)
    failure = play(run, scenario_file("rate-limit"))
    assert failure is not None
    assert failure.clause == "RATE-002"
    assert failure.step is not None
    assert failure.step.name == "a burst past the limit"
    assert verdict(run, "RATE-002") is Verdict.FAIL
    assert panel.received.count("balance") == 1 + LIMIT + 10  # the repeat is bounded


def test_throttling_before_the_limit_fails_rate_001(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = ThrottlingPanel(serve=LIMIT - 2)
    run = throttled_run(panel, monkeypatch)
    failure = play(run, scenario_file("rate-limit"))
    assert failure is not None
    assert failure.clause == "RATE-001"
    assert "sent = 4" in failure.got
    assert f"rate_limit = {LIMIT}" in failure.got


def test_a_429_without_retry_after_fails_rate_004(monkeypatch: pytest.MonkeyPatch) -> None:
    # RATE-004 is a SHOULD (seed 000 alone sends Retry-After): recorded, and the scenario
    # goes on to judge the rest.
    panel = ThrottlingPanel(retry_after=None)
    run = throttled_run(panel, monkeypatch)
    assert play(run, scenario_file("rate-limit")) is None
    assert verdict(run, "RATE-004") is Verdict.NON_STRICT
    assert "no Retry-After header" in run.book.outcome("RATE-004").reason
    assert verdict(run, "RATE-002") is Verdict.PASS
    assert verdict(run, "RATE-003") is Verdict.PASS


def test_throttling_with_http_200_is_non_strict_and_retry_after_is_not_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = ThrottlingPanel(status=200, retry_after=None)
    run = throttled_run(panel, monkeypatch)
    assert play(run, scenario_file("rate-limit")) is None
    assert verdict(run, "RATE-003") is Verdict.NON_STRICT
    assert verdict(run, "RATE-004") is Verdict.NA
    assert "no HTTP 429 answer to judge" in run.book.outcome("RATE-004").reason
    assert verdict(run, "RATE-005") is Verdict.PASS  # after the default wait of 60 seconds
    assert panel.slept == [60.0, 60.0]


def test_a_key_still_refused_after_retry_after_fails_rate_005(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = ThrottlingPanel(windows=2, retry_after="3")  # the opening read, the burst
    run = throttled_run(panel, monkeypatch)
    assert play(run, scenario_file("rate-limit")) is None  # RATE-005 is a SHOULD: recorded
    assert verdict(run, "RATE-005") is Verdict.NON_STRICT
    evidence = run.book.outcome("RATE-005").evidence
    assert evidence
    assert "HTTP 429" in evidence[0].exchanges[0]


def test_without_an_advertised_limit_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = ThrottlingPanel()
    monkeypatch.setattr(time, "sleep", panel.sleep)
    run = HarnessRun(PanelConfig(url="http://panel.invalid/api/v2", key=Secret(KEY, "k")),
                     transport=panel)
    with pytest.raises(NotApplicable) as stopped:
        judged(run, scenario_file("rate-limit")).run()
    assert stopped.value.reason is NaReason.NO_RATE_LIMIT
    assert panel.received == []
    assert panel.slept == []


# ---------------------------------------------------------------------------------------------
# Against the reference mock


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningPanel]:
    config = MockConfig(keys=((KEY, Decimal(100)),), control_token=TOKEN, clock="manual")
    with run_panel(config) as panel:
        yield panel
        assert panel.failures == ()


def mock_run(mock: RunningPanel, *, control: bool = True, spend: str = "5") -> HarnessRun:
    config = PanelConfig(
        url=mock.url, key=Secret(KEY, "main key"), max_spend=Decimal(spend),
        control_url=mock.control_url if control else None,
        control_token=Secret(TOKEN, "control token") if control else None,
        request_rate=1000.0, order_timeout=30.0,
    )
    return HarnessRun(config)


def journal(mock: RunningPanel) -> list[dict[str, object]]:
    run = mock_run(mock)
    assert run.control is not None
    answer = run.control.journal()
    assert isinstance(answer, dict)
    entries: list[dict[str, object]] = answer["exchanges"]
    return entries


HEAD = """\
name: {name}
description: A scenario written for one test of the runner.
clauses: [{clauses}]
needs: [{needs}]
"""


def scenario(name: str, clauses: str, needs: str, body: str) -> Scenario:
    return load_scenario(HEAD.format(name=name, clauses=clauses, needs=needs) + body, name)


@pytest.mark.parametrize(
    ("needs", "control", "spend", "reason", "detail"),
    [
        ("spend", True, "0", NaReason.SPEND_CAP, "--panel-max-spend is 0"),
        ("control", False, "5", NaReason.NO_CONTROL, ""),
        ("second-key", False, "5", NaReason.NO_SECOND_KEY, ""),
        ("rate-limit", True, "5", NaReason.NO_RATE_LIMIT, ""),
    ],
)
def test_a_missing_need_is_not_applicable_before_anything_is_sent(
    mock: RunningPanel, needs: str, control: bool, spend: str, reason: NaReason, detail: str
) -> None:
    body = "steps:\n  - name: read\n    action: balance\n    expect:\n" \
           "      - {outcome: ok, clause: BAL-001}\n"
    run = mock_run(mock, control=control, spend=spend)
    runner = judged(run, scenario("needy", "BAL-001", needs, body))
    with pytest.raises(NotApplicable) as stopped:
        runner.run()
    assert stopped.value.reason is reason
    assert detail in stopped.value.text
    assert runner.trace == []


def test_an_optional_service_the_panel_lacks_skips_the_steps_that_depend_on_it(
    mock: RunningPanel,
) -> None:
    body = """\
services:
  cheap: {type: Default}
  missing: {type: Poll, refill: true, optional: true}
steps:
  - name: an order that can be placed
    action: add
    params: {service: "${cheap.id}", link: "${link}", quantity: "${cheap.quantity}"}
    expect:
      - {outcome: ok, clause: ADD-001}
  - name: an order of a service that does not exist
    action: add
    params: {service: "${missing.id}", link: "${link}", quantity: "${missing.quantity}"}
    expect:
      - {balance_delta: -charge, clause: MONEY-002}
    capture:
      poll: /order
  - name: depends on it through a capture
    action: status
    params: {order: "${poll}"}
    expect:
      - {outcome: ok, clause: STATUS-001}
"""
    loaded = scenario("optional", "ADD-001, MONEY-002, STATUS-001", "spend", body)
    assert [s.deps for s in loaded.steps] == [frozenset(), {"missing"}, {"missing"}]
    run = mock_run(mock)
    runner = judged(run, loaded)
    runner.run()
    assert [number for number, e in runner.trace if e.request.action == "add"] == [1]
    assert not any(e.request.action == "status" for _, e in runner.trace)
    assert run.judge is not None
    run.judge.finish_passed()
    assert verdict(run, "ADD-001") is Verdict.PASS
    for clause in ("MONEY-002", "STATUS-001"):
        outcome = run.book.outcome(clause)
        assert outcome.verdict is Verdict.NA
        assert "no Poll service with refill" in outcome.reason


def test_a_should_failure_is_recorded_and_the_scenario_goes_on(mock: RunningPanel) -> None:
    body = """\
steps:
  - name: a SHOULD that fails
    action: balance
    expect:
      - {that: "1 == 2", clause: BAL-003}
  - name: a MUST that holds
    action: status
    params: {order: "${never_issued}"}
    expect:
      - {outcome: error, clause: STATUS-005}
"""
    run = mock_run(mock)
    assert play(run, scenario("lenient", "BAL-003, STATUS-005", "none", body)) is None
    assert verdict(run, "BAL-003") is Verdict.NON_STRICT
    assert verdict(run, "STATUS-005") is Verdict.PASS
    assert "step 1 \"a SHOULD that fails\"" in run.book.outcome("BAL-003").reason


def test_a_must_failure_stops_the_scenario(mock: RunningPanel) -> None:
    body = """\
steps:
  - name: a MUST that fails
    action: balance
    expect:
      - {that: "2 + 2 == 5", clause: BAL-001, what: "arithmetic as the panel knows it"}
  - name: never reached
    action: status
    params: {order: "${never_issued}"}
    expect:
      - {outcome: error, clause: STATUS-005}
"""
    run = mock_run(mock)
    runner = judged(run, scenario("strict", "BAL-001, STATUS-005", "none", body))
    with pytest.raises(ScenarioFailure) as failed:
        runner.run()
    failure = failed.value
    assert failure.clause == "BAL-001"
    assert failure.step is not None
    assert failure.step.number == 1
    assert failure.expected == "arithmetic as the panel knows it"
    assert failure.source == "/steps/0/expect/0"
    assert failure.got == "2 + 2 = 4; 5 = 5"
    assert failure.message.startswith('step 1 "a MUST that fails": expected arithmetic')
    assert [e.request.action for e in failure.exchanges] == ["balance"]
    assert not any(e.request.action == "status" for _, e in runner.trace)
    # Raised, not recorded: the plugin records what a test raises (one road per failure).
    assert verdict(run, "BAL-001") is not Verdict.FAIL


def test_a_value_that_cannot_be_captured_fails_the_step(mock: RunningPanel) -> None:
    body = """\
steps:
  - name: read the balance
    action: balance
    expect:
      - {outcome: ok, clause: BAL-001}
    capture:
      missing: /no_such_field
"""
    run = mock_run(mock)
    failure = play(run, scenario("capture", "BAL-001", "none", body))
    assert failure is not None
    assert failure.clause == "BAL-001"
    assert failure.expected == "a value for missing"
    assert failure.source == "/steps/0/capture/missing"
    assert failure.got == "/no_such_field is absent from the answer"


def test_a_wait_that_ends_in_another_final_status_fails(mock: RunningPanel) -> None:
    body = """\
services:
  cheap: {type: Default}
steps:
  - name: place
    action: add
    params: {service: "${cheap.id}", link: "${link}", quantity: "${cheap.quantity}"}
    expect:
      - {outcome: ok, clause: ADD-001}
    capture:
      order: /order
  - name: the provider cancels it
    control:
      order_outcome: {order: "${order}", status: Canceled}
  - name: wait for completion
    wait_for: {order: "${order}", status: [Completed], clause: LIFE-001}
"""
    run = mock_run(mock)
    failure = play(run, scenario("ending", "ADD-001, LIFE-001", "spend, control", body))
    assert failure is not None
    assert failure.clause == "LIFE-001"
    assert failure.got == "it ended 'Canceled'"
    assert verdict(run, "ADD-001") is Verdict.PASS


def test_a_black_box_wait_gives_up_at_the_order_timeout(mock: RunningPanel) -> None:
    body = """\
services:
  cheap: {type: Default}
steps:
  - name: place
    action: add
    params: {service: "${cheap.id}", link: "${link}", quantity: "${cheap.quantity}"}
    expect:
      - {outcome: ok, clause: ADD-001}
    capture:
      order: /order
  - name: wait for completion
    wait_for: {order: "${order}", status: [Completed], clause: LIFE-001}
"""
    clock = [0.0]
    naps: list[float] = []

    def nap(seconds: float) -> None:  # the mock's manual clock never moves: nothing finishes
        naps.append(seconds)
        clock[0] += seconds

    run = mock_run(mock, control=False)
    runner = judged(run, scenario("patience", "ADD-001, LIFE-001", "spend", body),
                    sleep=nap, clock=lambda: clock[0])
    with pytest.raises(NotApplicable) as stopped:
        runner.run()
    assert stopped.value.reason is NaReason.TIMEOUT
    assert sum(naps) == pytest.approx(30.0)
    assert max(naps) <= 10.0
    polls = [e for _, e in runner.trace if e.request.action == "status"]
    assert len(polls) == len(naps) + 1


def test_steps_using_an_action_the_panel_lacks_are_skipped() -> None:
    config = MockConfig(profile="smmpro", keys=((KEY, Decimal(100)),), control_token=TOKEN,
                        clock="manual")
    with run_panel(config) as smmpro:  # seed 001's panel has no cancel action
        run = mock_run(smmpro)
        loaded = scenario_file("cancel")
        assert all("action:cancel" in step.deps for step in loaded.steps[1:7])
        runner = judged(run, loaded)
        runner.run()
        assert run.judge is not None
        run.judge.finish_passed()
        sent = [e.request.action for _, e in runner.trace]
        assert smmpro.failures == ()
    assert sent.count("cancel") == 1  # the probe that found cancel unknown, nothing more
    assert verdict(run, "ADD-001") is Verdict.PASS
    assert verdict(run, "MONEY-001") is Verdict.PASS
    for clause in ("CANCEL-001", "CANCEL-003", "CANCEL-005", "CANCEL-007"):
        outcome = run.book.outcome(clause)
        assert outcome.verdict is Verdict.NA, clause
        assert "action=cancel is unknown to the panel" in outcome.reason


@dataclass
class QueuedPanel:
    """A Transport whose orders all read ``Queued``, a word no dialect uses."""

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        action = dict(parse_qsl((body or b"").decode())).get("action")
        answer: object = {"balance": "10.00", "currency": "USD"}
        if action == "status":
            answer = {"charge": "0.10", "start_count": "0", "status": "Queued", "remains": "5",
                      "currency": "USD"}
        return ThrottlingPanel.answer(200, answer)


def test_an_unknown_status_word_fails_the_vocabulary_clause_not_the_assertion_s() -> None:
    body = """\
steps:
  - name: read an order
    action: status
    params: {order: "1"}
    expect:
      - {status: [Pending], clause: STATUS-005}
"""
    run = HarnessRun(PanelConfig(url="http://panel.invalid/api/v2", key=Secret(KEY, "k"),
                                 request_rate=1000.0), transport=QueuedPanel())
    failure = play(run, scenario("queued", "STATUS-005", "none", body))
    assert failure is not None
    assert failure.clause == "STATUS-002"
    assert failure.got == "status 'Queued'"
    assert failure.source == "/steps/0/expect/0"
    assert verdict(run, "STATUS-002") is Verdict.FAIL
    assert verdict(run, "STATUS-005") is Verdict.NA
