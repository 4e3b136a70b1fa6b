"""Allure results for a harness run: each test labelled with the clauses it cites, and the
redacted exchanges it caused attached as text.

Registered only when allure-pytest is active (its plugin loaded and ``--alluredir`` given), so
a run without Allure pays nothing. Labels: ``clause`` once per cited clause, ``feature`` and
``tag`` by clause area (``ADD``, ``MONEY``, ...), one ``severity`` from the strictest cited
level. A test that left clauses blocked by another (one defect, one failure) gets a
``blocked_by`` label and a ``blocked by <clause>`` tag per root cause, so Allure can group the
cascade under it; a test that failed on a clause with a waiver in force (``--panel-waivers``)
gets a ``waived`` label naming that clause and a ``WAIVED <clause>`` tag. An attachment is
built only from :meth:`Exchange.evidence` (the redacted description of a request, never the
bytes sent) and scrubbed of every secret the run knows once more.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable, Sequence
from typing import Any

import pytest

from harness import contract
from harness.base.exchange import Exchange
from harness.judging.checks import CheckFailure
from harness.judging.judge import Judge
from harness.judging.verdicts import Waiver
from harness.run.session import HarnessRun

__all__ = ["MAX_ATTACHMENTS", "AllureBridge", "allure_active", "severity_of"]

#: Exchanges attached per test; a rate-limit test sends hundreds, the first ones tell the story.
MAX_ATTACHMENTS = 25
_SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}
_LEVEL_ORDER = ("MUST", "SHOULD", "MAY")


def allure_active(config: pytest.Config) -> bool:
    """allure-pytest is loaded and writing results (``--alluredir``)."""
    return config.pluginmanager.has_plugin("allure_pytest") and bool(
        getattr(config.option, "allure_report_dir", None)
    )


def severity_of(levels: Sequence[str]) -> str | None:
    """Allure severity of a test citing clauses of ``levels``: the strictest one wins."""
    for level in _LEVEL_ORDER:
        if level in levels:
            return _SEVERITY[level]
    return None


class AllureBridge:
    """Per test: collects the run's exchanges while it runs, labels and attaches at its end."""

    def __init__(self, run: HarnessRun, *, waivers: Iterable[Waiver] = ()) -> None:
        import allure  # allure-pytest is active, so its API is importable

        self._allure: Any = allure
        self.run = run
        # The waivers in force: a test failing on one of these clauses is labelled waived.
        self.waivers = {w.clause: w for w in waivers}
        self._lock = threading.Lock()
        self._collecting = False
        self._exchanges: list[Exchange] = []
        self._dropped = 0
        self._judge: Judge | None = None  # the running test's, for the clauses it blocked
        self._failed_on: str | None = None  # the clause whose FAIL failed the running test
        run.client.observers.append(self._observe)
        run.client.replay_observers.append(self._observe)  # earlier answers a test reuses

    def _observe(self, exchange: Exchange) -> None:
        # The client calls observers from the threads of concurrent calls too.
        with self._lock:
            if not self._collecting:
                return
            if len(self._exchanges) < MAX_ATTACHMENTS:
                self._exchanges.append(exchange)
            else:
                self._dropped += 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        with self._lock:
            self._collecting = True
            self._exchanges = []
            self._dropped = 0
        # The plugin's setup wrapper has made the test's judge by now (wrappers run first).
        self._judge = self.run.judge
        self._failed_on = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        failure = call.excinfo.value if call.excinfo is not None else None
        if report.failed and isinstance(failure, CheckFailure) and self._failed_on is None:
            self._failed_on = failure.clause
        # After teardown every exchange of the test (its clean-up included) has been seen, and
        # allure-pytest still holds the test's result open for labels and attachments.
        if call.when == "teardown":
            self._finish(item)
        return report

    def _finish(self, item: pytest.Item) -> None:
        with self._lock:
            self._collecting = False
            exchanges, dropped = self._exchanges, self._dropped
            self._exchanges, self._dropped = [], 0
        judge, failed_on = self._judge, self._failed_on
        self._judge, self._failed_on = None, None
        self._label(item)
        self._label_root_causes(judge, failed_on)
        self._attach(exchanges, dropped)

    def _label(self, item: pytest.Item) -> None:
        known = contract.clauses()
        cited = list(
            dict.fromkeys(str(cid) for mark in item.iter_markers("clause") for cid in mark.args)
        )
        dynamic = self._allure.dynamic
        for clause in cited:
            dynamic.label("clause", clause)
        for area in dict.fromkeys(clause.rsplit("-", 1)[0] for clause in cited):
            dynamic.feature(area)
            dynamic.tag(area)
        severity = severity_of([known[c].level for c in cited if c in known])
        if severity is not None:
            dynamic.label("severity", severity)

    def _label_root_causes(self, judge: Judge | None, failed_on: str | None) -> None:
        """Name the root cause of every clause the test left blocked, and the waiver that
        excuses the clause that failed it."""
        dynamic = self._allure.dynamic
        blocked = judge.blocked_clauses() if judge is not None else {}
        for root in dict.fromkeys(blocked.values()):
            dynamic.label("blocked_by", root)
            dynamic.tag(f"blocked by {root}")
        if failed_on is not None and failed_on in self.waivers:
            dynamic.label("waived", failed_on)
            dynamic.tag(f"WAIVED {failed_on}")

    def _attach(self, exchanges: Sequence[Exchange], dropped: int) -> None:
        scrub = self.run.secrets.scrub
        text = self._allure.attachment_type.TEXT
        for exchange in exchanges:
            name = f"exchange #{exchange.seq} {exchange.request.action or exchange.request.method}"
            self._allure.attach(scrub(exchange.evidence()), name=scrub(name), attachment_type=text)
        if dropped:
            self._allure.attach(
                f"{dropped} more exchange(s) of this test were not attached "
                f"(at most {MAX_ATTACHMENTS} per test).",
                name="exchanges not attached",
                attachment_type=text,
            )
