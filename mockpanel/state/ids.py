"""Order and refill ids: unique, deterministic from (seed, namespace, counter), never reused.

Numeric ids count up from a seed-derived start, like a real panel's auto-increment column.
Alphanumeric ids (smmpremium's ``K7M2X9``) are the counter pushed through an affine
permutation of the id space, so they look random yet can never collide.
"""

from __future__ import annotations

import hashlib
from typing import Literal

__all__ = ["ALPHABET", "IdSequence", "IdStyle"]

IdStyle = Literal["numeric", "alphanumeric"]

# 32 symbols without the look-alikes 0/O and 1/I, so 5 bits per character.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _derive(seed: int, namespace: str) -> int:
    digest = hashlib.sha256(f"{seed}:{namespace}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class IdSequence:
    """Hands out the ids of one namespace (``"order"``, ``"refill"``), one per :meth:`next`.

    ``prefix`` is prepended verbatim and ``width`` is the number of alphanumeric characters
    after it (ignored for numeric ids). The sequence raises ``OverflowError`` rather than ever
    repeating an id.
    """

    __slots__ = (
        "_count", "_multiplier", "_numeric", "_offset", "_prefix", "_space", "_style", "_width"
    )

    def __init__(
        self, style: IdStyle, seed: int, namespace: str, *, prefix: str = "", width: int = 6
    ) -> None:
        if style not in ("numeric", "alphanumeric"):
            raise ValueError(f"id style must be 'numeric' or 'alphanumeric', got {style!r}")
        if width < 3:
            raise ValueError(f"alphanumeric ids need width >= 3, got {width}")
        self._style = style
        self._numeric = style == "numeric"
        self._prefix = prefix
        self._width = width
        self._count = 0
        derived = _derive(seed, namespace)
        if style == "numeric":
            self._space = 0  # unbounded
            self._multiplier = 1
            self._offset = 10_000 + derived % 90_000
        else:
            self._space = len(ALPHABET) ** width  # a power of two
            # An odd multiplier is invertible modulo a power of two: n -> a*n + b is a bijection.
            self._multiplier = (derived >> 20) % self._space | 1
            self._offset = derived % self._space

    @property
    def issued(self) -> int:
        """How many ids this sequence has handed out."""
        return self._count

    def restore(self, issued: int) -> None:
        """Continue after ``issued`` ids (read back from a state file): none is handed out twice."""
        if isinstance(issued, bool) or not isinstance(issued, int) or issued < 0:
            raise ValueError(f"issued must be an int >= 0, got {issued!r}")
        self._count = issued

    def peek(self) -> str:
        """The id :meth:`next` will return, without using it up.

        Lets a caller obtain the id (which can fail only by exhaustion) before it changes
        anything else, then commit with :meth:`next`.
        """
        n = self._count
        if self._numeric:
            return f"{self._prefix}{self._offset + n}"
        if n >= self._space:
            raise OverflowError(f"all {self._space} ids of width {self._width} are used")
        value = (self._multiplier * n + self._offset) % self._space
        chars = []
        for _ in range(self._width):
            value, digit = divmod(value, len(ALPHABET))
            chars.append(ALPHABET[digit])
        return self._prefix + "".join(reversed(chars))

    def next(self) -> str:
        """The next id of the namespace."""
        rendered = self.peek()
        self._count += 1
        return rendered

    def use_up(self) -> None:
        """Use up the id :meth:`peek` returned (:meth:`next` without rendering it again)."""
        if not self._numeric and self._count >= self._space:
            raise OverflowError(f"all {self._space} ids of width {self._width} are used")
        self._count += 1
