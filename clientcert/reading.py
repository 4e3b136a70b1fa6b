"""Reading what a library returned, whatever its style: a dict of the raw JSON, an object with
attributes, a bare scalar, a list of items. The suite never asks the adapter to normalise:
these lenient readers find the fields, so the adapter stays a thin call of the library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "MISSING",
    "carried_error",
    "exact_count",
    "exact_money",
    "field",
    "items_by_id",
    "same_id",
    "scalar_or_field",
]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


def field(value: object, name: str) -> Any:
    """``value[name]`` for a mapping, ``value.name`` for an object, else :data:`MISSING`."""
    if isinstance(value, Mapping):
        return value.get(name, MISSING)
    if isinstance(value, str | bytes | int | float | Decimal | Sequence) or value is None:
        return MISSING
    return getattr(value, name, MISSING)


def scalar_or_field(value: object, name: str) -> Any:
    """A bare scalar as itself (``add`` returning ``16701``), else its field ``name``."""
    if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
        return value
    return field(value, name)


def carried_error(value: object) -> str | None:
    """The error a returned value visibly carries: an exception object, or an ``error``
    field/attribute that is a non-empty string or object; ``None`` when it carries none."""
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    error = field(value, "error")
    if error is MISSING or error is None or error == "" or error is False:
        return None
    return str(error)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def exact_money(read: object, wire: object) -> str | None:
    """Why ``read`` (what the library gave) is not exactly the money ``wire`` (what the panel
    sent), or ``None`` when it is. A ``float`` is never exact money: binary floats cannot hold
    most decimal amounts, so the value is already damaged even when it prints right."""
    expected = _decimal(wire) if not isinstance(wire, float) else Decimal(repr(wire))
    if expected is None:
        return f"the panel sent {wire!r}, not a number (cannot judge)"
    if isinstance(read, float):
        return (f"read as binary float {read!r} (= {Decimal(read)}), not the exact "
                f"{expected} the panel sent")
    got = _decimal(read)
    if got is None:
        return f"read as {read!r} ({type(read).__name__}), not the amount {expected}"
    if got != expected:
        return f"read as {got}, but the panel sent {expected}"
    return None


def exact_count(read: object, wire: object) -> str | None:
    """Why ``read`` is not exactly the count ``wire``, or ``None``. Counts are whole numbers:
    an integral float is exact for them, a string of digits is the text itself."""
    expected = _decimal(wire if not isinstance(wire, float) else repr(wire))
    if expected is None:
        return f"the panel sent {wire!r}, not a count (cannot judge)"
    got = (Decimal(repr(read)) if isinstance(read, float) else _decimal(read))
    if got is None:
        return f"read as {read!r} ({type(read).__name__}), not the count {expected}"
    if got != expected:
        return f"read as {got}, but the panel sent {expected}"
    return None


def same_id(read: object, wire: object) -> bool:
    """Whether an id the library returned is the id the panel sent (``16701`` and
    ``"16701"`` are the same id; ``"K7M2X9"`` only itself)."""
    if read is None or read is MISSING or isinstance(read, bool | float):
        return False
    return str(read).strip() == str(wire).strip()


def items_by_id(value: object) -> dict[str, Any] | None:
    """A batch answer as ``{id text: item}``: a mapping keyed by id, or a list of items each
    naming its ``order``; ``None`` when the value is neither."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        found: dict[str, Any] = {}
        for item in value:
            order = field(item, "order")
            if order is MISSING:
                return None
            found[str(order)] = item
        return found
    return None
