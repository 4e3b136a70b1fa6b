"""Waiting for a panel to change on its own: one schedule for every wait of the run.

With the mock's control API the clock is advanced in growing steps (a second up to thirty
days), so a lifecycle that takes days in production is seen in a few requests; without one,
real time passes, polled with a doubling delay up to ``--panel-order-timeout``. The driver's
:meth:`~harness.panel.driver.Panel.follow` and the scenarios' ``wait_for`` both wait this way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from harness.base.progress import Progress
from harness.judging.judge import NotApplicable
from harness.judging.verdicts import NaReason
from harness.wire.control import ControlClient

__all__ = ["ADVANCE_STEPS", "FIRST_DELAY", "LONGEST_DELAY", "Waiting"]

ADVANCE_STEPS: Final = (1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)
"""Seconds the control clock moves between two reads: the last step is a month."""
FIRST_DELAY: Final = 0.5
LONGEST_DELAY: Final = 10.0
"""Real-time polling: the first pause, doubled after each read up to the longest."""


class Waiting:
    """One wait: call :meth:`pause` after each read that did not show the change yet."""

    def __init__(
        self,
        control: ControlClient | None,
        timeout: float,
        progress: Progress,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._control = control
        self._timeout = timeout
        self._progress = progress
        self._sleep = sleep
        self._clock = clock
        self._started = clock()
        self._deadline = self._started + timeout
        self._advances = iter(ADVANCE_STEPS)
        self._delay = FIRST_DELAY

    def pause(self, what: str) -> None:
        """Let time pass before the next read, or raise ``NotApplicable(TIMEOUT)`` when the
        schedule is spent: thirty simulated days, or the real-time timeout."""
        if self._control is not None:
            seconds = next(self._advances, None)
            if seconds is None:
                raise NotApplicable(NaReason.TIMEOUT, f"{what}: not seen after 30 simulated days")
            self._control.advance_clock(seconds)
            return
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise NotApplicable(NaReason.TIMEOUT, f"{self._timeout:g}s")
        self._progress.sleep(min(self._delay, remaining), self._sleep, what=what,
                             since=self._started, deadline=self._deadline)
        self._delay = min(self._delay * 2, LONGEST_DELAY)
