"""One process's side of a parallel run: :func:`configure` gives it its panel config and its
:class:`Shared` pieces; at its end a worker exports its verdicts and spend
(:func:`export_worker`), which the controller's :class:`ControllerHooks` hand out plans for
and merge back (:func:`merge_worker`) as workers go down."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.base.budget import SpendGuard, Wallet
from harness.base.redaction import Secret, SecretBook
from harness.judging.verdicts import VerdictBook
from harness.run.config import PanelConfig
from harness.run.xdist.locks import ClockLock, ClockSharingControl, WalletLocks
from harness.run.xdist.plan import (
    OUTPUT_KEY,
    PLAN_KEY,
    Plan,
    controller_plan,
    is_controller,
    make_plan_dir,
    remove_plan_dir,
    worker_count,
    worker_plan,
)
from harness.run.xdist.shared import SharedBucket, SharedLedger
from harness.wire.client import Transport
from harness.wire.control import ControlClient

__all__ = ["ControllerHooks", "Shared", "configure", "export_worker", "merge_worker"]


# ---------------------------------------------------------------------------------------------
# what one process of a parallel run shares


class Shared:
    """The shared pieces one process of a parallel run uses, built from its :class:`Plan`."""

    def __init__(self, plan: Plan, real_labels: Iterable[str]) -> None:
        self.plan = plan
        self.ledger = SharedLedger(plan.directory / "spend.json", plan.name)
        self.wallets = WalletLocks(plan.directory, real_labels)
        self.clock = ClockLock(plan.directory)

    def bucket(self, rate: float, burst: float) -> SharedBucket:
        return SharedBucket(self.plan.directory / "bucket", rate, burst)

    def control(
        self, base_url: str, token: Secret, *, transport: Transport, secrets: SecretBook
    ) -> ControlClient:
        return ClockSharingControl(
            base_url, token, transport=transport, secrets=secrets, clock_lock=self.clock
        )

    def enter_test(self, *, money_moves: bool, budgets_on_clock: bool) -> None:
        """Before a test's setup: hold the real wallets when their balances can move; share
        the clock from the start when request budgets (refilled by the clock) are tested."""
        if money_moves:
            self.wallets.hold()
        if budgets_on_clock:
            self.clock.enter()

    def order_coming(self, wallet: Wallet) -> None:
        """Before a test's order (controlled runs): from now on it shares the clock."""
        self.clock.enter()

    def leave_test(self) -> None:
        self.wallets.release()
        self.clock.leave()

    def close(self) -> None:
        self.wallets.release()
        self.clock.close()


# ---------------------------------------------------------------------------------------------
# verdicts and spend across the process boundary


def export_worker(
    book: VerdictBook,
    guard: SpendGuard,
    problems: Iterable[str],
    cited: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """A worker's verdicts, spend, problems and which of its tests cite which clause, as JSON
    (Decimal as str; evidence is redacted already, keys are never part of it)."""
    return json.dumps(
        {"verdicts": book.export(), "spend": guard.export(), "problems": list(problems),
         "cited": {cid: list(tests) for cid, tests in (cited or {}).items()}}
    )


def merge_worker(
    text: str,
    origin: str,
    book: VerdictBook,
    guard: SpendGuard,
    problems: list[str],
    cited: dict[str, list[str]] | None = None,
) -> None:
    """Fold one worker's :func:`export_worker` output into the controller's run (every
    worker collects the same tests, so a cited test id is kept once)."""
    data = json.loads(text)
    book.merge(data["verdicts"])
    guard.merge(data["spend"], origin=origin)
    problems.extend(f"{origin}: {p}" for p in data.get("problems", ()))
    if cited is not None:
        for cid, tests in data.get("cited", {}).items():
            known = cited.setdefault(str(cid), [])
            known += [str(t) for t in tests if str(t) not in known]


# ---------------------------------------------------------------------------------------------
# the controller's side, and configuring either side


class ControllerHooks:
    """The controller's xdist hooks: give each worker its plan, take back its results."""

    def __init__(
        self,
        plan: Plan,
        book: VerdictBook,
        guard: SpendGuard,
        problems: list[str],
        cited: dict[str, list[str]] | None = None,
    ) -> None:
        self.plan = plan
        self.book = book
        self.guard = guard
        self.problems = problems
        self.cited = cited
        self.lost: list[str] = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[PLAN_KEY] = self.plan.to_input()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        name = str(node.workerinput.get("workerid", "worker"))
        output = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
        if not isinstance(output, str):
            self.lost.append(name)
            self.problems.append(f"{name} ended without reporting its verdicts"
                                 + (f" ({error})" if error else "") + ": the run is incomplete")
            return
        merge_worker(output, name, self.book, self.guard, self.problems, self.cited)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.lost:  # verdicts are missing: the run cannot certify
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_unconfigure(self) -> None:
        remove_plan_dir(self.plan.directory)


def _real_labels(config: PanelConfig) -> list[str]:
    return [key.label for key in (config.key, config.second_key) if key is not None]


def configure(
    config: pytest.Config, panel_config: PanelConfig
) -> tuple[PanelConfig, Shared | None]:
    """This process's panel config and shared pieces: unchanged and ``None`` in a serial run.

    A worker with a control API drops the given main key: it mints a tenant of its own on
    first use, so that no two workers share an account. Its seed is the run's plus its index.
    """
    plan = worker_plan(config)
    if plan is not None:
        changes: dict[str, Any] = {"seed": plan.worker_seed}
        if panel_config.control_url is not None and panel_config.control_token is not None:
            changes["key"] = None
        return replace(panel_config, **changes), Shared(plan, _real_labels(panel_config))
    if is_controller(config):
        plan = controller_plan(make_plan_dir(), worker_count(config), panel_config.seed)
        return panel_config, Shared(plan, _real_labels(panel_config))
    return panel_config, None
