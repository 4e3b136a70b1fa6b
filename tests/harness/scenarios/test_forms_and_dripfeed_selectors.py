"""Two scenario-language additions, loaded and run against the mock's dialects:

- ``dripfeed: accepted`` picks a service that takes drip-feed orders: flagged, or on a
  catalogue that flags none (seed 002, profile ``smmhub``) the one the run's drip-feed probe
  proved; ``dripfeed: true`` still means the flag;
- ``balance_delta`` as a list: any one of the amounts, for a charge that depends on the
  dialect (a Custom Comments Package: flat, or per post as in seed 004, profile ``extended``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from harness.judging.judge import NotApplicable
from harness.judging.verdicts import NaReason, Verdict
from harness.scenarios import DeltaCheck, RequestStep, ScenarioError
from mockpanel.config import MockConfig
from mockpanel.server import RunningPanel, run_panel
from tests.harness.scenarios.test_runner import (
    KEY,
    TOKEN,
    judged,
    mock_run,
    play,
    scenario,
    scenario_file,
    verdict,
)

DRIP_SERVICES = """\
services:
  drip: {type: Default, dripfeed: WANT}
steps:
  - name: a drip-feed order
    action: add
    params: {service: "${drip.id}", link: "${link}", quantity: "${drip.quantity}", runs: 2,
             interval: 5}
    expect:
      - {outcome: ok, clause: ADD-001}
      - {balance_delta: "-(drip.rate * drip.quantity * 2 / 1000)", clause: DRIP-001}
"""


@contextmanager
def profile(name: str) -> Iterator[RunningPanel]:
    config = MockConfig(profile=name, keys=((KEY, Decimal(100)),), control_token=TOKEN,
                        clock="manual")
    with run_panel(config) as panel:
        yield panel
        assert panel.failures == ()


# ---- loading --------------------------------------------------------------------------------


def test_dripfeed_accepted_is_loaded_and_needs_spend() -> None:
    loaded = scenario("drip", "ADD-001, DRIP-001", "spend",
                      DRIP_SERVICES.replace("WANT", "accepted"))
    [(_, selector)] = loaded.services
    assert selector.dripfeed is True
    assert selector.dripfeed_accepted
    assert "proven by the run's probe" in selector.describe()
    flagged = scenario("flag", "ADD-001, DRIP-001", "spend", DRIP_SERVICES.replace("WANT", "true"))
    assert not flagged.services[0][1].dripfeed_accepted


def test_dripfeed_accepted_without_spend_is_refused() -> None:
    body = ("services:\n  drip: {type: Default, dripfeed: accepted}\nsteps:\n"
            "  - name: read\n    action: balance\n    expect:\n"
            "      - {outcome: ok, clause: BAL-001}\n")
    with pytest.raises(ScenarioError, match="/services/drip/dripfeed: dripfeed: accepted "
                                            "needs 'spend'"):
        scenario("nospend", "BAL-001", "control", body)


def test_another_dripfeed_word_is_refused() -> None:
    with pytest.raises(ScenarioError, match="dripfeed"):
        scenario("bad", "ADD-001, DRIP-001", "spend", DRIP_SERVICES.replace("WANT", "maybe"))


def test_balance_delta_alternatives_are_loaded_and_their_names_resolved() -> None:
    loaded = scenario_file("balance-debits")
    deltas = [a for s in loaded.steps if isinstance(s, RequestStep) for a in s.expect
              if isinstance(a, DeltaCheck) and a.clause == "MONEY-002"]
    package = next(d for d in deltas if len(d.deltas[0][1]) == 2)
    assert [e.text for e in package.deltas[0][1]] == [
        "-comments_package.rate", "-(comments_package.rate * comments_package.quantity / 1000)"]
    # The step depends on the optional package service through either alternative.
    step = next(s for s in loaded.steps if package in getattr(s, "expect", ()))
    assert "comments_package" in step.deps
    body = ("steps:\n  - name: read\n    action: balance\n    expect:\n"
            "      - {balance_delta: [\"0\", \"-nowhere.rate\"], clause: BAL-001}\n")
    with pytest.raises(ScenarioError, match="nowhere"):
        scenario("unknown", "BAL-001", "control", body)


# ---- running: drip-feed on a catalogue without flags ----------------------------------------


def test_the_drip_feed_scenario_is_judged_on_smmhub() -> None:
    with profile("smmhub") as smmhub:
        run = mock_run(smmhub)
        loaded = scenario_file("drip-feed")
        assert play(run, loaded) is None
    for clause in ("ADD-001", "DRIP-001", "DRIP-002", "DRIP-003", "DRIP-005"):
        assert verdict(run, clause) is Verdict.PASS, (clause, run.book.outcome(clause).reason)
    # No service states dripfeed: false, so the one plain-service step stays N/A.
    assert verdict(run, "DRIP-004") is Verdict.NA


def test_dripfeed_true_still_means_the_flag() -> None:
    with profile("smmhub") as smmhub:
        run = mock_run(smmhub)
        loaded = scenario("flag", "ADD-001, DRIP-001", "spend",
                          DRIP_SERVICES.replace("WANT", "true"))
        runner = judged(run, loaded)
        with pytest.raises(NotApplicable) as stopped:
            runner.run()
    assert stopped.value.reason is NaReason.NOT_OFFERED
    assert "no Default service with dripfeed" in stopped.value.text
    assert not any(e.request.action == "add" for _, e in runner.trace)


def test_dripfeed_accepted_reuses_the_run_s_probe() -> None:
    with profile("smmhub") as smmhub:
        run = mock_run(smmhub)
        loaded = scenario("drip", "ADD-001, DRIP-001", "spend",
                          DRIP_SERVICES.replace("WANT", "accepted"))
        first = judged(run, loaded)
        first.run()
        second = judged(run, loaded)
        second.run()
    adds = [[e.request for _, e in r.trace if e.request.action == "add"]
            for r in (first, second)]
    assert len(adds[0]) >= 2  # the probe (a refused candidate or more, one accepted), then
    service = [dict(a[-1].params)["service"] for a in adds]
    assert service[0] == service[1]  # the scenario's own order on it, and again:
    assert len(adds[1]) == 1  # the probe's finding is the run's, not probed again


def test_dripfeed_accepted_takes_a_flagged_service_without_probing() -> None:
    with profile("reference") as reference:  # flags its drip-feed services
        run = mock_run(reference)
        loaded = scenario("drip", "ADD-001, DRIP-001", "spend",
                          DRIP_SERVICES.replace("WANT", "accepted"))
        runner = judged(run, loaded)
        runner.run()
    adds = [e for _, e in runner.trace if e.request.action == "add"]
    assert len(adds) == 1  # the scenario's order alone
    assert verdict(run, "DRIP-001") is Verdict.PASS


def test_a_probe_the_cap_cannot_pay_leaves_the_scenario_not_applicable_saying_why() -> None:
    with profile("smmhub") as smmhub:
        # Black-box: the cap binds; smmhub's cheapest drip-feed probe costs 0.00004.
        run = mock_run(smmhub, control=False, spend="0.00003")
        loaded = scenario("drip", "ADD-001, DRIP-001", "spend",
                          DRIP_SERVICES.replace("WANT", "accepted"))
        runner = judged(run, loaded)
        with pytest.raises(NotApplicable) as stopped:
            runner.run()
    assert stopped.value.reason is NaReason.SPEND_CAP
    assert "a drip-feed probe on service" in stopped.value.text
    assert "no Default service with drip-feed (flagged, or proven" in stopped.value.text
    assert not any(e.request.action == "add" for _, e in runner.trace)


# ---- running: a Custom Comments Package in either form --------------------------------------


@pytest.mark.parametrize(("name", "charge"), [("extended", "0.08"), ("reference", "3.50")])
def test_balance_debits_judge_the_package_at_its_form_s_price(name: str, charge: str) -> None:
    with profile(name) as panel:
        run = mock_run(panel, spend="20")
        loaded = scenario_file("balance-debits")
        runner = judged(run, loaded)
        runner.run()
        assert run.judge is not None
        run.judge.finish_passed()
    for clause in loaded.clauses:
        assert verdict(run, clause) is Verdict.PASS, (clause, run.book.outcome(clause).reason)
    reported = {Decimal(str(e.json["charge"])) for _, e in runner.trace
                if e.request.action == "status" and isinstance(e.json, dict)
                and e.json.get("charge") is not None}
    assert Decimal(charge) in reported  # the package's charge, at its form's price


PACKAGE_STEP = """\
services:
  pkg: {{type: Custom Comments Package}}
steps:
  - name: a package in both forms
    action: add
    params:
      service: "${{pkg.id}}"
      link: "${{link}}"
      comments: "${{pkg.comments}}"
      username: conformance
      min: "${{pkg.quantity}}"
      max: "${{pkg.quantity}}"
      delay: "5"
      posts: "1"
    expect:
      - {{outcome: ok, clause: ADD-001}}
      - balance_delta: [{first}, {second}]
        clause: MONEY-002
"""
FLAT = '"-pkg.rate"'
PER_POST = '"-(pkg.rate * pkg.quantity / 1000)"'
WRONG = ['"-(pkg.rate * 2)"', '"-(pkg.rate * pkg.quantity / 500)"']


@pytest.mark.parametrize("name", ["extended", "reference"])
def test_a_debit_matching_neither_alternative_is_caught(name: str) -> None:
    body = PACKAGE_STEP.format(first=WRONG[0], second=WRONG[1])
    with profile(name) as panel:
        run = mock_run(panel, spend="20")
        assert play(run, scenario("pkg", "ADD-001, MONEY-002", "spend", body)) is None
    outcome = run.book.outcome("MONEY-002")
    assert outcome.verdict is Verdict.NON_STRICT  # a SHOULD's failure
    assert "or" in outcome.reason


@pytest.mark.parametrize(("name", "first", "second"), [
    ("extended", FLAT, PER_POST), ("reference", FLAT, PER_POST),
    ("extended", PER_POST, WRONG[0]), ("reference", WRONG[1], FLAT),
])
def test_a_debit_matching_one_alternative_passes(name: str, first: str, second: str) -> None:
    body = PACKAGE_STEP.format(first=first, second=second)
    with profile(name) as panel:
        run = mock_run(panel, spend="20")
        assert play(run, scenario("pkg", "ADD-001, MONEY-002", "spend", body)) is None
    assert verdict(run, "MONEY-002") is Verdict.PASS
