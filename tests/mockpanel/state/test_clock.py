"""Clocks: the manual one moves only when told; both refuse to go backwards."""

from __future__ import annotations

import math

import pytest

from mockpanel.state import Clock, ManualClock, RealClock, make_clock


def test_manual_clock_stands_still_until_advanced() -> None:
    clock = ManualClock(start=5.0)
    assert clock.now() == clock.now() == 5.0
    clock.advance(2.5)
    clock.advance(0)
    assert clock.now() == 7.5


def test_real_clock_advance_adds_to_monotonic_time() -> None:
    clock = RealClock()
    before = clock.now()
    clock.advance(3600)
    # Wall time only ever adds to the offset, so at least the hour shows.
    assert clock.now() - before >= 3600


@pytest.mark.parametrize("clock", [ManualClock(), RealClock()])
@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_clocks_refuse_to_go_backwards_or_to_infinity(clock: Clock, bad: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(bad)


def test_clocks_satisfy_the_protocol() -> None:
    assert isinstance(ManualClock(), Clock)
    assert isinstance(RealClock(), Clock)


def test_manual_clock_refuses_non_numbers() -> None:
    with pytest.raises(TypeError):
        ManualClock().advance("1")  # type: ignore[arg-type]


def test_make_clock_by_name() -> None:
    manual = make_clock("manual")
    assert isinstance(manual, ManualClock)
    assert manual.now() == 0.0
    assert isinstance(make_clock("real"), RealClock)
    with pytest.raises(ValueError, match="clock"):
        make_clock("fast")  # type: ignore[arg-type]
