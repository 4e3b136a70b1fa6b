"""Refill records: the refill status vocabulary, its declared transitions, and the view."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from mockpanel.state.transitions import check_transition

__all__ = ["FINAL_REFILL_STATUSES", "REFILL_TRANSITIONS", "Refill", "RefillStatus", "RefillView"]


class RefillStatus(StrEnum):
    """The canonical refill statuses."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"


_R = RefillStatus
FINAL_REFILL_STATUSES: Final = frozenset({_R.COMPLETED, _R.REJECTED})

# Forward only; Completed and Rejected are absorbing.
REFILL_TRANSITIONS: Final = MappingProxyType(
    {
        _R.PENDING: frozenset({_R.IN_PROGRESS}) | FINAL_REFILL_STATUSES,
        _R.IN_PROGRESS: FINAL_REFILL_STATUSES,
    }
)


@dataclass(frozen=True, slots=True)
class RefillView:
    """A refill as the API reports it."""

    id: str
    tenant_id: str
    order_id: str
    status: RefillStatus
    created_at: float
    finished_at: float | None = None


@dataclass(slots=True)
class Refill:
    """The mutable record behind a refill; ``generation`` voids timers as for orders."""

    id: str
    tenant_id: str
    order_id: str
    created_at: float
    status: RefillStatus = RefillStatus.PENDING
    finished_at: float | None = None
    generation: int = 0

    def move(self, target: RefillStatus, at: float) -> None:
        check_transition(REFILL_TRANSITIONS, "refill", self.id, self.status, target)
        self.status = target
        if target in FINAL_REFILL_STATUSES:
            self.finished_at = at

    def view(self) -> RefillView:
        return RefillView(
            id=self.id,
            tenant_id=self.tenant_id,
            order_id=self.order_id,
            status=self.status,
            created_at=self.created_at,
            finished_at=self.finished_at,
        )
