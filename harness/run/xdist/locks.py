"""The cross-process locks a test holds while it runs: the real accounts, whose balances any
test may compare (:class:`WalletLocks`), and a control API's clock, shared from a test's first
order and taken alone before its first clock move (:class:`ClockLock`, moved through
:class:`ClockSharingControl`)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from harness.base.redaction import Secret, SecretBook
from harness.wire.client import Transport
from harness.wire.control import ControlClient

__all__ = ["ClockLock", "ClockSharingControl", "WalletLocks"]


def _lock_name(label: str) -> str:
    # A key's label ("main key"), never the key, names its lock file.
    return "wallet-" + hashlib.sha256(label.encode()).hexdigest()[:16] + ".lock"


class WalletLocks:
    """Cross-process locks of the real accounts, taken together (in one fixed order, so two
    workers cannot deadlock) for a test that may see their balances move, released after it."""

    def __init__(self, directory: Path, labels: Iterable[str]) -> None:
        self._directory = directory
        self._labels = sorted(set(labels))
        self._held: list[IO[str]] = []

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def hold(self) -> None:
        """Take every real account's lock (blocking) unless this process already holds them."""
        if self._held:
            return
        for label in self._labels:
            # Held across calls until release(): a context manager cannot span a test.
            handle = open(self._directory / _lock_name(label), "a+", encoding="utf-8")  # noqa: SIM115
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            self._held.append(handle)

    def release(self) -> None:
        held, self._held = self._held, []
        for handle in reversed(held):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


class ClockLock:
    """Readers-writer lock over a panel clock shared by every worker (``fcntl`` record locks:
    a shared lock turns exclusive atomically, and the kernel reports a deadlock instead of
    hanging). A turnstile file makes a waiting writer block new readers, so it cannot starve.

    When two tests want to move the clock at once, one of them is told (EDEADLK) and gives up
    its shared lock to wait: that one test may see the other's clock moves on its own orders.
    """

    def __init__(self, directory: Path) -> None:
        # Open for the life of the process: closing any descriptor of a file would drop this
        # process's fcntl locks on it.
        self._rw = open(directory / "clock.lock", "a+", encoding="utf-8")  # noqa: SIM115
        self._turnstile = open(  # noqa: SIM115
            directory / "clock-turnstile.lock", "a+", encoding="utf-8"
        )
        self.state: str | None = None  # None, "shared" or "exclusive"

    def enter(self) -> None:
        """At the start of a test: share the clock (after any waiting writer)."""
        if self.state is not None:
            return
        fcntl.lockf(self._turnstile, fcntl.LOCK_EX)
        fcntl.lockf(self._turnstile, fcntl.LOCK_UN)
        fcntl.lockf(self._rw, fcntl.LOCK_SH)
        self.state = "shared"

    def exclusive(self) -> None:
        """Before moving the clock: wait until no other test runs, then keep the clock."""
        if self.state == "exclusive":
            return
        while True:
            try:
                fcntl.lockf(self._turnstile, fcntl.LOCK_EX)
                try:
                    fcntl.lockf(self._rw, fcntl.LOCK_EX)
                finally:
                    fcntl.lockf(self._turnstile, fcntl.LOCK_UN)
            except OSError as exc:
                if exc.errno != errno.EDEADLK:
                    raise
                # Another test waits for ours to end while we wait for it: let it go first.
                fcntl.lockf(self._rw, fcntl.LOCK_UN)
                self.state = None
                continue
            self.state = "exclusive"
            return

    def leave(self) -> None:
        if self.state is not None:
            fcntl.lockf(self._rw, fcntl.LOCK_UN)
            self.state = None

    def close(self) -> None:
        self.leave()
        self._rw.close()
        self._turnstile.close()


class ClockSharingControl(ControlClient):
    """A control client that takes the clock exclusively before it moves the clock."""

    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        transport: Transport,
        secrets: SecretBook,
        clock_lock: ClockLock,
    ) -> None:
        super().__init__(base_url, token, transport=transport, secrets=secrets)
        self._clock_lock = clock_lock

    def advance_clock(self, seconds: float) -> None:
        self._clock_lock.exclusive()
        super().advance_clock(seconds)
