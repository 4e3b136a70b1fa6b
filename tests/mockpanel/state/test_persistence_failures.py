"""The state file when things go wrong: a failed transaction leaves nothing behind, in the file
or in memory, and a file that cannot be used is refused with a message that says why.

Failures are injected with SQLite triggers added to the file while the panel is closed, so the
write fails inside the panel's own transaction, after some of its statements have run.
"""

from __future__ import annotations

import hashlib
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import (
    ManualClock,
    OrderStatus,
    OrderView,
    PanelState,
    StateConfig,
    StateFileError,
    StoreError,
)
from mockpanel.state.ids import IdSequence
from mockpanel.state.ledger import Account, Ledger
from mockpanel.state.persistence import SCHEMA_VERSION
from mockpanel.state.schedule import Event, EventKind, Scheduler
from mockpanel.state.tenants import KeyRing, Tenant

LINK = "https://instagram.com/p/abc"
KEY = "failure-test-key"


def sql(path: Path, *statements: str) -> None:
    """Run statements on the (closed) state file from outside the panel."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def reopen(panel: PanelState, path: Path) -> PanelState:
    panel.close()
    return PanelState.open(path, StateConfig(), ManualClock())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def panel(path: Path) -> PanelState:
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[(KEY, Decimal(10))])
    panel.close()  # the tests add their triggers to the file, then reopen it
    return panel


def tenant_of(panel: PanelState) -> Tenant:
    tenant = panel.authenticate(KEY)
    assert tenant is not None
    return tenant


def test_an_order_whose_write_fails_leaves_no_debit_behind(panel: PanelState, path: Path) -> None:
    # The tenant's debit is written before the order row; the order insert then fails.
    sql(
        path,
        "CREATE TRIGGER fail BEFORE INSERT ON orders WHEN NEW.link LIKE '%fail-me%' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    panel = PanelState.open(path, StateConfig(), ManualClock())
    tenant = tenant_of(panel)
    before = panel.snapshot()
    with pytest.raises(StoreError, match="injected failure"):
        panel.place_order(tenant, "1", {"link": LINK + "?fail-me", "quantity": "1000"})
    assert panel.snapshot() == before  # memory: no order, no debit
    assert panel.balance(tenant) == Decimal(10)
    placed = panel.place_order(tenant, "1", {"link": LINK, "quantity": "1000"})
    panel = reopen(panel, path)
    after = panel.snapshot()
    assert [o["id"] for o in after["orders"]] == [placed.id]  # the file: only the good one
    assert after["tenants"][0]["balance"] == "9.10000"
    assert after["tenants"][0]["debited"] == "0.90000"
    panel.close()


def test_a_cancel_whose_write_fails_refunds_nothing(panel: PanelState, path: Path) -> None:
    panel = PanelState.open(path, StateConfig(), ManualClock())
    order = panel.place_order(tenant_of(panel), "2", {"link": LINK, "quantity": "5000"})
    panel.close()
    sql(
        path,
        "CREATE TRIGGER fail BEFORE UPDATE ON orders WHEN NEW.status = 'Canceled' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    panel = PanelState.open(path, StateConfig(), ManualClock())
    heard: list[OrderView] = []
    panel.subscribe(heard.append)
    tenant = tenant_of(panel)
    with pytest.raises(StoreError):
        panel.cancel(tenant, order.id)
    assert heard == []  # a change that was not committed is never announced
    assert panel.order(tenant, order.id).status is OrderStatus.PENDING
    assert panel.balance(tenant) == Decimal("9.99500")
    panel.close()
    sql(path, "DROP TRIGGER fail")
    panel = PanelState.open(path, StateConfig(), ManualClock())
    tenant = tenant_of(panel)
    assert panel.balance(tenant) == Decimal("9.99500")  # the file never had the refund
    panel.cancel(tenant, order.id)
    with pytest.raises(DomainError) as again:
        panel.cancel(tenant, order.id)
    assert again.value.code is ErrorCode.ORDER_NOT_CANCELLABLE
    panel = reopen(panel, path)
    assert panel.balance(tenant_of(panel)) == Decimal(10)  # refunded exactly once
    panel.close()


def test_a_timed_refund_whose_write_fails_is_applied_once_later(
    panel: PanelState, path: Path
) -> None:
    panel = PanelState.open(path, StateConfig(), ManualClock())
    link = LINK + "?mock_outcome=partial&mock_remains=500"
    order = panel.place_order(tenant_of(panel), "1", {"link": link, "quantity": "1000"})
    panel.close()
    sql(
        path,
        "CREATE TRIGGER fail BEFORE UPDATE ON orders WHEN NEW.status = 'Partial' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    panel = PanelState.open(path, StateConfig(), ManualClock())
    tenant = tenant_of(panel)
    with pytest.raises(StoreError):
        panel.advance_clock(100)
    with pytest.raises(StoreError):  # still due, still failing: never half-applied
        panel.balance(tenant)
    panel.close()
    sql(path, "DROP TRIGGER fail")
    panel = PanelState.open(path, StateConfig(), ManualClock())
    tenant = tenant_of(panel)
    assert panel.order(tenant, order.id).status is OrderStatus.PENDING  # the file's time
    panel.advance_clock(100)
    view = panel.order(tenant, order.id)
    assert (view.status, view.refunded) == (OrderStatus.PARTIAL, Decimal("0.45000"))
    panel = reopen(panel, path)
    assert panel.balance(tenant_of(panel)) == Decimal("9.55000")
    panel.close()


def test_a_failed_open_closes_the_file_again(path: Path) -> None:
    PanelState.open(path, StateConfig(), ManualClock(), keys=[(KEY, Decimal(1))]).close()
    sql(path, "UPDATE tenants SET balance = '5.00000'")  # no longer opening - debited + ...
    for _ in range(2):  # the second attempt is not refused as "in use"
        with pytest.raises(StateFileError, match=r"damaged.*balance != opening"):
            PanelState.open(path, StateConfig(), ManualClock())


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE orders SET status = 'Lost'", "'Lost' is not a valid OrderStatus"),
        ("UPDATE orders SET service_id = 999", "service 999, not in this catalogue"),
        ("UPDATE orders SET charge = '0.1234567'", "more than 5 decimal places"),
        ("UPDATE orders SET tenant_id = 't9'", "has no tenant"),
        ("UPDATE tenants SET key_digest = x'00'", "SHA-256"),
        ("DELETE FROM meta", "no meta row"),
        ("UPDATE meta SET timer_seq = 0", "seq is above"),
    ],
)
def test_damaged_rows_are_refused(path: Path, statement: str, message: str) -> None:
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[(KEY, Decimal(1))])
    panel.place_order(tenant_of(panel), "1", {"link": LINK, "quantity": "100"})
    panel.close()
    sql(path, statement)
    with pytest.raises(StateFileError, match="damaged") as caught:
        PanelState.open(path, StateConfig(), ManualClock())
    assert message in str(caught.value)


def test_a_file_that_is_not_a_database_is_refused(path: Path) -> None:
    path.write_bytes(b"these are not the bytes of an SQLite database " * 100)
    with pytest.raises(StateFileError, match="not a mockpanel state file"):
        PanelState.open(path, StateConfig(), ManualClock())


def test_another_programs_database_is_refused(path: Path) -> None:
    sql(path, "CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StateFileError, match="SQLite database but not a mockpanel state file"):
        PanelState.open(path, StateConfig(), ManualClock())


def test_another_schema_version_is_refused(path: Path) -> None:
    PanelState.open(path, StateConfig(), ManualClock()).close()
    sql(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateFileError, match=f"schema version {SCHEMA_VERSION + 1}"):
        PanelState.open(path, StateConfig(), ManualClock())


def test_a_truncated_file_is_refused(path: Path) -> None:
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[(KEY, Decimal(1000))])
    tenant = tenant_of(panel)
    for _ in range(300):  # enough rows for several pages
        panel.place_order(tenant, "1", {"link": LINK, "quantity": "100"})
    panel.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StateFileError, match=r"damaged|malformed"):
        PanelState.open(path, StateConfig(), ManualClock())


@pytest.mark.parametrize(
    "config",
    [StateConfig(money_places=2), StateConfig(seed=1), StateConfig(id_style="alphanumeric")],
)
def test_a_file_written_for_another_panel_shape_is_refused(path: Path, config: StateConfig) -> None:
    PanelState.open(path, StateConfig(), ManualClock()).close()
    with pytest.raises(StateFileError, match="money_places=5, id_style=numeric, seed=0"):
        PanelState.open(path, config, ManualClock())


def test_a_file_in_use_is_refused(path: Path) -> None:
    first = PanelState.open(path, StateConfig(), ManualClock())
    with pytest.raises(StateFileError, match="in use by another process"):
        PanelState.open(path, StateConfig(), ManualClock())
    first.close()
    PanelState.open(path, StateConfig(), ManualClock()).close()


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="cannot open state file"):
        PanelState.open(tmp_path / "no" / "such" / "dir.db", StateConfig(), ManualClock())


def test_an_empty_file_becomes_a_state_file(path: Path) -> None:
    path.touch()
    panel = PanelState.open(path, StateConfig(), ManualClock(), keys=[(KEY, Decimal(1))])
    assert tenant_of(panel).id == "t1"
    panel.close()


# ------------------------------------------------- the restore hooks of the state's parts


def test_a_ledger_restores_only_consistent_accounts() -> None:
    ledger = Ledger(2)
    d = Decimal
    ledger.restore("a", Account(d("10.00"), d("3.00"), d("1.00"), d("8.00")))
    assert ledger.balance("a") == d("8.00")
    with pytest.raises(ValueError, match="already exists"):
        ledger.restore("a", Account(d("1.00"), d("0.00"), d("0.00"), d("1.00")))
    with pytest.raises(ValueError, match="balance != opening"):
        ledger.restore("b", Account(d("10.00"), d("3.00"), d("1.00"), d("9.00")))
    with pytest.raises(ValueError, match="decimal places"):
        ledger.restore("c", Account(d("1.001"), d("0.00"), d("0.00"), d("1.001")))


def test_a_keyring_restores_digests() -> None:
    ring = KeyRing()
    tenant = Tenant("t1", "USD")
    ring.restore(hashlib.sha256(b"the-key").digest(), tenant)
    assert ring.find("the-key") == tenant
    assert ring.find("another") is None
    with pytest.raises(ValueError, match="already registered"):
        ring.restore(hashlib.sha256(b"the-key").digest(), tenant)
    with pytest.raises(ValueError, match="SHA-256"):
        ring.restore(b"short", tenant)
    with pytest.raises(ValueError, match="already in use"):
        ring.add("the-key", Tenant("t2", "USD"))


def test_an_id_sequence_resumes_after_the_ids_it_issued() -> None:
    fresh = IdSequence("alphanumeric", 3, "order")
    issued = [fresh.next() for _ in range(5)]
    resumed = IdSequence("alphanumeric", 3, "order")
    resumed.restore(3)
    assert (resumed.issued, resumed.next(), resumed.next()) == (3, issued[3], issued[4])
    with pytest.raises(ValueError, match=">= 0"):
        resumed.restore(-1)


def test_a_scheduler_restores_its_heap_and_its_sequence() -> None:
    events = [
        Event(5.0, 2, EventKind.ORDER_START, "b", 0),
        Event(5.0, 1, EventKind.ORDER_START, "a", 0),
        Event(1.0, 3, EventKind.REFILL_START, "r", 1),
    ]
    scheduler = Scheduler.restore(events, 3)
    assert (len(scheduler), scheduler.seq) == (3, 3)
    pushed = scheduler.push(5.0, EventKind.ORDER_FINISH, "c", 0)
    assert pushed.seq == 4
    popped = [scheduler.pop_due(10.0) for _ in range(4)]
    assert [e.target for e in popped if e is not None] == ["r", "a", "b", "c"]
    with pytest.raises(ValueError, match="seq is above"):
        Scheduler.restore(events, 2)
