"""The state facade's operations: what they commit and tell, and its quiet calls.

An operation commits and delivers only when it recorded a change or heard of one; a read
that settles a due timer has changed the state, so it must still be written and told. These
pin that down for the calls the API makes on every request. ``authenticate`` is the one read
that settles nothing (who owns a key does not depend on time), so the action after it does.

Quiet calls (``PanelState``'s docstring) are a shortcut whose reference twin is the full
operation, which a state with a file always takes: :class:`TestShortcutMatchesReference`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.state import (
    ManualClock,
    OrderStatus,
    OrderView,
    PanelState,
    StateConfig,
    StoreError,
    Tenant,
)

LINK = "https://instagram.com/p/abc"

Read = Callable[[PanelState, Tenant, str], object]

READS: dict[str, Read] = {
    "balance": lambda panel, tenant, key: panel.balance(tenant),
    "orders": lambda panel, tenant, key: panel.orders(tenant),
}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_read_that_settles_a_timer_commits_and_tells(tmp_path: Path, read: Read) -> None:
    path = tmp_path / "state.db"
    clock = ManualClock()
    panel = PanelState.open(path, StateConfig(), clock)
    tenant, key = panel.create_tenant(Decimal(5))
    order = panel.place_order(tenant, "1", {"link": LINK, "quantity": "100"})
    heard: list[tuple[str, OrderStatus]] = []
    panel.subscribe(lambda view: heard.append((view.id, view.status)))

    read(panel, tenant, key)  # nothing due yet: nothing to hear
    assert heard == []
    clock.advance(3)  # past the pending time, without a call that settles
    read(panel, tenant, key)
    assert heard == [(order.id, OrderStatus.IN_PROGRESS)]
    panel.close()

    reopened = PanelState.open(path, StateConfig(), ManualClock())
    assert reopened.order(tenant, order.id).status is OrderStatus.IN_PROGRESS
    reopened.close()


Heard = list[tuple[str, OrderStatus]]


def _an_order_now_due() -> tuple[PanelState, Tenant, str, OrderView, Heard]:
    """An in-memory panel whose one order's start is due, with nothing settled yet."""
    clock = ManualClock()
    panel = PanelState(StateConfig(), clock)
    tenant, key = panel.create_tenant(Decimal(5))
    order = panel.place_order(tenant, "1", {"link": LINK, "quantity": "100"})
    heard: Heard = []
    panel.subscribe(lambda view: heard.append((view.id, view.status)))
    clock.advance(3)
    return panel, tenant, key, order, heard


def test_reads_in_memory_leave_nothing_for_the_next_write_to_repeat() -> None:
    panel, tenant, key, order, heard = _an_order_now_due()
    assert panel.authenticate(key) == tenant
    assert panel.balance(tenant) == Decimal(5) - order.charge
    panel.place_order(tenant, "1", {"link": LINK, "quantity": "100"})
    assert heard == [(order.id, OrderStatus.IN_PROGRESS)]  # told once, not again later


def test_authenticate_settles_nothing_and_the_next_read_does() -> None:
    panel, tenant, key, order, heard = _an_order_now_due()
    assert panel.authenticate(key) == tenant
    assert panel.authenticate("not-a-key") is None
    assert heard == []  # the due timer waits for an operation
    assert panel.order(tenant, order.id).status is OrderStatus.IN_PROGRESS
    assert heard == [(order.id, OrderStatus.IN_PROGRESS)]


def test_authenticate_refuses_once_the_state_file_is_closed(tmp_path: Path) -> None:
    panel = PanelState.open(tmp_path / "state.db", StateConfig(), ManualClock())
    _, key = panel.create_tenant(Decimal(5))
    panel.close()
    with pytest.raises(StoreError):
        panel.authenticate(key)


def test_a_state_without_a_file_records_nothing_and_never_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In memory there is nothing to write: every operation, writes included, leaves the
    # recorder empty, and the commit step is never reached.
    panel = PanelState(StateConfig(), ManualClock())
    monkeypatch.setattr(panel, "_commit", lambda: pytest.fail("an in-memory state committed"))
    tenant, _ = panel.create_tenant(Decimal("100"))
    service = str(next(s for s in panel.services() if s.type == "Default" and s.cancel).id)
    view = panel.place_order(tenant, service, {"link": LINK, "quantity": "1000"})
    other = panel.place_order(tenant, service, {"link": LINK, "quantity": "1000"})
    panel.cancel(tenant, other.id)
    panel.advance_clock(10_000)
    panel.reset()
    assert view.status is OrderStatus.PENDING


PARTIAL_LINK = "https://instagram.com/p/abc?mock_outcome=partial&mock_remains=40"
_HAIR = 2.0**-20  # exact in binary, so a clock advanced by it lands exactly on the due time
_STEPS = (0.0, 1.0, 2.0 - _HAIR, 2.0, 2.0, 3.0, 10.0 - _HAIR, 10.0, 10.0, 11.0)  # 2 s + 8 s
QUIET_CALLS: dict[str, Callable[[PanelState, Tenant, str], object]] = {
    "order": lambda panel, tenant, order_id: panel.order(tenant, order_id),
    "balance": lambda panel, tenant, order_id: panel.balance(tenant),
    # a new order at each step (the same id in both: same seed); its view holds the time
    "add": lambda panel, tenant, order_id: panel.place_order(
        tenant, "1", {"link": LINK, "quantity": "100"}
    ),
}


class TestShortcutMatchesReference:
    """In memory with no timer due, ``order``, ``balance`` and ``place_order`` run as quiet
    calls; they must answer, and let the listeners hear, exactly what the full operation does,
    above all at the instant a timer falls due."""

    @pytest.mark.parametrize("name", QUIET_CALLS)
    def test_every_quiet_call(self, tmp_path: Path, name: str) -> None:
        call = QUIET_CALLS[name]
        panels: list[tuple[PanelState, ManualClock, Tenant, str]] = []
        heard: list[Heard] = []
        for path in (None, tmp_path / "state.db"):
            clock = ManualClock()
            config = StateConfig()
            panel = (
                PanelState(config, clock) if path is None else PanelState.open(path, config, clock)
            )
            tenant, _ = panel.create_tenant(Decimal(5))
            # Pending 2 s, In progress 8 s, then Partial: its refund moves the balance at 10 s
            order = panel.place_order(tenant, "1", {"link": PARTIAL_LINK, "quantity": "100"})
            log: Heard = []
            panel.subscribe(lambda view, log=log: log.append((view.id, view.status)))
            panels.append((panel, clock, tenant, order.id))
            heard.append(log)
        assert config.timings.order_pending == 2.0  # the due instants in _STEPS
        assert config.timings.order_in_progress == 8.0
        previous = 0.0
        for at in _STEPS:
            answers = []
            for panel, clock, tenant, order_id in panels:
                clock.advance(at - previous)
                assert clock.now() == at
                answers.append(call(panel, tenant, order_id))
            previous = at
            assert answers[0] == answers[1], f"at {at} s"
            assert heard[0] == heard[1], f"at {at} s"
        statuses = [status for order_id, status in heard[0] if order_id == panels[0][3]]
        assert statuses == [OrderStatus.IN_PROGRESS, OrderStatus.PARTIAL]
        panels[1][0].close()
