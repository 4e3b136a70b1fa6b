"""The harness's own politeness limit: a token bucket every request waits on.

The arithmetic is :func:`take`, once, on a state each bucket keeps: in memory for
:class:`TokenBucket`, in a file every xdist worker opens for
:class:`harness.run.xdist.SharedBucket`. Both are a :class:`Bucket` (rate, burst, and the
sleep outside the lock).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

__all__ = ["Bucket", "Limiter", "TokenBucket", "take"]


class Limiter(Protocol):
    """The politeness limit: :meth:`acquire` blocks until one more request may leave."""

    def acquire(self) -> float: ...


def take(
    tokens: float, stamp: float, now: float, rate: float, burst: float
) -> tuple[float, float]:
    """One token from a bucket (``rate`` per second, burst ``burst``) that held ``tokens`` at
    ``stamp``: refilled up to ``now`` (never past the burst), less the one taken. Returns the
    tokens left as of ``now`` (below 0: owed to the requests still waiting) and the seconds
    this request waits for its token."""
    left = min(burst, tokens + (now - stamp) * rate) - 1
    return left, (0.0 if left >= 0 else -left / rate)


class Bucket(ABC):
    """``rate`` requests per second with a burst of ``burst``, clock and sleep injectable.
    A subclass keeps the state and takes a token under its lock; the caller sleeps outside."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        wait = self._reserve()
        if wait:
            self._sleep(wait)
        return wait

    @abstractmethod
    def _reserve(self) -> float:
        """Take one token with :func:`take`, reading the clock under the state's lock; returns
        the seconds until the token is due."""


class TokenBucket(Bucket):
    """The bucket of one process: thread-safe, its state in memory (full when made)."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, burst, clock=clock, sleep=sleep)
        self._tokens = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            self._tokens, wait = take(self._tokens, self._stamp, now, self.rate, self.burst)
            self._stamp = now
        return wait
