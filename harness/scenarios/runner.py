"""Running a scenario's steps: :class:`ScenarioRunner` drives a harness.panel.driver.Panel.

The runner is handed what it uses, never the run: the :class:`~harness.panel.driver.Panel`
(and, through it, the control API when there is one), the few limits of the run it reads
(:class:`ScenarioSettings`), a way to reach the running item's judge, and the seams that let
time pass. Needs the run does not allow become N/A before anything is sent; the scenario's
services are picked from the live catalogue; each step then sends its request (adds through
the spend guard, balances measured around it), its control call, its poll (``wait_for``, on
the one schedule of :class:`~harness.panel.polling.Waiting`) or its pause, captures values,
and hands its assertions to :mod:`harness.scenarios.assertions`, which tells the judge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from harness import contract
from harness.base import values
from harness.base.budget import Wallet
from harness.base.errors import HarnessError
from harness.base.exchange import Exchange, is_spending_action
from harness.base.progress import Progress
from harness.base.redaction import Secret
from harness.judging.checks import Applies, Facts, answer_kind, unusable_by
from harness.judging.judge import Judge, NotApplicable
from harness.judging.verdicts import NaReason
from harness.panel.catalog import Service, cost_if_accepted
from harness.panel.dripfeed import drip_feed, known_catalog
from harness.panel.driver import SANDBOX_BALANCE, Panel
from harness.panel.polling import Waiting
from harness.panel.probes import multi_status_aliases
from harness.scenarios.assertions import (
    Missing,
    StepState,
    answer,
    at,
    check,
    fail,
    unknown_word,
)
from harness.scenarios.expressions import Expression, ExpressionError, Lookup, Template, short
from harness.scenarios.model import (
    ACTION_DEP,
    BALANCE_LOCALS,
    FACTS,
    OPTIONAL_ACTIONS,
    SERVICE_FIELDS,
    Actor,
    Advance,
    Capture,
    CaptureSource,
    ControlStep,
    Mint,
    Need,
    OrderOutcome,
    Outcome,
    RequestStep,
    Scenario,
    Selector,
    SleepStep,
    Step,
    WaitStep,
)
from harness.wire.control import ControlClient

__all__ = [
    "MAX_REPEAT",
    "ScenarioRunner",
    "ScenarioRuntimeError",
    "ScenarioSettings",
]

MAX_REPEAT: Final = 10_000
"""The most requests one ``repeat`` step may send, whatever its count expression says."""


class ScenarioRuntimeError(HarnessError):
    """The scenario cannot go on, and not because of the panel (e.g. an expression of the
    scenario yields 2.5 where the control API needs a whole number)."""


@dataclass(frozen=True, slots=True)
class ScenarioSettings:
    """What a scenario reads of the run's configuration."""

    order_timeout: float
    """``--panel-order-timeout``: how long a black-box ``wait_for`` (or pause) may last."""
    max_spend: Decimal = Decimal(0)
    """``--panel-max-spend``: 0 makes the scenarios that ``need: spend`` N/A."""
    rate_limit: int | None = None
    """``--panel-rate-limit``, the advertised requests per minute, when given."""
    second_key: bool = False
    """Whether ``--panel-second-key`` was given (with a control API one is minted anyway)."""


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


class ScenarioRunner:
    """Runs one scenario against ``panel``, within the run's ``settings``.

    ``judge`` returns the running item's judge, which receives every verdict: a PASS per
    assertion that held, and failures. A failure on a clause that is not MUST is recorded
    NON-STRICT and the scenario goes on; a MUST failure stops it (raised). ``sleep`` lets time
    pass for the panel (the control clock when there is one, else real time, shown through
    ``progress`` when it lasts); ``clock`` bounds black-box polling (monotonic time).
    """

    def __init__(
        self,
        panel: Panel,
        scenario: Scenario,
        settings: ScenarioSettings,
        *,
        judge: Callable[[], Judge],
        sleep: Callable[[float], None],
        progress: Progress,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.panel = panel
        self.scenario = scenario
        self.settings = settings
        self._judge = judge
        self._sleep = sleep
        self._progress = progress
        self._clock = clock
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
        """The running item's judge."""
        return self._judge()

    @property
    def places(self) -> int:
        """The money precision the panel has shown."""
        return self.panel.places

    def _control_api(self) -> ControlClient | None:
        """The panel's control API, or ``None`` (black-box)."""
        return self.panel.control if self.panel.controlled else None

    # -- the whole scenario ------------------------------------------------------------------

    def run(self) -> None:
        """Run every step; raises NotApplicable when the run does not allow the scenario."""
        self._require_needs()
        self.panel.client.observers.append(self._observe)
        try:
            self._open()
            skipped = self._skipped()
            for step in self.scenario.steps:
                if step.number in skipped:
                    continue
                self.step = step
                self._run_step(step)
        finally:
            self.panel.client.observers.remove(self._observe)

    def _observe(self, exchange: Exchange) -> None:
        self.trace.append((self.step.number if self.step is not None else 0, exchange))

    def _require_needs(self) -> None:
        settings = self.settings
        controlled = self.panel.controlled
        for need in sorted(self.scenario.needs):
            if need is Need.SPEND and settings.max_spend <= 0:
                raise NotApplicable(NaReason.SPEND_CAP, "--panel-max-spend is 0")
            if need is Need.CONTROL and not controlled:
                raise NotApplicable(NaReason.NO_CONTROL)
            if need is Need.SECOND_KEY and not controlled and not settings.second_key:
                raise NotApplicable(NaReason.NO_SECOND_KEY)
            if need is Need.RATE_LIMIT and settings.rate_limit is None:
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
        # Only a selector asking for `dripfeed: accepted` reads the drip-feed probe's finding
        # (and may make the run probe, within the cap, if no test has yet).
        known = None
        if any(s.dripfeed_accepted for _, s in self.scenario.services):
            known = known_catalog(self.panel)
        for name, selector in self.scenario.services:
            services = known if known is not None and selector.dripfeed_accepted else catalog
            picked = self._pick(selector, services.services)
            if picked is None and not selector.optional:
                raise self._none_picked(selector)
            self._services[name] = picked

    def _none_picked(self, selector: Selector) -> NotApplicable:
        """The N/A of a selector no service matches; for `dripfeed: accepted`, with the reason
        the probe found no drip-feed service (the spend cap, refusals, a plain charge)."""
        detail = f"no {selector.describe()}"
        if selector.dripfeed_accepted:
            unavailable = drip_feed(self.panel).unavailable
            if unavailable is not None:
                return NotApplicable(unavailable.reason, f"{detail}: {unavailable.detail}",
                                     blocked_by=unavailable.blocked_by)
        return NotApplicable(NaReason.NOT_OFFERED, detail)

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

    def lookup(self, state: StepState | None = None) -> Lookup:
        """The names an expression may use: the step's locals, the captures so far, the
        picked services' fields, and the run's facts."""

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
            settings = self.settings
            value: object
            if name == "never_issued":
                value = self.panel.never_issued()
            elif name == "unknown_service":
                value = self.panel.catalog().unknown_id()
            elif name == "places":
                value = Decimal(self.panel.places)
            elif name == "order_timeout":
                value = Decimal(str(settings.order_timeout))
            elif name == "rate_limit":
                value = Decimal(settings.rate_limit or 0)
            else:
                value = self.panel.multi_status_action()
                if value is None:
                    raise NotApplicable(
                        NaReason.NOT_OFFERED, "no action answers status with orders="
                    )
            self._facts[name] = value
        return self._facts[name]

    def render(self, template: Template, state: StepState | None = None) -> str:
        """``template`` written with :meth:`lookup`'s names; a name it cannot write stops the
        scenario (:class:`ScenarioRuntimeError`)."""
        try:
            return template.render(self.lookup(state))
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
        state = StepState()
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
            check(self, assertion, state)
        unresolved = [c for c in step.capture if c.name in state.missing]
        if unresolved:
            capture = unresolved[0]
            clause = next((a.clause for a in step.expect), self.scenario.clauses[0])
            fail(self, clause, f"a value for {capture.name}", state.missing[capture.name], state,
                 source=capture.where)

    def _locals(self, step: Step, state: StepState) -> None:
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

    def _request(self, step: RequestStep, state: StepState) -> None:
        action = self.render(step.action, state)
        params = {name: self.render(t, state) for name, t in step.params}
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
            control = self._control_api()
            if (step.on_refusal_advance is not None and control is not None
                    and self._refused(state.exchange)):
                seconds = self.render(step.on_refusal_advance, state)
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
        self, step: RequestStep, params: dict[str, str], key: Secret | None, state: StepState
    ) -> None:
        catalog = self.panel.catalog()
        by_id = {s.id: s for s in catalog.services}
        service = by_id.get(params.get("service", ""))
        units = _units(params, service)
        if service is not None and len(service.pricings) > 1:
            # A Custom Comments Package: flat in one documented form, per post in another.
            state.missing["charge"] = (
                f"a {service.type}'s price depends on the panel's form "
                f"({' or '.join(p.value for p in service.pricings)}); list each in "
                "balance_delta")
        elif service is not None and (not service.metered or units is not None):
            state.locals["charge"] = service.price(units or 0)
        else:
            state.missing["charge"] = "the add names no known service with a readable quantity"
        if units is not None:
            state.locals["units"] = Decimal(units)
        else:
            state.missing["units"] = "the add carries no readable quantity"
        if step.worst_case is not None:
            try:
                worst = step.worst_case.number(self.lookup(state))
            except ExpressionError as error:
                raise ScenarioRuntimeError(f"{self._here()}: worst_case: {error}") from None
        else:
            candidates = [service] if service is not None else list(catalog.services)
            worst = max((cost_if_accepted(s, units) for s in candidates), default=Decimal(0))
        wallet = self._wallet(step.actor)
        attempt = self.panel.attempt(
            wallet, params, worst, key=key if step.actor is Actor.WRONG else None
        )
        state.exchange = attempt.exchange
        state.body = attempt.exchange.json
        state.balances[step.actor.wallet_owner] = (attempt.before, attempt.after)

    def _count(self, expression: Expression, state: StepState) -> int:
        try:
            value = expression.number(self.lookup(state))
        except ExpressionError as error:
            raise ScenarioRuntimeError(f"{self._here()}: repeat count: {error}") from None
        if value != value.to_integral_value() or not 1 <= value <= MAX_REPEAT:
            raise ScenarioRuntimeError(
                f"{self._here()}: repeat count {value} is not a whole number in 1..{MAX_REPEAT}"
            )
        return int(value)

    def _control(self, step: ControlStep, state: StepState) -> None:
        command = step.command
        control = self.panel.control
        if isinstance(command, Mint):
            balance = _decimal(self.render(command.balance, state), "mint balance", self._here())
            self._wallets[Actor.FRESH] = self.panel.poor_wallet(balance)
        elif isinstance(command, Advance):
            seconds = _decimal(self.render(command.seconds, state), "seconds", self._here())
            control.advance_clock(float(seconds))
        elif isinstance(command, OrderOutcome):
            remains = start = None
            if command.remains is not None:
                remains = _whole(self.render(command.remains, state), "remains", self._here())
            if command.start_count is not None:
                start = _whole(
                    self.render(command.start_count, state), "start_count", self._here()
                )
            state.body = control.set_order_outcome(
                self.render(command.order, state), command.status, remains=remains,
                start_count=start,
            )
        else:
            state.body = control.set_refill_outcome(
                self.render(command.refill, state), command.status
            )

    def _wait(self, step: WaitStep, state: StepState) -> None:
        target = self.render(step.target, state)
        key = self._key(step.actor)
        if key is None:  # the loader refuses `as: none` on a wait; this keeps types honest
            raise ScenarioRuntimeError(f"{self._here()}: a wait needs a key")
        read = values.refill_status if step.refill else values.order_status
        wanted = {read(word) for word in step.words}
        noun = "refill" if step.refill else "order"
        what = f"the {noun} {target} to reach {' or '.join(step.words)}"
        waiting = Waiting(self._control_api(), self.settings.order_timeout, self._progress,
                          sleep=self._sleep, clock=self._clock)
        previous: Exchange | None = None
        while True:
            exchange = (
                self.panel.refill_status(key, target) if step.refill
                else self.panel.status(key, target)
            )
            if previous is not None and not step.refill:
                self.judge.apply_facts(exchange, Facts(previous=previous))
            state.exchange, state.body = exchange, exchange.json
            word = exchange.json.get("status") if isinstance(exchange.json, dict) else None
            meaning = read(word)
            if answer_kind(exchange) is Applies.SUCCESS and meaning in wanted:
                break
            got = None
            if answer_kind(exchange) is not Applies.SUCCESS:
                got = answer(exchange)
            elif meaning is None:
                unknown_word(self, word, step.refill, state, f"{step.where}/wait_for")
                return
            elif _final(meaning):
                got = f"it ended {short(word)}"
            if got is not None:
                # A MUST clause raises here; a lesser one is recorded and the wait ends.
                fail(self, step.wait_clause, what, got, state, source=f"{step.where}/wait_for")
                return
            waiting.pause(f"{what} (status {short(word)})")
            previous = exchange
        self.judge.passed(step.wait_clause)

    def _pause(self, step: SleepStep) -> None:
        try:
            seconds = step.seconds.number(self.lookup())
        except ExpressionError as error:
            raise ScenarioRuntimeError(f"{self._here()}: sleep: {error}") from None
        timeout = self.settings.order_timeout
        if not self.panel.controlled and seconds > Decimal(str(timeout)):
            raise NotApplicable(
                NaReason.TIMEOUT, f"a pause of {seconds}s is longer than --panel-order-timeout"
            )
        if seconds > 0:
            self._sleep(float(seconds))

    # -- captures ----------------------------------------------------------------------------

    def _capture(self, step: Step, state: StepState) -> None:
        for capture in step.capture:
            lookup = self.lookup(state)
            try:
                value = self._capture_value(capture, state, lookup)
            except (Missing, ExpressionError) as problem:
                if capture.default is None:
                    state.missing[capture.name] = str(problem)
                    continue
                try:
                    value = capture.default.value(lookup)
                except ExpressionError as error:
                    state.missing[capture.name] = str(error)
                    continue
            self._captures[capture.name] = value

    def _capture_value(self, capture: Capture, state: StepState, lookup: Lookup) -> object:
        if capture.source is CaptureSource.EXPRESSION and capture.expression is not None:
            return capture.expression.value(lookup)
        if capture.source is CaptureSource.HEADER and capture.header is not None:
            value = state.exchange.header(capture.header) if state.exchange else None
            if value is None:
                raise Missing(f"the answer has no {capture.header} header")
            return value
        if capture.pointer is None:
            raise Missing("nothing to capture from")
        return at(state.body, self.render(capture.pointer, state))


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
    if action in multi_status_aliases() and "orders" in params:
        return "status-multi"
    single, batch = _BATCH_PARAMS.get(action, ("", ""))
    if batch in params and single not in params:
        return f"{action}-multi"
    return action if action in contract.REQUEST_FORMS else None


def _units(params: Mapping[str, str], service: Service | None = None) -> int | None:
    """Units an add orders: quantity (or the non-empty lines of comments or usernames),
    times runs for drip-feed; for a service with seed 004's per-post form, at least its
    ``posts * max`` (``posts`` defaults to 1); ``None`` when the request does not say
    readably."""
    quantity = values.count(params.get("quantity"))
    if quantity is None:
        for name in ("comments", "usernames"):
            if name in params:
                quantity = len([line for line in params[name].splitlines() if line.strip()])
                break
    if service is not None and service.per_post:
        per_post = values.count(params.get("max"))
        if per_post is not None:
            posts = values.count(params.get("posts")) or 1
            quantity = max(quantity or 0, posts * per_post)
    runs = values.count(params.get("runs"))
    if quantity is None:
        return None
    return quantity * runs if runs else quantity


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

