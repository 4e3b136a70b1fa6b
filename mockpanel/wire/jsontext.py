"""JSON text with exact ``Decimal`` numbers: money rendered as a number never passes a float.

The standard encoder can only emit numbers it gets as ``int`` or ``float``; a vendor dialect
that sends ``"charge": 4.20`` would force money through binary floating point. This encoder
writes a ``Decimal`` as its fixed-point digits, so ``Decimal("4.20")`` is the JSON number
``4.20`` exactly. Strings are escaped to ASCII, as PHP's ``json_encode`` does by default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TypeAlias

__all__ = ["Json", "dumps"]

Json: TypeAlias = (
    "bool | int | float | str | Decimal | Sequence[Json] | Mapping[str, Json] | None"
)


def dumps(value: Json, *, indent: int | None = None) -> str:
    """``value`` as JSON text; ``indent`` pretty-prints with that many spaces per level.

    Raises ``ValueError`` for a non-finite number and ``TypeError`` for anything that is not
    JSON: a mock bug must surface, never be rendered as something a vendor might send.
    """
    parts: list[str] = []
    _encode(value, parts, indent, 0)
    return "".join(parts)


def _encode(value: Json, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(value, str):
        out.append(json.dumps(value))
    elif value is None or isinstance(value, bool | int | float):
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write the non-finite number {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, Mapping):
        members = []
        for name, member in value.items():
            if not isinstance(name, str):
                raise TypeError(f"JSON object keys must be str, got {type(name).__name__}")
            members.append((json.dumps(name) + (":" if indent is None else ": "), member))
        _container(members, "{}", out, indent, level)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        _container([("", member) for member in value], "[]", out, indent, level)
    else:
        raise TypeError(f"{type(value).__name__} is not JSON")


def _container(
    members: list[tuple[str, Json]], brackets: str, out: list[str], indent: int | None, level: int
) -> None:
    """Write ``members`` (each a ready-made ``"name": `` prefix and a value) in ``brackets``."""
    if not members:
        out.append(brackets)
        return
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    outer = "" if indent is None else "\n" + " " * (indent * level)
    out.append(brackets[0])
    for position, (prefix, member) in enumerate(members):
        out.append(("," if position else "") + inner + prefix)
        _encode(member, out, indent, level + 1)
    out.append(outer + brackets[1])
