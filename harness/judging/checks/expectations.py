"""Expectations: the outcome checks of the suite ("this must be refused"), whose clause is the
caller's, because the same observation proves different rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from harness.base.exchange import Exchange
from harness.judging.checks.core import Applies, CheckFailure, Grade, answer_kind, server_broke

__all__ = ["expect_error", "expect_success", "fail", "require"]


def fail(
    clause: str,
    title: str,
    message: str,
    exchanges: Sequence[Exchange] = (),
    grade: Grade = Grade.FAIL,
) -> NoReturn:
    """Raise a :class:`CheckFailure`."""
    raise CheckFailure(clause, title, message, grade, exchanges)


def require(
    condition: bool,
    clause: str,
    title: str,
    message: str,
    exchanges: Sequence[Exchange] = (),
    grade: Grade = Grade.FAIL,
) -> None:
    """Raise a :class:`CheckFailure` unless ``condition`` holds."""
    if not condition:
        fail(clause, title, message, exchanges, grade)


def expect_error(exchange: Exchange, clause: str, what: str) -> str:
    """``exchange`` must be a refusal (an error answer below 500); returns the error message.

    A 5xx is no refusal: on a protocol request it is ROBUST-001's failure (and the judge
    counts ``clause`` as blocked by it), on a probe it is ``clause``'s own."""
    kind = answer_kind(exchange)
    if kind is not Applies.ERROR or server_broke(exchange):
        got = (
            "no JSON answer" if kind is None else f"HTTP {exchange.status} {exchange.text[:120]}"
        )
        fail(clause, what, f"expected an error envelope, got {got}", [exchange])
    return exchange.error_message or ""


def expect_success(exchange: Exchange, clause: str, what: str) -> object:
    """``exchange`` must be a JSON success answer; returns its body."""
    kind = answer_kind(exchange)
    if kind is not Applies.SUCCESS:
        got = "no JSON answer" if kind is None else f"HTTP {exchange.status} {exchange.text[:200]}"
        fail(clause, what, f"expected a success answer, got {got}", [exchange])
    return exchange.json
