"""One certification run's shared state: client, control API, spend guard, verdict book.

Built once at configure time from the :class:`~harness.run.config.PanelConfig` and kept on
``config.stash`` under :data:`RUN_KEY`; the plugin points :attr:`HarnessRun.judge` at the
running test's judge so that every exchange the client records is checked and attributed
(and the run's :class:`~harness.base.progress.Progress` knows which test its waits belong to).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harness import contract
from harness.base.budget import SpendGuard
from harness.base.errors import Throttled
from harness.base.exchange import Exchange
from harness.base.progress import Progress
from harness.base.redaction import SecretBook
from harness.judging.checks import DEFAULT_REGISTRY, CheckFailure, Registry
from harness.judging.judge import Judge, JudgeSlot, NotApplicable
from harness.judging.verdicts import VerdictBook
from harness.panel.driver import Panel, PanelSettings
from harness.panel.fingerprint import DialectGuess, failed_guess, fingerprint
from harness.run.config import PanelConfig
from harness.run.progress_pytest import TerminalProgress
from harness.run.tally import RequestTally
from harness.run.xdist import Shared
from harness.wire.client import HttpTransport, PanelClient, Transport
from harness.wire.control import ControlClient
from harness.wire.limiter import Limiter, TokenBucket
from harness.wire.pacing import Pacer, RetryPolicy, RunClock, advertised_pace

__all__ = ["RUN_KEY", "HarnessRun"]


class HarnessRun:
    """Everything a run shares between tests."""

    def __init__(
        self,
        config: PanelConfig,
        *,
        transport: Transport | None = None,
        registry: Registry = DEFAULT_REGISTRY,
        shared: Shared | None = None,
    ) -> None:
        self.config = config
        # Under pytest-xdist: the cross-process limiter, clock lock, ledger and wallet locks.
        self.shared = shared
        self.registry = registry
        self.started_at = datetime.now(UTC)
        # What the dialect fingerprint detected (a DialectGuess), when one ran; for reports.
        self.dialect: DialectGuess | None = None
        # Clause -> the test ids citing it that were selected to run (for the certificate);
        # under xdist the controller collects nothing and takes the workers' maps instead.
        self.cited: dict[str, list[str]] = {}
        self.book = VerdictBook(contract.clauses().values())
        self.secrets = SecretBook(config.secrets())
        # Long waits are shown on the terminal once the plugin attaches one (TerminalProgress).
        self.progress = Progress()
        self.clock = RunClock()
        transport = transport or HttpTransport()
        self.control = (
            (shared.control if shared is not None else ControlClient)(
                config.control_url, config.control_token, transport=transport,
                secrets=self.secrets,
            )
            if config.control_url is not None and config.control_token is not None
            else None
        )
        self.pacer = self._pacer(config, shared)
        self.client = PanelClient(
            config.url,
            transport=transport,
            pacer=self.pacer,
            # With a control API a throttled request's wait is a clock move: nothing to show.
            progress=self.progress if self.control is None else None,
            secrets=self.secrets,
            sleep=self._let_pass,
            clock=self.clock.now,
        )
        # Every request the panel sees, per test and per action (harness.run.tally).
        self.tally = RequestTally()
        self.client.observers.append(self.tally.observe)
        self.client.observers.append(self._observe)
        self.guard = (
            SpendGuard(
                config.max_spend, ledger=shared.ledger,
                before_spending=shared.order_coming if self.control is not None else None,
            )
            if shared is not None
            else SpendGuard(config.max_spend)
        )
        self.judges = JudgeSlot(self._test_changed)
        self.panel = Panel(
            self.client,
            PanelSettings(
                key=config.key, second_key=config.second_key, seed=config.seed,
                order_timeout=config.order_timeout, examples=config.examples,
                rate_limit=config.rate_limit, parallel=shared is not None,
            ),
            guard=self.guard, judges=self.judges, control=self.control,
            progress=self.progress, wait=self.wait,
        )
        self.problems: list[str] = []

    def _pacer(self, config: PanelConfig, shared: Shared | None) -> Pacer:
        """Black-box, requests are paced to fit the panel: at 90 % of ``--panel-rate-limit``
        when given (in the politeness limiter too, which xdist workers share), else as the
        panel's headers and 429s teach. With a control API nothing is paced in real time:
        its clock moves on demand, and a 429's wait is a clock move (no bound needed)."""
        black_box = self.control is None
        rate, burst = config.request_rate, max(1.0, config.request_rate)
        if black_box and config.rate_limit is not None:
            paced = advertised_pace(config.rate_limit)
            if paced < rate:
                rate, burst = paced, 1.0  # one at a time: a burst could overrun the window
        limiter: Limiter = (
            shared.bucket(rate, burst) if shared is not None
            else TokenBucket(rate, burst, clock=self.clock.now, sleep=self.clock.sleep)
        )
        return Pacer(
            limiter=limiter,
            advertised=config.rate_limit if black_box else None,
            learn=black_box,
            policy=RetryPolicy(
                max_wait=config.max_retry_after if black_box
                else max(config.max_retry_after, 3600.0),
            ),
            clock=self.clock.now,
            sleep=self.clock.sleep,
            progress=self.progress,
        )

    def progress_plugin(self) -> TerminalProgress:
        """The pytest plugin that shows this run's long waits on the terminal."""
        return TerminalProgress(self.progress)

    @property
    def judge(self) -> Judge | None:
        """The running test's judge (``None`` between tests), set by the plugin."""
        return self.judges.current

    @judge.setter
    def judge(self, judge: Judge | None) -> None:
        self.judges.current = judge

    def _test_changed(self, judge: Judge | None) -> None:
        self.progress.begin_test(judge.test if judge is not None else None)

    def _let_pass(self, seconds: float) -> None:
        """Let ``seconds`` pass for the panel, with nothing shown (the caller shows it)."""
        if self.control is not None:
            self.control.advance_clock(seconds)
        else:
            self.clock.sleep(seconds)

    def wait(self, seconds: float, what: str | None = None) -> None:
        """Let ``seconds`` pass for the panel (a 429's Retry-After, a scenario's pause): on its
        clock through the control API when there is one (a manual clock never moves by
        itself), else in real time, shown as waiting for ``what`` when it lasts."""
        if self.control is not None:
            self.control.advance_clock(seconds)
        else:
            self.progress.sleep(seconds, self.clock.sleep,
                                what=what or f"the end of a {seconds:g}s pause")

    def _observe(self, exchange: Exchange) -> None:
        judge = self.judge
        if judge is not None:
            judge.observe(exchange)

    def detect_dialect(self) -> DialectGuess:
        """Fingerprint the panel once, spending nothing; never raises (a failure is a guess
        naming no dialect, with the error as its evidence), so detection cannot stop a run."""
        if self.dialect is None:
            try:
                key = self.panel.main_key()
                self.dialect = fingerprint(self.client, key, seed=self.config.seed)
            except Exception as error:  # any failure is reported, never raised
                self.dialect = failed_guess(error, self.secrets.scrub)
        return self.dialect

    def close(self) -> None:
        """Cancel what can be cancelled, then read closing balances; notes problems met."""
        self.judge = None
        self.panel.release()
        for wallet in self.guard.wallets():
            if self.shared is not None and not wallet.sandbox:
                self.shared.wallets.hold()  # no other worker's order in flight as we read
            try:
                self.guard.close(wallet, self.panel.read_balance(wallet.key))
            except CheckFailure as failure:
                self.problems.append(f"closing balance of {wallet.label}: {failure.message}")
            except (Throttled, NotApplicable) as unread:
                self.problems.append(f"closing balance of {wallet.label}: not read: {unread}")


RUN_KEY = pytest.StashKey[HarnessRun]()
