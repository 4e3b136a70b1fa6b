"""Everything pytest-xdist needs of the harness: the plan a worker gets, and the cross-process
locks and counters that keep a ``-n 2`` run as polite and as exact as a serial one.

The controller (the process that runs no tests) makes a private temporary directory and hands
each worker a :class:`Plan` through ``node.workerinput``: that directory, the worker count, the
worker's index and the run's seed. Never a key or a token: workers resolve the options (keys
included) themselves, from the arguments and environment they inherit. In that directory live:

- ``bucket``: the politeness limit shared by every process (:class:`SharedBucket`), so that
  ``--panel-request-rate`` holds for the run, not per worker;
- ``spend.json``: what each worker has committed against ``--panel-max-spend``
  (:class:`SharedLedger`), so that the cap holds for the run, not per worker;
- ``wallet-<hash of the key's label>.lock``: one per real (not minted) account
  (:class:`WalletLocks`). In black-box mode with a spend cap above 0, money moves on the
  given keys, and any test may compare a balance around its requests (even "reading changes
  nothing" does): so every test holds them all from setup to teardown, and the tests run
  one at a time (collection, startup and the politeness limit are what the workers share).
  With a cap of 0 no balance can move: no lock, the tests run side by side;
- ``clock.lock``: with a control API, the panel's clock is shared by every tenant, so a test
  that moves it would age the other worker's orders. A test holds this lock shared from its
  first order (its first spend reservation: before that it has nothing the clock could move)
  to its end; its first clock move turns it exclusive until the test ends (:class:`ClockLock`).
  Tests that place no order never wait for the clock, unless ``--panel-rate-limit`` is given:
  request budgets refill with the clock, so then every test shares it from its setup.

Each worker exports its verdicts and spend into ``config.workeroutput`` at the end
(:func:`export_worker`); the controller merges them as workers go down (:func:`merge_worker`)
and alone prints the table, writes reports and sets the exit status. A worker that ends
without reporting makes the run NOT CERTIFIED. Worker ``k`` uses the run's seed plus ``k``.

Not covered: against a live panel with ``--panel-rate-limit``, the rate-limit tests spend the
main key's request budget, so the other worker's requests may meet 429s; they wait them out
(``Retry-After``), as a serial run's would after those tests.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import pytest

from harness.budget import SpendGuard, Wallet
from harness.client import SecretBook, Transport
from harness.config import PanelConfig
from harness.control import ControlClient
from harness.redaction import Secret
from harness.verdicts import VerdictBook

__all__ = [
    "CONTROLLER",
    "OUTPUT_KEY",
    "PLAN_KEY",
    "ClockLock",
    "ClockSharingControl",
    "ControllerHooks",
    "Plan",
    "Shared",
    "SharedBucket",
    "SharedLedger",
    "WalletLocks",
    "configure",
    "controller_plan",
    "export_worker",
    "is_controller",
    "make_plan_dir",
    "merge_worker",
    "remove_plan_dir",
    "worker_count",
    "worker_plan",
]

#: The harness's entry in ``node.workerinput`` and in ``config.workeroutput``.
PLAN_KEY = "smm_harness_plan"
OUTPUT_KEY = "smm_harness_output"
CONTROLLER = "controller"


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass(frozen=True, slots=True)
class Plan:
    """What a process of a parallel run shares with the others (no secrets, only a path)."""

    directory: Path
    workers: int
    name: str  # "gw0", "gw1", ... or "controller"
    index: int  # the worker's index; -1 for the controller
    seed: int

    def to_input(self) -> dict[str, object]:
        return {"directory": str(self.directory), "workers": self.workers, "seed": self.seed}

    @property
    def is_controller(self) -> bool:
        return self.index < 0

    @property
    def worker_seed(self) -> int:
        """Each worker draws its own links and ids: worker 0 uses the run's seed, worker k
        seed + k, so that two workers never order for the same link at once."""
        return self.seed + max(self.index, 0)


def worker_count(config: pytest.Config) -> int:
    """How many workers xdist starts (0 when the run is not distributed)."""
    if getattr(config.option, "dist", "no") == "no":
        return 0
    raw = getattr(config.option, "numprocesses", None)
    if isinstance(raw, int):
        return raw
    tx = getattr(config.option, "tx", None) or []
    return len(tx)


def is_controller(config: pytest.Config) -> bool:
    """This process distributes tests to xdist workers and runs none itself."""
    return not hasattr(config, "workerinput") and worker_count(config) > 0


def make_plan_dir() -> Path:
    """The controller's private directory for the shared files (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix="smm-harness-"))


def remove_plan_dir(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def controller_plan(directory: Path, workers: int, seed: int) -> Plan:
    return Plan(directory, workers, CONTROLLER, -1, seed)


def worker_plan(config: pytest.Config) -> Plan | None:
    """The plan the controller gave this worker; ``None`` outside xdist workers."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    given = workerinput.get(PLAN_KEY)
    if not isinstance(given, dict):
        raise pytest.UsageError("smm-harness: this xdist worker got no plan from its controller")
    name = str(workerinput.get("workerid", "gw?"))
    index = int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0
    return Plan(Path(given["directory"]), int(given["workers"]), name, index, int(given["seed"]))


# ---------------------------------------------------------------------------------------------
# file locks


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


class SharedBucket:
    """A token bucket (``rate`` per second, burst ``burst``) shared by every process that opens
    the same file: the file holds the bucket's theoretical arrival time (GCRA), updated under
    ``flock``. Each caller reserves its slot under the lock and sleeps outside it, so in any
    window of ``w`` seconds at most ``rate * w + burst`` requests leave, whatever the workers.
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
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._lock = _FileLock(path)
        # CLOCK_MONOTONIC is one clock for every process of the machine.
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        interval = 1.0 / self.rate
        tolerance = (self.burst - 1) * interval
        with self._lock.held() as state:
            now = self._clock()
            try:
                stored = float(state.read() or "-inf")
            except ValueError:
                stored = float("-inf")
            arrival = max(stored, now)
            wait = max(0.0, arrival - now - tolerance)
            state.write(repr(arrival + interval))
        if wait:
            self._sleep(wait)
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
