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


@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("push"), st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.25])),
            st.tuples(st.just("pop"), st.sampled_from([0.0, 1.0, 1.75, 10.0])),
            st.tuples(st.just("clear"), st.just(0.0)),
            st.tuples(st.just("restore"), st.just(0.0)),
        ),
        max_size=40,
    )
)
def test_next_due_is_always_the_earliest_due_time(steps: list[tuple[str, float]]) -> None:
    # The state skips settling whenever next_due is in the future: a stale value would leave
    # a due transition unapplied.
    scheduler = Scheduler()
    pending: list[Event] = []
    for kind, value in steps:
        if kind == "push":
            pending.append(scheduler.push(value, EventKind.ORDER_START, "o", 0))
        elif kind == "pop":
            for event in _drain(scheduler, value):
                pending.remove(event)
        elif kind == "clear":
            scheduler.clear()
            pending.clear()
        else:
            scheduler = Scheduler.restore(pending, scheduler.seq)
        assert scheduler.next_due == min((event.due for event in pending), default=float("inf"))
