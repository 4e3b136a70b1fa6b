"""JSON text with exact ``Decimal`` numbers: money rendered as a number never passes a float.

The standard encoder can only emit numbers it gets as ``int`` or ``float``; a vendor dialect
that sends ``"charge": 4.20`` would force money through binary floating point. This encoder
writes a ``Decimal`` as its fixed-point digits, so ``Decimal("4.20")`` is the JSON number
``4.20`` exactly. Strings are escaped to ASCII, as PHP's ``json_encode`` does by default.

:func:`dumps_bytes_reference` writes a value of plain JSON types with ``json.dumps`` and
anything holding a ``Decimal`` with its own exact encoder, which also raises the loud errors.
:func:`dumps_bytes_shortcut` hands a value made only of exact ``dict``/``list``/``tuple``/
``str``/``int``/``bool``/``None`` (most answers: money goes out as text in most dialects) to
orjson, and keeps its bytes when they are the reference's text: ASCII without DEL, every int
within 64 bits. ``MOCKPANEL_NO_SHORTCUTS=1`` selects the reference (:mod:`mockpanel.shortcuts`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final, TypeAlias

import orjson

from mockpanel.shortcuts import NO_SHORTCUTS

__all__ = ["Json", "dumps", "dumps_bytes", "dumps_bytes_reference", "dumps_bytes_shortcut"]

Json: TypeAlias = (
    "bool | int | float | str | Decimal | Sequence[Json] | Mapping[str, Json] | None"
)


def dumps(value: Json, *, indent: int | None = None) -> str:
    """``value`` as JSON text; ``indent`` pretty-prints with that many spaces per level.

    Raises ``ValueError`` for a non-finite number and ``TypeError`` for anything that is not
    JSON: a mock bug must surface, never be rendered as something a vendor might send.
    """
    return dumps_bytes(value, indent=indent).decode("ascii")


def dumps_bytes_reference(value: Json, *, indent: int | None = None) -> bytes:
    """:func:`dumps` as the ASCII bytes an answer's body is."""
    if _plain(value, _SCALARS):
        separators = (",", ":") if indent is None else (",", ": ")
        text = json.dumps(value, indent=indent, separators=separators, allow_nan=False)
    else:
        parts: list[str] = []
        _encode(value, parts, indent, 0)
        text = "".join(parts)
    return text.encode("ascii")


def dumps_bytes_shortcut(value: Json, *, indent: int | None = None) -> bytes:
    """:func:`dumps_bytes_reference`, a compact float-free plain value written by orjson."""
    if indent is None and _plain(value, _FAST_SCALARS):
        try:
            fast = orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError: an int that does not fit in 64 bits
            pass
        else:
            # Not ASCII, or DEL in it: the standard encoder escapes it (PHP does too).
            if fast.isascii() and _DEL not in fast:
                return fast
    return dumps_bytes_reference(value, indent=indent)


# Shortcut: orjson (a tenth of the standard encoder's time); twin: dumps_bytes_reference.
dumps_bytes = dumps_bytes_reference if NO_SHORTCUTS else dumps_bytes_shortcut

_DEL: Final = 0x7F
# Exact types only: a subclass (an enum, a Mapping that is not a dict) may encode differently.
_SCALARS: Final[frozenset[type]] = frozenset({str, int, float, bool, type(None)})
# ... and without float for orjson, which writes some floats differently (``1e-07``) and a
# non-finite one as ``null`` where the standard encoder raises.
_FAST_SCALARS: Final[frozenset[type]] = frozenset({str, int, bool, type(None)})


def _plain(value: object, scalars: frozenset[type]) -> bool:
    """Whether ``value`` is made only of ``scalars`` and exact dicts, lists and tuples, which
    the other encoders write exactly as :func:`_encode` would: no ``Decimal``, no non-``str``
    object key (they would convert it or refuse it)."""
    kind = type(value)
    if kind in scalars:
        return True
    if type(value) is dict:  # (not ``kind``: this form narrows the type for mypy)
        for name, member in value.items():
            if type(name) is not str:
                return False
            if type(member) not in scalars and not _plain(member, scalars):
                return False
        return True
    if type(value) is list or type(value) is tuple:
        return all(type(item) in scalars or _plain(item, scalars) for item in value)
    return False


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
