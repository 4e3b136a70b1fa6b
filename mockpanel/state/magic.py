"""Magic links: an order's link can carry the outcome it should end with, for black-box suites.

Like a payment provider's test card numbers: ``https://x.test/p?mock_outcome=partial&mock_remains=157``
makes the order end ``Partial`` with 157 remaining when its lifecycle runs out, with no control
API needed. Only the query string is read; any other link behaves normally.

``done`` and ``failed`` end the order ``Done`` (as Completed) or ``Failed`` (nothing delivered,
the whole charge refunded; see :class:`~mockpanel.state.orders.OrderStatus`); a panel whose
dialect has no such word refuses them (:func:`~mockpanel.state.params.validate_add`).

``processing`` asks for a provider that says ``Processing`` instead of ``In progress`` (seed
000: "Same as in progress (used by some providers)"): the order shows ``Processing`` while it
works, whether the lifecycle or the control API's ``In progress`` outcome put it there, and
ends ``Completed``. Likewise refused where the dialect has no such word.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qs, urlsplit

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state.catalog import MAX_COUNT
from mockpanel.state.orders import OrderStatus, Outcome

__all__ = [
    "OUTCOME_PARAM",
    "PLAIN_OUTCOME",
    "MagicLink",
    "MagicOutcome",
    "magic_status",
    "parse_magic_link",
    "planned_outcome",
]

OUTCOME_PARAM = "mock_outcome"
REMAINS_PARAM = "mock_remains"


class MagicOutcome(StrEnum):
    """The outcomes a link may ask for (lower case in the URL, matched case-insensitively)."""

    PARTIAL = "partial"
    COMPLETED = "completed"
    CANCELED = "canceled"
    DONE = "done"
    FAILED = "failed"
    PROCESSING = "processing"


# The status word each magic outcome asks the dialect for: the final status it ends with, or
# the word it works under (Processing).
_STATUS_OF: Final = {
    MagicOutcome.PARTIAL: OrderStatus.PARTIAL,
    MagicOutcome.COMPLETED: OrderStatus.COMPLETED,
    MagicOutcome.CANCELED: OrderStatus.CANCELED,
    MagicOutcome.DONE: OrderStatus.DONE,
    MagicOutcome.FAILED: OrderStatus.FAILED,
    MagicOutcome.PROCESSING: OrderStatus.PROCESSING,
}


@dataclass(frozen=True, slots=True)
class MagicLink:
    """The outcome a link asks for; ``remains`` only matters for ``partial``."""

    outcome: MagicOutcome
    remains: int | None = None


def _last(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def parse_magic_link(link: str) -> MagicLink | None:
    """The magic outcome carried by ``link``'s query string, or ``None`` when it has none.

    A present but unusable ``mock_outcome`` or ``mock_remains`` is refused with
    ``INVALID_PARAM`` naming that query parameter, so a typo never silently places a normal
    order.
    """
    query = parse_qs(urlsplit(link).query, keep_blank_values=True)
    raw_outcome = _last(query, OUTCOME_PARAM)
    if raw_outcome is None:
        return None
    try:
        outcome = MagicOutcome(raw_outcome.lower())
    except ValueError:
        raise DomainError(
            ErrorCode.INVALID_PARAM, param=OUTCOME_PARAM, value=raw_outcome[:64]
        ) from None
    raw_remains = _last(query, REMAINS_PARAM)
    if raw_remains is None or outcome is not MagicOutcome.PARTIAL:
        return MagicLink(outcome)
    if not (raw_remains.isascii() and raw_remains.isdigit()) or int(raw_remains) > MAX_COUNT:
        raise DomainError(ErrorCode.INVALID_PARAM, param=REMAINS_PARAM, value=raw_remains[:64])
    return MagicLink(outcome, int(raw_remains))


def magic_status(magic: MagicLink) -> OrderStatus:
    """The status ``magic`` asks the panel to show (its ending, or Processing while it works):
    the one the dialect must have for the link to be accepted."""
    return _STATUS_OF[magic.outcome]


# Every plain order plans this same (immutable) outcome: one object shared, not one per order.
PLAIN_OUTCOME: Final = Outcome(OrderStatus.COMPLETED, 0)
# A provider that says Processing while it works, then delivers everything.
_PROCESSING_OUTCOME: Final = Outcome(OrderStatus.COMPLETED, 0, OrderStatus.PROCESSING)


def planned_outcome(magic: MagicLink | None, quantity: int) -> Outcome:
    """The outcome an order of ``quantity`` ends with when its lifecycle runs out.

    Default: Completed with nothing remaining; Done likewise. Partial: ``mock_remains``
    (default ``quantity // 2``) clamped to ``1..quantity`` so it is a real partial. Canceled and
    Failed: everything remains (and the whole charge is refunded). Processing: shown while
    the order works, then Completed as a plain order.
    """
    if magic is None or magic.outcome is MagicOutcome.COMPLETED:
        return PLAIN_OUTCOME
    if magic.outcome is MagicOutcome.PROCESSING:
        return _PROCESSING_OUTCOME
    status = _STATUS_OF[magic.outcome]
    if status is OrderStatus.DONE:
        return Outcome(status, 0)
    if status is not OrderStatus.PARTIAL:
        return Outcome(status, quantity)
    wanted = quantity // 2 if magic.remains is None else magic.remains
    return Outcome(OrderStatus.PARTIAL, min(max(wanted, 1), quantity))
