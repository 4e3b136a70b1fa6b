"""The scheduler's heap keys (``(due, seq)`` tuples) order events exactly as events order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mockpanel.state.schedule import Event, EventKind, Scheduler

_DUES = st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 7.25]), max_size=40)


def _drain(scheduler: Scheduler, now: float) -> list[Event]:
    popped = []
    while (event := scheduler.pop_due(now)) is not None:
        popped.append(event)
    return popped


@given(dues=_DUES, now=st.sampled_from([-1.0, 0.0, 1.0, 1.75, 10.0]))
def test_due_events_pop_in_event_order_ties_first_in_first_out(
    dues: list[float], now: float
) -> None:
    scheduler = Scheduler()
    pushed = [
        scheduler.push(due, EventKind.ORDER_START, f"o{index}", 0)
        for index, due in enumerate(dues)
    ]
    popped = _drain(scheduler, now)
    assert popped == sorted(event for event in pushed if event.due <= now)
    assert [event.target for event in popped] == [
        event.target for event in sorted(pushed) if event.due <= now
    ]
    assert len(scheduler) == len(pushed) - len(popped)


@given(dues=_DUES, later=_DUES)
def test_a_restored_scheduler_keeps_the_order_and_the_sequence(
    dues: list[float], later: list[float]
) -> None:
    original = Scheduler()
    events = [original.push(due, EventKind.ORDER_FINISH, f"o{i}", 1) for i, due in enumerate(dues)]
    restored = Scheduler.restore(reversed(events), original.seq)
    for i, due in enumerate(later):
        events.append(restored.push(due, EventKind.ORDER_FINISH, f"n{i}", 1))
    assert _drain(restored, 100.0) == sorted(events)
