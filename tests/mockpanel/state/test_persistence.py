"""The state file: every operation survives a reopen exactly, and a reopened panel carries on.

The reference for "exactly" is a twin panel kept in memory: both get the same calls, the durable
one is closed and reopened after every call, and their ``snapshot()``s (money to the last digit,
ids, statuses, timers, clock) must stay identical. ``close()`` writes nothing of its own, so a
reopen sees exactly what the last commit left: the file's state at any instant is what a
``kill -9`` would leave behind.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import (
    ManualClock,
    OrderStatus,
    PanelState,
    RealClock,
    RefillStatus,
    StateConfig,
    StateFileError,
    StoreError,
    Tenant,
)
from mockpanel.state.clock import check_seconds
from mockpanel.state.panel import REAL_CLOCK_LEASE

LINK = "https://instagram.com/p/abc"
DAY = 86_400


class Twins:
    """The same panel twice: in memory, and in a state file reopened after every call."""

    def __init__(self, path: Path, config: StateConfig | None = None) -> None:
        self.path = path
        self.config = config or StateConfig()
        self.memory = PanelState(self.config, ManualClock())
        self.durable = PanelState.open(path, self.config, ManualClock())
        self.keys: dict[str, tuple[str, str]] = {}  # name -> (memory key, durable key)

    def reopen(self) -> None:
        self.durable.close()
        self.durable = PanelState.open(self.path, self.config, ManualClock())

    def both(self, call: Callable[[PanelState, int], Any]) -> Any:
        """``call(panel, which)`` on both panels; their answers (or refusals) must agree."""
        answers = []
        for which, panel in enumerate((self.memory, self.durable)):
            try:
                answers.append(("ok", call(panel, which)))
            except DomainError as error:
                answers.append(("refused", (error.code, error.params)))
        assert answers[0] == answers[1]
        self.reopen()
        assert self.durable.snapshot() == self.memory.snapshot()
        kind, value = answers[0]
        return value if kind == "ok" else None

    def tenant(self, panel: PanelState, which: int, name: str) -> Tenant:
        found = panel.authenticate(self.keys[name][which])
        assert found is not None
        return found

    def open_tenant(self, name: str, balance: str, currency: str | None = None) -> None:
        made: list[str] = []

        def create(panel: PanelState, which: int) -> str:
            tenant, key = panel.create_tenant(Decimal(balance), currency)
            made.append(key)
            return tenant.id

        self.both(create)
        self.keys[name] = (made[0], made[1])

    def add(self, name: str, service: int, **params: str) -> str:
        return str(
            self.both(
                lambda p, w: p.place_order(self.tenant(p, w, name), str(service), params).id
            )
        )


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[Twins]:
    pair = Twins(tmp_path / "state.db")
    yield pair
    pair.durable.close()


def test_every_operation_survives_a_reopen_exactly(twins: Twins) -> None:
    twins.open_tenant("alice", "100")
    twins.open_tenant("bob", "7.77777", "EUR")
    partial = twins.add("alice", 1, link=LINK + "?mock_outcome=partial&mock_remains=157",
                        quantity="1000")
    twins.add("alice", 6, link=LINK)  # flat-priced package
    twins.add("alice", 1, link=LINK, quantity="100", runs="5", interval="10")  # drip-feed
    cancel_me = twins.add("bob", 2, link="http://tiktok.com/v/1", quantity="12345")
    twins.add("bob", 7, link=LINK, comments="one\ntwo\nthree\nfour\nfive")
    twins.add("alice", 1, link=LINK + "?mock_outcome=canceled", quantity="333")
    refillable = twins.add("alice", 1, link=LINK, quantity="50")
    controlled = twins.add("bob", 2, link="http://tiktok.com/v/2", quantity="999")
    forced_on = twins.add("alice", 3, link=LINK, quantity="20")
    too_dear = {"link": LINK, "quantity": "10000"}  # 9.00000 > bob's balance
    refused = twins.both(lambda p, w: p.place_order(twins.tenant(p, w, "bob"), "1", too_dear))
    assert refused is None  # refused alike, and nothing changed on either side
    twins.both(lambda p, w: p.cancel(twins.tenant(p, w, "bob"), cancel_me))
    twins.both(lambda p, w: p.set_order_outcome(controlled, OrderStatus.PARTIAL, remains=333))
    twins.both(lambda p, w: p.set_order_outcome(forced_on, OrderStatus.IN_PROGRESS, remains=7))
    twins.both(lambda p, w: p.advance_clock(2.5))  # timed ones are in progress, mid-delivery
    mid = twins.both(lambda p, w: p.order(twins.tenant(p, w, "alice"), partial))
    assert (mid.status, 157 < mid.remains < 1000) == (OrderStatus.IN_PROGRESS, True)
    twins.both(lambda p, w: p.advance_clock(9))  # every timed order ends, partials refunded
    refill = twins.both(lambda p, w: p.refill(twins.tenant(p, w, "alice"), refillable).id)
    twins.both(lambda p, w: p.advance_clock(3))  # the refill is in progress
    second = twins.both(lambda p, w: p.refill(twins.tenant(p, w, "alice"), refillable).id)
    twins.both(lambda p, w: p.set_refill_outcome(second, RefillStatus.REJECTED))
    twins.both(lambda p, w: p.refill_status(twins.tenant(p, w, "alice"), refill))
    twins.both(lambda p, w: p.balance(twins.tenant(p, w, "bob")))

    snapshot = twins.durable.snapshot()
    alice, bob = snapshot["tenants"]
    assert (alice["currency"], bob["currency"]) == ("USD", "EUR")
    statuses = {o["id"]: o["status"] for o in snapshot["orders"]}
    assert statuses[partial] == "Partial"
    assert statuses[cancel_me] == "Canceled"
    assert statuses[forced_on] == "In progress"
    assert {r["id"]: r["status"] for r in snapshot["refills"]} == {
        refill: "In progress", second: "Rejected"
    }
    assert Decimal(alice["credited"]) > 0
    assert Decimal(bob["credited"]) > 0
    twins.both(lambda p, w: p.advance_clock(30 * DAY))  # and it all carries on identically


def test_the_lifecycle_continues_after_a_reopen_with_each_refund_once(twins: Twins) -> None:
    twins.open_tenant("alice", "10")
    order = twins.add("alice", 1, link=LINK + "?mock_outcome=partial&mock_remains=250",
                      quantity="1000")
    twins.both(lambda p, w: p.advance_clock(2))  # In progress: the refund is still to come
    refund = Decimal("0.22500")  # 0.90000 * 250 / 1000
    for _ in range(3):  # the refund lands once, whichever side of a reopen it falls on
        twins.both(lambda p, w: p.advance_clock(5))
    view = twins.durable.order(twins.tenant(twins.durable, 1, "alice"), order)
    assert (view.status, view.remains, view.refunded) == (OrderStatus.PARTIAL, 250, refund)
    tenant = twins.tenant(twins.durable, 1, "alice")
    assert twins.durable.balance(tenant) == Decimal("10") - Decimal("0.90000") + refund
    assert twins.durable.snapshot()["scheduled_events"] == 0


def test_ids_and_tenant_numbers_are_never_reissued(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock())
    tenant, _ = panel.create_tenant(Decimal(5))
    first = panel.place_order(tenant, "2", {"link": LINK, "quantity": "10"})
    panel.reset()  # forgets the tenant and its order, keeps counting
    panel.close()
    panel = PanelState.open(path, StateConfig(), ManualClock())
    assert panel.snapshot()["tenants"] == []
    tenant, _ = panel.create_tenant(Decimal(5))
    assert tenant.id == "t2"
    second = panel.place_order(tenant, "2", {"link": LINK, "quantity": "10"})
    assert int(second.id) == int(first.id) + 1
    panel.close()


def test_alphanumeric_ids_continue_their_sequence(tmp_path: Path) -> None:
    config = StateConfig(id_style="alphanumeric", money_places=2)
    path = tmp_path / "state.db"
    memory = PanelState(config, ManualClock())
    panel = PanelState.open(path, config, ManualClock())
    ids: list[tuple[str, str]] = []
    for _ in range(4):
        pair = []
        for p in (memory, panel):
            tenant, _ = p.create_tenant(Decimal(50))
            pair.append(p.place_order(tenant, "1", {"link": LINK, "quantity": "100"}).id)
        ids.append((pair[0], pair[1]))
        panel.close()
        panel = PanelState.open(path, config, ManualClock())
    assert all(a == b for a, b in ids)
    assert len({a for a, _ in ids}) == 4
    panel.close()


def test_existing_keys_keep_their_state_and_new_keys_are_opened(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[("old-key", Decimal(20))])
    old = panel.authenticate("old-key")
    assert old is not None
    order = panel.place_order(old, "1", {"link": LINK, "quantity": "1000"})
    panel.close()
    panel = PanelState.open(
        path,
        StateConfig(),
        ManualClock(),
        keys=[("old-key", Decimal(999)), ("new-key", Decimal(3))],
    )
    again = panel.authenticate("old-key")
    new = panel.authenticate("new-key")
    assert again == old  # same tenant, not a duplicate
    assert new is not None
    assert new.id == "t2"
    assert panel.balance(old) == Decimal("19.10000")  # not reset to the new figure
    assert panel.balance(new) == Decimal(3)
    assert [o.id for o in panel.orders(old)] == [order.id]
    assert len(panel.snapshot()["tenants"]) == 2
    panel.close()


def test_keys_are_stored_only_as_digests(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    secret = "plain-text-secret-key-0123456789"
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[(secret, Decimal(1))])
    _, random_key = panel.create_tenant(Decimal(1))
    stored = b"".join(f.read_bytes() for f in tmp_path.iterdir())  # the file and its WAL
    assert hashlib.sha256(secret.encode()).digest() in stored  # the digest is the lookup
    assert secret.encode() not in stored
    assert random_key.encode() not in stored
    panel.close()
    panel = PanelState.open(path, StateConfig(), ManualClock())
    assert panel.authenticate(secret) is not None
    assert panel.authenticate(random_key) is not None
    assert panel.authenticate(secret + "x") is None
    panel.close()


def test_a_manual_clock_comes_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock())
    panel.advance_clock(12.345678901234567)
    panel.advance_clock(0.1)
    before = panel.clock.now()
    panel.close()
    panel = PanelState.open(path, StateConfig(), ManualClock())
    assert panel.clock.now() == before
    assert panel.snapshot()["now"] == before
    panel.close()


class TickingClock:
    """A clock that runs by itself (like ``RealClock``): each reading is ``step`` later."""

    def __init__(self, step: float = 0.25) -> None:
        self._now = 0.0
        self._step = step

    def now(self) -> float:
        self._now += self._step
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += check_seconds(seconds)


def test_a_running_clock_never_goes_back_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), TickingClock())
    tenant, key = panel.create_tenant(Decimal(10))
    order = panel.place_order(tenant, "1", {"link": LINK, "quantity": "1000"})
    seen = []
    for _ in range(15):  # statuses and remains move on with every reading
        view = panel.order(tenant, order.id)
        seen.append((view.status, view.remains))
    last_reading = panel.snapshot()["now"]
    panel.close()  # as after kill -9: nothing is written on the way out
    panel = PanelState.open(path, StateConfig(), TickingClock())  # a new clock starts at 0
    resumed = panel.snapshot()["now"]
    assert last_reading <= resumed <= last_reading + REAL_CLOCK_LEASE + 0.5
    again = panel.authenticate(key)
    assert again is not None
    view = panel.order(again, order.id)
    assert seen[-1][0] is OrderStatus.IN_PROGRESS
    assert view.status is OrderStatus.IN_PROGRESS
    assert view.remains <= seen[-1][1]  # delivery never un-happens
    panel.close()


class WallClock:
    """A clock that runs by itself, set by the test: ``t`` is the wall time it reads."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += check_seconds(seconds)


def test_what_a_refusal_showed_survives_a_crash(tmp_path: Path) -> None:
    """A refused call still settles what time made due, and its answer shows the result (here
    a refund in the balance): that is committed too, before the refusal is returned."""
    path = tmp_path / "state.db"
    clock = WallClock()
    panel = PanelState.open(path, StateConfig(), clock, keys=[("k", Decimal(10))])
    tenant = panel.authenticate("k")
    assert tenant is not None
    link = LINK + "?mock_outcome=partial&mock_remains=400"
    panel.place_order(tenant, "1", {"link": link, "quantity": "1000"})
    clock.t = 50.0  # the order has ended Partial by now, but nobody has looked yet
    with pytest.raises(DomainError) as refused:  # 15.00 is more than the balance
        panel.place_order(tenant, "5", {"link": LINK, "quantity": "10000"})
    shown = refused.value.params["balance"]
    assert shown == Decimal("9.46000")  # 10 - 0.9 + 0.36 refunded
    panel.close()  # as after kill -9
    panel = PanelState.open(path, StateConfig(), WallClock())  # its wall time starts at 0
    assert panel.balance(tenant) == shown
    panel.close()


def test_the_file_holds_exactly_the_live_timers(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[("k", Decimal(10))])
    tenant = panel.authenticate("k")
    assert tenant is not None
    for quantity in ("100", "200", "300"):
        panel.place_order(tenant, "1", {"link": LINK, "quantity": quantity})
    panel.advance_clock(3)  # three starts fired, three finishes scheduled
    panel.cancel(tenant, panel.place_order(tenant, "2", {"link": LINK, "quantity": "10"}).id)
    live = panel.snapshot()["scheduled_events"]
    panel.close()
    connection = sqlite3.connect(path)
    try:
        (stored,) = connection.execute("SELECT count(*) FROM timers").fetchone()
    finally:
        connection.close()
    assert (stored, live) == (4, 4)  # the cancelled order's start is voided, not yet popped


def test_a_real_clock_catches_up_with_a_later_horizon(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock())
    panel.advance_clock(10**9)  # far beyond any monotonic reading of this machine
    panel.close()
    panel = PanelState.open(path, StateConfig(), RealClock())
    assert panel.clock.now() >= 10**9
    panel.close()


def test_a_reset_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[("k", Decimal(5))])
    tenant = panel.authenticate("k")
    assert tenant is not None
    panel.place_order(tenant, "1", {"link": LINK, "quantity": "1000"})
    panel.reset()
    panel.close()
    panel = PanelState.open(path, StateConfig(), ManualClock())
    assert panel.authenticate("k") is None
    snapshot = panel.snapshot()
    assert (snapshot["tenants"], snapshot["orders"], snapshot["scheduled_events"]) == ([], [], 0)
    panel.close()


def test_an_in_memory_panel_is_untouched_by_close(tmp_path: Path) -> None:
    panel = PanelState(StateConfig(), ManualClock())
    tenant, _ = panel.create_tenant(Decimal(5))
    panel.close()
    assert panel.balance(tenant) == Decimal(5)
    assert list(tmp_path.iterdir()) == []


def test_a_closed_panel_refuses_every_call(tmp_path: Path) -> None:
    panel = PanelState.open(tmp_path / "state.db", StateConfig(), ManualClock())
    tenant, key = panel.create_tenant(Decimal(5))
    panel.close()
    panel.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        panel.authenticate(key)
    with pytest.raises(StoreError, match="closed"):
        panel.place_order(tenant, "1", {"link": LINK, "quantity": "100"})


def test_listeners_hear_changes_restored_timers_make(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    panel = PanelState.open(path, StateConfig(), ManualClock())
    tenant, _ = panel.create_tenant(Decimal(5))
    order = panel.place_order(tenant, "1", {"link": LINK, "quantity": "100"})
    panel.close()
    panel = PanelState.open(path, StateConfig(), ManualClock())
    heard: list[tuple[str, OrderStatus]] = []
    panel.subscribe(lambda view: heard.append((view.id, view.status)))
    panel.advance_clock(100)
    assert heard == [(order.id, OrderStatus.IN_PROGRESS), (order.id, OrderStatus.COMPLETED)]
    panel.close()


def test_refusals_are_the_same_after_a_reopen(twins: Twins) -> None:
    twins.open_tenant("alice", "1")
    order = twins.add("alice", 3, link=LINK, quantity="20")  # not cancellable
    twins.both(lambda p, w: p.cancel(twins.tenant(p, w, "alice"), order))
    twins.both(lambda p, w: p.order(twins.tenant(p, w, "alice"), "424242"))
    twins.both(lambda p, w: p.refill(twins.tenant(p, w, "alice"), order))
    with pytest.raises(DomainError) as caught:
        twins.durable.cancel(twins.tenant(twins.durable, 1, "alice"), order)
    assert caught.value.code is ErrorCode.ORDER_NOT_CANCELLABLE


def test_a_seed_beyond_64_bits_is_kept_exactly(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    config = StateConfig(seed=2**80 + 1)
    panel = PanelState.open(path, config, ManualClock(), keys=[("k", Decimal(5))])
    tenant = panel.authenticate("k")
    assert tenant is not None
    placed = panel.place_order(tenant, "2", {"link": LINK, "quantity": "10"})
    panel.close()
    with pytest.raises(StateFileError, match=f"seed={2**80 + 1}; this one has"):
        PanelState.open(path, StateConfig(seed=2**80), ManualClock())
    panel = PanelState.open(path, config, ManualClock())
    assert [o.id for o in panel.orders(tenant)] == [placed.id]
    panel.close()
