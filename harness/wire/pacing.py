"""Pacing that fits the panel: how fast the harness sends, and how it waits out a 429.

Most live panels limit requests per key or per address, and publish it per minute (seed 000:
"Max 100 requests/min per key. Wait Retry-After seconds."; seed 002: 60 a minute; seed 004:
1000 a minute per IP). A certification run must fit under that limit, or the harness's own
HTTP 429s would be judged as the panel's defects. The :class:`Pacer` sits between the client
and the wire:

- **Start from what is advertised.** With ``--panel-rate-limit N`` (black-box), requests are
  paced at :data:`MARGIN` (90 %) of N a minute, one at a time (no burst), through the
  politeness limiter too, which xdist workers share.
- **Otherwise learn from the panel.** A panel that never throttles is never slowed (only the
  politeness limit applies). ``X-RateLimit-*`` / ``RateLimit-*`` headers, when sent, cap the
  pace at 90 % of the limit over its window (60 s unless the panel names another) and at the
  remaining budget spread over the time to its reset; a budget at 0 holds polite requests
  until the reset. A 429 to a paced request sets the pace from what the panel served that
  key in the last minute (90 % of it), or halves the pace when that does not explain the
  refusal (or the last minute was mostly the wait of a previous 429); after a quiet minute
  a halved pace grows back by a quarter, never past 90 % of the pace that was refused.
- **Wait out every 429** the harness did not provoke on purpose: its ``Retry-After`` (seconds
  or an HTTP date), else the headers' reset, else a doubling backoff (1 s up to 60 s), then
  send the same request again. The exchange a test judges is the answer to the retry; the
  429s are never recorded. A request waits at most ``--panel-max-retry-after`` seconds in all
  (default 300): beyond it the test stops with :class:`Throttled` (a harness error naming the
  panel's wait), never a clause failure. When the panel has named a wait, been obeyed and
  still refuses ``attempts - 1`` times, the last 429 is returned: the panel did not keep its
  word (RATE-005's business), so the test judges it.
- **The rate-limit tests** exceed the limit on purpose (``honour_429=False``): their 429s are
  returned at once, not learned from, and for the window that follows (:data:`WINDOW`, or
  the panel's longer ``Retry-After``) a 429 to a paced request is waited out without slowing
  the pace: the harness spent that budget itself.

With a control API no real time is paced: the panel's clock moves on demand, and a
``Retry-After`` is waited out on it (``HarnessRun.wait``), which costs nothing.
"""

from __future__ import annotations

import email.utils
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from harness.base.errors import Throttled
from harness.base.progress import Progress, duration

__all__ = [
    "MARGIN",
    "WINDOW",
    "PaceReport",
    "Pacer",
    "RateHeaders",
    "RetryPolicy",
    "RunClock",
    "Throttled",
    "advertised_pace",
    "rate_headers",
    "retry_after_seconds",
]

MARGIN: Final = 0.9
"""The share of a panel's limit the harness uses: the rest absorbs clock skew between the
panel's window and ours, and requests the panel counts that we do not (another client)."""
WINDOW: Final = 60.0
"""Seconds a limit is counted over when the panel does not say: panels publish per minute."""
FLOOR: Final = 1.0 / 60.0
"""The slowest pace: one request a minute."""
GROWTH: Final = 1.25
"""How much a halved pace grows back after each quiet minute."""
BACKOFF_CAP: Final = 60.0
"""The longest single wait for a 429 that names none (a whole per-minute window)."""


class _Limiter(Protocol):
    def acquire(self) -> float: ...


def retry_after_seconds(value: str | None, default: float, *, now: float | None = None) -> float:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    seconds = _retry_after(value, now=now)
    return default if seconds is None else seconds


def _retry_after(value: str | None, *, now: float | None = None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How 429 answers are honoured.

    ``max_wait`` bounds the seconds one request waits in all (``--panel-max-retry-after``);
    ``attempts`` bounds the sends of one request once the panel has named its wait;
    ``default_wait`` is the first backoff of a 429 that names no wait (it doubles up to
    :data:`BACKOFF_CAP`).
    """

    honour_429: bool = True
    attempts: int = 5
    max_wait: float = 300.0
    default_wait: float = 1.0


# ---------------------------------------------------------------------------------------------
# rate-limit headers


@dataclass(frozen=True, slots=True)
class RateHeaders:
    """What a panel's rate-limit headers say; every field is optional."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    """Seconds from now until the budget refills."""
    window: float | None = None
    """Seconds the limit is counted over, when the panel names it (``w=``)."""

    @property
    def empty(self) -> bool:
        return self.limit is None and self.remaining is None and self.reset is None


_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)")
_PARAM = re.compile(r"\b(limit|remaining|reset|q|r|t|w)\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_FAMILIES = ("x-ratelimit-", "ratelimit-")
_LONGEST_RESET = 86400.0  # a reset further than a day away is misread, not waited for


def _number(value: str | None) -> float | None:
    match = _NUMBER.match(value or "")
    return float(match.group(1)) if match else None


def _params(value: str | None) -> dict[str, float]:
    return {k.lower(): float(v) for k, v in _PARAM.findall(value or "")}


def _reset_seconds(value: float, wall_now: float) -> float | None:
    """``X-RateLimit-Reset`` is delta seconds (IETF draft) or a Unix time (GitHub-style), in
    seconds or milliseconds; told apart by size."""
    if value > 1e12:
        value = value / 1000.0 - wall_now
    elif value > 1e9:
        value -= wall_now
    value = max(0.0, value)
    return value if value <= _LONGEST_RESET else None


def rate_headers(headers: Iterable[tuple[str, str]], *, wall_now: float) -> RateHeaders:
    """Read ``X-RateLimit-Limit/-Remaining/-Reset`` (and their ``RateLimit-`` twins), the
    combined ``RateLimit: limit=.., remaining=.., reset=..`` (or ``r=``/``t=``) field and a
    ``RateLimit-Policy`` (``60;w=60`` or ``q=60;w=60``); unreadable values are ignored."""
    found = {name.lower(): value for name, value in headers}
    limit = remaining = reset = window = None
    for family in _FAMILIES:
        limit = limit if limit is not None else _number(found.get(family + "limit"))
        remaining = (remaining if remaining is not None
                     else _number(found.get(family + "remaining")))
        reset = reset if reset is not None else _number(found.get(family + "reset"))
        for name in (family + "limit", family + "policy"):
            policy = _params(found.get(name))
            window = window if window is not None else policy.get("w")
            if name.endswith("policy"):
                limit = limit if limit is not None else policy.get("q", _number(found.get(name)))
    combined = _params(found.get("ratelimit"))
    limit = limit if limit is not None else combined.get("limit")
    remaining = remaining if remaining is not None else combined.get("remaining",
                                                                     combined.get("r"))
    reset = reset if reset is not None else combined.get("reset", combined.get("t"))
    return RateHeaders(
        limit=int(limit) if limit is not None and limit >= 1 else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=_reset_seconds(reset, wall_now) if reset is not None else None,
        window=window if window is not None and window > 0 else None,
    )


def advertised_pace(per_minute: int) -> float:
    """Requests per second the harness sends to a panel advertising ``per_minute``."""
    return MARGIN * per_minute / WINDOW


# ---------------------------------------------------------------------------------------------
# time


class RunClock:
    """The run's elapsed time: monotonic time plus every sleep that returned early.

    A real ``time.sleep`` never does, so against a real panel this is ``time.monotonic``.
    A test that lets time pass on a simulated panel replaces ``time.sleep`` (the sleep here is
    looked up when called); then the pacer still sees the seconds it was told passed, and does
    not pace requests that the simulated time has long spaced out.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._skew = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock() + self._skew

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        started = self._clock()
        time.sleep(seconds)
        early = seconds - (self._clock() - started)
        if early > 0:
            with self._lock:
                self._skew += early


# ---------------------------------------------------------------------------------------------
# the pacer


@dataclass(frozen=True, slots=True)
class PaceReport:
    """What pacing cost a run so far (for the terminal and reports)."""

    per_minute: float | None
    """The pace now, requests a minute; ``None``: only the politeness limit applies."""
    source: str
    throttled: int
    """429 answers the harness was to wait out (429s to the rate-limit tests excluded)."""
    waited: float
    """Seconds spent waiting out 429s."""
    provoked: int
    """429 answers the rate-limit tests asked for."""


class Pacer:
    """Paces the requests that are polite, learns the panel's limit, and times 429 retries.

    Thread-safe; ``clock`` and ``sleep`` are injectable (tests run without real time).
    """

    def __init__(
        self,
        *,
        limiter: _Limiter | None = None,
        advertised: int | None = None,
        learn: bool = True,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        progress: Progress | None = None,
    ) -> None:
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.learn = learn
        self.progress = progress
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pace: float | None = None  # requests per second; None: not paced
        self._ceiling: float | None = None  # how far a backed-off pace may grow back
        self._source = "no limit seen"
        if advertised is not None and learn:
            self._pace = self._ceiling = advertised_pace(advertised)
            self._source = f"{MARGIN:.0%} of the advertised {advertised}/min"
        self._header_cap: float | None = None
        self._header_source = ""
        self._changed_at = clock()
        self._next_at = -math.inf
        self._hold_until = -math.inf
        self._provoked_until = -math.inf
        self._last_throttled = -math.inf
        self._served: deque[tuple[float, str | None]] = deque()
        self._throttled = 0
        self._waited = 0.0
        self._provoked = 0

    # -- what the run sees ---------------------------------------------------------------------

    @property
    def pace(self) -> float | None:
        """Requests per second the panel allows, as far as the harness knows (``None``: no
        limit seen or advertised; only the politeness limit applies)."""
        with self._lock:
            return self._rate()

    def report(self) -> PaceReport:
        with self._lock:
            rate = self._rate()
            source = self._source if rate is None else self._pace_source(rate)
            return PaceReport(None if rate is None else rate * 60, source, self._throttled,
                              self._waited, self._provoked)

    def describe(self) -> str:
        shown = self.report()
        if shown.per_minute is None:
            return "not paced (the panel has shown no limit)"
        return f"{shown.per_minute:.3g} requests/min ({shown.source})"

    # -- before and after a request -------------------------------------------------------------

    def before(self, *, retry: bool = False) -> float:
        """Before a polite request: the politeness limit, then the panel's pace (a retry of a
        throttled request has waited already: it goes now, and takes its place in the pace).
        Returns the seconds waited."""
        waited = self.limiter.acquire() if self.limiter is not None else 0.0
        with self._lock:
            now = self._clock()
            self._grow(now)
            rate = self._rate()
            start = max(now, self._hold_until)
            if rate is not None and not retry:
                start = max(start, self._next_at)
            if rate is not None:
                self._next_at = start + 1.0 / rate
            wait = start - now
            held = self._hold_until > now
            what = (
                "the panel's rate-limit window to reset (its budget is spent)" if held
                else f"requests paced at {rate * 60:.3g}/min ({self._pace_source(rate)})"
                if rate is not None else ""
            )
        if wait > 0:
            self._pause(wait, what, since=None if not held else now, deadline=None)
        return waited + max(wait, 0.0)

    def after(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        *,
        honoured: bool,
        paced: bool,
        first: bool,
        subject: str | None = None,
    ) -> None:
        """Learn from an answer: ``honoured`` (the caller waits out a 429), ``paced`` (sent
        through :meth:`before`), ``first`` (not a retry); ``subject`` names the budget the
        request drew on (the key's label; ``None`` without a key)."""
        hints = rate_headers(headers, wall_now=self._wall())
        with self._lock:
            now = self._clock()
            if status != 429:
                self._served.append((now, subject))
            self._forget(now)
            if not hints.empty:
                self._read_headers(hints, now)
            if status != 429:
                return
            if not honoured:
                # A rate-limit test spent the budget on purpose: not the pace's fault.
                self._provoked += 1
                named = _retry_after(_header(headers, "Retry-After"))
                quiet = max(WINDOW, named or 0.0, hints.reset or 0.0)
                self._provoked_until = max(self._provoked_until, now + quiet)
                return
            self._throttled += 1
            if self.learn and paced and first and now >= self._provoked_until:
                self._slow_down(now, subject)
            self._last_throttled = now

    def retry_wait(
        self,
        headers: Iterable[tuple[str, str]],
        *,
        retries: int,
        waited: float,
        named_retries: int,
        what: str,
    ) -> tuple[float, bool] | None:
        """How long to wait before sending a throttled request again, and whether the panel
        named that wait; ``None``: return the 429 (the panel named its wait ``attempts - 1``
        times, was obeyed, and still refuses). Raises :class:`Throttled` when the wait would
        take the request past the policy's ``max_wait``."""
        headers = tuple(headers)
        named = _retry_after(_header(headers, "Retry-After"), now=self._wall())
        if named is None:
            hints = rate_headers(headers, wall_now=self._wall())
            if hints.reset is not None and (hints.remaining is None or hints.remaining <= 0):
                named = hints.reset
        if named is not None:
            if named_retries + 1 >= self.policy.attempts:
                return None
            wait, told = named, True
        else:
            wait = min(self.policy.default_wait * 2 ** retries, BACKOFF_CAP)
            told = False
        cap = self.policy.max_wait
        if waited + wait > cap:
            said = f"Retry-After {duration(named)}" if named is not None else "no Retry-After"
            raise Throttled(
                f"the panel kept {what} throttled (HTTP 429, {said}, after {duration(waited)} "
                f"of waiting): the harness waits at most {cap:g}s for one request "
                "(--panel-max-retry-after); raise it, or run when the key's budget is fresh"
            )
        with self._lock:
            self._waited += wait
        return wait, told

    # -- internals (called with the lock held) --------------------------------------------------

    def _rate(self) -> float | None:
        rates = [r for r in (self._pace, self._header_cap) if r is not None]
        return min(rates) if rates else None

    def _pace_source(self, rate: float) -> str:
        return self._header_source if rate == self._header_cap else self._source

    def _politeness(self) -> float | None:
        rate = getattr(self.limiter, "rate", None)
        return float(rate) if isinstance(rate, (int, float)) and rate > 0 else None

    def _forget(self, now: float) -> None:
        while self._served and self._served[0][0] <= now - WINDOW:
            self._served.popleft()

    def _read_headers(self, hints: RateHeaders, now: float) -> None:
        if not self.learn:  # the panel's clock moves on demand: no real time is paced
            return
        caps: list[float] = []
        if hints.limit is not None:
            caps.append(MARGIN * hints.limit / (hints.window or WINDOW))
        if hints.remaining is not None and hints.reset is not None:
            if hints.remaining <= 0:
                self._hold_until = max(self._hold_until, now + hints.reset)
            elif hints.reset > 0:
                caps.append(hints.remaining / hints.reset)
        if caps:
            self._header_cap = max(min(caps), FLOOR)
            self._header_source = "the panel's rate-limit headers"

    def _slow_down(self, now: float, subject: str | None) -> None:
        current = self._rate() or self._politeness() or math.inf
        # Most panels count per key (seeds 000, 002): what this key was served. Under a
        # per-address limit that undercounts, which only errs on the slow side.
        served = sum(1 for _, whose in self._served if whose == subject)
        estimate = MARGIN * served / WINDOW
        # Within a minute of the last 429, the minute holds its wait: it undercounts.
        whole_minute = now - self._last_throttled >= WINDOW
        if served >= 2 and whole_minute and estimate < current:
            # A per-minute budget: the panel served `served` in the last minute, then refused.
            self._pace = self._ceiling = max(estimate, FLOOR)
            self._source = f"learned: {MARGIN:.0%} of the {served} the panel served in a minute"
        else:
            # Not explained by a per-minute budget (another client, a shorter window): back
            # off, and probe back gently towards a little under the refused pace.
            halved = current / 2 if math.isfinite(current) else FLOOR
            self._pace = max(halved, FLOOR)
            self._ceiling = MARGIN * current if math.isfinite(current) else None
            self._source = "learned: backed off after a 429"
        self._changed_at = now

    def _grow(self, now: float) -> None:
        pace, ceiling = self._pace, self._ceiling
        if pace is None or now - self._changed_at < WINDOW:
            return
        if ceiling is None or pace < ceiling:
            grown = pace * GROWTH
            self._pace = grown if ceiling is None else min(grown, ceiling)
            self._changed_at = now

    def _pause(self, seconds: float, what: str, *, since: float | None,
               deadline: float | None) -> None:
        progress = self.progress
        if progress is None:
            self._sleep(seconds)
            return
        # A paced request belongs to a long test: show how long the test has been paced.
        start = since if since is not None else progress.test_since
        progress.sleep(seconds, self._sleep, what=what, since=start, deadline=deadline)


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers if k.lower() == wanted), None)
