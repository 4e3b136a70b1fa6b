"""Request budgets: at most N requests in any sixty seconds of the panel's clock, per subject.

The subject is a tenant id (``RateLimit.scope == "key"``: each API key has its own budget,
and other keys are unaffected) or a client address (``"ip"``). The window slides: the times of
the admitted requests are kept, so a slot frees exactly sixty seconds after the request that
took it, and ``Retry-After`` is the whole number of seconds until the oldest one does. Time is
the state's :class:`~mockpanel.state.Clock`, so ``POST /_mock/clock/advance`` moves the window
like everything else. Refused requests take no slot: a client that backs off is served again.

Subjects are tenant ids and addresses, never keys: this bookkeeping may be shown or logged.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from mockpanel.config import MockConfig
from mockpanel.profiles import Profile, RateLimit
from mockpanel.state import Clock

__all__ = ["WINDOW_SECONDS", "RateLimiter", "limit_for"]

WINDOW_SECONDS: Final = 60.0
# Forget subjects idle for a whole window once there are more than this many (and then
# whenever their number doubles), so a stream of new addresses cannot grow memory forever.
_FIRST_SWEEP: Final = 1024


def limit_for(config: MockConfig, profile: Profile) -> RateLimit | None:
    """The budget a run enforces: the config's override, none (``"off"``), or the profile's."""
    if isinstance(config.rate_limit, RateLimit):
        return config.rate_limit
    return None if config.rate_limit == "off" else profile.rate_limit


class RateLimiter:
    """Sliding-window request counting for one :class:`RateLimit`."""

    __slots__ = ("_clock", "_sweep_at", "_windows", "limit")

    def __init__(self, limit: RateLimit, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._windows: dict[str, deque[float]] = {}
        self._sweep_at = _FIRST_SWEEP

    def admit(self, subject: str) -> int | None:
        """Count one request for ``subject``: ``None`` when it is within the budget, else the
        seconds (an int >= 1) until a slot frees; a refused request is not counted."""
        now = self._clock.now()
        window = self._windows.get(subject)
        if window is None:
            if len(self._windows) >= self._sweep_at:
                self._sweep(now)
            window = self._windows[subject] = deque()
        _expire(window, now)
        if len(window) >= self.limit.per_minute:
            return max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
        window.append(now)
        return None

    def used(self, subject: str) -> int:
        """How many slots ``subject`` holds in the current window."""
        window = self._windows.get(subject)
        if window is None:
            return 0
        _expire(window, self._clock.now())
        return len(window)

    def clear(self) -> None:
        """Forget every subject's window (``POST /_mock/reset``)."""
        self._windows.clear()
        self._sweep_at = _FIRST_SWEEP

    def _sweep(self, now: float) -> None:
        for subject in [s for s, window in self._windows.items() if _idle(window, now)]:
            del self._windows[subject]
        self._sweep_at = max(_FIRST_SWEEP, 2 * len(self._windows))


def _expire(window: deque[float], now: float) -> None:
    while window and window[0] <= now - WINDOW_SECONDS:
        window.popleft()


def _idle(window: deque[float], now: float) -> bool:
    return not window or window[-1] <= now - WINDOW_SECONDS
