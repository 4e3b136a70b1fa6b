"""Order records: the status vocabulary, its declared transitions, and how remains fall.

An :class:`Order` is the state layer's mutable record; callers only ever see the frozen
:class:`OrderView` it renders at a given instant. Money is not moved here (that is the
ledger's job) but the amount a final status refunds is computed here, in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final, NamedTuple

from mockpanel.state.catalog import Service, ServiceType
from mockpanel.state.money import pro_rata, quantize
from mockpanel.state.transitions import check_transition

__all__ = ["CANONICAL_ORDER_STATUSES", "DELIVERED_STATUSES", "FINAL_ORDER_STATUSES",
           "ORDER_STATUS_IN_PROGRESS", "ORDER_TRANSITIONS", "UNDELIVERED_STATUSES",
           "WORKING_STATUSES", "Order", "OrderStatus", "OrderView", "Outcome", "Progress"]


class OrderStatus(StrEnum):
    """The order statuses: the canonical PerfectPanel five, and two final ones seed 004 lists
    besides them ("Possible status values: Pending In progress Partial Completed Done Canceled
    Failed") that only a panel whose dialect names them can reach (``StateConfig.order_statuses``).

    What the two extra words mean is decided here, as clients in the wild normalise them
    (protocol-variants.md section 3: "completed|complete|done" / "failed|canceled|cancelled|
    rejected"), and as the harness reads them:

    - ``Done``: finished with everything delivered, exactly as ``Completed``: remains 0, no
      refund, refillable.
    - ``Failed``: the provider could not deliver anything (where ``Canceled`` is the customer's
      or the panel's decision). Nothing was delivered, so remains is the whole quantity and the
      whole charge is refunded, once, as for ``Canceled``: keeping money for an order that
      delivered nothing would break money conservation (MONEY-010), and a panel that refunded
      only part of it would have to say which part (that is what ``Partial`` is for).

    And one working word, ``Processing``, that seeds 001 and 002 list among the status values
    ("Pending · In progress · Completed · Partial · Canceled · Processing"; "Pending, In
    progress, Processing, Completed, Partial, Canceled") while their examples show "In
    progress" for a running order, and that seed 000 defines: "Processing | Same as in progress
    (used by some providers)". So it is not a state of its own but the In-progress state in
    the word *some providers* use: an order's record is never ``Processing``; an order whose
    provider says it (:attr:`Outcome.working`, chosen at placement by a magic link) *shows*
    ``Processing`` in its views wherever its record is ``In progress``, and every rule about
    In progress (cancellable, remains falling, Partial on cancel, the lifecycle's finish)
    applies to it unchanged. Like Done and Failed it exists only where the dialect names it.
    """

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"
    DONE = "Done"
    FAILED = "Failed"
    PROCESSING = "Processing"


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
ORDER_STATUS_IN_PROGRESS: Final = OrderStatus.IN_PROGRESS

_S = OrderStatus
_ENDINGS = frozenset({_S.COMPLETED, _S.PARTIAL, _S.CANCELED, _S.DONE, _S.FAILED})

# Every panel can show these; Done, Failed and Processing only where the dialect names them.
CANONICAL_ORDER_STATUSES: Final = frozenset(
    {_S.PENDING, _S.IN_PROGRESS, _S.COMPLETED, _S.PARTIAL, _S.CANCELED}
)
# Final statuses with everything delivered (remains 0, no refund, refillable) ...
DELIVERED_STATUSES: Final = frozenset({_S.COMPLETED, _S.DONE})
# ... and with nothing delivered (remains the whole quantity, the whole charge refunded).
UNDELIVERED_STATUSES: Final = frozenset({_S.CANCELED, _S.FAILED})
# The statuses an order shows while it is being delivered: In progress, in either word.
# (Processing is no key of ORDER_TRANSITIONS, and no target: no record ever moves to it.)
WORKING_STATUSES: Final = frozenset({_S.IN_PROGRESS, _S.PROCESSING})

# Forward only; the final statuses have no entry, so they are absorbing.
ORDER_TRANSITIONS: Final = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.IN_PROGRESS}) | _ENDINGS,
        _S.IN_PROGRESS: _ENDINGS,
    }
)
FINAL_ORDER_STATUSES: Final = _ENDINGS


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an order ends: a final status and the remains it ends with; and the word it shows
    while it is In progress (``Processing`` for a provider that says so, see OrderStatus)."""

    status: OrderStatus
    remains: int
    working: OrderStatus = OrderStatus.IN_PROGRESS


@dataclass(frozen=True, slots=True)
class Progress:
    """A timed delivery: remains fall linearly from ``start_remains`` to ``target`` over
    ``duration`` seconds from ``started_at``."""

    started_at: float
    duration: float
    start_remains: int
    target: int

    def remains_at(self, now: float) -> int:
        if self.duration <= 0 or now >= self.started_at + self.duration:
            return self.target
        done = max(0.0, (now - self.started_at) / self.duration)
        span = self.start_remains - self.target
        # ceil keeps remains above the target until the delivery time is really over.
        return self.target + min(span, math.ceil(span * (1.0 - done)))


class OrderView(NamedTuple):
    """An order as the API reports it at one instant. ``charge`` is exactly what was debited;
    ``refunded`` is what has been credited back since (partial or full).

    Immutable, as listeners and test panels receive it (change a copy: ``view._replace``). A
    named tuple, as every status read builds one (:meth:`Order.view`).
    """

    id: str
    tenant_id: str
    service_id: int
    service_type: ServiceType
    link: str | None
    quantity: int
    charge: Decimal
    refunded: Decimal
    status: OrderStatus
    start_count: int | None
    remains: int
    currency: str
    runs: int | None
    interval: int | None
    created_at: float
    finished_at: float | None = None


@dataclass(slots=True)
class Order:
    """The mutable record behind an order. ``generation`` increases whenever a control outcome
    takes over, which voids every timed event scheduled under an earlier generation."""

    id: str
    tenant_id: str
    service: Service
    link: str | None
    quantity: int
    charge: Decimal
    currency: str
    runs: int | None
    interval: int | None
    created_at: float
    planned: Outcome
    remains: int
    refunded: Decimal  # zero at the panel's places until a refund
    status: OrderStatus = OrderStatus.PENDING
    start_count: int | None = None
    progress: Progress | None = None
    finished_at: float | None = None
    generation: int = 0

    def remains_at(self, now: float) -> int:
        if self.status is ORDER_STATUS_IN_PROGRESS and self.progress is not None:
            return self.progress.remains_at(now)
        return self.remains

    def move(self, target: OrderStatus, at: float) -> None:
        """Change status along a declared transition; record when a final status was reached."""
        check_transition(ORDER_TRANSITIONS, "order", self.id, self.status, target)
        self.status = target
        if target in FINAL_ORDER_STATUSES:
            self.progress = None
            self.finished_at = at

    def refund_for(self, outcome: Outcome, places: int) -> Decimal:
        """What ending with ``outcome`` gives back: a pro-rata part for Partial, all for
        Canceled and Failed, nothing for Completed and Done."""
        if outcome.status in UNDELIVERED_STATUSES:
            return self.charge
        if outcome.status is OrderStatus.PARTIAL:
            return pro_rata(self.charge, outcome.remains, self.quantity, places)
        return quantize(Decimal(0), places)

    def view(self, now: float) -> OrderView:
        """The order as the API reports it at ``now``."""
        status = self.status
        if status is ORDER_STATUS_IN_PROGRESS:
            status = self.planned.working  # In progress, or Processing in some providers' word
        # Positional, in OrderView's field order (keywords cost a status read about 1 %);
        # tests/mockpanel/state/test_orders.py pins every field to its place.
        return OrderView._make(
            (
                self.id,
                self.tenant_id,
                self.service.id,
                self.service.type,
                self.link,
                self.quantity,
                self.charge,
                self.refunded,
                status,
                self.start_count,
                self.remains_at(now),
                self.currency,
                self.runs,
                self.interval,
                self.created_at,
                self.finished_at,
            )
        )
