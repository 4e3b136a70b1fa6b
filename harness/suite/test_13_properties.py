"""Property-based requests (GEN, ROBUST, ADD, MONEY): generated from the request schemas and the
catalogue, valid ones must get contract-conforming answers, malformed ones a JSON error with no
5xx and no money moved.

The strategies live in :mod:`harness.panel.strategies`. Each property first tries its explicit
examples (the simplest request of every action, of every affordable service type, of every kind
of defect and of every wrong encoding), then ``--panel-examples`` generated ones seeded by
``--panel-seed``, so a run can be replayed. Each example is judged by a judge of its own and
only what passing examples and the smallest failing one saw reaches the run's verdicts: a
failure's evidence is the minimal shrunk request, not the first one that happened to fail.
Spending properties take at most :data:`strategies.SPEND_SHARE` of what is left under
``--panel-max-spend``, split over the examples; a spend-cap refusal makes an example N/A.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st

from harness import (
    Applies,
    Catalog,
    CheckFailure,
    Exchange,
    HarnessRun,
    Judge,
    NaReason,
    NotApplicable,
    OrderSpec,
    Panel,
    Secret,
    Verdict,
    VerdictBook,
    Wallet,
    answer_kind,
    charge_matches,
    contract,
    dripfeed,
    require,
    strategies,
    values,
)

T = TypeVar("T")

READING_FORMS = frozenset({"services", "balance", "status", "status-multi"})


class _ExampleJudge(Judge):
    """The judge of one example: it keeps the failures it saw, to hand them on or drop them."""

    def __init__(self, run: HarnessRun, test: str) -> None:
        super().__init__(VerdictBook(contract.clauses().values()), run.registry, test, ())
        self.failures: list[CheckFailure] = []

    def record_failure(self, failure: CheckFailure) -> Verdict:
        self.failures.append(failure)
        return super().record_failure(failure)

    def hand_on(self, judge: Judge, *, raised: CheckFailure | None = None) -> None:
        """Give ``judge`` everything this example recorded, except the failure the test is
        about to raise (the plugin records that one)."""
        for failure in self.failures:
            if failure is not raised:
                judge.record_failure(failure)
        for outcome in self.book.outcomes():
            if outcome.counts[Verdict.PASS]:
                judge.passed(outcome.id)
            elif outcome.verdict is Verdict.NA and outcome.counts[Verdict.NA]:
                judge.book.record_na(outcome.id, outcome.reason, test=judge.test)


def _check(
    run: HarnessRun,
    strategy: st.SearchStrategy[T],
    explicit: Sequence[T],
    body: Callable[[T], None],
    *,
    generate: bool = True,
) -> None:
    """Run ``body`` on the ``explicit`` examples, then (``generate``) on examples of
    ``strategy``; fail with the smallest failing example's failures, or N/A when every example
    was. An example equal to one that already passed in this test is not sent again (the
    first generated example is often the simplest one, which an explicit example already
    is): the same request proves nothing new, and on a live panel costs a request (and, for
    an order, money)."""
    judge = run.judge
    assert judge is not None  # the plugin opens one per test
    smallest: list[_ExampleJudge] = []
    skipped: list[NotApplicable] = []
    tried: list[T] = []
    passed: list[T] = []

    def one(value: T) -> None:
        if value in passed:
            return
        tried.append(value)
        mine = _ExampleJudge(run, judge.test)
        run.judge = mine
        try:
            body(value)
        except NotApplicable as error:
            skipped.append(error)
            return
        except CheckFailure as raised:
            mine.record_failure(raised)
        finally:
            run.judge = judge
        failure = mine.first_must_failure()
        if failure is not None:
            # Hypothesis only tries smaller examples once one failed: the last is the smallest.
            smallest[:] = [mine]
            raise failure
        mine.hand_on(judge)
        passed.append(value)

    test = given(strategy)(one)
    for value in reversed(explicit):
        test = example(value)(test)
    test = settings(max_examples=run.config.examples, database=None, deadline=None,
                    derandomize=False, report_multiple_bugs=False, print_blob=False,
                    phases=(Phase.explicit, Phase.generate, Phase.shrink) if generate
                    else (Phase.explicit,),
                    # Requests, not the strategies, take the time: a slow panel is no slow test.
                    suppress_health_check=[HealthCheck.too_slow])(test)
    try:
        seed(run.config.seed)(test)()
    except Exception:
        if not smallest:
            raise
        failure = smallest[0].first_must_failure()
        assert failure is not None
        smallest[0].hand_on(judge, raised=failure)
        raise failure from None
    if skipped and len(skipped) == len(tried):
        raise skipped[0]


class _Links:
    """Makes every generated link unique in the run: panels may refuse a second active order
    on one link, and shrinking replays the same request many times."""

    def __init__(self, run: HarnessRun) -> None:
        self._prefix = f"-{run.config.seed}-"
        self._count = itertools.count(1)

    def fresh(self, params: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        suffix = f"{self._prefix}{next(self._count)}"
        # Only generated links: a link that is broken on purpose must stay broken.
        return tuple((k, v + suffix if k == "link" and v.startswith(strategies.LINK_BASE) else v)
                     for k, v in params)


def _moving_no_money(
    run: HarnessRun,
    key: Secret,
    strategy: st.SearchStrategy[T],
    explicit: Sequence[T],
    send: Callable[[T], object],
    judged: Callable[[T], None],
) -> None:
    """The examples of a property whose requests must move no money: sent with the balance
    read once before them all and once after, instead of around each (a live panel counts
    every read against its rate limit). Only when the balance moved are the examples sent
    again, one at a time through ``judged``, which reads the balance around its request, so
    that the failure names the request that moved it, as before; a move no single request
    repeats (a refund of an earlier test's order landing meanwhile) fails nothing.

    What is given up: a panel that debits on one request and credits exactly as much on
    another of the same run would go unseen; no such defect is known."""
    panel = run.panel
    start = panel.quiet_balance(key)
    tried: list[T] = []

    def sent(value: T) -> None:
        tried.append(value)
        send(value)

    _check(run, strategy, explicit, sent)
    if panel.read_balance(key) != start:
        _check(run, strategy, list(dict.fromkeys(tried)), judged, generate=False)


def _budget(panel: Panel, catalog: Catalog) -> Decimal:
    """What one valid order may cost: :data:`strategies.SPEND_SHARE` of what is left under the
    cap, split over the generated examples and one explicit example per service type; N/A at
    a cap of 0."""
    if panel.guard.cap == 0:
        raise NotApplicable(NaReason.SPEND_CAP, "--panel-max-spend is 0")
    panel.read_balance(panel.main_key())  # the balance tells the money precision
    share = panel.guard.remaining * strategies.SPEND_SHARE
    types = len(strategies.order_examples(catalog, budget=share, places=panel.places))
    return strategies.example_budget(share, panel.settings.examples + types)


def _wallet(panel: Panel, amount: Decimal) -> Wallet:
    return panel.spending_wallet(panel.worst_case(amount))


def _no_server_error(exchange_status: int | None, is_json: bool) -> bool:
    return exchange_status is not None and exchange_status < 500 and is_json


# ---- valid requests -------------------------------------------------------------------------


@pytest.mark.clause("GEN-002", "GEN-004", "ERR-001", "MONEY-004")
def test_valid_requests_of_every_action_get_contract_answers(
    panel: Panel, harness_run: HarnessRun, main_key: Secret
) -> None:
    multi = panel.multi_status_action()

    def send(request: strategies.ActionRequest) -> Exchange:
        params = request.body()
        if request.form == "status-multi" and multi is not None:
            params["action"] = multi
        return panel.call(request.form, params, main_key)

    def body(request: strategies.ActionRequest) -> None:
        before = panel.quiet_balance(main_key)  # the previous example's "after", if quiet
        exchange = send(request)
        after = panel.read_balance(main_key)
        # The registered checks judge the answer: JSON, no 5xx, the envelope or the schema.
        clause = "GEN-004" if request.form in READING_FORMS else "MONEY-004"
        require(before == after, clause, f"a {request.form} request moves no money",
                f"balance {before} -> {after}", [exchange])

    _moving_no_money(harness_run, main_key, strategies.action_requests(),
                     strategies.action_examples(), send, body)


def _known(panel: Panel, catalog: Catalog) -> Catalog:
    """``catalog`` with the drip-feed services the run knows of beyond the flags: on a
    catalogue that flags none, the one the drip-feed probe proved (probed once per run, here,
    before any example, within the cap; never from inside an example)."""
    if panel.guard.cap == 0:
        return catalog
    return dripfeed.known_catalog(panel)


@pytest.mark.clause("ADD-001", "MONEY-001", "MONEY-002")
def test_valid_orders_of_every_offered_type_are_accepted_and_priced(
    panel: Panel, harness_run: HarnessRun, catalog: Catalog
) -> None:
    catalog = _known(panel, catalog)
    budget = _budget(panel, catalog)
    try:
        strategy = strategies.orders(catalog, budget=budget, places=panel.places)
    except ValueError as error:
        raise NotApplicable(NaReason.SPEND_CAP, str(error)) from None
    explicit = strategies.order_examples(catalog, budget=budget, places=panel.places)
    wallet = _wallet(panel, budget * (harness_run.config.examples + len(explicit)))
    links = _Links(harness_run)

    def body(spec: OrderSpec) -> None:
        try:
            order = panel.place(wallet, replace(spec, params=links.fresh(spec.params)))
        except CheckFailure as refused:
            # An order sent in both forms of its type (a Custom Comments Package) refused for
            # a parameter of seed 004's per-post form: the panel takes that form and its own
            # limits refused the values chosen for it, which shows the form, not a defect.
            shown = refused.exchanges[-1].error_message if refused.exchanges else None
            if spec.refusal_shows_form(shown):
                return
            raise
        service = spec.service
        # A Custom Comments Package is judged under the package clause whichever of its two
        # documented prices the panel charged (flat, or per 1000 of posts * max).
        clause = "MONEY-002" if service.flat else (
            "DRIP-001" if "runs" in dict(spec.params) else "MONEY-001")
        require(spec.charged(order.debit, panel.places), clause,
                f"a valid {service.type} order debits its price",
                f"debited {order.debit}, expected {spec.describe_prices()} (rate "
                f"{service.rate}, {spec.units} units) at {panel.places} decimals",
                [order.exchange])

    _check(harness_run, strategy, explicit, body)


# ---- malformed requests ---------------------------------------------------------------------


@pytest.mark.clause("ROBUST-001", "ROBUST-002", "ROBUST-009", "MONEY-004")
def test_malformed_orders_are_refused_and_move_no_money(
    panel: Panel, harness_run: HarnessRun, catalog: Catalog
) -> None:
    # A refused request frees its reservation, so a malformed one may reserve a whole
    # example's part of what is left; the valid order it is made from stays as small as the
    # valid strategies.orders (a panel may accept the tolerated kinds).
    base = _budget(panel, catalog)
    budget = max(base, strategies.example_budget(panel.guard.remaining,
                                                 harness_run.config.examples))
    try:
        strategy = strategies.malformed_orders(catalog, budget=budget, places=panel.places,
                                    base_budget=base)
    except ValueError as error:
        raise NotApplicable(NaReason.SPEND_CAP, str(error)) from None
    explicit = strategies.malformed_order_examples(catalog, budget=budget, places=panel.places,
                                        base_budget=base)
    # Refused attempts free their reservation: the wallet needs one example's worst case.
    wallet = _wallet(panel, budget)
    links = _Links(harness_run)

    def body(order: strategies.MalformedOrder) -> None:
        attempt = panel.attempt(wallet, dict(links.fresh(order.params)), order.worst_case)
        exchange = attempt.exchange
        if order.must_refuse:
            panel.expect_refused(attempt, order.clause, f"an add with {order.defect} is refused")
            created = values.id_text(exchange.json.get("order")) if isinstance(
                exchange.json, dict) else None
            require(created is None, "ROBUST-009", "a malformed add creates no order",
                    f"answer names order {created}", [exchange])
            return
        # No 5xx and a JSON answer are judged by the registered checks (ROBUST-001, GEN-002).
        if answer_kind(exchange) is Applies.ERROR:
            require(attempt.before == attempt.after, "MONEY-004",
                    "nothing is charged for a rejected request",
                    f"balance {attempt.before} -> {attempt.after}", [exchange])
        elif order.charges:
            debit = attempt.before - attempt.after
            require(any(charge_matches(debit, c, panel.places) for c in order.charges),
                    "MONEY-001", f"an accepted add with {order.defect} debits its price",
                    f"debited {debit}, expected {' or '.join(map(str, order.charges))}",
                    [exchange])

    _check(harness_run, strategy, explicit, body)


@pytest.mark.clause("ROBUST-001", "ROBUST-003", "ROBUST-005")
def test_wrongly_encoded_requests_get_a_json_answer(
    panel: Panel, harness_run: HarnessRun, main_key: Secret
) -> None:
    def send(request: strategies.MalformedBody) -> Exchange:
        exchange = panel.client.send_raw(request.body, content_type=request.content_type,
                                         key=main_key, form=None)
        require(_no_server_error(exchange.status, exchange.is_json), request.clause,
                f"{request.defect} ({request.form}) is answered without a 5xx, with JSON",
                exchange.transport_error or f"HTTP {exchange.status}", [exchange])
        return exchange

    def body(request: strategies.MalformedBody) -> None:
        before = panel.quiet_balance(main_key)  # the previous example's "after", if quiet
        exchange = send(request)
        after = panel.read_balance(main_key)
        require(before == after, "MONEY-004", f"{request.defect} moves no money",
                f"balance {before} -> {after}", [exchange])

    _moving_no_money(harness_run, main_key, strategies.malformed_bodies(),
                     strategies.malformed_body_examples(), send, body)
