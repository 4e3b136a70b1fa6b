"""Check-and-debit is atomic: many simultaneous orders never overspend a balance."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import OrderStatus, OrderView, PanelState, Tenant

LINK = "https://instagram.com/p/abc"
PARAMS = {"link": LINK, "quantity": "1000"}  # service 1: exactly 0.90000 each
COVERS_SEVEN = Decimal("6.50000")  # 7 * 0.9 = 6.3, an eighth would need 7.2


def outcome_counts(results: list[OrderView | BaseException]) -> tuple[int, int]:
    placed = [r for r in results if isinstance(r, OrderView)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert all(r.code is ErrorCode.INSUFFICIENT_FUNDS for r in refused)
    assert len(placed) + len(refused) == len(results)
    assert len({r.id for r in placed}) == len(placed)
    return len(placed), len(refused)


async def test_fifty_interleaved_coroutines_succeed_exactly_seven_times(
    panel: PanelState,
) -> None:
    tenant, _ = panel.create_tenant(COVERS_SEVEN)

    async def attempt(delay_steps: int) -> OrderView:
        for _ in range(delay_steps):
            await asyncio.sleep(0)  # interleave with the other attempts
        return panel.place_order(tenant, "1", PARAMS)

    results = await asyncio.gather(*(attempt(i % 5) for i in range(50)), return_exceptions=True)
    assert outcome_counts(list(results)) == (7, 43)
    assert panel.balance(tenant) == Decimal("0.20000")
    assert len(panel.orders(tenant)) == 7


def test_fifty_simultaneous_threads_succeed_exactly_seven_times(panel: PanelState) -> None:
    tenant, _ = panel.create_tenant(COVERS_SEVEN)
    start = threading.Barrier(50)

    def attempt(t: Tenant) -> OrderView | BaseException:
        start.wait()
        try:
            return panel.place_order(t, "1", PARAMS)
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, [tenant] * 50))
    assert outcome_counts(results) == (7, 43)
    assert panel.balance(tenant) == Decimal("0.20000")


def test_threads_mixing_orders_cancels_and_clock_keep_money_exact(panel: PanelState) -> None:
    tenant, _ = panel.create_tenant(Decimal("50"))
    start = threading.Barrier(20)

    refusals: list[ErrorCode] = []

    def worker(index: int) -> int:
        start.wait()
        canceled = 0
        for _ in range(20):
            order = panel.place_order(tenant, "2", {"link": LINK, "quantity": "10"})
            if index % 2:
                try:  # another thread's clock push may have started it already
                    panel.cancel(tenant, order.id)
                    canceled += 1
                except DomainError as exc:
                    refusals.append(exc.code)
            else:
                panel.advance_clock(0.5)
        return canceled

    with ThreadPoolExecutor(max_workers=20) as pool:
        canceled = sum(pool.map(worker, range(20)))
    assert set(refusals) <= {ErrorCode.ORDER_NOT_CANCELLABLE}
    assert canceled + len(refusals) == 200
    views = panel.orders(tenant)
    assert len(views) == 400
    assert sum(v.status is OrderStatus.CANCELED for v in views) == canceled
    spent = sum((v.charge - v.refunded for v in views), Decimal(0))
    assert spent == Decimal("0.00001") * (400 - canceled)
    assert panel.balance(tenant) == Decimal("50") - spent


def test_a_call_from_another_thread_waits_for_the_running_one(panel: PanelState) -> None:
    """While one call is inside the state (here: in a listener), another thread cannot enter."""
    tenant, _ = panel.create_tenant(Decimal("10"))
    panel.place_order(tenant, "1", PARAMS)
    entered_meanwhile: list[bool] = []

    def other_thread() -> None:
        panel.place_order(tenant, "1", PARAMS)

    def listener(view: OrderView) -> None:
        if entered_meanwhile:
            return
        intruder = threading.Thread(target=other_thread)
        intruder.start()
        intruder.join(timeout=0.5)
        entered_meanwhile.append(not intruder.is_alive())
        listener_threads.append(intruder)

    listener_threads: list[threading.Thread] = []
    panel.subscribe(listener)
    panel.advance_clock(3)  # the first order starts: the listener runs under the lock
    listener_threads[0].join()
    assert entered_meanwhile == [False]
    assert len(panel.orders(tenant)) == 2
    assert panel.balance(tenant) == Decimal("8.20000")
