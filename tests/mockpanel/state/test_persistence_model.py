"""Property: a panel reopened from its state file at any point behaves exactly like one that
never stopped.

Hypothesis writes random programs of tenant, order, cancel, clock, control, refill and reset
calls with reopens sprinkled in; an in-memory twin runs the same calls without the reopens.
Every answer (or refusal) and every ``snapshot()`` must be identical. Shrinking goes toward the
shortest program, so a failure names the one call whose effect a reopen lost or doubled.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockpanel.errors import DomainError
from mockpanel.state import (
    ManualClock,
    OrderStatus,
    OrderView,
    PanelState,
    RefillStatus,
    StateConfig,
    Tenant,
)

LINK = "https://instagram.com/p/abc"
ORDERS: list[tuple[str, dict[str, str]]] = [
    ("1", {"link": LINK, "quantity": "1000"}),
    ("1", {"link": LINK + "?mock_outcome=partial&mock_remains=123", "quantity": "777"}),
    ("1", {"link": LINK + "?mock_outcome=canceled", "quantity": "50"}),
    ("1", {"link": LINK, "quantity": "100", "runs": "3", "interval": "5"}),
    ("2", {"link": LINK, "quantity": "12345"}),
    ("3", {"link": LINK, "quantity": "20"}),
    ("6", {"link": LINK}),
    ("7", {"link": LINK, "comments": "a\nb\nc\nd\ne"}),
    ("5", {"link": LINK, "quantity": "100000"}),  # 150.00: often refused for lack of funds
    ("4", {"link": LINK, "quantity": "1000"}),  # refill within 7 days
    ("16", {"link": LINK, "quantity": "20", "username": "owner"}),  # refill within 30 days
]
# One strategy per kind of call, each producing (kind, *arguments). ``own`` asks as the
# order's owner, else as another tenant; indexes wrap around what exists.
_OWN = st.sampled_from([True, True, True, False])
_CALLS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "add": st.tuples(st.just("add"), st.integers(0, 5), st.integers(0, len(ORDERS) - 1)),
    "advance": st.tuples(
        st.just("advance"),
        st.sampled_from([0, 0.5, 1, 2, 2.5, 5, 8, 12, 30, 86_400]),
    ),
    "refill": st.tuples(st.just("refill"), _OWN, st.integers(0, 30)),
    "reopen": st.tuples(st.just("reopen")),
    "cancel": st.tuples(st.just("cancel"), _OWN, st.integers(0, 30)),
    "read": st.tuples(st.just("read"), _OWN, st.integers(0, 30)),
    "outcome": st.tuples(
        st.just("outcome"),
        st.integers(0, 30),
        st.sampled_from([s for s in OrderStatus if s is not OrderStatus.PENDING]),
        st.none() | st.integers(0, 1000),
    ),
    "refill_outcome": st.tuples(
        st.just("refill_outcome"),
        st.integers(0, 10),
        st.sampled_from([RefillStatus.COMPLETED, RefillStatus.REJECTED]),
    ),
    "tenant": st.tuples(st.just("tenant"), st.integers(0, 20_000)),
    "reset": st.tuples(st.just("reset")),
}
# How often each kind is drawn: mostly orders, time and reopens; resets are rare.
_WEIGHTS = {"add": 6, "advance": 4, "refill": 4, "reopen": 3, "cancel": 2, "read": 2,
            "outcome": 2, "refill_outcome": 2, "tenant": 1, "reset": 1}  # fmt: skip
STEPS = st.sampled_from([k for k, n in _WEIGHTS.items() for _ in range(n)]).flatmap(
    _CALLS.__getitem__
)
# Every program starts (and restarts after a reset) with two funded tenants.
FUNDED = (5_000, 30_000)
OPENING: list[tuple[Any, ...]] = [("tenant", cents) for cents in FUNDED]


_SERVICES = {service.id: service for service in StateConfig().catalog}


def _cancellable(view: OrderView) -> bool:
    return view.status is OrderStatus.PENDING and _SERVICES[view.service_id].cancel


def _refillable(view: OrderView) -> bool:
    return view.status is OrderStatus.COMPLETED and _SERVICES[view.service_id].refill


class Program:
    """Runs steps on both twins. Ids and tenant numbers are deterministic, so a step's indexes
    are resolved once (against the memory twin) into the same concrete call for both."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "state.db"
        self.config = StateConfig()
        self.memory = PanelState(self.config, ManualClock())
        self.durable = PanelState.open(self.path, self.config, ManualClock())
        self.tenants: list[Tenant] = []
        self.orders: list[tuple[str, Tenant]] = []  # (order id, owner)
        self.refills: list[str] = []

    def run(self, step: tuple[Any, ...]) -> None:
        if step[0] == "reopen":
            self.durable.close()
            self.durable = PanelState.open(self.path, self.config, ManualClock())
            assert self.durable.snapshot() == self.memory.snapshot()
            return
        call = self._resolve(step)
        answers = [self._answer(panel, call) for panel in (self.memory, self.durable)]
        assert answers[0] == answers[1], call
        kind, value = answers[0]
        if kind != "ok":
            return
        if call[0] == "tenant":
            self.tenants.append(value)
        elif call[0] == "add":
            self.orders.append((value.id, call[1]))
        elif call[0] == "refill":
            self.refills.append(value.id)
        elif call[0] == "reset":
            self.tenants, self.orders, self.refills = value, [], []

    def _resolve(self, step: tuple[Any, ...]) -> tuple[Any, ...]:
        """Indexes to tenants and ids. Cancels prefer Pending orders and refills Completed
        ones, so those calls mostly get past their refusals."""
        match step:
            case ("add", who, which):
                return ("add", self._tenant(who), which)
            case ("cancel", own, index):
                return ("cancel", *self._order(index, own, _cancellable))
            case ("read", own, index):
                return ("read", *self._order(index, own))
            case ("refill", own, index):
                return ("refill", *self._order(index, own, _refillable))
            case ("outcome", index, status, remains):
                return ("outcome", self._order(index, True)[1], status, remains)
            case ("refill_outcome", index, status):
                found = self.refills[index % len(self.refills)] if self.refills else "R1"
                return ("refill_outcome", found, status)
        return step

    def _tenant(self, index: int) -> Tenant:
        return self.tenants[index % len(self.tenants)] if self.tenants else Tenant("t0", "USD")

    def _order(
        self, index: int, own: bool, prefer: Callable[[OrderView], bool] | None = None
    ) -> tuple[Tenant, str]:
        """An order id and who asks about it: its owner, or the next tenant along."""
        candidates = self.orders
        if prefer is not None:
            preferred = [
                (oid, owner) for oid, owner in self.orders if prefer(self.memory.order(owner, oid))
            ]
            candidates = preferred or candidates
        if not candidates:
            return self._tenant(0), "424242"
        order_id, owner = candidates[index % len(candidates)]
        if own or owner not in self.tenants:
            return owner, order_id
        return self._tenant(self.tenants.index(owner) + 1), order_id

    @staticmethod
    def _answer(panel: PanelState, call: tuple[Any, ...]) -> tuple[str, Any]:
        try:
            return "ok", Program._call(panel, call)
        except DomainError as error:
            return "refused", (error.code, error.params)
        except (KeyError, ValueError) as error:  # control-plane misuse
            return "misuse", (type(error).__name__, str(error))

    @staticmethod
    def _call(panel: PanelState, call: tuple[Any, ...]) -> Any:
        match call:
            case ("tenant", cents):
                return panel.create_tenant(Decimal(cents).scaleb(-2))[0]
            case ("add", tenant, which):
                service, params = ORDERS[which]
                return panel.place_order(tenant, service, params)
            case ("cancel", tenant, order_id):
                return panel.cancel(tenant, order_id)
            case ("read", tenant, order_id):
                return panel.order(tenant, order_id)
            case ("advance", seconds):
                panel.advance_clock(seconds)
                return panel.clock.now()
            case ("outcome", order_id, status, remains):
                return panel.set_order_outcome(order_id, status, remains)
            case ("refill", tenant, order_id):
                return panel.refill(tenant, order_id)
            case ("refill_outcome", refill_id, status):
                return panel.set_refill_outcome(refill_id, status)
            case ("reset",):  # like the control API: forget all, reopen the funded tenants
                panel.reset()
                return [panel.create_tenant(Decimal(cents).scaleb(-2))[0] for cents in FUNDED]
        raise AssertionError(f"unknown call {call!r}")


@settings(
    max_examples=60,
    deadline=None,  # each reopen syncs a file: speed is the disk's, not the code's
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(STEPS, min_size=10, max_size=60))
def test_a_reopened_panel_behaves_like_one_that_never_stopped(
    steps: list[tuple[Any, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        program = Program(Path(directory))
        try:
            for step in OPENING + steps:
                program.run(step)
            program.run(("reopen",))
        finally:
            program.durable.close()
