"""JSON text with exact ``Decimal`` numbers: money rendered as a number never passes a float.

The standard encoder can only emit numbers it gets as ``int`` or ``float``; a vendor dialect
that sends ``"charge": 4.20`` would force money through binary floating point. This encoder
writes a ``Decimal`` as its fixed-point digits, so ``Decimal("4.20")`` is the JSON number
``4.20`` exactly. Strings are escaped to ASCII, as PHP's ``json_encode`` does by default.

Most answers hold no ``Decimal`` at all (money goes out as text in most dialects), so a value
made only of exact ``dict``/``list``/``tuple``/``str``/``int``/``bool``/``None`` is written by
orjson (a tenth of the standard encoder's time; its text is the same for these types as long
as it is ASCII without DEL and every int fits in 64 bits, else the standard encoder writes it);
with a ``float`` as well, by the standard library's C encoder, which yields the same text;
everything else takes the exact (slower) path below, which also raises the loud errors.
"""

from __future__ import annotations

import json
from _json import encode_basestring_ascii, make_encoder
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final, TypeAlias

import orjson

__all__ = ["Json", "dumps", "dumps_bytes"]

Json: TypeAlias = (
    "bool | int | float | str | Decimal | Sequence[Json] | Mapping[str, Json] | None"
)


def dumps(value: Json, *, indent: int | None = None) -> str:
    """``value`` as JSON text; ``indent`` pretty-prints with that many spaces per level.

    Raises ``ValueError`` for a non-finite number and ``TypeError`` for anything that is not
    JSON: a mock bug must surface, never be rendered as something a vendor might send.
    """
    return dumps_bytes(value, indent=indent).decode("ascii")


def dumps_bytes(value: Json, *, indent: int | None = None) -> bytes:
    """:func:`dumps` as the ASCII bytes an answer's body is (no str in between when it can)."""
    if indent is None and _plain(value, _FAST_SCALARS):
        try:
            fast = orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError: an int that does not fit in 64 bits
            pass
        else:
            # Not ASCII: the standard encoder escapes it (PHP does too). DEL is ASCII, but it
            # escapes that as well, and orjson does not. (DEL as the int 127: a bytes needle
            # is first tried as an int, and the TypeError it raises and drops costs more
            # than the search itself, on every answer.)
            if fast.isascii() and _DEL not in fast:
                return fast
    if _plain(value, _SCALARS):
        if indent is None:
            return "".join(_COMPACT(value, 0)).encode("ascii")
        text = json.dumps(value, indent=indent, separators=(",", ": "), allow_nan=False)
        return text.encode("ascii")
    parts: list[str] = []
    _encode(value, parts, indent, 0)
    return "".join(parts).encode("ascii")


def _not_plain(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON")  # unreachable after _plain


# The C encoder behind ``json.dumps``, built once (``json.dumps`` builds one per call): its
# compact output equals the exact path's. It keeps no state between calls; no circular-
# reference markers, as _plain has already walked the value.
_COMPACT: Final = make_encoder(
    None, _not_plain, encode_basestring_ascii, None, ":", ",", False, False, False
)
_DEL: Final = 0x7F
# Exact types only: a subclass (an enum, a Mapping that is not a dict) may encode differently.
_SCALARS: Final[frozenset[type]] = frozenset({str, int, float, bool, type(None)})
# ... and without float for orjson, which writes some floats differently (``1e-07``) and a
# non-finite one as ``null`` where the standard encoder raises.
_FAST_SCALARS: Final[frozenset[type]] = frozenset({str, int, bool, type(None)})


def _plain(value: object, scalars: frozenset[type] = _SCALARS) -> bool:
    """Whether ``value`` is made only of ``scalars`` and exact dicts, lists and tuples, which
    the C encoders write exactly as :func:`_encode` would: no ``Decimal``, no non-``str``
    object key (the C encoders would convert it or refuse it)."""
    kind = type(value)
    if kind in scalars:
        return True
    if type(value) is dict:  # (not ``kind``: this form narrows the type, without a cast call)
        # One pass, scalar members checked inline: answers are mostly flat objects of
        # scalars, and a multi-status has a hundred of them.
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
