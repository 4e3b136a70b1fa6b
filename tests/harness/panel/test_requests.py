"""Fewer requests (issue 21): each request the harness saves, proven by counting what a fake
panel receives, with the case where saving would be wrong sent as before; the count per test
and per action; the example budget of live runs.

The plan printed before the first test has tests of its own (``tests/harness/run/test_plan.py``).
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import jsonschema
import pytest
from hypothesis import strategies as st

from harness.base.errors import TransportError
from harness.base.exchange import Exchange, SentRequest
from harness.base.redaction import Secret
from harness.contract import resources
from harness.judging.checks import CheckFailure, require
from harness.judging.judge import Judge
from harness.panel.driver import QUIET_SECONDS, Panel
from harness.run.config import DEFAULT_EXAMPLES, LIVE_EXAMPLES, PanelConfig, default_examples
from harness.run.session import HarnessRun
from harness.run.tally import AFTER, BEFORE, OUTSIDE, RequestTally, action_of
from harness.wire.client import RawResponse
from tests.fixtures.fakepanel import KEY, FakePanel, serve
from tests.fixtures.transports import RecordingTransport, Sent

with warnings.catch_warnings():  # the suite's clause mark is registered by the plugin only
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    from harness.suite import test_13_properties as properties

SECOND = "second-key-Wq73nd0p"
SERVICE = {"service": "1", "name": "Followers", "type": "Default", "category": "Test",
           "rate": "1.00", "min": "10", "max": "1000", "refill": False, "cancel": True}


@dataclass
class CountingPanel:
    """A tiny panel answering the requests its :attr:`transport` records; ``received`` lists
    the action of every request, which is what each test counts. ``debit_on`` names an action
    that (wrongly) takes 1.00 from the caller; ``services_refused`` answers services with an
    error."""

    balances: dict[str, Decimal] = field(
        default_factory=lambda: {KEY: Decimal("10.00"), SECOND: Decimal("1.00")})
    orders: dict[str, str] = field(default_factory=dict)  # id -> status
    debit_on: str | None = None
    services_refused: int = 0
    transport: RecordingTransport = field(init=False)

    def __post_init__(self) -> None:
        self.transport = RecordingTransport(self.answer_to)

    @property
    def received(self) -> list[str]:
        return [request.params.get("action", "") for request in self.transport.requests]

    def answer_to(self, request: Sent) -> RawResponse:
        params = request.params
        action = params.get("action", "")
        key = params.get("key", "")
        if key not in self.balances:
            return self.answer({"error": "Invalid API key"})
        if action == self.debit_on:
            self.balances[key] -= Decimal("1.00")
        if action == "balance":
            return self.answer({"balance": f"{self.balances[key]:.2f}", "currency": "USD"})
        if action == "services":
            if self.services_refused:
                self.services_refused -= 1
                return self.answer({"error": "Try again later"})
            return self.answer([SERVICE])
        if action == "add":
            self.balances[key] -= Decimal(params["quantity"]) / 1000
            order = str(100 + len(self.orders))
            self.orders[order] = "Pending"
            return self.answer({"order": order})
        if action == "status" and params.get("order") in self.orders:
            order = params["order"]
            return self.answer({"charge": "0.01", "start_count": "0", "remains": "0",
                                "status": self.orders[order], "currency": "USD"})
        if action == "status" and "orders" in params:
            return self.answer({i: {"error": "Incorrect order ID"}
                                for i in params["orders"].split(",")})
        if action == "cancel":
            return self.answer([{"order": i, "cancel": 1} for i in params["orders"].split(",")])
        return self.answer({"error": "Incorrect order ID"})

    @staticmethod
    def answer(body: object) -> RawResponse:
        return RawResponse(200, (("Content-Type", "application/json"),),
                           json.dumps(body).encode())


class SpyJudge(Judge):
    """A judge that keeps the exchanges the checks ran on."""

    def __init__(self, run: HarnessRun, test: str) -> None:
        super().__init__(run.book, run.registry, test, ())
        self.seen: list[Exchange] = []

    def observe(self, exchange: Exchange) -> None:
        self.seen.append(exchange)
        super().observe(exchange)


def harness_run(panel: CountingPanel, *, spend: str = "5", examples: int = 3) -> HarnessRun:
    config = PanelConfig(url="http://panel.invalid/api/v2", key=Secret(KEY, "main key"),
                         second_key=Secret(SECOND, "second key"), max_spend=Decimal(spend),
                         request_rate=1000.0, examples=examples)
    return HarnessRun(config, transport=panel.transport)


def in_test(run: HarnessRun, name: str = "test_x") -> SpyJudge:
    judge = SpyJudge(run, name)
    run.judge = judge
    return judge


def sent_since(panel: CountingPanel, mark: int) -> list[str]:
    return panel.received[mark:]


# ---------------------------------------------------------------------------------------------
# balance reads


def test_an_order_reads_the_balance_once_before_and_once_after() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    driver = run.panel
    service, quantity = driver.cheapest_default()  # the catalogue, and a balance: precision
    spec = driver.default_order(service, quantity)
    wallet = driver.spending_wallet(driver.worst_case(spec.price))
    order = driver.place(wallet, spec)
    # That read is also the wallet's (is there enough?) and the order's "before".
    assert panel.received == ["services", "balance", "add", "balance"]
    assert order.debit == Decimal("0.01")


def test_any_request_in_between_makes_the_next_read_a_real_one() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    key = run.panel.main_key()
    first = run.panel.read_balance(key)
    run.panel.status(key, run.panel.never_issued())  # a request: money may have moved
    panel.balances[KEY] -= Decimal("2.00")  # (it did, as a defect would make it)
    mark = len(panel.received)
    assert run.panel.quiet_balance(key) == first - 2
    assert sent_since(panel, mark) == ["balance"]


def test_reading_another_keys_balance_leaves_a_read_standing() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    main, second = run.panel.main_key(), Secret(SECOND, "second key")
    first = run.panel.read_balance(main)
    run.panel.read_balance(second)  # a read moves no money
    mark = len(panel.received)
    assert run.panel.quiet_balance(main) == first
    assert sent_since(panel, mark) == []


def test_a_read_is_kept_across_tests_only_while_no_order_can_be_refunded() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run, "test_a")
    driver = run.panel
    key = driver.main_key()
    driver.read_balance(key)
    driver.release()  # the end of test_a: nothing was ordered
    in_test(run, "test_b")
    mark = len(panel.received)
    driver.quiet_balance(key)
    assert sent_since(panel, mark) == []

    service, quantity = driver.cheapest_default()
    spec = driver.default_order(service, quantity)
    driver.place(driver.spending_wallet(driver.worst_case(spec.price)), spec)
    driver.release()  # the end of test_b: its order is cancelled, its refund may come later
    in_test(run, "test_c")
    mark = len(panel.received)
    driver.quiet_balance(key)
    assert sent_since(panel, mark) == ["balance"]


def test_a_read_older_than_the_quiet_seconds_is_not_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    key = run.panel.main_key()
    run.panel.read_balance(key)
    now[0] += QUIET_SECONDS / 2
    mark = len(panel.received)
    run.panel.quiet_balance(key)
    assert sent_since(panel, mark) == []
    now[0] += QUIET_SECONDS  # a pause: time passed for the panel's orders
    run.panel.quiet_balance(key)
    assert sent_since(panel, mark) == ["balance"]


def test_with_a_control_api_every_read_is_a_real_one(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    # A clock advance or an outcome set moves money with no request the client sees.
    monkeypatch.setattr(Panel, "controlled", property(lambda self: True))
    key = run.panel.main_key()
    run.panel.read_balance(key)
    mark = len(panel.received)
    run.panel.quiet_balance(key)
    assert sent_since(panel, mark) == ["balance"]


def test_the_deliberate_second_read_always_asks_the_panel() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    key = run.panel.main_key()
    run.panel.read_balance(key)
    mark = len(panel.received)
    run.panel.read_balance(key)  # "is the refund taken once?" needs a new answer
    assert sent_since(panel, mark) == ["balance"]


# ---------------------------------------------------------------------------------------------
# cancelling at the end of a test


def test_release_cancels_only_the_orders_not_seen_finished() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    driver = run.panel
    service, quantity = driver.cheapest_default()
    spec = driver.default_order(service, quantity)
    wallet = driver.spending_wallet(driver.worst_case(spec.price) * 2)
    done, running = driver.place(wallet, spec), driver.place(wallet, spec)
    panel.orders[done.id] = "Completed"
    driver.read_status(wallet.key, done)
    mark = len(panel.received)
    driver.release()
    assert sent_since(panel, mark) == ["cancel"]
    # The cancel names the running order alone.
    last = [e for e in judge_log(run) if e.request.action == "cancel"]
    assert [dict(e.request.params).get("orders") for e in last] == [running.id]


def judge_log(run: HarnessRun) -> list[Exchange]:
    judge = run.judge
    assert isinstance(judge, SpyJudge)
    return judge.seen


# ---------------------------------------------------------------------------------------------
# answers heard before the first test, and the catalogue


def before_the_tests(run: HarnessRun) -> None:
    """What pre-flight and the fingerprint ask before any test runs (no judge yet)."""
    key = run.panel.main_key()
    run.client.call({"action": "balance"}, key=key, form="balance")
    run.client.call({"action": "services"}, key=key, form="services")
    run.client.call({"action": "status", "order": "9100000000000"}, key=key, form="status")
    run.client.call({"action": "status", "orders": "9100000000000"}, key=key,
                    form="status-multi")


def test_answers_from_before_the_tests_are_used_once_and_judged_where_used() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    before_the_tests(run)
    judge = in_test(run)
    key = run.panel.main_key()
    mark = len(panel.received)
    status = run.panel.asked_before("status", key)
    assert status is not None
    assert status.request.action == "status"
    assert judge.seen == [status]  # the checks ran on it in this test
    assert run.panel.asked_before("status", key) is None  # once per run
    assert run.panel.asked_before("balance", Secret("not-the-main-key", "other")) is None
    run.panel.catalog()
    assert run.panel.multi_status_action() == "status"
    assert sent_since(panel, mark) == []


def test_an_answer_asked_during_a_test_is_never_taken_for_one_from_before() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    in_test(run)
    key = run.panel.main_key()
    run.panel.status(key, run.panel.never_issued())
    assert run.panel.asked_before("status", key) is None


def test_the_fingerprints_probes_answer_the_drivers_questions() -> None:
    """After the dialect fingerprint, which optional actions exist and which action answers
    multi-status cost no request: the probes were sent once, before the first test."""
    panel = CountingPanel()
    run = harness_run(panel)
    guess = run.detect_dialect()
    assert guess.name is not None
    judge = in_test(run)
    mark = len(panel.received)
    never = run.panel.never_issued()
    assert run.panel.offers("cancel", {"orders": never})  # answered: offered
    assert not run.panel.offers("refill_status", {"refill": never})  # refused as unknown
    assert run.panel.multi_status_action() == "status"
    assert sent_since(panel, mark) == []
    # Judged in the test that used them, as the driver's own probes are: no form, so no
    # schema of the action is held to a probe's refusal.
    assert {e.request.action for e in judge.seen} >= {"cancel", "refill_status",
                                                      "smm_fingerprint_no_such_action"}
    assert all(e.form is None for e in judge.seen if e.request.action != "status")
    # A question the fingerprint did not ask goes to the panel.
    assert not run.panel.offers("refill", {"order": never})
    assert sent_since(panel, mark) == ["refill"]


def test_without_a_fingerprint_the_driver_probes_for_itself_and_concludes_the_same() -> None:
    with_probes, without = CountingPanel(), CountingPanel()
    fingerprinted, plain = harness_run(with_probes), harness_run(without)
    fingerprinted.detect_dialect()
    answers = []
    for run in (fingerprinted, plain):
        in_test(run)
        never = run.panel.never_issued()
        answers.append((run.panel.offers("cancel", {"orders": never}),
                        run.panel.offers("refill_status", {"refill": never}),
                        run.panel.multi_status_action()))
    assert answers[0] == answers[1] == (True, False, "status")
    assert without.received == ["smm_fingerprint_no_such_action", "cancel", "refill_status",
                                "status"]


@dataclass
class DroppingCancels(CountingPanel):
    """The counting panel, its connection dropped on every ``cancel`` while ``dropping``."""

    dropping: bool = True

    def answer_to(self, request: Sent) -> RawResponse:
        if self.dropping and request.params.get("action") == "cancel":
            raise TransportError("ConnectionResetError: reset by peer")
        return super().answer_to(request)


def test_a_probe_that_got_no_answer_is_asked_again() -> None:
    panel = DroppingCancels()
    run = harness_run(panel)
    run.detect_dialect()
    assert "cancel" in panel.received
    panel.dropping = False
    in_test(run)
    mark = len(panel.received)
    assert run.panel.offers("cancel", {"orders": run.panel.never_issued()})
    assert sent_since(panel, mark) == ["cancel"]


def test_a_probe_is_reused_only_for_never_issued_ids_and_only_from_before_the_tests() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    key = run.panel.main_key()
    run.client.call({"action": "cancel", "orders": "123"}, key=key, form="cancel")  # a real id
    in_test(run)
    assert run.panel.probed_before("cancel", {"orders": "123"}) is None
    run.client.call({"action": "cancel", "orders": "9100000000000"}, key=key)  # in a test
    assert run.panel.probed_before("cancel", {"orders": "9100000000001"}) is None


def test_the_catalogue_is_asked_once_and_judged_by_each_test_that_reads_it() -> None:
    panel = CountingPanel()
    run = harness_run(panel)
    first = in_test(run, "test_a")
    catalogue = run.panel.catalogue_answer(judged_here=True)
    run.panel.catalog()
    second = in_test(run, "test_b")
    assert run.panel.catalogue_answer(judged_here=True) is catalogue
    assert run.panel.catalogue_answer(judged_here=True) is catalogue
    assert panel.received.count("services") == 1
    assert first.seen == [catalogue]
    assert second.seen == [catalogue]  # once, not once per call


def test_an_answer_that_is_no_catalogue_is_asked_again() -> None:
    panel = CountingPanel(services_refused=1)
    run = harness_run(panel)
    in_test(run)
    with pytest.raises(CheckFailure):
        run.panel.catalog()
    assert len(run.panel.catalog().services) == 1
    assert panel.received.count("services") == 2


# ---------------------------------------------------------------------------------------------
# properties: money read around all examples, the same example never sent twice


def money_property(run: HarnessRun, panel: CountingPanel, explicit: list[str]) -> None:
    driver = run.panel
    key = driver.main_key()

    def send(action: str) -> Exchange:
        return driver.call(None, {"action": action, "order": "9100000000000"}, key)

    def judged(action: str) -> None:
        before = driver.quiet_balance(key)
        exchange = send(action)
        after = driver.read_balance(key)
        require(before == after, "MONEY-004", f"{action} moves no money",
                f"balance {before} -> {after}", [exchange])

    properties._moving_no_money(run, key, st.sampled_from(["status", "refill"]), explicit,
                                send, judged)


def test_a_property_moving_no_money_reads_the_balance_twice_in_all() -> None:
    panel = CountingPanel()
    run = harness_run(panel, examples=3)
    in_test(run)
    mark = len(panel.received)
    money_property(run, panel, ["status", "refill", "status"])
    sent = sent_since(panel, mark)
    assert sent.count("balance") == 2
    assert sent[0] == sent[-1] == "balance"
    # Two distinct examples, each sent once (the repeated explicit one is not sent again).
    assert sorted(sent[1:-1]) == ["refill", "status"]


def test_a_property_whose_request_moves_money_names_that_request() -> None:
    panel = CountingPanel(debit_on="refill")
    run = harness_run(panel, examples=3)
    in_test(run)
    with pytest.raises(CheckFailure) as failed:
        money_property(run, panel, ["status", "refill"])
    assert failed.value.clause == "MONEY-004"
    assert failed.value.title == "refill moves no money"
    assert [e.param("action") for e in failed.value.exchanges] == ["refill"]


def test_a_move_no_request_repeats_fails_nothing() -> None:
    panel = CountingPanel()
    run = harness_run(panel, examples=3)
    in_test(run)
    driver = run.panel
    key = driver.main_key()
    moved = [False]

    def send(action: str) -> Exchange:
        if not moved[0]:  # a refund of an earlier test's order lands meanwhile, once
            panel.balances[KEY] += Decimal("0.50")
            moved[0] = True
        return driver.call(None, {"action": action, "order": "9100000000000"}, key)

    def judged(action: str) -> None:
        before = driver.quiet_balance(key)
        exchange = send(action)
        after = driver.read_balance(key)
        require(before == after, "MONEY-004", "moves no money", f"{before} -> {after}",
                [exchange])

    properties._moving_no_money(run, key, st.sampled_from(["status"]), ["status"], send,
                                judged)


# ---------------------------------------------------------------------------------------------
# the example budget


@pytest.mark.parametrize(
    ("url", "controlled", "expected"),
    [
        ("http://127.0.0.1:8080/api/v2", True, DEFAULT_EXAMPLES),  # the mock, driven
        ("http://localhost/api/v2", True, DEFAULT_EXAMPLES),
        ("http://127.0.0.1:8080/api/v2", False, LIVE_EXAMPLES),  # a local copy, not driven
        ("https://panel.example/api/v2", True, LIVE_EXAMPLES),  # a staging panel elsewhere
        ("https://panel.example/api/v2", False, LIVE_EXAMPLES),
    ],
)
def test_live_panels_get_the_smaller_example_budget(url: str, controlled: bool,
                                                    expected: int) -> None:
    assert default_examples(url, controlled=controlled) == expected
    assert LIVE_EXAMPLES < DEFAULT_EXAMPLES


# ---------------------------------------------------------------------------------------------
# the count


def exchange(action: str | None, *, retries: int = 0, seq: int = 1) -> Exchange:
    params = (("action", action),) if action is not None else ()
    request = SentRequest("POST", action, None, params, "main key", None, "")
    return Exchange(seq, "http://panel.invalid/api/v2", request, 200, (), "{}", {}, None, None,
                    0.0, retries)


def test_the_tally_counts_each_retry_and_names_actions() -> None:
    tally = RequestTally()
    tally.observe(exchange("balance"))  # before any test: pre-flight
    tally.begin("suite/test_01.py::test_a")
    tally.observe(exchange("balance", retries=2))  # two 429s waited out: three requests
    tally.observe(exchange("status"))
    tally.begin("suite/test_01.py::test_b")
    tally.observe(exchange(None))
    tally.observe(exchange("no_such_action"))
    tally.begin("suite/test_01.py::test_c")  # sends nothing: counted 0
    tally.current = None
    tally.observe(exchange("balance"))  # after the last test: a closing balance
    assert tally.total == 8
    assert tally.by_action() == {"balance": 5, "status": 1, "raw body": 1, "other action": 1}
    assert (tally.outside(BEFORE), tally.outside(AFTER), tally.outside()) == (1, 1, 2)
    assert tally.by_test() == {"suite/test_01.py::test_a": 4, "suite/test_01.py::test_b": 2,
                               "suite/test_01.py::test_c": 0}
    assert tally.summary(busiest=2) == (
        "requests: 8 total (balance 5, other action 1, raw body 1, status 1); "
        "busiest tests: test_01.py::test_a 4, test_01.py::test_b 2")
    assert action_of(exchange("refill_status")) == "refill_status"
    assert not set(OUTSIDE) & set(tally.by_test())


def test_the_record_fits_the_report_schema() -> None:
    tally = RequestTally()
    tally.begin("t::a")
    tally.observe(exchange("services"))
    schema = json.loads(resources.schemas_dir().joinpath("report.schema.json").read_text())
    jsonschema.validate(tally.record(), schema["properties"]["requests"])
    assert tally.record() == {"total": 1, "by_action": {"services": 1},
                              "outside_tests": {"before": 0, "after": 0},
                              "by_test": [{"test": "t::a", "requests": 1}]}


def test_the_terminal_and_the_report_count_what_the_panel_received(
    clean: pytest.Pytester,
) -> None:
    fake = FakePanel()
    with serve(fake) as url:
        result = clean.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", "--panel-clause=AUTH-*",
            "--panel-clause=ERR-*", f"--panel-report={clean.path / 'report'}")
    lines = [line for line in result.outlines if line.startswith("requests: ")]
    assert lines == [lines[0]]
    assert lines[0].startswith(f"requests: {len(fake.bodies)} total (")
    record = json.loads((clean.path / "report" / "report.json").read_text())
    assert record["requests"]["total"] == len(fake.bodies)
    outside = record["requests"]["outside_tests"]
    tests = sum(t["requests"] for t in record["requests"]["by_test"])
    assert tests + outside["before"] + outside["after"] == len(fake.bodies)
    assert KEY not in "\n".join(result.outlines)
