"""Running a scenario: :class:`ScenarioRunner` drives the panel through harness.driver.Panel.

Needs the run does not allow become N/A before anything is sent; adds go through the spend
guard; every assertion's verdict goes to the run's judge. A failure on a clause that is not
MUST is recorded and the scenario goes on; a MUST failure stops it (:class:`ScenarioFailure`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Final

from harness import contract, values
from harness.budget import Wallet
from harness.checks import Applies, CheckFailure, Facts, Grade, answer_kind, unusable_by
from harness.client import Exchange, is_spending_action
from harness.driver import (
    MULTI_STATUS_ALIASES,
    SANDBOX_BALANCE,
    Panel,
    Service,
    charge_matches,
)
from harness.judge import Judge, NotApplicable
from harness.redaction import Secret
from harness.scenarios.expressions import Expression, ExpressionError, Lookup, Template, short
from harness.scenarios.model import (
    ACTION_DEP,
    BALANCE_LOCALS,
    FACTS,
    OPTIONAL_ACTIONS,
    SERVICE_FIELDS,
    Actor,
    Advance,
    Assertion,
    Capture,
    CaptureSource,
    ControlStep,
    DeltaCheck,
    HeaderCheck,
    HttpStatusCheck,
    Mint,
    Need,
    OrderOutcome,
    Outcome,
    OutcomeCheck,
    RequestStep,
    Scenario,
    Selector,
    ShapeCheck,
    SleepStep,
    StatusCheck,
    Step,
    ThatCheck,
    Vocabulary,
    WaitStep,
)
from harness.session import HarnessRun
from harness.verdicts import NaReason, Verdict

__all__ = [
    "EXCERPT",
    "MAX_REPEAT",
    "ScenarioFailure",
    "ScenarioRunner",
    "ScenarioRuntimeError",
    "excerpt",
]

MAX_REPEAT: Final = 10_000
"""The most requests one ``repeat`` step may send, whatever its count expression says."""
EXCERPT: Final = 300
"""The most characters of an answer (or a request) a failure message quotes."""
# Simulated seconds a wait_for step moves the control clock between polls: the order's
# lifecycle is the panel's business, so this only bounds how far the harness will push it.
_ADVANCE_STEPS: Final = (1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)


class ScenarioRuntimeError(Exception):
    """The scenario cannot go on, and not because of the panel (e.g. an expression of the
    scenario yields 2.5 where the control API needs a whole number)."""


class ScenarioFailure(CheckFailure):
    """A broken clause, with the scenario step it was seen in."""

    def __init__(
        self,
        scenario: Scenario,
        step: Step | None,
        clause: str,
        expected: str,
        got: str,
        exchanges: Sequence[Exchange] = (),
        grade: Grade = Grade.FAIL,
        source: str = "",
    ) -> None:
        where = "before the first step" if step is None else f'step {step.number} "{step.name}"'
        super().__init__(
            clause, f"scenario {scenario.name}", f"{where}: expected {expected}; got {got}",
            grade, exchanges,
        )
        self.scenario = scenario
        self.step = step
        self.expected = expected
        self.got = got
        self.source = source
        """The JSON pointer, in the scenario file, of what failed (an assertion, a capture)."""


class _Missing(Exception):
    """A value a capture or an assertion looked for is not in the answer."""


@dataclass(frozen=True, slots=True)
class _Picked:
    """The service a selector picked, and the quantity to order from it."""

    service: Service
    quantity: int

    @property
    def rank(self) -> tuple[Decimal, str]:
        return self.service.price(self.quantity), self.service.id

    def fact(self, name: str) -> object:
        """``svc.<name>``; the comments text is only built when a step asks for it."""
        service = self.service
        if name == "comments":
            return "\n".join(f"conformance comment {n}" for n in range(1, self.quantity + 1))
        return {
            "id": service.id,
            "name": service.name,
            "type": service.type,
            "rate": service.rate,
            "min": Decimal(service.min),
            "max": Decimal(service.max),
            "quantity": Decimal(self.quantity),
            "price": service.price(self.quantity),
        }[name]


@dataclass(slots=True)
class _StepState:
    """What one step produced, for its captures and assertions."""

    exchange: Exchange | None = None
    body: object = None
    locals: dict[str, object] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    balances: dict[Actor, tuple[Decimal, Decimal]] = field(default_factory=dict)


class ScenarioRunner:
    """Runs one scenario against the panel of a :class:`~harness.session.HarnessRun`.

    The run's judge (``run.judge``, set by the plugin for the running item) receives every
    verdict: a PASS per assertion that held, and failures. A failure on a clause that is not
    MUST is recorded NON-STRICT and the scenario goes on; a MUST failure stops it (raised).
    ``sleep`` lets time pass for the panel (default :meth:`HarnessRun.wait`: the control clock
    when there is one, else real time); ``clock`` bounds black-box polling (monotonic time).
    """

    def __init__(
        self,
        run: HarnessRun,
        scenario: Scenario,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.harness = run
        self.panel: Panel = run.panel
        self.scenario = scenario
        self._sleep = sleep or run.wait
        self._clock = clock or time.monotonic
        self._wallets: dict[Actor, Wallet] = {}
        self._wrong: Secret | None = None
        self._facts: dict[str, object] = {}
        self._services: dict[str, _Picked | None] = {}
        self._captures: dict[str, object] = {}
        self.step: Step | None = None
        self.trace: list[tuple[int, Exchange]] = []
        """Every exchange of the run with the number of the step that caused it (0: setup)."""

    @property
    def judge(self) -> Judge:
        return self.panel.judge

    # -- the whole scenario ------------------------------------------------------------------

    def run(self) -> None:
        """Run every step; raises NotApplicable when the run does not allow the scenario."""
        self._require_needs()
        self.harness.client.observers.append(self._observe)
        try:
            self._open()
            skipped = self._skipped()
            for step in self.scenario.steps:
                if step.number in skipped:
                    continue
                self.step = step
                self._run_step(step)
        finally:
            self.harness.client.observers.remove(self._observe)

    def _observe(self, exchange: Exchange) -> None:
        self.trace.append((self.step.number if self.step is not None else 0, exchange))

    def _require_needs(self) -> None:
        config = self.harness.config
        controlled = self.harness.control is not None
        for need in sorted(self.scenario.needs):
            if need is Need.SPEND and config.max_spend <= 0:
                raise NotApplicable(NaReason.SPEND_CAP, "--panel-max-spend is 0")
            if need is Need.CONTROL and not controlled:
                raise NotApplicable(NaReason.NO_CONTROL)
            if need is Need.SECOND_KEY and not controlled and config.second_key is None:
                raise NotApplicable(NaReason.NO_SECOND_KEY)
            if need is Need.RATE_LIMIT and config.rate_limit is None:
                raise NotApplicable(NaReason.NO_RATE_LIMIT)

    def _open(self) -> None:
        """The main wallet, the money precision, and the scenario's services."""
        if Need.SPEND in self.scenario.needs:
            main = self.panel.spending_wallet(Decimal(0))
        else:
            main = Wallet(self.panel.main_key())
        self._wallets[Actor.MAIN] = main
        # Also teaches the driver the money precision (reused when spending_wallet just read it).
        self.panel.quiet_balance(main.key)
        if not self.scenario.services:
            return
        catalog = self.panel.catalog()
        for name, selector in self.scenario.services:
            picked = self._pick(selector, catalog.services)
            if picked is None and not selector.optional:
                raise NotApplicable(NaReason.NOT_OFFERED, f"no {selector.describe()}")
            self._services[name] = picked

    def _pick(self, selector: Selector, services: Iterable[Service]) -> _Picked | None:
        """The cheapest match at the quantity the selector orders (ties: the lowest id)."""
        places = self.panel.places
        best: _Picked | None = None
        for service in services:
            if not selector.matches(service):
                continue
            quantity = selector.quantity(service, places)
            if quantity is None:
                continue
            picked = _Picked(service, quantity)
            if best is None or picked.rank < best.rank:
                best = picked
        return best

    def _skipped(self) -> frozenset[int]:
        """Steps that need an optional service or action the panel lacks; their clauses become
        N/A unless another step checks them."""
        selectors = dict(self.scenario.services)
        absent = {
            name: f"no {selectors[name].describe()}"
            for name, picked in self._services.items() if picked is None
        }
        used = {d for s in self.scenario.steps for d in s.deps if d.startswith(ACTION_DEP)}
        for dep in sorted(used):
            action = dep.removeprefix(ACTION_DEP)
            probe = {OPTIONAL_ACTIONS[action]: str(self._fact("never_issued"))}
            if not self.panel.offers(action, probe):
                absent[dep] = f"action={action} is unknown to the panel"
        if not absent:
            return frozenset()
        skipped = frozenset(s.number for s in self.scenario.steps if s.deps & absent.keys())
        kept = {c for s in self.scenario.steps if s.number not in skipped for c in _step_clauses(s)}
        lost = {c for s in self.scenario.steps if s.number in skipped for c in _step_clauses(s)}
        detail = "; ".join(absent[name] for name in sorted(absent))
        for clause in sorted(lost - kept):
            self.judge.not_applicable(clause, NaReason.NOT_OFFERED, detail)
        return skipped

    # -- wallets and names -------------------------------------------------------------------

    def _wallet(self, actor: Actor) -> Wallet:
        owner = actor.wallet_owner
        if owner not in self._wallets:
            if owner is Actor.SECOND:
                self._wallets[owner] = self.panel.second_wallet()
            else:
                self._wallets[owner] = self.panel.poor_wallet(SANDBOX_BALANCE)
        return self._wallets[owner]

    def _key(self, actor: Actor) -> Secret | None:
        if actor is Actor.NONE:
            return None
        if actor is Actor.WRONG:
            if self._wrong is None:
                self._wrong = Secret(f"wrong{self.panel.rng.randrange(16**24):024x}", "wrong key")
            return self._wrong
        return self._wallet(actor).key

    def _lookup(self, state: _StepState | None = None) -> Lookup:
        def lookup(name: str) -> object:
            if state is not None:
                if name in state.locals:
                    return state.locals[name]
                if name in state.missing:
                    raise ExpressionError(f"{name} is not known: {state.missing[name]}")
            if name in self._captures:
                return self._captures[name]
            head, _, tail = name.partition(".")
            picked = self._services.get(head)
            if picked is not None and tail in SERVICE_FIELDS:
                return picked.fact(tail)
            if name in FACTS:
                return self._fact(name)
            raise ExpressionError(f"{name} is not known at this point")

        return lookup

    def _fact(self, name: str) -> object:
        if name == "link":
            return self.panel.link()  # fresh every time: panels may refuse a busy link
        if name not in self._facts:
            config = self.harness.config
            value: object
            if name == "never_issued":
                value = self.panel.never_issued()
            elif name == "unknown_service":
                value = self.panel.catalog().unknown_id()
            elif name == "places":
                value = Decimal(self.panel.places)
            elif name == "order_timeout":
                value = Decimal(str(config.order_timeout))
            elif name == "rate_limit":
                value = Decimal(config.rate_limit or 0)
            else:
                value = self.panel.multi_status_action()
                if value is None:
                    raise NotApplicable(
                        NaReason.NOT_OFFERED, "no action answers status with orders="
                    )
            self._facts[name] = value
        return self._facts[name]

    def _render(self, template: Template, state: _StepState | None = None) -> str:
        try:
            return template.render(self._lookup(state))
        except ExpressionError as error:
            raise ScenarioRuntimeError(
                f"{self._here()}: cannot write {template.text!r}: {error}"
            ) from None

    def _here(self) -> str:
        step = self.step
        if step is None:
            return self.scenario.source
        return f"{self.scenario.source} step {step.number} ({step.name})"

    # -- steps -------------------------------------------------------------------------------

    def _run_step(self, step: Step) -> None:
        if isinstance(step, SleepStep):
            self._pause(step)
            return
        state = _StepState()
        # Back to back with the previous step's closing read, that read is reused.
        opening = {a: self.panel.quiet_balance(self._wallet(a).key) for a in step.measure}
        if isinstance(step, RequestStep):
            self._request(step, state)
        elif isinstance(step, ControlStep):
            self._control(step, state)
        else:
            self._wait(step, state)
        for actor, before in opening.items():
            state.balances[actor] = (before, self.panel.read_balance(self._wallet(actor).key))
        self._locals(step, state)
        self._capture(step, state)
        for assertion in step.expect:
            self._check(assertion, state)
        unresolved = [c for c in step.capture if c.name in state.missing]
        if unresolved:
            capture = unresolved[0]
            clause = next((a.clause for a in step.expect), self.scenario.clauses[0])
            self._fail(clause, f"a value for {capture.name}", state.missing[capture.name], state,
                       source=capture.where)

    def _locals(self, step: Step, state: _StepState) -> None:
        if state.exchange is not None:
            state.locals["http_status"] = Decimal(state.exchange.status or 0)
        balances = state.balances.get(step.actor.wallet_owner)
        if balances is not None:
            before, after = balances
            state.locals.update(before=before, after=after, debit=before - after,
                                credit=after - before)
        else:
            for name in BALANCE_LOCALS:
                state.missing.setdefault(name, "the balance was not read around this step")

    def _request(self, step: RequestStep, state: _StepState) -> None:
        action = self._render(step.action, state)
        params = {name: self._render(t, state) for name, t in step.params}
        form = step.form or _infer_form(action, params)
        key = self._key(step.actor)
        if step.spends:
            self._add(step, params, key, state)
            return
        if is_spending_action(action):
            raise ScenarioRuntimeError(
                f"{self._here()}: the action became {action!r}; write add literally so it is "
                "reserved under the spend cap"
            )
        request = {"action": action, **params}
        if step.repeat is None:
            state.exchange = self.panel.call(form, request, key)
            control = self.harness.control
            if (step.on_refusal_advance is not None and control is not None
                    and self._refused(state.exchange)):
                seconds = self._render(step.on_refusal_advance, state)
                try:
                    advance = float(seconds)
                except ValueError:
                    raise ScenarioRuntimeError(
                        f"{self._here()}: on_refusal advance {seconds!r} is not a number"
                    ) from None
                control.advance_clock(advance)
                state.exchange = self.panel.call(form, request, key)
        else:
            count = self._count(step.repeat.count, state)
            wanted = Applies.SUCCESS if step.repeat.until is Outcome.OK else Applies.ERROR
            for sent in range(1, count + 1):
                # The one place the harness outruns its own politeness limit: a repeat exists
                # to exceed the panel's, and the client must not wait out the 429s for it.
                state.exchange = self.panel.call(form, request, key, honour_429=False, polite=False)
                state.locals["sent"] = Decimal(sent)
                if answer_kind(state.exchange) is wanted:
                    break
        state.body = state.exchange.json if state.exchange is not None else None

    def _refused(self, exchange: Exchange) -> bool:
        """A refusal worth asking again after time passes: an error envelope (black-box, with
        no clock to move, the refusal stands and is judged)."""
        return answer_kind(exchange) is Applies.ERROR and unusable_by(exchange) is None

    def _add(
        self, step: RequestStep, params: dict[str, str], key: Secret | None, state: _StepState
    ) -> None:
        catalog = self.panel.catalog()
        by_id = {s.id: s for s in catalog.services}
        service = by_id.get(params.get("service", ""))
        units = _units(params)
        if service is not None and (service.flat or units is not None):
            charge = service.rate if service.flat else service.price(units or 0)
            state.locals["charge"] = charge
        else:
            state.missing["charge"] = "the add names no known service with a readable quantity"
        if units is not None:
            state.locals["units"] = Decimal(units)
        else:
            state.missing["units"] = "the add carries no readable quantity"
        if step.worst_case is not None:
            try:
                worst = step.worst_case.number(self._lookup(state))
            except ExpressionError as error:
                raise ScenarioRuntimeError(f"{self._here()}: worst_case: {error}") from None
        else:
            candidates = [service] if service is not None else list(catalog.services)
            worst = max((_worst(s, units) for s in candidates), default=Decimal(0))
        wallet = self._wallet(step.actor)
        attempt = self.panel.attempt(
            wallet, params, worst, key=key if step.actor is Actor.WRONG else None
        )
        state.exchange = attempt.exchange
        state.body = attempt.exchange.json
        state.balances[step.actor.wallet_owner] = (attempt.before, attempt.after)

    def _count(self, expression: Expression, state: _StepState) -> int:
        try:
            value = expression.number(self._lookup(state))
        except ExpressionError as error:
            raise ScenarioRuntimeError(f"{self._here()}: repeat count: {error}") from None
        if value != value.to_integral_value() or not 1 <= value <= MAX_REPEAT:
            raise ScenarioRuntimeError(
                f"{self._here()}: repeat count {value} is not a whole number in 1..{MAX_REPEAT}"
            )
        return int(value)

    def _control(self, step: ControlStep, state: _StepState) -> None:
        command = step.command
        control = self.panel.control
        if isinstance(command, Mint):
            balance = _decimal(self._render(command.balance, state), "mint balance", self._here())
            self._wallets[Actor.FRESH] = self.panel.poor_wallet(balance)
        elif isinstance(command, Advance):
            seconds = _decimal(self._render(command.seconds, state), "seconds", self._here())
            control.advance_clock(float(seconds))
        elif isinstance(command, OrderOutcome):
            remains = start = None
            if command.remains is not None:
                remains = _whole(self._render(command.remains, state), "remains", self._here())
            if command.start_count is not None:
                start = _whole(
                    self._render(command.start_count, state), "start_count", self._here()
                )
            state.body = control.set_order_outcome(
                self._render(command.order, state), command.status, remains=remains,
                start_count=start,
            )
        else:
            state.body = control.set_refill_outcome(
                self._render(command.refill, state), command.status
            )

    def _wait(self, step: WaitStep, state: _StepState) -> None:
        target = self._render(step.target, state)
        key = self._key(step.actor)
        if key is None:  # the loader refuses `as: none` on a wait; this keeps types honest
            raise ScenarioRuntimeError(f"{self._here()}: a wait needs a key")
        read = values.refill_status if step.refill else values.order_status
        wanted = {read(word) for word in step.words}
        timeout = self.harness.config.order_timeout
        started = self._clock()
        deadline = started + timeout
        advances = iter(_ADVANCE_STEPS)
        delay = 0.5
        previous: Exchange | None = None
        while True:
            exchange = (
                self.panel.refill_status(key, target) if step.refill
                else self.panel.status(key, target)
            )
            if previous is not None and not step.refill:
                self.judge.apply_facts(exchange, Facts(previous=previous))
            state.exchange, state.body = exchange, exchange.json
            noun = "refill" if step.refill else "order"
            what = f"the {noun} {target} to reach {' or '.join(step.words)}"
            word = exchange.json.get("status") if isinstance(exchange.json, dict) else None
            meaning = read(word)
            if answer_kind(exchange) is Applies.SUCCESS and meaning in wanted:
                break
            got = None
            if answer_kind(exchange) is not Applies.SUCCESS:
                got = _answer(exchange)
            elif meaning is None:
                self._unknown_word(word, step.refill, state, f"{step.where}/wait_for")
                return
            elif _final(meaning):
                got = f"it ended {short(word)}"
            if got is not None:
                # A MUST clause raises here; a lesser one is recorded and the wait ends.
                self._fail(step.wait_clause, what, got, state, source=f"{step.where}/wait_for")
                return
            if self.harness.control is not None:
                seconds = next(advances, None)
                if seconds is None:
                    raise NotApplicable(NaReason.TIMEOUT, f"still {word} after 30 simulated days")
                self.harness.control.advance_clock(seconds)
            else:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise NotApplicable(NaReason.TIMEOUT, f"{timeout:g}s")
                self.harness.progress.sleep(
                    min(delay, remaining), self._sleep, what=f"{what} (status {short(word)})",
                    since=started, deadline=deadline,
                )
                delay = min(delay * 2, 10.0)
            previous = exchange
        self.judge.passed(step.wait_clause)

    def _pause(self, step: SleepStep) -> None:
        try:
            seconds = step.seconds.number(self._lookup())
        except ExpressionError as error:
            raise ScenarioRuntimeError(f"{self._here()}: sleep: {error}") from None
        timeout = self.harness.config.order_timeout
        if self.harness.control is None and seconds > Decimal(str(timeout)):
            raise NotApplicable(
                NaReason.TIMEOUT, f"a pause of {seconds}s is longer than --panel-order-timeout"
            )
        if seconds > 0:
            self._sleep(float(seconds))

    # -- captures ----------------------------------------------------------------------------

    def _capture(self, step: Step, state: _StepState) -> None:
        for capture in step.capture:
            lookup = self._lookup(state)
            try:
                value = self._capture_value(capture, state, lookup)
            except (_Missing, ExpressionError) as problem:
                if capture.default is None:
                    state.missing[capture.name] = str(problem)
                    continue
                try:
                    value = capture.default.value(lookup)
                except ExpressionError as error:
                    state.missing[capture.name] = str(error)
                    continue
            self._captures[capture.name] = value

    def _capture_value(self, capture: Capture, state: _StepState, lookup: Lookup) -> object:
        if capture.source is CaptureSource.EXPRESSION and capture.expression is not None:
            return capture.expression.value(lookup)
        if capture.source is CaptureSource.HEADER and capture.header is not None:
            value = state.exchange.header(capture.header) if state.exchange else None
            if value is None:
                raise _Missing(f"the answer has no {capture.header} header")
            return value
        if capture.pointer is None:
            raise _Missing("nothing to capture from")
        return _at(state.body, self._render(capture.pointer, state))

    # -- assertions --------------------------------------------------------------------------

    def _check(self, assertion: Assertion, state: _StepState) -> None:
        try:
            problem = self._problem(assertion, state)
        except (_Missing, ExpressionError) as error:
            problem = (_expected(assertion), str(error))
        if problem is None:
            self.judge.passed(assertion.clause)
        elif isinstance(problem, tuple):
            expected, got = problem
            self._fail(assertion.clause, assertion.what or expected, got, state,
                       source=assertion.where)

    def _problem(
        self, assertion: Assertion, state: _StepState
    ) -> tuple[str, str] | _Skip | None:
        """``None`` when the assertion holds, else (expected, got)."""
        lookup = self._lookup(state)
        if isinstance(assertion, DeltaCheck):
            return self._delta(assertion, state, lookup)
        if isinstance(assertion, ThatCheck):
            if assertion.expression.holds(lookup):
                return None
            return assertion.expression.text, assertion.expression.explain(lookup)
        exchange = state.exchange
        if exchange is None:
            return _expected(assertion), "no API answer in this step"
        if isinstance(assertion, OutcomeCheck):
            return self._outcome(assertion, exchange, state)
        if isinstance(assertion, StatusCheck):
            return self._status(assertion, state)
        if isinstance(assertion, ShapeCheck):
            return self._shape(assertion, exchange, state)
        if isinstance(assertion, HttpStatusCheck):
            if exchange.status in assertion.statuses:
                return None
            return _expected(assertion), _answer(exchange)
        return self._header(assertion, exchange)

    def _delta(
        self, assertion: DeltaCheck, state: _StepState, lookup: Lookup
    ) -> tuple[str, str] | None:
        places = self.panel.places
        for actor, expression in assertion.deltas:
            before, after = state.balances[actor]
            expected = expression.number(lookup)
            actual = after - before
            if not charge_matches(actual, expected, places):
                who = "" if actor is self.step_actor() else f"{actor.value}'s "
                return (
                    f"{who}balance delta {expression.text} = {_signed(expected)} (exact, or "
                    f"rounded to {places} decimals)",
                    f"{_signed(actual)} (balance {before} -> {after})",
                )
        return None

    def step_actor(self) -> Actor:
        return self.step.actor.wallet_owner if self.step is not None else Actor.MAIN

    def _outcome(
        self, assertion: OutcomeCheck, exchange: Exchange, state: _StepState
    ) -> tuple[str, str] | None:
        if assertion.item is None:
            kind = answer_kind(exchange)
            if kind is Applies.ERROR and assertion.kind is not None:
                self.judge.apply_facts(exchange, Facts(error_kind=assertion.kind))
            wanted = Applies.SUCCESS if assertion.outcome is Outcome.OK else Applies.ERROR
            return None if kind is wanted else (_expected(assertion), _answer(exchange))
        item_id = self._render(assertion.item, state)
        item = _item(state.body, item_id)
        failed = _item_is_error(item)
        if failed == (assertion.outcome is Outcome.ERROR):
            return None
        expected = (
            f"an error item for id {item_id}" if assertion.outcome is Outcome.ERROR
            else f"id {item_id} answered normally"
        )
        return expected, f"item {short(item, 200)}"

    def _status(
        self, assertion: StatusCheck, state: _StepState
    ) -> tuple[str, str] | _Skip | None:
        target = state.body
        if assertion.item is not None:
            target = _item(target, self._render(assertion.item, state))
        pointer = self._render(assertion.at, state) if assertion.at is not None else "/status"
        word = _at(target, pointer)
        refills = assertion.vocabulary is Vocabulary.REFILL
        read = values.refill_status if refills else values.order_status
        if read(word) is None:
            # A word outside the vocabulary breaks the vocabulary's clause, not this one: what
            # the word means (and so whether this assertion holds) cannot be told.
            self._unknown_word(word, refills, state, assertion.where)
            return _SKIPPED
        if read(word) in {read(w) for w in assertion.words}:
            return None
        return _expected(assertion), f"{pointer} is {short(word)}"

    def _unknown_word(self, word: object, refills: bool, state: _StepState, source: str) -> None:
        clause = "RSTATUS-001" if refills else "STATUS-002"
        noun = "refill" if refills else "order"
        self._fail(clause, f"a {noun} status word of the vocabulary",
                   f"status {short(word)}", state, source=source)

    def _shape(
        self, assertion: ShapeCheck, exchange: Exchange, state: _StepState
    ) -> tuple[str, str] | _Skip | None:
        if not exchange.is_json:
            return _expected(assertion), _answer(exchange)
        found = contract.validate(assertion.form, "response", exchange.json)
        if found:
            listed = "; ".join(f"{v.pointer or '/'}: {v.message}"[:160] for v in found[:3])
            return _expected(assertion), listed
        if assertion.canonical and not contract.is_canonical(assertion.form, exchange.json):
            self._fail(
                assertion.clause, f"the canonical {assertion.form} shape",
                f"a dialect variant: {excerpt(exchange.text)}", state, grade=Grade.NON_STRICT,
                source=assertion.where,
            )
            return _SKIPPED
        return None

    def _header(self, assertion: HeaderCheck, exchange: Exchange) -> tuple[str, str] | _Skip | None:
        if assertion.on_status and exchange.status not in assertion.on_status:
            statuses = ", ".join(str(s) for s in sorted(assertion.on_status))
            self.judge.not_applicable(
                assertion.clause, NaReason.NOT_OFFERED,
                f"no HTTP {statuses} answer to judge (got {exchange.status})",
            )
            return _SKIPPED
        value = exchange.header(assertion.name)
        if value is None:
            return _expected(assertion), f"no {assertion.name} header ({_answer(exchange)})"
        if assertion.pattern is not None and not assertion.pattern.fullmatch(value.strip()):
            return _expected(assertion), f"{assertion.name}: {value!r}"
        return None

    # -- failing -----------------------------------------------------------------------------

    def _fail(
        self, clause: str, expected: str, got: str, state: _StepState,
        grade: Grade = Grade.FAIL, *, source: str,
    ) -> None:
        """Record the failure; raise it when it fails a MUST clause (the scenario stops)."""
        exchanges = [state.exchange] if state.exchange is not None else []
        failure = ScenarioFailure(
            self.scenario, self.step, clause, expected, got, exchanges, grade, source
        )
        if self.judge.record_failure(failure) is Verdict.FAIL:
            raise failure


class _Skip(Enum):
    SKIPPED = "skipped"


_SKIPPED: Final = _Skip.SKIPPED


# ---- helpers of the runner --------------------------------------------------------------------


def _step_clauses(step: Step) -> set[str]:
    clauses = {a.clause for a in step.expect}
    if isinstance(step, WaitStep):
        clauses.add(step.wait_clause)
    return clauses


_BATCH_PARAMS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"status": ("order", "orders"), "refill": ("order", "orders"),
     "refill_status": ("refill", "refills")}
)


def _infer_form(action: str, params: Mapping[str, str]) -> str | None:
    """The contract form an answer is judged as: the action, or its batch form when it lists."""
    if action in MULTI_STATUS_ALIASES and "orders" in params:
        return "status-multi"
    single, batch = _BATCH_PARAMS.get(action, ("", ""))
    if batch in params and single not in params:
        return f"{action}-multi"
    return action if action in contract.REQUEST_FORMS else None


def _units(params: Mapping[str, str]) -> int | None:
    """Units an add orders: quantity (or the non-empty lines of comments or usernames),
    times runs for drip-feed; ``None`` when the request does not say readably."""
    quantity = values.count(params.get("quantity"))
    if quantity is None:
        for name in ("comments", "usernames"):
            if name in params:
                quantity = len([line for line in params[name].splitlines() if line.strip()])
                break
    runs = values.count(params.get("runs"))
    if quantity is None:
        return None
    return quantity * runs if runs else quantity


def _worst(service: Service, units: int | None) -> Decimal:
    """What an add can cost if the panel wrongly accepts it; absurd quantities are bounded by
    ten times the service's max (the wallet's balance bounds a real debit anyway)."""
    if service.flat:
        return service.rate
    return service.price(service.max if units is None else min(units, 10 * service.max))


def _decimal(text: str, what: str, where: str) -> Decimal:
    number = values.money(text.strip())
    if number is None:
        raise ScenarioRuntimeError(f"{where}: {what} {text!r} is not a plain decimal")
    return number


def _whole(text: str, what: str, where: str) -> int:
    number = values.count(text.strip())
    if number is None:
        raise ScenarioRuntimeError(f"{where}: {what} {text!r} is not a whole number")
    return number


def _final(meaning: values.OrderStatus | values.RefillStatus | None) -> bool:
    if isinstance(meaning, values.OrderStatus):
        return meaning.terminal
    return meaning in (values.RefillStatus.COMPLETED, values.RefillStatus.REJECTED)


def _at(document: object, pointer: str) -> object:
    """RFC 6901 lookup; raises _Missing naming the pointer."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise _Missing(f"{pointer!r} is not a JSON pointer")
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise _Missing(f"{pointer} is absent from the answer")
    return node


def _item(body: object, item_id: str) -> object:
    """The per-id item of a batch answer: a member keyed by the id, a list element naming it
    (``order`` or ``refill``), or a single object naming it."""
    if isinstance(body, dict):
        if item_id in body:
            return body[item_id]
        if _names_id(body, item_id):
            return body
    if isinstance(body, list):
        for element in body:
            if isinstance(element, dict) and _names_id(element, item_id):
                return element
    raise _Missing(f"no item for id {item_id} in the answer")


def _names_id(item: Mapping[str, object], item_id: str) -> bool:
    return any(values.id_text(item.get(name)) == item_id for name in ("order", "refill"))


def _item_is_error(item: object) -> bool:
    """An error item: a bare string, an object with ``error``, or an object whose result
    (``cancel``, ``refill``, ``status``) is an object with ``error``."""
    if isinstance(item, str):
        return True
    if not isinstance(item, dict):
        return False
    return "error" in item or any(isinstance(v, dict) and "error" in v for v in item.values())


def _expected(assertion: Assertion) -> str:
    if assertion.what:
        return assertion.what
    if isinstance(assertion, OutcomeCheck):
        return (
            "a success answer" if assertion.outcome is Outcome.OK
            else "an error envelope (HTTP 200 or 4xx)"
        )
    if isinstance(assertion, StatusCheck):
        where = f" for id {assertion.item.text}" if assertion.item is not None else ""
        return f"status {' or '.join(assertion.words)}{where}"
    if isinstance(assertion, ShapeCheck):
        return f"an answer valid against response/{assertion.form}.json"
    if isinstance(assertion, DeltaCheck):
        return ", ".join(f"{a.value}'s balance delta {e.text}" for a, e in assertion.deltas)
    if isinstance(assertion, ThatCheck):
        return assertion.expression.text
    if isinstance(assertion, HttpStatusCheck):
        return "HTTP " + " or ".join(str(s) for s in sorted(assertion.statuses))
    pattern = f" matching {assertion.pattern.pattern}" if assertion.pattern else ""
    return f"a {assertion.name} header{pattern}"


def _answer(exchange: Exchange) -> str:
    if exchange.transport_error is not None:
        return f"no HTTP answer ({exchange.transport_error})"
    return f"HTTP {exchange.status} {excerpt(exchange.text)}"


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "...(truncated)"


def _signed(amount: Decimal) -> str:
    return f"+{amount}" if amount >= 0 else str(amount)
