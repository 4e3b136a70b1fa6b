"""Processing (seeds 001 and 002 list it among the status values; seed 000: "Same as in
progress (used by some providers)"): the In-progress state in a provider's word. Shown only
where the dialect names it, by an order placed with ``mock_outcome=processing``, whenever its
record is In progress (lifecycle or control outcome); everything else about it is In progress."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import (
    InvalidTransition,
    ManualClock,
    OrderStatus,
    PanelState,
    StateConfig,
    StateFileError,
)
from mockpanel.state.orders import (
    CANONICAL_ORDER_STATUSES,
    FINAL_ORDER_STATUSES,
    ORDER_TRANSITIONS,
    WORKING_STATUSES,
)
from mockpanel.state.tenants import Tenant

PROCESSING, IN_PROGRESS = OrderStatus.PROCESSING, OrderStatus.IN_PROGRESS
SEED_001_WORDS = CANONICAL_ORDER_STATUSES | {PROCESSING}
FOLLOWERS = "1"  # refill, cancel, rate 0.90
LINK = "https://x.test/p"
MAGIC = f"{LINK}?mock_outcome=Processing"  # matched case-insensitively, as every magic word
LIFETIME = 20.0


@pytest.fixture
def seed_panel(clock: ManualClock) -> PanelState:
    return PanelState(
        StateConfig(order_statuses=SEED_001_WORDS, cancellable=frozenset({
            OrderStatus.PENDING, IN_PROGRESS})),
        clock,
    )


@pytest.fixture
def buyer(seed_panel: PanelState) -> Tenant:
    tenant, _ = seed_panel.create_tenant(Decimal("100"))
    return tenant


def place(panel: PanelState, tenant: Tenant, link: str = MAGIC) -> str:
    return panel.place_order(tenant, FOLLOWERS, {"link": link, "quantity": "1000"}).id


def test_it_is_a_working_word_no_record_moves_to() -> None:
    assert PROCESSING in WORKING_STATUSES
    assert PROCESSING not in FINAL_ORDER_STATUSES
    assert PROCESSING not in CANONICAL_ORDER_STATUSES
    assert PROCESSING not in ORDER_TRANSITIONS
    assert all(PROCESSING not in targets for targets in ORDER_TRANSITIONS.values())


def test_the_lifecycle_shows_processing_while_it_works_then_completes(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    heard: list[tuple[OrderStatus, int]] = []
    seed_panel.subscribe(lambda view: heard.append((view.status, view.remains)))
    order = place(seed_panel, buyer)
    assert seed_panel.order(buyer, order).status is OrderStatus.PENDING
    seed_panel.advance_clock(3)
    working = seed_panel.order(buyer, order)
    assert working.status is PROCESSING
    assert 0 < working.remains <= 1000
    seed_panel.advance_clock(4)
    later = seed_panel.order(buyer, order)
    assert later.status is PROCESSING
    assert later.remains < working.remains  # delivery runs as In progress does
    seed_panel.advance_clock(LIFETIME)
    done = seed_panel.order(buyer, order)
    assert (done.status, done.remains, done.refunded) == (OrderStatus.COMPLETED, 0, Decimal(0))
    assert seed_panel.balance(buyer) == Decimal("99.10000")
    assert PROCESSING in [status for status, _ in heard]  # a webhook hears the word too


def test_a_plain_order_in_the_same_dialect_shows_in_progress(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    order = place(seed_panel, buyer, LINK)
    seed_panel.advance_clock(3)
    assert seed_panel.order(buyer, order).status is IN_PROGRESS


def test_the_control_outcome_in_progress_shows_it_and_cancel_is_the_in_progress_cancel(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    order = place(seed_panel, buyer)
    view = seed_panel.set_order_outcome(order, IN_PROGRESS, remains=400)
    assert (view.status, view.remains) == (PROCESSING, 400)
    # Cancelled while 600 were delivered: Partial, 400/1000 of 0.90 back, as for In progress.
    seed_panel.cancel(buyer, order)
    ended = seed_panel.order(buyer, order)
    assert (ended.status, ended.remains, ended.refunded) == (
        OrderStatus.PARTIAL, 400, Decimal("0.36000"))
    assert seed_panel.balance(buyer) == Decimal("99.46000")


def test_a_control_outcome_ends_it_like_any_in_progress_order(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    order = place(seed_panel, buyer)
    seed_panel.advance_clock(3)
    view = seed_panel.set_order_outcome(order, OrderStatus.PARTIAL, remains=157)
    assert (view.status, view.remains) == (OrderStatus.PARTIAL, 157)
    with pytest.raises(InvalidTransition):  # final: absorbing, as ever
        seed_panel.set_order_outcome(order, IN_PROGRESS)


def test_a_dialect_without_the_word_refuses_the_link_and_changes_nothing(
    panel: PanelState, tenant: Tenant
) -> None:
    before = panel.snapshot()
    with pytest.raises(DomainError) as refused:
        place(panel, tenant)
    assert refused.value.code is ErrorCode.INVALID_PARAM
    assert refused.value.params["param"] == "mock_outcome"
    assert panel.snapshot() == before


def test_an_unknown_magic_word_is_still_refused(seed_panel: PanelState, buyer: Tenant) -> None:
    with pytest.raises(DomainError) as refused:
        place(seed_panel, buyer, f"{LINK}?mock_outcome=procesing")
    assert refused.value.code is ErrorCode.INVALID_PARAM


def test_a_processing_order_still_says_processing_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    config = StateConfig(order_statuses=SEED_001_WORDS)
    panel = PanelState.open(path, config, ManualClock(), keys=[("k1", Decimal(100))])
    tenant = panel.authenticate("k1")
    assert tenant is not None
    order = place(panel, tenant)
    panel.advance_clock(3)
    assert panel.order(tenant, order).status is PROCESSING
    panel.close()

    panel = PanelState.open(path, config, ManualClock())
    tenant = panel.authenticate("k1")
    assert tenant is not None
    assert panel.order(tenant, order).status is PROCESSING  # the provider's word was kept
    panel.close()


def test_a_stored_working_word_that_is_no_working_status_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    config = StateConfig(order_statuses=SEED_001_WORDS)
    panel = PanelState.open(path, config, ManualClock(), keys=[("k1", Decimal(100))])
    tenant = panel.authenticate("k1")
    assert tenant is not None
    place(panel, tenant)
    panel.close()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE orders SET planned_working = 'Completed'")
    connection.commit()
    connection.close()
    with pytest.raises(StateFileError, match="is damaged"):
        PanelState.open(path, config, ManualClock())
