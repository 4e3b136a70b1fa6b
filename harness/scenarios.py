"""Declarative YAML scenarios: loaded, validated, collected as pytest items and run.

A scenario file (``scenarios/<name>.yaml``, checked by ``schemas/scenario.schema.json``) names
the clauses it checks, what the run must allow (``needs``), services picked from the live
catalogue by selectors, and steps: API requests, control API calls, polls and pauses. Every
assertion cites a clause. The plugin's judge records the verdicts in the run's book next to
the Python suite's, so one summary and one report cover both.

The module reads top to bottom as its layers::

    expressions  a tiny Decimal language, parsed by hand (no eval): names, + - * /, parentheses,
                 and (for ``that``) one comparison
    templates    text with ``${expression}`` substitutions
    model        the frozen dataclasses of a loaded scenario, built by :func:`load_scenario`
    runner       :class:`ScenarioRunner`, which drives the panel through harness.driver.Panel
    pytest       :class:`ScenarioFile`, :class:`ScenarioItem` and the hooks the plugin registers

Exceptions::

    ScenarioError          a file is not a valid scenario (names the file and the JSON pointer)
    ExpressionError        an expression outside the grammar, or one that cannot be evaluated
    ScenarioFailure        a CheckFailure that knows the scenario step it happened in
    ScenarioRuntimeError   the scenario cannot go on for a reason that is not the panel's fault
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import Enum, StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from harness import contract, values
from harness.budget import Wallet
from harness.checks import Applies, CheckFailure, ErrorKind, Facts, Grade, answer_kind
from harness.client import Exchange, is_spending_action
from harness.control import ControlError
from harness.driver import (
    MULTI_STATUS_ALIASES,
    SANDBOX_BALANCE,
    Panel,
    Service,
    charge_matches,
    visible_units,
)
from harness.judge import Judge, NotApplicable
from harness.redaction import Secret
from harness.resources import scenarios_dir, schemas_dir
from harness.session import RUN_KEY, HarnessRun
from harness.verdicts import NaReason, Verdict

__all__ = [
    "SCHEMA_ID",
    "Actor",
    "Expression",
    "ExpressionError",
    "Need",
    "Scenario",
    "ScenarioError",
    "ScenarioFailure",
    "ScenarioFile",
    "ScenarioItem",
    "ScenarioRunner",
    "ScenarioRuntimeError",
    "Template",
    "default_paths",
    "load_file",
    "load_scenario",
    "parse_expression",
    "parse_template",
    "scenario_folder",
    "shipped_files",
]

SCHEMA_ID: Final = "https://smm-conformance.invalid/schemas/scenario.schema.json"
MAX_REPEAT: Final = 10_000
"""The most requests one ``repeat`` step may send, whatever its count expression says."""
_MAX_DEPTH: Final = 32
_MAX_PROBLEMS: Final = 12
_EXCERPT: Final = 300
# Simulated seconds a wait_for step moves the control clock between polls: the order's
# lifecycle is the panel's business, so this only bounds how far the harness will push it.
_ADVANCE_STEPS: Final = (1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)


# =============================================================================================
# Expressions


class ExpressionError(ValueError):
    """An expression outside the grammar, or a value it cannot compute with."""


_TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<op>==|!=|<=|>=|[-+*/()<>]))"
)
_COMPARISONS: Final = ("==", "!=", "<=", ">=", "<", ">")


@dataclass(frozen=True, slots=True)
class _Number:
    value: Decimal


@dataclass(frozen=True, slots=True)
class _Name:
    name: str


@dataclass(frozen=True, slots=True)
class _Unary:
    op: str
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


_Node = _Number | _Name | _Unary | _Binary
Value = Decimal | str
Lookup = Callable[[str], object]


def _context() -> Context:
    """Wide enough that + - * / of money and counts are exact; anything odd raises."""
    return Context(
        prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
    )


class _Parser:
    """Recursive descent over the token list; positions are 1-based columns for messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(self._tokenize(text))
        self.index = 0

    @staticmethod
    def _tokenize(text: str) -> Iterator[tuple[str, str, int]]:
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                return
            match = _TOKEN.match(text, position)
            if match is None or match.lastgroup is None:
                column = position + 1 + (len(text[position:]) - len(text[position:].lstrip()))
                shown = text[column - 1]
                raise ExpressionError(f"unexpected {shown!r} at column {column} of {text!r}")
            kind = match.lastgroup
            yield kind, match.group(kind), match.start(kind) + 1
            position = match.end()

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"{self.text!r} ends too early")
        self.index += 1
        return token

    def expression(self, depth: int = 0) -> _Node:
        node = self.product(depth)
        while (token := self.peek()) is not None and token[1] in ("+", "-"):
            self.take()
            node = _Binary(token[1], node, self.product(depth))
        return node

    def product(self, depth: int) -> _Node:
        node = self.unary(depth)
        while (token := self.peek()) is not None and token[1] in ("*", "/"):
            self.take()
            node = _Binary(token[1], node, self.unary(depth))
        return node

    def unary(self, depth: int) -> _Node:
        if depth > _MAX_DEPTH:
            raise ExpressionError(f"{self.text!r} nests deeper than {_MAX_DEPTH} levels")
        token = self.peek()
        if token is not None and token[1] in ("+", "-"):
            self.take()
            return _Unary(token[1], self.unary(depth + 1))
        return self.atom(depth)

    def atom(self, depth: int) -> _Node:
        kind, text, column = self.take()
        if kind == "number":
            return _Number(Decimal(text))
        if kind == "name":
            return _Name(text)
        if text == "(":
            node = self.expression(depth + 1)
            closing = self.peek()
            if closing is None or closing[1] != ")":
                raise ExpressionError(
                    f"missing ')' for the '(' at column {column} of {self.text!r}"
                )
            self.take()
            return node
        raise ExpressionError(f"unexpected {text!r} at column {column} of {self.text!r}")


def _names(node: _Node) -> Iterator[str]:
    if isinstance(node, _Name):
        yield node.name
    elif isinstance(node, _Unary):
        yield from _names(node.operand)
    elif isinstance(node, _Binary):
        yield from _names(node.left)
        yield from _names(node.right)


def _as_number(name: str, raw: object) -> Decimal:
    """A looked-up value as a Decimal: numbers, and strings written as plain decimals."""
    if isinstance(raw, bool):
        raise ExpressionError(f"{name} is {raw!r}, not a number")
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
        if number.is_finite():
            return number
    if isinstance(raw, str):
        number_or_none = values.signed_money(raw.strip())
        if number_or_none is not None:
            return number_or_none
    raise ExpressionError(f"{name} is {_short(raw)}, not a number")


def _as_value(name: str, raw: object) -> Value:
    if isinstance(raw, str):
        return raw
    try:
        return _as_number(name, raw)
    except ExpressionError:
        raise ExpressionError(f"{name} is {_short(raw)}, not a number or text") from None


def _evaluate(node: _Node, lookup: Lookup) -> Decimal:
    if isinstance(node, _Number):
        return node.value
    if isinstance(node, _Name):
        return _as_number(node.name, lookup(node.name))
    if isinstance(node, _Unary):
        operand = _evaluate(node.operand, lookup)
        return -operand if node.op == "-" else +operand
    left, right = _evaluate(node.left, lookup), _evaluate(node.right, lookup)
    try:
        with localcontext(_context()):
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left - right
            if node.op == "*":
                return left * right
            return left / right
    except DivisionByZero:
        raise ExpressionError(f"division by zero ({left} / {right})") from None
    except (InvalidOperation, Overflow) as error:
        raise ExpressionError(f"cannot compute {left} {node.op} {right}: {error!r}") from None


def _side(node: _Node, lookup: Lookup) -> Value:
    if isinstance(node, _Name):
        return _as_value(node.name, lookup(node.name))
    return _evaluate(node, lookup)


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression: a value, or (``comparison``) a value compared with another."""

    text: str
    root: _Node
    comparison: str | None = None
    right: _Node | None = None

    @property
    def names(self) -> frozenset[str]:
        found = set(_names(self.root))
        if self.right is not None:
            found.update(_names(self.right))
        return frozenset(found)

    def value(self, lookup: Lookup) -> Value:
        """The value; a bare name keeps text as text (ids, status words), arithmetic is Decimal."""
        if self.comparison is not None:
            raise ExpressionError(f"{self.text!r} is a comparison, not a value")
        return _side(self.root, lookup)

    def number(self, lookup: Lookup) -> Decimal:
        value = self.value(lookup)
        return value if isinstance(value, Decimal) else _as_number(self.text, value)

    def holds(self, lookup: Lookup) -> bool:
        """Whether the comparison holds: numerically when both sides are numbers, else (== and
        != only) as text."""
        if self.comparison is None or self.right is None:
            raise ExpressionError(f"{self.text!r} is not a comparison")
        left, right = _side(self.root, lookup), _side(self.right, lookup)
        numbers = _both_numbers(left, right)
        if numbers is not None:
            a, b = numbers
            return {
                "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
            }[self.comparison]
        if self.comparison in ("==", "!="):
            return (str(left) == str(right)) == (self.comparison == "==")
        raise ExpressionError(f"cannot order {_short(left)} and {_short(right)}")

    def explain(self, lookup: Lookup) -> str:
        """Each side's value, then the values of the names inside them, for failure messages."""
        sides = [self.root] if self.right is None else [self.root, self.right]
        shown = [f"{_unparse(side)} = {_shown(side, lookup)}" for side in sides]
        inner = sorted({n for side in sides if not isinstance(side, _Name) for n in _names(side)})
        if inner:
            listed = ", ".join(f"{name} = {_shown(_Name(name), lookup)}" for name in inner)
            shown.append(f"with {listed}")
        return "; ".join(shown)


def _shown(node: _Node, lookup: Lookup) -> str:
    try:
        return _short(_side(node, lookup))
    except ExpressionError as error:
        return f"unknown ({error})"


def _unparse(node: _Node) -> str:
    if isinstance(node, _Number):
        return str(node.value)
    if isinstance(node, _Name):
        return node.name
    if isinstance(node, _Unary):
        return f"{node.op}{_wrapped(node.operand)}"
    return f"{_wrapped(node.left)} {node.op} {_wrapped(node.right)}"


def _wrapped(node: _Node) -> str:
    return f"({_unparse(node)})" if isinstance(node, _Binary) else _unparse(node)


def _both_numbers(left: Value, right: Value) -> tuple[Decimal, Decimal] | None:
    try:
        return _as_number("left", left), _as_number("right", right)
    except ExpressionError:
        return None


def parse_expression(text: str, *, comparison: bool = False) -> Expression:
    """Parse ``text``; with ``comparison`` it must be ``value OP value`` (OP one of
    ``== != < <= > >=``), otherwise a comparison is refused."""
    parser = _Parser(text)
    if not parser.tokens:
        raise ExpressionError("an expression cannot be empty")
    root = parser.expression()
    token = parser.peek()
    if token is not None and token[1] in _COMPARISONS:
        if not comparison:
            raise ExpressionError(
                f"{text!r} compares (column {token[2]}); only `that` takes a comparison"
            )
        parser.take()
        right = parser.expression()
        trailing = parser.peek()
        if trailing is not None:
            raise ExpressionError(f"unexpected {trailing[1]!r} at column {trailing[2]} of {text!r}")
        return Expression(text, root, token[1], right)
    if token is not None:
        raise ExpressionError(f"unexpected {token[1]!r} at column {token[2]} of {text!r}")
    if comparison:
        raise ExpressionError(f"{text!r} must compare two values, e.g. 'remains == 0'")
    return Expression(text, root)


# =============================================================================================
# Templates


@dataclass(frozen=True, slots=True)
class Template:
    """Text with ``${expression}`` substitutions."""

    text: str
    parts: tuple[str | Expression, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(n for p in self.parts if isinstance(p, Expression) for n in p.names)

    @property
    def literal(self) -> str | None:
        """The text when there is nothing to substitute."""
        return self.text if all(isinstance(p, str) for p in self.parts) else None

    def render(self, lookup: Lookup) -> str:
        return "".join(
            p if isinstance(p, str) else _text(p.value(lookup)) for p in self.parts
        )


def parse_template(text: str) -> Template:
    parts: list[str | Expression] = []
    position = 0
    while (start := text.find("${", position)) != -1:
        end = text.find("}", start + 2)
        if end == -1:
            raise ExpressionError(f"'${{' at column {start + 1} of {text!r} is never closed")
        if start > position:
            parts.append(text[position:start])
        parts.append(parse_expression(text[start + 2 : end]))
        position = end + 1
    if position < len(text):
        parts.append(text[position:])
    return Template(text, tuple(parts))


def _text(value: Value) -> str:
    """A value as request text: integral numbers without a fraction, decimals as computed."""
    if isinstance(value, str):
        return value
    if value == value.to_integral_value():
        with localcontext(_context()):
            return format(value.quantize(Decimal(1)), "f")
    return format(value, "f")


def _short(value: object, limit: int = 80) -> str:
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# =============================================================================================
# Model


class Need(StrEnum):
    """What a run must allow (the vocabulary of clauses.yaml)."""

    SPEND = "spend"
    CONTROL = "control"
    SECOND_KEY = "second-key"
    RATE_LIMIT = "rate-limit"


class Actor(StrEnum):
    """Whose key a step sends."""

    MAIN = "main"
    SECOND = "second"
    FRESH = "fresh"
    WRONG = "wrong"
    NONE = "none"

    @property
    def wallet_owner(self) -> Actor:
        """Whose money a step of this actor puts at risk (a wrong or missing key: main's)."""
        return Actor.MAIN if self in (Actor.WRONG, Actor.NONE) else self


class Outcome(StrEnum):
    """A success answer, or an error (envelope, HTTP 200 or 4xx)."""

    OK = "ok"
    ERROR = "error"


class Vocabulary(StrEnum):
    """Which status words a status assertion reads."""

    ORDER = "order"
    REFILL = "refill"


class Pricing(StrEnum):
    """How a service's charge follows from its rate."""

    PER_1000 = "per-1000"
    FLAT = "flat"


class Size(StrEnum):
    """The quantity a selector orders: the smallest whose charge shows, or a bound."""

    VISIBLE = "visible"
    MIN = "min"
    MAX = "max"


class CaptureSource(Enum):
    """Where a captured value comes from."""

    POINTER = "pointer"
    HEADER = "header"
    EXPRESSION = "expression"


_ERROR_KINDS: Final[Mapping[str, ErrorKind]] = MappingProxyType({
    "bad-request": ErrorKind.BAD_REQUEST,
    "auth": ErrorKind.AUTH,
    "funds": ErrorKind.FUNDS,
    "not-found": ErrorKind.NOT_FOUND,
    "throttled": ErrorKind.THROTTLED,
})
SERVICE_FIELDS: Final = frozenset(
    {"id", "name", "type", "rate", "min", "max", "quantity", "price", "comments"}
)
FACTS: Final[Mapping[str, Need | None]] = MappingProxyType({
    "link": None,
    "never_issued": None,
    "unknown_service": None,
    "places": None,
    "order_timeout": None,
    "multi_status_action": None,
    "rate_limit": Need.RATE_LIMIT,
})
"""Run facts a scenario may name, and the need each one implies."""
OPTIONAL_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {"cancel": "orders", "refill": "order", "refill_status": "refill"}
)
"""Actions a panel may not offer, with the id parameter that probes them: a step using one is
skipped (its clauses N/A) on a panel that answers it like an unknown action."""
_ACTION: Final = "action:"  # prefix of an optional action among a step's dependencies
_BALANCE_LOCALS: Final = frozenset({"before", "after", "debit", "credit"})
_ADD_LOCALS: Final = frozenset({"charge", "units"})


@dataclass(frozen=True, slots=True)
class Selector:
    """Which catalogue services a scenario service may be; the cheapest match is used."""

    types: tuple[str, ...] = ()
    pricing: Pricing | None = None
    refill: bool | None = None
    cancel: bool | None = None
    dripfeed: bool | None = None
    size: Size = Size.VISIBLE
    scale: int = 1
    optional: bool = False

    def matches(self, service: Service) -> bool:
        if self.types and service.type not in self.types:
            return False
        if self.pricing is not None and service.flat != (self.pricing is Pricing.FLAT):
            return False
        flags = (("refill", self.refill), ("cancel", self.cancel), ("dripfeed", self.dripfeed))
        return all(want is None or getattr(service, name) is want for name, want in flags)

    def describe(self) -> str:
        kinds = " or ".join(self.types) if self.types else "any"
        text = f"{kinds} service"
        if self.pricing is not None:
            text += f" priced {self.pricing.value}"
        flags = [
            name if want else f"no {name}"
            for name, want in (("refill", self.refill), ("cancel", self.cancel),
                               ("dripfeed", self.dripfeed))
            if want is not None
        ]
        if flags:
            text += " with " + ", ".join(flags)
        if self.size is not Size.VISIBLE or self.scale > 1:
            text += f" taking {self.scale} x its {self.size.value} quantity"
        return text

    def quantity(self, service: Service, places: int) -> int | None:
        """The quantity to order, or ``None`` when the service cannot take it."""
        if service.flat:
            return service.min
        base = {Size.MIN: service.min, Size.MAX: service.max}.get(self.size)
        wanted = (visible_units(service, places) if base is None else base) * self.scale
        return max(wanted, service.min) if wanted <= service.max else None


@dataclass(frozen=True, slots=True)
class _Base:
    """What every assertion has: the clause it checks, its JSON pointer in the file, and an
    optional description of what is expected (for the failure message)."""

    clause: str
    where: str
    what: str | None


@dataclass(frozen=True, slots=True)
class OutcomeCheck(_Base):
    """The answer (or one per-id item of it) is a success or an error."""

    outcome: Outcome
    kind: ErrorKind | None = None
    item: Template | None = None


@dataclass(frozen=True, slots=True)
class StatusCheck(_Base):
    """A status word means one of ``words`` (any spelling the dialects use)."""

    words: tuple[str, ...]
    vocabulary: Vocabulary = Vocabulary.ORDER
    item: Template | None = None
    at: Template | None = None


@dataclass(frozen=True, slots=True)
class ShapeCheck(_Base):
    """The answer fits the lenient contract schema (and, with ``canonical``, the canonical one)."""

    form: str
    canonical: bool = False


@dataclass(frozen=True, slots=True)
class DeltaCheck(_Base):
    """Balances moved by exactly these amounts across the step (at the panel's precision)."""

    deltas: tuple[tuple[Actor, Expression], ...]


@dataclass(frozen=True, slots=True)
class ThatCheck(_Base):
    """A comparison over captured values and facts holds."""

    expression: Expression


@dataclass(frozen=True, slots=True)
class HttpStatusCheck(_Base):
    """The HTTP status is one of ``statuses``."""

    statuses: frozenset[int]


@dataclass(frozen=True, slots=True)
class HeaderCheck(_Base):
    """A header is present (and matches ``pattern``), judged only on ``on_status`` answers."""

    name: str
    pattern: re.Pattern[str] | None = None
    on_status: frozenset[int] = frozenset()


Assertion = (
    OutcomeCheck | StatusCheck | ShapeCheck | DeltaCheck | ThatCheck | HttpStatusCheck
    | HeaderCheck
)


@dataclass(frozen=True, slots=True)
class Capture:
    """A value saved under ``name``: from the answer (pointer), a header, or an expression."""

    name: str
    where: str
    source: CaptureSource
    pointer: Template | None = None
    header: str | None = None
    expression: Expression | None = None
    default: Expression | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    """Send up to ``count`` times, stopping at the first answer of kind ``until``."""

    count: Expression
    until: Outcome


@dataclass(frozen=True, slots=True)
class Mint:
    """Mint the ``fresh`` tenant."""

    balance: Template


@dataclass(frozen=True, slots=True)
class Advance:
    """Move the panel's clock."""

    seconds: Template


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """Force an order's status, as its provider would."""

    order: Template
    status: str
    remains: Template | None = None
    start_count: Template | None = None


@dataclass(frozen=True, slots=True)
class RefillOutcome:
    """Finish a refill."""

    refill: Template
    status: str


Command = Mint | Advance | OrderOutcome | RefillOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class _Step:
    """What every step has; ``number`` counts from 1 as the failure messages do."""

    number: int
    name: str
    where: str
    actor: Actor = Actor.MAIN
    expect: tuple[Assertion, ...] = ()
    capture: tuple[Capture, ...] = ()
    measure: frozenset[Actor] = frozenset()
    """Actors whose balance is read before and after the step (an add measures its own)."""
    deps: frozenset[str] = frozenset()
    """Optional services (and ``action:<name>`` for optional actions) this step depends on,
    directly or through captures."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestStep(_Step):
    """One API request (or a bounded burst of them)."""

    action: Template
    params: tuple[tuple[str, Template], ...] = ()
    form: str | None = None
    worst_case: Expression | None = None
    repeat: Repeat | None = None

    @property
    def spends(self) -> bool:
        return self.action.literal == "add"


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlStep(_Step):
    """One control API call."""

    command: Command


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitStep(_Step):
    """Poll an order or a refill until its status means one of ``words``."""

    target: Template
    refill: bool
    words: tuple[str, ...]
    wait_clause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SleepStep(_Step):
    """Let time pass for the panel."""

    seconds: Expression


Step = RequestStep | ControlStep | WaitStep | SleepStep


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded, validated scenario."""

    name: str
    description: str
    source: str
    clauses: tuple[str, ...]
    needs: frozenset[Need]
    services: tuple[tuple[str, Selector], ...]
    steps: tuple[Step, ...]


class ScenarioError(Exception):
    """A file is not a valid scenario; ``problems`` are (JSON pointer, message) pairs."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        shown = [f"  {pointer or '/'}: {message}" for pointer, message in problems[:_MAX_PROBLEMS]]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"  (and {len(problems) - _MAX_PROBLEMS} more)")
        super().__init__(f"{source} is not a valid scenario:\n" + "\n".join(shown))
        self.source = source
        self.problems = tuple(problems)


# ---- loading ----------------------------------------------------------------------------------


@functools.cache
def _schema() -> Mapping[str, Any]:
    document: dict[str, Any] = json.loads(
        schemas_dir().joinpath("scenario.schema.json").read_text(encoding="utf-8")
    )
    Draft202012Validator.check_schema(document)
    return document


def scenario_folder() -> Path | None:
    """The shipped scenarios as a real folder (``None`` if they are only inside an archive)."""
    folder = scenarios_dir()
    return folder if isinstance(folder, Path) and folder.is_dir() else None


def shipped_files() -> list[Path]:
    folder = scenario_folder()
    return sorted(folder.glob("*.yaml")) if folder is not None else []


def default_paths() -> list[str]:
    """What the plugin collects besides the Python suite when no path was given."""
    folder = scenario_folder()
    return [str(folder)] if folder is not None and shipped_files() else []


def load_file(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(path.name, [("", f"cannot be read: {error}")]) from None
    return load_scenario(text, path.name, expected_name=path.stem)


def load_scenario(text: str, source: str, *, expected_name: str | None = None) -> Scenario:
    """Parse, validate against the schema, then check what the schema cannot (clause ids,
    names, needs). Every problem is reported with its JSON pointer; nothing is half-built."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(source, [("", f"not valid YAML: {error}")]) from None
    validator = Draft202012Validator(_schema())
    problems = sorted(
        {
            (_pointer(error.absolute_path), error.message)
            for error in map(_relevant, validator.iter_errors(document))
        }
    )
    if problems:
        raise ScenarioError(source, problems)
    return _Builder(document, source, expected_name).build()


def _relevant(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf failures, the most telling nested error instead of the summary."""
    if error.context:
        nested = best_match(error.context)
        if nested is not None:
            return _relevant(nested)
    return error


def _pointer(path: Iterable[object]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class _Builder:
    """Turns a schema-valid document into a Scenario, collecting every semantic problem."""

    def __init__(self, document: Mapping[str, Any], source: str, expected: str | None) -> None:
        self.doc = document
        self.source = source
        self.expected = expected
        self.problems: list[tuple[str, str]] = []
        self.clauses = tuple(document["clauses"])
        self.needs = frozenset(Need(n) for n in document["needs"] if n != "none")
        self.services: dict[str, Selector] = {}
        self.captured: dict[str, tuple[int, frozenset[str]]] = {}  # name -> (step, deps)
        self.asserted: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def build(self) -> Scenario:
        name = self.doc["name"]
        if self.expected is not None and name != self.expected:
            self.problem(
                "/name", f"{name!r} must be the file name without .yaml ({self.expected!r})"
            )
        self._check_clauses()
        for service_name, raw in self.doc.get("services", {}).items():
            self.services[service_name] = self._selector(f"/services/{service_name}", raw)
        steps = [self._step(i, raw) for i, raw in enumerate(self.doc["steps"])]
        for index, clause in enumerate(self.clauses):
            if clause not in self.asserted:
                self.problem(f"/clauses/{index}", f"{clause} is cited but no assertion checks it")
        if self.problems:
            raise ScenarioError(self.source, sorted(set(self.problems)))
        return Scenario(
            name=name,
            description=self.doc["description"],
            source=self.source,
            clauses=self.clauses,
            needs=self.needs,
            services=tuple(self.services.items()),
            steps=tuple(s for s in steps if s is not None),
        )

    def _check_clauses(self) -> None:
        known = contract.clauses()
        for index, clause in enumerate(self.clauses):
            info = known.get(clause)
            if info is None:
                self.problem(
                    f"/clauses/{index}", f"unknown clause {clause!r} (not in clauses.yaml)"
                )
                continue
            missing = sorted(set(info.needs) - {"none"} - set(self.needs))
            if missing:
                self.problem(
                    "/needs", f"{clause} needs {', '.join(missing)}; add it to the scenario's needs"
                )

    def _need(self, where: str, need: Need, why: str) -> None:
        if need not in self.needs:
            self.problem(where, f"{why} needs {need.value!r}; add it to the scenario's needs")

    def _selector(self, where: str, raw: Mapping[str, Any]) -> Selector:
        types = raw.get("type", ())
        types = (types,) if isinstance(types, str) else tuple(types)
        known = contract.service_types()
        for kind in types:
            if kind not in known:
                self.problem(
                    f"{where}/type", f"unknown service type {kind!r}; known: {', '.join(known)}"
                )
        return Selector(
            types=types,
            pricing=Pricing(raw["pricing"]) if "pricing" in raw else None,
            refill=raw.get("refill"),
            cancel=raw.get("cancel"),
            dripfeed=raw.get("dripfeed"),
            size=Size(raw.get("size", "visible")),
            scale=raw.get("scale", 1),
            optional=raw.get("optional", False),
        )

    # -- names ----------------------------------------------------------------------------

    def _template(self, where: str, text: str) -> Template | None:
        try:
            return parse_template(text)
        except ExpressionError as error:
            self.problem(where, str(error))
            return None

    def _expression(self, where: str, text: str, *, comparison: bool = False) -> Expression | None:
        try:
            return parse_expression(text, comparison=comparison)
        except ExpressionError as error:
            self.problem(where, str(error))
            return None

    def _resolve(self, where: str, names: Iterable[str], local: frozenset[str]) -> frozenset[str]:
        """Check every name is known here; return the optional services they depend on."""
        deps: set[str] = set()
        for name in names:
            head, dot, tail = name.partition(".")
            if name in local:
                continue
            if head in self.services:
                if not dot or tail not in SERVICE_FIELDS:
                    fields = ", ".join(sorted(SERVICE_FIELDS))
                    self.problem(where, f"{name!r}: a service is used through a field ({fields})")
                elif self.services[head].optional:
                    deps.add(head)
            elif name in FACTS:
                need = FACTS[name]
                if need is not None:
                    self._need(where, need, f"the fact {name!r}")
            elif name in self.captured:
                deps.update(self.captured[name][1])
            elif name in _ADD_LOCALS:
                self.problem(where, f"{name!r} is known only in the expect and capture of an add")
            elif name == "sent":
                self.problem(where, "'sent' is known only in the expect and capture of a repeat")
            elif name in _BALANCE_LOCALS | {"http_status"}:
                self.problem(where, f"{name!r} is only known after the step: use it in expect or "
                             "capture")
            else:
                self.problem(where, f"unknown name {name!r}")
        return frozenset(deps)

    # -- steps ----------------------------------------------------------------------------

    def _step(self, index: int, raw: Mapping[str, Any]) -> Step | None:
        where = f"/steps/{index}"
        number = index + 1
        actor = Actor(raw.get("as", "main"))
        deps: set[str] = set()
        if actor is Actor.SECOND:
            self._need(f"{where}/as", Need.SECOND_KEY, "as: second")
        if actor is Actor.FRESH:
            self._need(f"{where}/as", Need.CONTROL, "as: fresh")

        locals_: set[str] = set(_BALANCE_LOCALS)
        kind: str
        if "action" in raw:
            kind = "request"
            locals_ |= {"http_status"}
        elif "control" in raw:
            kind = "control"
            self._need(f"{where}/control", Need.CONTROL, "a control step")
        elif "wait_for" in raw:
            kind = "wait"
            locals_ |= {"http_status"}
        else:
            kind = "sleep"
        step_base: dict[str, Any] = {"number": number, "name": raw["name"], "where": where,
                                     "actor": actor}
        optional = raw.get("action") if "action" in raw else (
            "refill_status" if "refill" in raw.get("wait_for", {}) else None
        )
        if optional in OPTIONAL_ACTIONS:
            deps.add(f"{_ACTION}{optional}")

        kind_fields: dict[str, Any] | None
        if kind == "request":
            kind_fields, pre_deps, extra_locals = self._request(where, raw, actor)
        elif kind == "control":
            kind_fields, pre_deps, extra_locals = self._control(where, raw)
        elif kind == "wait":
            kind_fields, pre_deps, extra_locals = self._wait(where, raw, actor)
        else:
            expression = self._expression(f"{where}/sleep", raw["sleep"])
            if expression is None:
                return None
            pre_deps = self._resolve(f"{where}/sleep", expression.names, frozenset())
            return SleepStep(**step_base, seconds=expression, deps=pre_deps)
        deps |= pre_deps
        locals_ |= extra_locals

        captures, capture_deps = self._captures(where, raw.get("capture", {}), frozenset(locals_))
        deps |= capture_deps
        visible = frozenset(locals_ | {c.name for c in captures})
        refills = raw.get("action") == "refill_status" or "refill" in raw.get("wait_for", {})
        vocabulary = Vocabulary.REFILL if refills else Vocabulary.ORDER
        assertions, assert_deps, measure = self._assertions(
            where, raw.get("expect", []), kind, actor, visible, vocabulary
        )
        deps |= assert_deps
        referenced = {n for c in captures for n in _capture_names(c)}
        referenced |= {n for a in assertions for n in _assertion_names(a)}
        if referenced & _BALANCE_LOCALS:
            measure.add(actor.wallet_owner)
        if raw.get("action") == "add":
            measure.discard(actor.wallet_owner)  # the add's own balance reads are the driver's
        for capture in captures:
            self.captured[capture.name] = (number, frozenset(deps))
        if kind_fields is None:
            return None
        step_kind: type[RequestStep | ControlStep | WaitStep] = {
            "request": RequestStep, "control": ControlStep, "wait": WaitStep
        }[kind]
        return step_kind(
            **step_base, **kind_fields, expect=tuple(assertions), capture=tuple(captures),
            measure=frozenset(measure), deps=frozenset(deps),
        )

    def _request(
        self, where: str, raw: Mapping[str, Any], actor: Actor
    ) -> tuple[dict[str, Any] | None, frozenset[str], frozenset[str]]:
        ok = True
        action = self._template(f"{where}/action", raw["action"])
        deps: set[str] = set()
        if action is not None:
            deps |= self._resolve(f"{where}/action", action.names, frozenset())
            literal = action.literal
            if literal is not None and is_spending_action(literal) and literal != "add":
                self.problem(f"{where}/action", "write the add action as 'add' so it is reserved "
                             "under the spend cap")
            if literal == "add":
                self._need(f"{where}/action", Need.SPEND, "an add")
                if actor is Actor.NONE:
                    self.problem(
                        f"{where}/as", "an add is sent with a key (main, second, fresh or wrong)"
                    )
        else:
            ok = False
        params: list[tuple[str, Template]] = []
        for name, value in raw.get("params", {}).items():
            if name in ("key", "action"):
                self.problem(
                    f"{where}/params/{name}", f"{name} is set by `as`/`action`, not a param"
                )
                continue
            template = self._template(f"{where}/params/{name}", str(value))
            if template is None:
                ok = False
                continue
            deps |= self._resolve(f"{where}/params/{name}", template.names, frozenset())
            params.append((name, template))
        worst = None
        if "worst_case" in raw:
            worst = self._expression(f"{where}/worst_case", raw["worst_case"])
            if worst is not None:
                deps |= self._resolve(f"{where}/worst_case", worst.names, frozenset())
        repeat = None
        extra: frozenset[str] = frozenset()
        if "repeat" in raw:
            count = self._expression(f"{where}/repeat/count", raw["repeat"]["count"])
            if count is not None:
                deps |= self._resolve(f"{where}/repeat/count", count.names, frozenset())
                repeat = Repeat(count, Outcome(raw["repeat"]["until"]))
            if action is not None and action.literal == "add":
                self.problem(f"{where}/repeat", "an add cannot be repeated")
            extra = frozenset({"sent"})
        if action is not None and action.literal == "add":
            extra = extra | _ADD_LOCALS
        if not ok or action is None:
            return None, frozenset(deps), extra
        fields = {"action": action, "params": tuple(params), "form": raw.get("form"),
                  "worst_case": worst, "repeat": repeat}
        return fields, frozenset(deps), extra

    def _control(
        self, where: str, raw: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, frozenset[str], frozenset[str]]:
        (verb, body), = raw["control"].items()
        at = f"{where}/control/{verb}"
        templates: dict[str, Template] = {}
        deps: set[str] = set()
        for name, value in body.items():
            if name == "status":
                continue
            template = self._template(f"{at}/{name}", str(value))
            if template is not None:
                deps |= self._resolve(f"{at}/{name}", template.names, frozenset())
                templates[name] = template
        if len(templates) != len([n for n in body if n != "status"]):
            return None, frozenset(deps), frozenset()
        command: Command
        if verb == "mint":
            command = Mint(templates["balance"])
        elif verb == "advance":
            command = Advance(templates["seconds"])
        elif verb == "order_outcome":
            command = OrderOutcome(
                templates["order"], body["status"], templates.get("remains"),
                templates.get("start_count"),
            )
        else:
            command = RefillOutcome(templates["refill"], body["status"])
        return {"command": command}, frozenset(deps), frozenset()

    def _wait(
        self, where: str, raw: Mapping[str, Any], actor: Actor
    ) -> tuple[dict[str, Any] | None, frozenset[str], frozenset[str]]:
        spec = raw["wait_for"]
        refill = "refill" in spec
        target = self._template(f"{where}/wait_for/{'refill' if refill else 'order'}",
                                spec["refill" if refill else "order"])
        clause = spec["clause"]
        self._clause(f"{where}/wait_for/clause", clause)
        if actor in (Actor.WRONG, Actor.NONE):
            self.problem(f"{where}/as", "a wait polls with a real key (main, second or fresh)")
        self._words(f"{where}/wait_for/status", spec["status"],
                    Vocabulary.REFILL if refill else Vocabulary.ORDER)
        if target is None:
            return None, frozenset(), frozenset()
        deps = self._resolve(f"{where}/wait_for", target.names, frozenset())
        fields = {"target": target, "refill": refill, "words": tuple(spec["status"]),
                  "wait_clause": clause}
        return fields, deps, frozenset()

    def _words(self, where: str, words: Sequence[str], vocabulary: Vocabulary) -> None:
        read = values.refill_status if vocabulary is Vocabulary.REFILL else values.order_status
        for index, word in enumerate(words):
            if read(word) is None:
                self.problem(
                    f"{where}/{index}", f"{word!r} is not a known {vocabulary.value} status"
                )

    def _clause(self, where: str, clause: str) -> None:
        if clause not in self.clauses:
            self.problem(
                where, f"{clause} is checked here but not listed in the scenario's clauses"
            )
        self.asserted.add(clause)

    def _captures(
        self, where: str, raw: Mapping[str, Any], local: frozenset[str]
    ) -> tuple[list[Capture], frozenset[str]]:
        captures: list[Capture] = []
        deps: set[str] = set()
        visible = set(local)
        for name, spec in raw.items():
            at = f"{where}/capture/{name}"
            if name in self.services or name in FACTS or name in local:
                self.problem(at, f"{name!r} is already the name of a service, fact or step value")
                continue
            if name in self.captured:
                self.problem(at, f"{name!r} is already captured by step {self.captured[name][0]}")
                continue
            text = spec if isinstance(spec, str) else spec["value"]
            default = None
            if isinstance(spec, Mapping):
                default = self._expression(f"{at}/default", spec["default"])
                if default is not None:
                    deps |= self._resolve(f"{at}/default", default.names, frozenset(visible))
            capture = self._capture(at, name, text, default, frozenset(visible))
            if capture is not None:
                deps |= self._resolve(at, _capture_names(capture), frozenset(visible))
                captures.append(capture)
                visible.add(name)
        return captures, frozenset(deps)

    def _capture(
        self, at: str, name: str, text: str, default: Expression | None, visible: frozenset[str]
    ) -> Capture | None:
        if text.startswith("/"):
            pointer = self._template(at, text)
            if pointer is None:
                return None
            return Capture(name, at, CaptureSource.POINTER, pointer=pointer, default=default)
        if text.startswith("header:"):
            header = text.removeprefix("header:").strip()
            if not re.fullmatch(r"[A-Za-z0-9-]+", header):
                self.problem(at, f"{header!r} is not a header name")
                return None
            return Capture(name, at, CaptureSource.HEADER, header=header, default=default)
        expression = self._expression(at, text)
        if expression is None:
            return None
        return Capture(name, at, CaptureSource.EXPRESSION, expression=expression, default=default)

    def _assertions(
        self, where: str, raw: Sequence[Mapping[str, Any]], kind: str, actor: Actor,
        visible: frozenset[str], vocabulary: Vocabulary,
    ) -> tuple[list[Assertion], frozenset[str], set[Actor]]:
        assertions: list[Assertion] = []
        deps: set[str] = set()
        measure: set[Actor] = set()
        for index, spec in enumerate(raw):
            at = f"{where}/expect/{index}"
            clause = spec["clause"]
            self._clause(f"{at}/clause", clause)
            base = {"clause": clause, "where": at, "what": spec.get("what")}
            if kind == "control" and not ("balance_delta" in spec or "that" in spec):
                self.problem(at, "a control step can only check balance_delta or that")
                continue
            built = self._assertion(at, spec, base, actor, measure, vocabulary)
            if built is None:
                continue
            deps |= self._resolve(at, _assertion_names(built), visible)
            assertions.append(built)
        return assertions, frozenset(deps), measure

    def _assertion(
        self, at: str, spec: Mapping[str, Any], base: dict[str, Any], actor: Actor,
        measure: set[Actor], default_vocabulary: Vocabulary,
    ) -> Assertion | None:
        item = self._template(f"{at}/item", spec["item"]) if "item" in spec else None
        if "outcome" in spec:
            kind = _ERROR_KINDS.get(spec.get("kind", "")) if "kind" in spec else None
            if kind is not None and item is not None:
                self.problem(f"{at}/kind", "kind grades a whole error answer, not an item")
            return OutcomeCheck(**base, outcome=Outcome(spec["outcome"]), kind=kind, item=item)
        if "status" in spec:
            vocabulary = Vocabulary(spec.get("vocabulary", default_vocabulary))
            self._words(f"{at}/status", spec["status"], vocabulary)
            pointer = self._template(f"{at}/at", spec["at"]) if "at" in spec else None
            return StatusCheck(**base, words=tuple(spec["status"]), vocabulary=vocabulary,
                               item=item, at=pointer)
        if "shape" in spec:
            return ShapeCheck(**base, form=spec["shape"], canonical=spec.get("canonical", False))
        if "balance_delta" in spec:
            raw = spec["balance_delta"]
            pairs = {actor.wallet_owner.value: raw} if isinstance(raw, str) else dict(raw)
            deltas: list[tuple[Actor, Expression]] = []
            for who, text in pairs.items():
                owner = Actor(who)
                if owner is Actor.SECOND:
                    self._need(f"{at}/balance_delta", Need.SECOND_KEY, "the second key's balance")
                if owner is Actor.FRESH:
                    self._need(f"{at}/balance_delta", Need.CONTROL, "the fresh tenant's balance")
                expression = self._expression(f"{at}/balance_delta", text)
                if expression is None:
                    return None
                deltas.append((owner, expression))
                measure.add(owner)
            return DeltaCheck(**base, deltas=tuple(deltas))
        if "that" in spec:
            expression = self._expression(f"{at}/that", spec["that"], comparison=True)
            return ThatCheck(**base, expression=expression) if expression is not None else None
        if "http_status" in spec:
            return HttpStatusCheck(**base, statuses=frozenset(spec["http_status"]))
        header = spec["header"]
        pattern = None
        if "pattern" in header:
            try:
                pattern = re.compile(header["pattern"])
            except re.error as error:
                self.problem(f"{at}/header/pattern", f"not a regular expression: {error}")
                return None
        return HeaderCheck(**base, name=header["name"], pattern=pattern,
                           on_status=frozenset(header.get("on_status", ())))


def _capture_names(capture: Capture) -> frozenset[str]:
    names: set[str] = set()
    if capture.pointer is not None:
        names |= capture.pointer.names
    if capture.expression is not None:
        names |= capture.expression.names
    return frozenset(names)


def _assertion_names(assertion: Assertion) -> frozenset[str]:
    names: set[str] = set()
    for template in (getattr(assertion, "item", None), getattr(assertion, "at", None)):
        if template is not None:
            names |= template.names
    if isinstance(assertion, DeltaCheck):
        for _, expression in assertion.deltas:
            names |= expression.names
    if isinstance(assertion, ThatCheck):
        names |= assertion.expression.names
    return frozenset(names)


# =============================================================================================
# Runner


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
        self.panel.read_balance(main.key)  # also teaches the driver the money precision
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
        used = {d for s in self.scenario.steps for d in s.deps if d.startswith(_ACTION)}
        for dep in sorted(used):
            action = dep.removeprefix(_ACTION)
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
        opening = {a: self.panel.read_balance(self._wallet(a).key) for a in step.measure}
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
            for name in _BALANCE_LOCALS:
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
        deadline = self._clock() + timeout
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
                got = f"it ended {_short(word)}"
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
                self._sleep(min(delay, remaining))
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
        return expected, f"item {_short(item, 200)}"

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
        return _expected(assertion), f"{pointer} is {_short(word)}"

    def _unknown_word(self, word: object, refills: bool, state: _StepState, source: str) -> None:
        clause = "RSTATUS-001" if refills else "STATUS-002"
        noun = "refill" if refills else "order"
        self._fail(clause, f"a {noun} status word of the vocabulary",
                   f"status {_short(word)}", state, source=source)

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
                f"a dialect variant: {_excerpt(exchange.text)}", state, grade=Grade.NON_STRICT,
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
    return f"HTTP {exchange.status} {_excerpt(exchange.text)}"


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "...(truncated)"


def _signed(amount: Decimal) -> str:
    return f"+{amount}" if amount >= 0 else str(amount)


# =============================================================================================
# pytest


class ScenarioFile(pytest.File):
    """One ``scenarios/*.yaml`` file: validated at collection, one item."""

    def collect(self) -> Iterable[pytest.Item]:
        try:
            scenario = load_file(self.path)
        except ScenarioError as error:
            raise self.CollectError(str(error)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    """A scenario as a test: it cites its clauses (so the plugin judges it like any harness
    test) and reports a failure as the scenario step, not as a traceback."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.trace: list[tuple[int, Exchange]] = []
        self.add_marker(pytest.mark.clause(*scenario.clauses))

    def runtest(self) -> None:
        runner = ScenarioRunner(self.config.stash[RUN_KEY], self.scenario)
        try:
            runner.run()
        finally:
            self.trace = runner.trace

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.scenario.name}"

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        error = excinfo.value
        if isinstance(error, CheckFailure):
            return self._render(error)
        if isinstance(error, ScenarioRuntimeError | ControlError):
            return f"scenario {self.scenario.name} ({self.scenario.source}): {error}"
        return super().repr_failure(excinfo, style)

    def _render(self, failure: CheckFailure) -> str:
        scenario = self.scenario
        info = contract.clauses().get(failure.clause)
        clause = f"{failure.clause} {info.level}: {info.title}" if info else failure.clause
        lines = [f"scenario {scenario.name} ({scenario.source}): {scenario.description.strip()}"]
        if isinstance(failure, ScenarioFailure):
            step = failure.step
            if step is not None:
                lines.append(f'step {step.number} of {len(scenario.steps)}: "{step.name}"')
            grade = "" if failure.grade is Grade.FAIL else f" ({failure.grade.value})"
            lines += [
                f"checks:   {scenario.source} {failure.source}",
                f"clause:   {clause}{grade}",
                f"expected: {failure.expected}",
                f"got:      {failure.got}",
            ]
        else:
            steps = {id(e): n for n, e in self.trace}
            numbers = sorted({steps.get(id(e), 0) for e in failure.exchanges})
            named = [f'{n} "{scenario.steps[n - 1].name}"' for n in numbers if n]
            if named:
                lines.append(f"step {', '.join(named)} of {len(scenario.steps)}")
            lines += [f"clause:   {clause}", f"problem:  {failure.title}: {failure.message}"]
        for exchange in failure.exchanges:
            lines += _exchange_lines(exchange)
        return "\n".join(lines)


def _exchange_lines(exchange: Exchange) -> list[str]:
    request = exchange.request
    shown = "&".join(f"{k}={v}" for k, v in request.params) or request.body
    shown = shown.replace("\r", "\\r").replace("\n", "\\n")
    if len(shown) > _EXCERPT:
        shown = shown[:_EXCERPT] + "...(truncated)"
    ctype = exchange.header("Content-Type") or "-"
    answer = (
        f"no HTTP answer ({exchange.transport_error})" if exchange.transport_error is not None
        else f"HTTP {exchange.status} {ctype} {_excerpt(exchange.text)}"
    )
    return [f"request:  #{exchange.seq} {request.method} {exchange.url} {shown}",
            f"response: {answer}"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    """Scenario files are the ``.yaml`` files of the shipped scenarios folder."""
    folder = scenario_folder()
    if file_path.suffix != ".yaml" or folder is None:
        return None
    if not file_path.resolve().is_relative_to(folder.resolve()):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A scenario's failure reads as its step (repr_failure), after the plugin has had its say:
    this wrapper is the outermost one, so what it writes is what is printed."""
    report = yield
    if (
        isinstance(item, ScenarioItem) and report.failed and call.excinfo is not None
        and call.when == "call"
    ):
        report.longrepr = item.repr_failure(call.excinfo)
    return report
