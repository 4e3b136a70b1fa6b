"""The counters every process of a parallel run shares, each a small file rewritten under
``flock``: the politeness limit (:class:`SharedBucket`, with the arithmetic of
:mod:`harness.wire.limiter`) and what each process has committed against the spend cap
(:class:`SharedLedger`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from harness.wire.limiter import Bucket, take

__all__ = ["SharedBucket", "SharedLedger"]


class _FileLock:
    """An exclusive ``flock`` on one small file, also exclusive between threads of this
    process. The descriptor stays open and the file is rewritten in place (padded with
    spaces, never truncated): a truncate per request costs milliseconds on ext4."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._thread_lock = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[_FileLock]:
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def read(self) -> str:
        """The file's text (call while :meth:`held`)."""
        return os.pread(self._fd, os.fstat(self._fd).st_size, 0).decode().strip()

    def write(self, text: str) -> None:
        """Replace the file's text (call while :meth:`held`)."""
        data = text.encode()
        os.pwrite(self._fd, data.ljust(os.fstat(self._fd).st_size, b" "), 0)


class SharedBucket(Bucket):
    """A token bucket shared by every process that opens the same file: the file holds the
    bucket's tokens and when it held them, updated under ``flock`` (full while it holds
    none). Each caller takes its token under the lock and sleeps outside it, so in any window
    of ``w`` seconds at most ``rate * w + burst`` requests leave, whatever the workers.
    """

    def __init__(
        self,
        path: Path,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # CLOCK_MONOTONIC is one clock for every process of the machine.
        super().__init__(rate, burst, clock=clock, sleep=sleep)
        self._lock = _FileLock(path)

    def _reserve(self) -> float:
        with self._lock.held() as state:
            now = self._clock()
            try:
                tokens, stamp = (float(part) for part in state.read().split())
            except ValueError:  # a new (or damaged) file: a full bucket
                tokens, stamp = self.burst, now
            tokens, wait = take(tokens, stamp, now, self.rate, self.burst)
            state.write(f"{tokens!r} {now!r}")
        return wait


class SharedLedger:
    """What each process has committed against the spend cap, in one JSON file under ``flock``
    (amounts as decimal strings): the cap holds for the whole run."""

    def __init__(self, path: Path, name: str) -> None:
        self._lock = _FileLock(path)
        self.name = name

    @staticmethod
    def _entries(state: _FileLock) -> dict[str, Decimal]:
        text = state.read()
        try:
            raw = json.loads(text) if text else {}
            return {str(k): Decimal(str(v)) for k, v in raw.items()}
        except (ValueError, AttributeError, InvalidOperation):
            # A damaged ledger must not let spending through: nothing fits until it is fixed.
            return {"(unreadable ledger)": Decimal("Infinity")}

    def _others(self, entries: Mapping[str, Decimal]) -> Decimal:
        return sum((v for k, v in entries.items() if k != self.name), Decimal(0))

    def others(self) -> Decimal:
        """What the other processes have committed."""
        with self._lock.held() as state:
            return self._others(self._entries(state))

    def claim(self, total: Decimal, cap: Decimal) -> bool:
        """Publish ``total`` as this process's commitment if it fits under ``cap`` with the
        others'; atomically, so two workers cannot both take the last of the cap."""
        with self._lock.held() as state:
            entries = self._entries(state)
            if self._others(entries) + total > cap:
                return False
            entries[self.name] = total
            state.write(json.dumps({k: str(v) for k, v in entries.items()}))
            return True

    def publish(self, total: Decimal) -> None:
        """Record this process's commitment as it is now (after a settlement)."""
        with self._lock.held() as state:
            entries = self._entries(state)
            entries[self.name] = total
            state.write(json.dumps({k: str(v) for k, v in entries.items()}))
