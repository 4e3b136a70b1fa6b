"""Declared status transitions: the one place a status may change, and the error when it may not.

Orders and refills each declare a table ``status -> statuses it may move to``; a status with
no entry is final (absorbing). Moving through :func:`check_transition` is how "statuses never
go backwards" is enforced rather than hoped for.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

__all__ = ["InvalidTransition", "check_transition"]

S = TypeVar("S", bound=StrEnum)


class InvalidTransition(ValueError):
    """A status change the declared transitions do not allow (e.g. out of a final state)."""

    def __init__(self, kind: str, item_id: str, current: StrEnum, target: StrEnum) -> None:
        super().__init__(f"{kind} {item_id} cannot move from {current.value!r} to {target.value!r}")
        self.item_id = item_id
        self.current = current
        self.target = target


def check_transition(
    table: Mapping[S, frozenset[S]], kind: str, item_id: str, current: S, target: S
) -> None:
    """Raise :class:`InvalidTransition` unless ``table`` lets ``current`` move to ``target``."""
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(kind, item_id, current, target)
