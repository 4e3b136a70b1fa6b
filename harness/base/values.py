"""Reading panel values leniently: money, counts, ids and status words, whatever the dialect.

Panels send the same value as a string or a number (``"0.85"`` or ``0.85``, ``"157"`` or
``157``) and spell statuses differently (``Inprogress``, ``Cancelled``, ``Done``). The suite
reasons about meanings, so every reading goes through here: a value that cannot be read
returns ``None`` and the caller decides which clause that breaks.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import Enum

__all__ = [
    "OrderStatus",
    "RefillStatus",
    "count",
    "decimal_places",
    "id_text",
    "money",
    "order_spellings",
    "order_status",
    "refill_spellings",
    "refill_status",
    "signed_money",
]

_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


class OrderStatus(Enum):
    """The canonical order statuses; ``rank`` orders them along the lifecycle."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"

    @property
    def rank(self) -> int:
        return _ORDER_RANK[self]

    @property
    def terminal(self) -> bool:
        return self.rank == 2


_ORDER_RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.IN_PROGRESS: 1,
    OrderStatus.PROCESSING: 1,
    OrderStatus.COMPLETED: 2,
    OrderStatus.PARTIAL: 2,
    OrderStatus.CANCELED: 2,
}

# Dialect spellings (schemas/v2/common.json#/$defs/order_status) and what they mean.
_ORDER_SPELLINGS: dict[str, OrderStatus] = {
    **{s.value: s for s in OrderStatus},
    "Inprogress": OrderStatus.IN_PROGRESS,
    "In Progress": OrderStatus.IN_PROGRESS,
    "processing": OrderStatus.PROCESSING,
    "Active": OrderStatus.IN_PROGRESS,
    "Cancelled": OrderStatus.CANCELED,
    "Done": OrderStatus.COMPLETED,
    "Failed": OrderStatus.CANCELED,
    "Fail": OrderStatus.CANCELED,
    "Error": OrderStatus.CANCELED,
    "Refunded": OrderStatus.CANCELED,
}


class RefillStatus(Enum):
    """The canonical refill statuses."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"


_REFILL_SPELLINGS: dict[str, RefillStatus] = {
    **{s.value: s for s in RefillStatus},
    "Inprogress": RefillStatus.IN_PROGRESS,
    "In Progress": RefillStatus.IN_PROGRESS,
    "Processing": RefillStatus.IN_PROGRESS,
    "processing": RefillStatus.IN_PROGRESS,
    "Canceled": RefillStatus.REJECTED,
    "Cancelled": RefillStatus.REJECTED,
    "Done": RefillStatus.COMPLETED,
    "Failed": RefillStatus.REJECTED,
    "Fail": RefillStatus.REJECTED,
    "Error": RefillStatus.REJECTED,
}


def order_status(value: object) -> OrderStatus | None:
    """The meaning of an order status word, or ``None`` for an unknown word."""
    return _ORDER_SPELLINGS.get(value) if isinstance(value, str) else None


def order_spellings() -> frozenset[str]:
    return frozenset(_ORDER_SPELLINGS)


def refill_status(value: object) -> RefillStatus | None:
    return _REFILL_SPELLINGS.get(value) if isinstance(value, str) else None


def refill_spellings() -> frozenset[str]:
    return frozenset(_REFILL_SPELLINGS)


def money(value: object) -> Decimal | None:
    """A non-negative amount from a plain decimal string or a JSON number, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            return None
        return Decimal(value)
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
        return amount if amount.is_finite() and amount >= 0 else None
    return None


def signed_money(value: object) -> Decimal | None:
    """Like :func:`money` but keeps a sign, so a negative balance can be reported as such."""
    if isinstance(value, str) and value.startswith("-"):
        amount = money(value[1:])
        return None if amount is None else -amount
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return None
        return amount if amount.is_finite() else None
    return money(value)


def decimal_places(value: object) -> int:
    """How many decimals a money value is written with (``"1.250"`` -> 3, ``7`` -> 0)."""
    text = str(value) if isinstance(value, str | Decimal) else ""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    _, dot, fraction = text.partition(".")
    return len(fraction) if dot else 0


def count(value: object) -> int | None:
    """A non-negative whole number from a digit string or a JSON integer, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def id_text(value: object) -> str | None:
    """An order/refill/service id as the string a client sends back, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isalnum():
        return value
    return None
