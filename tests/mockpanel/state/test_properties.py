"""Property test: any sequence of operations conserves money and only moves statuses forward."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from mockpanel.errors import DomainError
from mockpanel.state import (
    InvalidTransition,
    ManualClock,
    OrderStatus,
    PanelState,
    RefillStatus,
    StateConfig,
    Tenant,
)
from mockpanel.state.money import pro_rata

OPENING = Decimal("3")
LINK = "https://instagram.com/p/abc"
RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.IN_PROGRESS: 1,
    OrderStatus.COMPLETED: 2,
    OrderStatus.PARTIAL: 2,
    OrderStatus.CANCELED: 2,
}
REFILL_RANK = {
    RefillStatus.PENDING: 0,
    RefillStatus.IN_PROGRESS: 1,
    RefillStatus.COMPLETED: 2,
    RefillStatus.REJECTED: 2,
}
MAGIC = [
    "",
    "?mock_outcome=partial",
    "?mock_outcome=canceled",
    "?mock_outcome=partial&mock_remains=7",
]
ORDERS = st.sampled_from(
    [
        ("1", {"quantity": "50"}),  # refill, cancel, drip-feed
        ("1", {"quantity": "60", "runs": "3", "interval": "5"}),
        ("2", {"quantity": "15"}),  # 0.000015 rounds up to 0.00002
        ("3", {"quantity": "333"}),  # no cancel
        ("4", {"quantity": "999"}),  # cheap refill service
        ("6", {}),  # flat package
        ("7", {"comments": "a\nb\nc\nd\ne\nf"}),
        ("1", {"quantity": "9999999"}),  # refused: too high
        ("1", {"quantity": "5000"}),  # 4.5: more than the opening balance
    ]
)


class PanelMachine(RuleBasedStateMachine):
    tenants = Bundle("tenants")
    orders = Bundle("orders")
    refills = Bundle("refills")

    @initialize(target=tenants)
    def start(self) -> object:
        config = StateConfig(
            cancellable=frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS})
        )
        self.panel = PanelState(config, ManualClock())
        self.status_seen: dict[str, OrderStatus] = {}
        self.refill_seen: dict[str, RefillStatus] = {}
        self.all_tenants: list[Tenant] = []
        made = [self.panel.create_tenant(OPENING)[0] for _ in range(2)]
        self.all_tenants.extend(made)
        return multiple(*made)

    @rule(target=orders, tenant=tenants, choice=ORDERS, magic=st.sampled_from(MAGIC))
    def place(
        self, tenant: Tenant, choice: tuple[str, dict[str, str]], magic: str
    ) -> object:
        service, params = choice
        try:
            view = self.panel.place_order(tenant, service, {"link": LINK + magic, **params})
        except DomainError:
            return multiple()
        return (tenant, view.id)

    @rule(entry=orders)
    def cancel(self, entry: tuple[Tenant, str]) -> None:
        with contextlib.suppress(DomainError):
            self.panel.cancel(*entry)

    @rule(entry=orders, other=tenants)
    def poke_as_another_tenant(self, entry: tuple[Tenant, str], other: Tenant) -> None:
        if other != entry[0]:
            for action in (self.panel.order, self.panel.cancel, self.panel.refill):
                try:
                    action(other, entry[1])
                except DomainError:
                    continue
                raise AssertionError("another tenant reached an order")

    @rule(seconds=st.floats(min_value=0, max_value=12, allow_nan=False))
    def advance(self, seconds: float) -> None:
        self.panel.advance_clock(seconds)

    @rule(
        entry=orders,
        status=st.sampled_from(list(OrderStatus)),
        remains=st.none() | st.integers(min_value=-1, max_value=1100),
    )
    def control(self, entry: tuple[Tenant, str], status: OrderStatus, remains: int | None) -> None:
        with contextlib.suppress(InvalidTransition, ValueError):
            self.panel.set_order_outcome(entry[1], status, remains=remains)

    @rule(target=refills, entry=orders)
    def refill(self, entry: tuple[Tenant, str]) -> object:
        try:
            return (entry[0], self.panel.refill(*entry).id)
        except DomainError:
            return multiple()

    @rule(entry=consumes(refills), status=st.sampled_from(list(RefillStatus)))
    def control_refill(self, entry: tuple[Tenant, str], status: RefillStatus) -> None:
        with contextlib.suppress(ValueError):
            self.panel.set_refill_outcome(entry[1], status)

    @invariant()
    def money_is_conserved(self) -> None:
        if not hasattr(self, "panel"):
            return
        for tenant in self.all_tenants:
            views = self.panel.orders(tenant)
            charged = sum((v.charge for v in views), Decimal(0))
            refunded = sum((v.refunded for v in views), Decimal(0))
            balance = self.panel.balance(tenant)
            assert balance == OPENING - charged + refunded
            assert balance >= 0
            for v in views:
                assert v.charge > 0
                assert 0 <= v.refunded <= v.charge
                assert 0 <= v.remains <= v.quantity
                if v.status is OrderStatus.COMPLETED:
                    assert (v.remains, v.refunded) == (0, Decimal(0))
                elif v.status is OrderStatus.CANCELED:
                    assert (v.remains, v.refunded) == (v.quantity, v.charge)
                elif v.status is OrderStatus.PARTIAL:
                    assert v.refunded == pro_rata(v.charge, v.remains, v.quantity, 5)
                else:
                    assert v.refunded == 0

    @invariant()
    def statuses_only_move_forward(self) -> None:
        if not hasattr(self, "panel"):
            return
        snapshot = self.panel.snapshot()
        for row in snapshot["orders"]:
            status = OrderStatus(row["status"])
            previous = self.status_seen.get(row["id"], OrderStatus.PENDING)
            assert RANK[status] >= RANK[previous]
            if RANK[previous] == 2:
                assert status is previous  # final states are absorbing
            self.status_seen[row["id"]] = status
        for row in snapshot["refills"]:
            refill_status = RefillStatus(row["status"])
            before = self.refill_seen.get(row["id"], RefillStatus.PENDING)
            assert REFILL_RANK[refill_status] >= REFILL_RANK[before]
            if REFILL_RANK[before] == 2:
                assert refill_status is before
            self.refill_seen[row["id"]] = refill_status


PanelMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_panel_state_machine = PanelMachine.TestCase
