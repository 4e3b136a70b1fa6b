"""Timed lifecycle events in a heap keyed by due time, so settling costs only what is due.

An event names its target and the target's ``generation`` when it was scheduled; a control
outcome bumps the generation, which turns every older event for that target into a no-op
instead of requiring it to be found and removed.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Final, NamedTuple

__all__ = ["EVENT_KIND_ORDER_START", "Event", "EventKind", "Scheduler"]


class EventKind(Enum):
    """What a due event does to its target."""

    ORDER_START = "order_start"  # Pending -> In progress
    ORDER_FINISH = "order_finish"  # In progress -> the planned outcome
    REFILL_START = "refill_start"  # Pending -> In progress
    REFILL_FINISH = "refill_finish"  # In progress -> Completed


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
EVENT_KIND_ORDER_START: Final = EventKind.ORDER_START


class Event(NamedTuple):
    """A timed event. As a tuple it orders by due time, then by scheduling order (``seq``,
    unique per scheduler), so ties resolve FIFO and the later fields are never compared.

    A named tuple, so the heap compares events as the plain tuples they are.
    """

    due: float
    seq: int
    kind: EventKind
    target: str
    generation: int


class Scheduler:
    """A min-heap of :class:`Event`, which are tuples ordered as they fall due.

    ``next_due`` is the earliest due time (``inf`` when empty): whether anything is due is
    one comparison with it. ``on_earlier``, when set, is called with the new ``next_due``
    whenever a push moves it earlier (the panel's due timer re-arms then); a push of a later
    event, the common case, costs nothing more than the comparison it always made.
    """

    __slots__ = ("_heap", "_seq", "next_due", "on_earlier")

    def __init__(self) -> None:
        self._heap: list[Event] = []
        self._seq = 0
        self.next_due = math.inf
        self.on_earlier: Callable[[float], None] | None = None

    @classmethod
    def restore(cls, events: Iterable[Event], seq: int) -> Scheduler:
        """A scheduler holding ``events`` (read back from a state file) whose next ``seq`` is
        ``seq + 1``, so ties keep resolving in the order they were scheduled."""
        scheduler = cls()
        scheduler._heap = list(events)
        if any(event.seq > seq for event in scheduler._heap):
            raise ValueError(f"an event's seq is above the last issued seq {seq}")
        heapq.heapify(scheduler._heap)
        scheduler._seq = seq
        scheduler._sync()
        return scheduler

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def seq(self) -> int:
        """The ``seq`` of the latest event pushed (0 before any)."""
        return self._seq

    def push(self, due: float, kind: EventKind, target: str, generation: int) -> Event:
        self._seq += 1
        event = Event(due, self._seq, kind, target, generation)
        heapq.heappush(self._heap, event)
        if due < self.next_due:
            self.next_due = due
            if self.on_earlier is not None:
                self.on_earlier(due)
        return event

    def pop_due(self, now: float) -> Event | None:
        """The earliest event due at or before ``now``, removed; ``None`` if none is due."""
        if self._heap and self._heap[0].due <= now:
            event = heapq.heappop(self._heap)
            self._sync()
            return event
        return None

    def clear(self) -> None:
        self._heap.clear()
        self.next_due = math.inf

    def _sync(self) -> None:
        self.next_due = self._heap[0].due if self._heap else math.inf
