"""The due timer: timed transitions applied when they fall due, with nothing else happening.

The state applies its timed events lazily: every operation first settles what has fallen due.
On its own that leaves an idle panel's orders where they were until some request arrives, so a
receiver waiting for seed 004's push ("the vendor POSTs every order status change") without
polling would never hear of a finished order, and a state file would go on showing the old
status. :class:`DueTimer` keeps one loop timer armed for the state's earliest due event,
whatever the number of stored orders: when it fires it settles (one operation under the state's
lock, committed to the state file like a request's changes, the webhook listener told after)
and arms itself again for the next event, or not at all when nothing is scheduled.

The state tells it (:meth:`~mockpanel.state.PanelState.watch_due`) only when the wait may have
shrunk: an event earlier than all the others (the first order of an idle panel), a reload, a
clock advanced through the control API. Placing an order behind others, the request path's
common case, schedules a later event and calls nothing.

It runs whether or not a webhook URL is configured: a tenant's URL can be set at any moment
through the control API, and a state file (and whoever reads it) should show a finished order
finished, not only after the next request. It does not run on a :class:`ManualClock`, which
moves only through ``advance_clock``; that settles, and so sends the webhooks, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from mockpanel.state import ManualClock, PanelState

__all__ = ["DueTimer"]

_log = logging.getLogger("mockpanel")

# Seconds between two firings at least. A busy panel's orders each fall due at their own
# instant; without a floor the timer would fire once per event. With it, a burst costs at most
# 1 / _MIN_GAP settles a second (each applying everything due by then), and a webhook is late by
# at most this much, which no receiver of a lifecycle measured in seconds can tell.
_MIN_GAP: Final = 0.05
# Added to every deadline: the loop may run a timer a hair before its time, and a settle one
# float rounding too early would find nothing due and wait out _MIN_GAP for it.
_PAD: Final = 0.001
# After a failed settle (a state file that cannot be written), the first wait before trying
# again, doubled on each failure in a row up to _RETRY_MAX: never a busy loop on a broken file.
_RETRY_FIRST: Final = 0.5
_RETRY_MAX: Final = 30.0


class DueTimer:
    """One loop timer for the state's earliest due event, started and stopped with the app."""

    def __init__(self, state: PanelState, failures: list[BaseException]) -> None:
        self._state = state
        self._failures = failures  # the app's FAILURES: a failed settle is kept for the fixtures
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None  # the loop's thread: a watch from elsewhere is handed over
        self._handle: asyncio.TimerHandle | None = None
        self._deadline = math.inf  # loop time the armed handle runs at (inf: none armed)
        self._not_before = -math.inf  # loop time before which it does not fire again
        self._retry = _RETRY_FIRST
        self.firings = 0
        """How many times it has fired (a settle each), for tests and diagnostics."""

    @property
    def armed(self) -> bool:
        """Whether a firing is scheduled (never when the state has no timed event ahead)."""
        return self._handle is not None

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """``cleanup_ctx`` of the app: watch the state and keep the timer armed, for the app's
        life (not at all on a manual clock)."""
        del app
        if isinstance(self._state.clock, ManualClock):
            yield
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._state.watch_due(self._wake)
        self._arm(self._state.next_due)  # a restored state file may hold events already
        try:
            yield
        finally:
            self._state.watch_due(None)
            if self._handle is not None:
                self._handle.cancel()
            self._handle, self._deadline, self._loop = None, math.inf, None

    def _wake(self, due: float) -> None:
        """The state's watch: the wait until ``due`` may have shrunk. Called under the state's
        lock from any thread, so it never calls the state and never raises."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._thread:
            self._arm(due)
        else:  # a state call made from another thread (a test, a fixture)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to arm
                loop.call_soon_threadsafe(self._arm, due)

    def _arm(self, due: float) -> None:
        """Make sure the timer fires by the time the clock reads ``due`` (on the loop)."""
        loop = self._loop
        if loop is None or due == math.inf:
            return
        # The state's clock may run ahead of the loop's (RealClock.advance), so the wait is
        # measured on the state's clock and the deadline set on the loop's.
        wait = due - self._state.clock.now()
        deadline = max(loop.time() + wait + _PAD, self._not_before)
        if deadline >= self._deadline:
            return  # the armed firing comes first: it re-arms for this event after it
        if self._handle is not None:
            self._handle.cancel()
        self._handle = loop.call_at(deadline, self._fire)
        self._deadline = deadline

    def _fire(self) -> None:
        loop = self._loop
        self._handle, self._deadline = None, math.inf
        if loop is None:
            return
        self.firings += 1
        try:
            due = self._state.settle_due()
        except Exception as exc:  # logged and kept; the timer goes on, later
            _log.exception(
                "mock panel: applying due lifecycle events failed; trying again in %.1f s",
                self._retry,
            )
            self._failures.append(exc)
            self._not_before = loop.time() + self._retry
            self._retry = min(self._retry * 2, _RETRY_MAX)
            due = self._state.next_due
        else:
            self._not_before = loop.time() + _MIN_GAP
            self._retry = _RETRY_FIRST
        self._arm(due)
