"""pytest-xdist support: the plan a worker gets, and the cross-process locks and counters that
keep a ``-n 2`` run as polite and as exact as a serial one.

The controller (the process that runs no tests) makes a private directory and hands each
worker a :class:`Plan` (:mod:`.plan`): that directory, the worker count, the worker's index
and the run's seed (worker ``k`` uses the seed plus ``k``); never a key: workers resolve their
options themselves. In that directory (:mod:`.shared`, :mod:`.locks`):

- ``bucket``: ``--panel-request-rate`` for the run, not per worker (:class:`SharedBucket`);
- ``spend.json``: ``--panel-max-spend`` for the run, not per worker (:class:`SharedLedger`);
- ``wallet-<hash of the key's label>.lock``, one per real (not minted) account: black-box with
  a spend cap above 0, any test may compare a balance around its requests, so every test
  holds them all and the tests run one at a time; with a cap of 0 they run side by side
  (:class:`WalletLocks`);
- ``clock.lock``: a control API's clock is every tenant's, so a test shares it from its first
  order (from its setup under ``--panel-rate-limit``: budgets refill with the clock) and
  holds it alone from its first clock move to its end (:class:`ClockLock`).

Each worker exports its verdicts and spend at its end; the controller merges them as workers
go down and alone reports (:mod:`.hooks`). A worker that ends without reporting makes the run
NOT CERTIFIED. Not covered: live with ``--panel-rate-limit``, the rate-limit tests spend the
main key's budget, so the other worker may meet 429s; it waits them out, as a serial run would.
"""

from __future__ import annotations

from harness.run.xdist.hooks import (
    ControllerHooks,
    Shared,
    configure,
    export_worker,
    merge_worker,
)
from harness.run.xdist.locks import ClockLock, ClockSharingControl, WalletLocks
from harness.run.xdist.plan import (
    CONTROLLER,
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
