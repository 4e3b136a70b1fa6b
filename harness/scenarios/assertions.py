"""Judging a scenario step's assertions: what one step produced in, verdicts to the judge out.

:func:`check` evaluates one assertion (``outcome``, ``status``, ``shape``, ``http_status``,
``header``, ``delta``, ``that``) against a :class:`StepState` and tells the judge: a PASS when
it holds, else a :class:`ScenarioFailure` through :func:`fail` (recorded NON-STRICT and the
scenario goes on when the clause is not MUST; raised, which stops it, when it is). A value the
assertion looks for and cannot find fails it (:class:`Missing`). The runner it works for is
seen only through :class:`Context`. The JSON-pointer and per-id helpers (:func:`at`,
:func:`item`) read answers for the runner's captures too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Final, Protocol, TypeAlias

from harness import contract
from harness.base import values
from harness.base.exchange import Exchange
from harness.judging.checks import Applies, CheckFailure, Facts, Grade, answer_kind
from harness.judging.judge import Judge
from harness.judging.verdicts import NaReason
from harness.panel.catalog import charge_matches
from harness.scenarios.expressions import ExpressionError, Lookup, Template, short
from harness.scenarios.model import (
    Actor,
    Assertion,
    DeltaCheck,
    HeaderCheck,
    HttpStatusCheck,
    Outcome,
    OutcomeCheck,
    Scenario,
    ShapeCheck,
    StatusCheck,
    Step,
    ThatCheck,
    Vocabulary,
)

__all__ = [
    "EXCERPT",
    "Context",
    "Missing",
    "ScenarioFailure",
    "StepState",
    "answer",
    "at",
    "check",
    "excerpt",
    "fail",
    "item",
    "unknown_word",
]

EXCERPT: Final = 300
"""The most characters of an answer (or a request) a failure message quotes."""


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


class Missing(Exception):
    """A value a capture or an assertion looked for is not in the answer."""


@dataclass(slots=True)
class StepState:
    """What one step produced, for its captures and assertions."""

    exchange: Exchange | None = None
    body: object = None
    locals: dict[str, object] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    balances: dict[Actor, tuple[Decimal, Decimal]] = field(default_factory=dict)


class Context(Protocol):
    """What judging an assertion needs of the runner running the step."""

    scenario: Scenario
    step: Step | None

    @property
    def judge(self) -> Judge:
        """The running item's judge."""
        ...

    @property
    def places(self) -> int:
        """The money precision the panel has shown."""
        ...

    def lookup(self, state: StepState | None = None) -> Lookup:
        """The names an expression of the step may use."""
        ...

    def render(self, template: Template, state: StepState | None = None) -> str:
        """``template`` written with the step's names (raises when it cannot be)."""
        ...


class _Skip(Enum):
    SKIPPED = "skipped"


_SKIPPED: Final = _Skip.SKIPPED
"""The assertion was settled otherwise (N/A, or another clause's failure): no verdict here."""

_Problem: TypeAlias = tuple[str, str] | _Skip | None
"""``None`` when the assertion holds, :data:`_SKIPPED`, else (expected, got)."""


def check(context: Context, assertion: Assertion, state: StepState) -> None:
    """Judge ``assertion`` on what the step produced: PASS, or :func:`fail`."""
    try:
        problem = _problem(context, assertion, state)
    except (Missing, ExpressionError) as error:
        problem = (_expected(assertion), str(error))
    if problem is None:
        context.judge.passed(assertion.clause)
    elif isinstance(problem, tuple):
        expected, got = problem
        fail(context, assertion.clause, assertion.what or expected, got, state,
             source=assertion.where)


def fail(
    context: Context, clause: str, expected: str, got: str, state: StepState,
    grade: Grade = Grade.FAIL, *, source: str,
) -> None:
    """Raise the failure when it fails a MUST clause (the scenario stops; the plugin records
    it), else record it and let the scenario go on."""
    exchanges = [state.exchange] if state.exchange is not None else []
    failure = ScenarioFailure(
        context.scenario, context.step, clause, expected, got, exchanges, grade, source
    )
    if context.judge.stops(failure):
        raise failure
    context.judge.record_failure(failure)


def unknown_word(
    context: Context, word: object, refills: bool, state: StepState, source: str
) -> None:
    """A status word outside the vocabulary: the vocabulary's clause fails."""
    clause = "RSTATUS-001" if refills else "STATUS-002"
    noun = "refill" if refills else "order"
    fail(context, clause, f"a {noun} status word of the vocabulary", f"status {short(word)}",
         state, source=source)


def _problem(context: Context, assertion: Assertion, state: StepState) -> _Problem:
    lookup = context.lookup(state)
    if isinstance(assertion, DeltaCheck):
        return _delta(context, assertion, state, lookup)
    if isinstance(assertion, ThatCheck):
        if assertion.expression.holds(lookup):
            return None
        return assertion.expression.text, assertion.expression.explain(lookup)
    exchange = state.exchange
    if exchange is None:
        return _expected(assertion), "no API answer in this step"
    if isinstance(assertion, OutcomeCheck):
        return _outcome(context, assertion, exchange, state)
    if isinstance(assertion, StatusCheck):
        return _status(context, assertion, state)
    if isinstance(assertion, ShapeCheck):
        return _shape(context, assertion, exchange, state)
    if isinstance(assertion, HttpStatusCheck):
        if exchange.status in assertion.statuses:
            return None
        return _expected(assertion), answer(exchange)
    return _header(context, assertion, exchange)


def _delta(
    context: Context, assertion: DeltaCheck, state: StepState, lookup: Lookup
) -> tuple[str, str] | None:
    places = context.places
    step = context.step
    actor_of_step = step.actor.wallet_owner if step is not None else Actor.MAIN
    for actor, expressions in assertion.deltas:
        before, after = state.balances[actor]
        expected = [(e, e.number(lookup)) for e in expressions]
        actual = after - before
        if not any(charge_matches(actual, amount, places) for _, amount in expected):
            who = "" if actor is actor_of_step else f"{actor.value}'s "
            wanted = " or ".join(f"{e.text} = {_signed(amount)}" for e, amount in expected)
            return (
                f"{who}balance delta {wanted} (exact, or rounded to {places} decimals)",
                f"{_signed(actual)} (balance {before} -> {after})",
            )
    return None


def _outcome(
    context: Context, assertion: OutcomeCheck, exchange: Exchange, state: StepState
) -> tuple[str, str] | None:
    if assertion.item is None:
        kind = answer_kind(exchange)
        if kind is Applies.ERROR and assertion.kind is not None:
            context.judge.apply_facts(exchange, Facts(error_kind=assertion.kind))
        wanted = Applies.SUCCESS if assertion.outcome is Outcome.OK else Applies.ERROR
        return None if kind is wanted else (_expected(assertion), answer(exchange))
    item_id = context.render(assertion.item, state)
    found = item(state.body, item_id)
    if _item_is_error(found) == (assertion.outcome is Outcome.ERROR):
        return None
    expected = (
        f"an error item for id {item_id}" if assertion.outcome is Outcome.ERROR
        else f"id {item_id} answered normally"
    )
    return expected, f"item {short(found, 200)}"


def _status(context: Context, assertion: StatusCheck, state: StepState) -> _Problem:
    target = state.body
    if assertion.item is not None:
        target = item(target, context.render(assertion.item, state))
    pointer = context.render(assertion.at, state) if assertion.at is not None else "/status"
    word = at(target, pointer)
    refills = assertion.vocabulary is Vocabulary.REFILL
    read = values.refill_status if refills else values.order_status
    if read(word) is None:
        # A word outside the vocabulary breaks the vocabulary's clause, not this one: what
        # the word means (and so whether this assertion holds) cannot be told.
        unknown_word(context, word, refills, state, assertion.where)
        return _SKIPPED
    if read(word) in {read(w) for w in assertion.words}:
        return None
    return _expected(assertion), f"{pointer} is {short(word)}"


def _shape(
    context: Context, assertion: ShapeCheck, exchange: Exchange, state: StepState
) -> _Problem:
    if not exchange.is_json:
        return _expected(assertion), answer(exchange)
    found = contract.validate(assertion.form, "response", exchange.json)
    if found:
        listed = "; ".join(f"{v.pointer or '/'}: {v.message}"[:160] for v in found[:3])
        return _expected(assertion), listed
    if assertion.canonical and not contract.is_canonical(assertion.form, exchange.json):
        fail(
            context, assertion.clause, f"the canonical {assertion.form} shape",
            f"a dialect variant: {excerpt(exchange.text)}", state, grade=Grade.NON_STRICT,
            source=assertion.where,
        )
        return _SKIPPED
    return None


def _header(context: Context, assertion: HeaderCheck, exchange: Exchange) -> _Problem:
    if assertion.on_status and exchange.status not in assertion.on_status:
        statuses = ", ".join(str(s) for s in sorted(assertion.on_status))
        context.judge.not_applicable(
            assertion.clause, NaReason.NOT_OFFERED,
            f"no HTTP {statuses} answer to judge (got {exchange.status})",
        )
        return _SKIPPED
    value = exchange.header(assertion.name)
    if value is None:
        return _expected(assertion), f"no {assertion.name} header ({answer(exchange)})"
    if assertion.pattern is not None and not assertion.pattern.fullmatch(value.strip()):
        return _expected(assertion), f"{assertion.name}: {value!r}"
    return None


# ---- reading answers: JSON pointers and per-id items ------------------------------------------


def at(document: object, pointer: str) -> object:
    """RFC 6901 lookup; raises :class:`Missing` naming the pointer."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise Missing(f"{pointer!r} is not a JSON pointer")
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise Missing(f"{pointer} is absent from the answer")
    return node


def item(body: object, item_id: str) -> object:
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
    raise Missing(f"no item for id {item_id} in the answer")


def _names_id(found: Mapping[str, object], item_id: str) -> bool:
    return any(values.id_text(found.get(name)) == item_id for name in ("order", "refill"))


def _item_is_error(found: object) -> bool:
    """An error item: a bare string, an object with ``error``, or an object whose result
    (``cancel``, ``refill``, ``status``) is an object with ``error``."""
    if isinstance(found, str):
        return True
    if not isinstance(found, dict):
        return False
    return "error" in found or any(isinstance(v, dict) and "error" in v for v in found.values())


# ---- wording ------------------------------------------------------------------------------------


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
        return ", ".join(f"{a.value}'s balance delta {' or '.join(e.text for e in es)}"
                         for a, es in assertion.deltas)
    if isinstance(assertion, ThatCheck):
        return assertion.expression.text
    if isinstance(assertion, HttpStatusCheck):
        return "HTTP " + " or ".join(str(s) for s in sorted(assertion.statuses))
    pattern = f" matching {assertion.pattern.pattern}" if assertion.pattern else ""
    return f"a {assertion.name} header{pattern}"


def answer(exchange: Exchange) -> str:
    """An answer as a failure message quotes it."""
    if exchange.transport_error is not None:
        return f"no HTTP answer ({exchange.transport_error})"
    return f"HTTP {exchange.status} {excerpt(exchange.text)}"


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "...(truncated)"


def _signed(amount: Decimal) -> str:
    return f"+{amount}" if amount >= 0 else str(amount)
