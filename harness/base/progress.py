"""What the harness is waiting for, shown on the terminal while it waits.

A certification run against a live panel spends most of its time waiting: for an order to
finish (``Panel.follow``, a scenario's ``wait_for``), for a throttled request's
``Retry-After``, or paced below the panel's rate limit. :class:`Progress` is the one narrow
interface the client, the pacer, the driver and the scenario runner call
(:meth:`Progress.waiting`, and :meth:`Progress.sleep` which calls it while it sleeps); it
decides whether a line is due and hands it to a :class:`Terminal`. This module and its
callers never import pytest: :mod:`harness.run.progress_pytest` is the pytest side (the terminal
reporter, output capture), registered by the plugin.

When a line is shown (:class:`Cadence`), by verbosity:

- default and ``-v``, on an interactive terminal: once a wait has lasted 5 s, one live line,
  rewritten in place at most every 5 s (what it waits for, how long so far, the deadline);
- default and ``-v``, not a terminal (a CI log): a new line at most every 30 s, once a wait
  has lasted 10 s;
- ``-q`` and ``-qq`` (CI): silent unless a wait lasts a minute, then one line a minute, so
  that a job is never ten minutes silent.

Under pytest-xdist the tests (and so the waits) run in the workers, which have no terminal:
nothing is shown there. Times are ``time.monotonic`` seconds unless a clock is injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "LIVE",
    "LOG",
    "PREFIX",
    "QUIET",
    "TICK",
    "Cadence",
    "Progress",
    "Terminal",
    "cadence_for",
    "duration",
]

PREFIX = "smm-harness:"
TICK = 5.0
"""The longest single sleep while a wait may be shown: a long sleep is cut into ticks so
that its line keeps moving."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """When lines are shown: a wait shorter than ``first_after`` seconds never is, then at most
    one line every ``every`` seconds, rewritten in place when ``in_place``."""

    first_after: float
    every: float
    in_place: bool


LIVE = Cadence(first_after=5.0, every=5.0, in_place=True)
LOG = Cadence(first_after=10.0, every=30.0, in_place=False)
QUIET = Cadence(first_after=60.0, every=60.0, in_place=False)


class Terminal(Protocol):
    """Where progress lines go (pytest's terminal reporter, or a fake in tests)."""

    @property
    def quiet(self) -> bool:
        """``-q`` or quieter: CI wants as few lines as possible."""
        ...

    @property
    def interactive(self) -> bool:
        """A terminal a line can be rewritten on (not a log file or a pipe)."""
        ...

    def show(self, text: str, *, replace: bool) -> None:
        """Write ``text`` as a line of its own; ``replace``: over the last line shown."""
        ...


def cadence_for(terminal: Terminal) -> Cadence:
    if terminal.quiet:
        return QUIET
    return LIVE if terminal.interactive else LOG


def duration(seconds: float) -> str:
    """``7s``, ``2m05s``, ``1h02m``: short enough for a progress line."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _short_test(nodeid: str) -> str:
    """``test_07_status.py::test_x[1]`` from a node id that may carry a long path (the suite
    is collected from site-packages in a vendor's empty directory)."""
    path, sep, rest = nodeid.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest


class Progress:
    """Shows what the run waits for; silent until a :class:`Terminal` is attached."""

    def __init__(
        self, terminal: Terminal | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.terminal = terminal
        self._clock = clock
        self._lock = threading.Lock()
        self._test: str | None = None
        self._test_since: float | None = None
        self._shown_at: float | None = None
        self._open = False  # the last line on the terminal is ours (it may be rewritten)

    # -- the running test ----------------------------------------------------------------------

    def begin_test(self, nodeid: str | None) -> None:
        """A test starts (``None``: none runs). pytest writes between tests, so a line shown
        before is no longer the last one: the next line starts a new one."""
        with self._lock:
            self._test = None if nodeid is None else _short_test(nodeid)
            self._test_since = None if nodeid is None else self._clock()
            self._open = False

    @property
    def test_since(self) -> float | None:
        """When the running test started (``None`` between tests)."""
        return self._test_since

    # -- waiting -------------------------------------------------------------------------------

    def waiting(
        self,
        what: str,
        since: float,
        deadline: float | None = None,
        *,
        now: float | None = None,
    ) -> None:
        """The run is waiting for ``what`` since ``since``, giving up at ``deadline``; shows a
        line when one is due. ``now`` is the caller's clock when it has its own (``since`` and
        ``deadline`` are on it); the cadence always follows this object's clock."""
        terminal = self.terminal
        if terminal is None:
            return
        cadence = cadence_for(terminal)
        with self._lock:
            moment = self._clock()
            current = moment if now is None else now
            elapsed = current - since
            if elapsed < cadence.first_after:
                return
            if self._shown_at is not None and moment - self._shown_at < cadence.every:
                return
            # Most telling first: a live line is cut at the terminal's width.
            text = f"{PREFIX} {duration(elapsed)} waiting for {what}"
            if deadline is not None:
                text += f" (gives up in {duration(deadline - current)})"
            if self._test:
                text += f" - {self._test}"
            replace = cadence.in_place and self._open
            self._shown_at = moment
            self._open = True
        terminal.show(text, replace=replace)

    def sleep(
        self,
        seconds: float,
        sleep: Callable[[float], None],
        *,
        what: str,
        since: float | None = None,
        deadline: float | None = None,
    ) -> None:
        """``sleep(seconds)``, cut into ticks with a :meth:`waiting` call before each while a
        terminal is attached (``since`` defaults to now). Without one: a single sleep."""
        if seconds <= 0:
            return
        if self.terminal is None:
            sleep(seconds)
            return
        start = self._clock() if since is None else since
        remaining = seconds
        while remaining > 0:
            self.waiting(what, start, deadline)
            step = min(remaining, TICK)
            sleep(step)
            remaining -= step
