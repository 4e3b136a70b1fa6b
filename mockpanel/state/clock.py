"""Time for the mock panel: an injected clock, so tests drive the order lifecycle by hand.

``ManualClock`` moves only when told, which makes every lifecycle test deterministic;
``RealClock`` follows the monotonic wall clock and can still be pushed forward, so a live
mock can be fast-forwarded through the control API without waiting.
"""

from __future__ import annotations

import math
import time
from typing import Literal, Protocol, runtime_checkable

__all__ = ["Clock", "ClockKind", "ManualClock", "RealClock", "check_seconds", "make_clock"]

ClockKind = Literal["real", "manual"]


def check_seconds(seconds: float) -> float:
    """``seconds`` as a float if it is finite and not negative; time never runs backwards."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    value = float(seconds)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"seconds must be finite and >= 0, got {seconds!r}")
    return value


@runtime_checkable
class Clock(Protocol):
    """A monotonic source of seconds that can be pushed forward."""

    def now(self) -> float:
        """Seconds since an arbitrary fixed origin; never decreases."""
        ...

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (finite, >= 0)."""
        ...


class ManualClock:
    """A clock that stands still until :meth:`advance` is called."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = check_seconds(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += check_seconds(seconds)


class RealClock:
    """Monotonic wall time plus an offset that :meth:`advance` adds to."""

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += check_seconds(seconds)


def make_clock(kind: ClockKind) -> Clock:
    """The clock named by a configuration value: ``"real"`` or ``"manual"``."""
    if kind == "real":
        return RealClock()
    if kind == "manual":
        return ManualClock()
    raise ValueError(f"clock must be 'real' or 'manual', got {kind!r}")
