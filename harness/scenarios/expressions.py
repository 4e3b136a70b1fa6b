"""The scenarios' expression language: Decimal arithmetic parsed by hand, and templates.

An expression is names, numbers, ``+ - * /`` and parentheses, and (for ``that``) one
comparison; it is parsed by recursive descent (no eval) and computed in a Decimal context wide
enough that money stays exact. A template is text with ``${expression}`` substitutions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Final

from harness.base import values
from harness.base.errors import DataError

__all__ = [
    "Expression",
    "ExpressionError",
    "Lookup",
    "Template",
    "Value",
    "parse_expression",
    "parse_template",
    "short",
]

_MAX_DEPTH: Final = 32


class ExpressionError(DataError):
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
    raise ExpressionError(f"{name} is {short(raw)}, not a number")


def _as_value(name: str, raw: object) -> Value:
    if isinstance(raw, str):
        return raw
    try:
        return _as_number(name, raw)
    except ExpressionError:
        raise ExpressionError(f"{name} is {short(raw)}, not a number or text") from None


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
        raise ExpressionError(f"cannot order {short(left)} and {short(right)}")

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
        return short(_side(node, lookup))
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


def short(value: object, limit: int = 80) -> str:
    """A value as a message shows it: numbers plain, text quoted, the rest as JSON; cut short."""
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
