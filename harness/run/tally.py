"""How many requests a run sent to the panel: per test and per action.

A live panel counts every request against a vendor's rate limit, so the harness keeps the
count a vendor would see in the panel's log: every request the client sent, each 429 retry
included (the client retries inside one :class:`~harness.wire.client.Exchange`, which says how
many times). The control API's requests are not the panel's and are not counted.

:class:`RequestTally` is fed by the client's observers and attributes each request to the test
running in this process (set by :class:`TallyPlugin`), or to :data:`OUTSIDE` (the dialect
fingerprint before the first test, the closing balances after the last). Under pytest-xdist a
worker hands each test's counts to the controller in the test's teardown report, and the
controller adds them to its own tally, so one process always holds the whole run's count.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Generator, Iterable, Mapping

import pytest

from harness.base.exchange import Exchange
from harness.contract import REQUEST_FORMS

__all__ = ["AFTER", "BEFORE", "OUTSIDE", "PROPERTY", "RequestTally", "TallyPlugin", "action_of"]

BEFORE = "(before the first test)"
"""Where requests sent before the first test are counted (pre-flight, the dialect fingerprint)."""
AFTER = "(after the last test)"
"""Where requests sent after a test ended and no other began are counted (closing balances)."""
OUTSIDE = (BEFORE, AFTER)
PROPERTY = "smm_requests"
"""The user property a worker's teardown report carries its test's counts in."""
_ACTIONS = frozenset(form.removesuffix("-multi") for form in REQUEST_FORMS)
_RAW = "raw body"
_OTHER = "other action"


def action_of(exchange: Exchange) -> str:
    """The protocol action a request asked for; a hand-made body (no parsed action) is
    ``raw body``, a deliberately unknown or alias action ``other action``."""
    action = exchange.request.action
    if action is None:
        return _RAW
    return action if action in _ACTIONS else _OTHER


class RequestTally:
    """Requests per test and per action; thread-safe (concurrent orders report from threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tests: dict[str, Counter[str]] = {}
        self.current: str | None = None
        self._started = False

    def observe(self, exchange: Exchange) -> None:
        """Count ``exchange``: one request, plus one per 429 the client waited out and retried."""
        with self._lock:
            test = self.current or (AFTER if self._started else BEFORE)
            self._tests.setdefault(test, Counter())[action_of(exchange)] += 1 + exchange.retries

    def begin(self, test: str) -> None:
        """``test`` starts: what follows is counted for it (a test that sends nothing counts 0)."""
        with self._lock:
            self._tests.setdefault(test, Counter())
            self.current = test
            self._started = True

    def add(self, test: str, by_action: Mapping[str, int]) -> None:
        """Add counts measured elsewhere (an xdist worker's test)."""
        with self._lock:
            self._tests.setdefault(test, Counter()).update(by_action)

    def of_test(self, test: str) -> dict[str, int]:
        with self._lock:
            return dict(self._tests.get(test, Counter()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(sum(c.values()) for c in self._tests.values())

    def by_action(self) -> Counter[str]:
        with self._lock:
            total: Counter[str] = Counter()
            for counts in self._tests.values():
                total.update(counts)
            return total

    def by_test(self) -> dict[str, int]:
        """Requests per test, busiest first (ties in test order)."""
        with self._lock:
            totals = {test: sum(c.values()) for test, c in self._tests.items()
                      if test not in OUTSIDE}
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def outside(self, where: str | None = None) -> int:
        """Requests sent outside tests: :data:`BEFORE`, :data:`AFTER`, or (None) both."""
        with self._lock:
            return sum(sum(self._tests.get(w, Counter()).values())
                       for w in ((where,) if where else OUTSIDE))

    def summary(self, busiest: int = 3) -> str:
        """One line for the terminal: the total, per action, and the busiest tests."""
        actions = ", ".join(f"{name} {count}" for name, count in _ranked(self.by_action()))
        line = f"requests: {self.total} total" + (f" ({actions})" if actions else "")
        top = list(self.by_test().items())[:busiest]
        if top:
            line += "; busiest tests: " + ", ".join(f"{_short(t)} {n}" for t, n in top)
        return line

    def record(self) -> dict[str, object]:
        """The ``requests`` object of report.json (schemas/report.schema.json)."""
        return {
            "total": self.total,
            "by_action": dict(_ranked(self.by_action())),
            "outside_tests": {"before": self.outside(BEFORE), "after": self.outside(AFTER)},
            "by_test": [{"test": test, "requests": count}
                        for test, count in self.by_test().items()],
        }


def _ranked(counts: Counter[str]) -> Iterable[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _short(nodeid: str) -> str:
    """``test_file.py::test_name[param]`` without the folders (the suite may be installed)."""
    return nodeid.rsplit("/", 1)[-1]


class TallyPlugin:
    """Tells the tally which test is running; moves a worker's counts to the controller."""

    NAME = "smm_harness_tally"

    def __init__(self, tally: RequestTally, *, worker: bool) -> None:
        self.tally = tally
        self.worker = worker

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.tally.begin(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.tally.current = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        # The teardown report is made after the teardown's own requests (cancelling what the
        # test ordered): it carries everything the test cost.
        if self.worker and call.when == "teardown":
            report.user_properties.append((PROPERTY, self.tally.of_test(item.nodeid)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker or report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == PROPERTY and isinstance(value, Mapping):
                self.tally.add(report.nodeid, {str(k): int(v) for k, v in value.items()})

    @pytest.hookimpl(trylast=True)  # after the verdicts: what the run cost the panel
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.worker:
            terminalreporter.write_line(self.tally.summary())
