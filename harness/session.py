"""One certification run's shared state: client, control API, spend guard, verdict book.

Built once at configure time from the :class:`~harness.config.PanelConfig` and kept on
``config.stash`` under :data:`RUN_KEY`; the plugin points :attr:`HarnessRun.judge` at the
running test's judge so that every exchange the client records is checked and attributed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from harness import contract
from harness.budget import SpendGuard
from harness.checks import DEFAULT_REGISTRY, CheckFailure, Registry
from harness.client import (
    Exchange,
    HttpTransport,
    PanelClient,
    RetryPolicy,
    SecretBook,
    TokenBucket,
    Transport,
)
from harness.config import PanelConfig
from harness.control import ControlClient
from harness.driver import Panel
from harness.fingerprint import DialectGuess, failed_guess, fingerprint
from harness.judge import Judge
from harness.parallel import Shared
from harness.verdicts import VerdictBook

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
        transport = transport or HttpTransport()
        self.control = (
            (shared.control if shared is not None else ControlClient)(
                config.control_url, config.control_token, transport=transport,
                secrets=self.secrets,
            )
            if config.control_url is not None and config.control_token is not None
            else None
        )
        self.client = PanelClient(
            config.url,
            transport=transport,
            limiter=(shared.bucket if shared is not None else TokenBucket)(
                config.request_rate, max(1.0, config.request_rate)
            ),
            secrets=self.secrets,
            # Waiting on a controlled panel's clock costs no real time, so no bound is needed.
            retry=RetryPolicy(max_wait=3600.0 if self.control is not None else 30.0),
            sleep=self.wait,
        )
        self.client.observers.append(self._observe)
        self.guard = (
            SpendGuard(
                config.max_spend, ledger=shared.ledger,
                before_spending=shared.order_coming if self.control is not None else None,
            )
            if shared is not None
            else SpendGuard(config.max_spend)
        )
        self.judge: Judge | None = None
        self.panel = Panel(self)
        self.problems: list[str] = []

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass for the panel (a 429's Retry-After): on its clock through the
        control API when there is one (a manual clock never moves by itself), else in real time."""
        if self.control is not None:
            self.control.advance_clock(seconds)
        else:
            time.sleep(seconds)

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


RUN_KEY = pytest.StashKey[HarnessRun]()
