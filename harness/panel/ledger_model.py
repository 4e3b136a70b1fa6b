"""The model ledger of the stateful suite: what a panel's money, orders and refills must be.

Pure Python, no I/O. The state machine of ``harness/suite/test_14_stateful.py`` tells the
:class:`Ledger` what it did and what the panel answered; every ``apply``-style method returns
the :class:`Violation` list that observation shows (empty when it is consistent), each a
:class:`~harness.judging.checks.CheckFailure` citing its clause, to which the suite adds the
exchanges as evidence. What it holds the panel to:

- money is conserved: balance = start - sum of charges + sum of refunds, where an order's
  charge is its measured debit (or, when that is not the price, possibly the price as a panel
  may round it: a refund landing in the same window blurs a debit) and its refund follows from
  its last status
  (Canceled: the charge; Partial: charge * remains / quantity, rounded either way);
- statuses only move forward (and terminal ones never change), remains never grows;
- a multi-status member agrees with single status read just before and just after it;
- order and refill ids are never issued twice; a completed order is never cancelled; a
  repeated cancel refunds nothing (the refund happens once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from harness.base import values
from harness.base.values import OrderStatus
from harness.judging.checks import CheckFailure, Grade
from harness.panel.catalog import roundings

__all__ = ["Blame", "Ledger", "ModelOrder", "Violation"]

# Above this many candidate balances the exact set is replaced by its bounds (never reached by
# the suite's step counts; it keeps a pathological run from growing without limit).
_MAX_CANDIDATES = 50_000


class Violation(CheckFailure):
    """One broken rule the ledger saw, in the vocabulary of ``schemas/clauses.yaml``: a
    :class:`~harness.judging.checks.CheckFailure` without evidence yet (the ledger never sees an
    exchange; the suite adds them with :meth:`~harness.judging.checks.CheckFailure.with_exchanges`).
    """

    def __init__(self, clause: str, title: str, message: str, grade: Grade = Grade.FAIL) -> None:
        super().__init__(clause, title, message, grade)


@dataclass(slots=True)
class ModelOrder:
    """What the model knows of one order: its price, possible charges and furthest status."""

    id: str
    price: Decimal
    units: int | None
    charges: frozenset[Decimal]
    refillable: bool = False
    status: OrderStatus | None = None
    remains: int | None = None

    @property
    def terminal(self) -> bool:
        return self.status is not None and self.status.terminal

    def nets(self, places: int) -> set[Decimal] | None:
        """What this order may have taken from the balance by now (charge less refund);
        ``None`` when its status does not tell (a Partial without remains)."""
        if self.status is OrderStatus.CANCELED:
            return {Decimal(0)}
        if self.status is OrderStatus.PARTIAL:
            if self.remains is None or not self.units:
                return None
            return {
                refund - charge
                for charge in self.charges
                for refund in roundings(charge * self.remains / self.units, places)
            }
        return {-charge for charge in self.charges}

    def exact_net(self) -> Decimal | None:
        """The unrounded charge less refund, for a panel that rounds only the balance."""
        if self.status is OrderStatus.CANCELED:
            return Decimal(0)
        if self.status is OrderStatus.PARTIAL:
            if self.remains is None or not self.units:
                return None
            return self.price * self.remains / self.units - self.price
        return -self.price


@dataclass(slots=True)
class Blame:
    """What the steps since the last balance check did that could move money, so that a
    balance off the model is reported under the most specific clause."""

    cancelled: set[str] = field(default_factory=set)
    repeated: set[str] = field(default_factory=set)
    refilled: set[str] = field(default_factory=set)

    def clause(self, *, surplus: bool, cancelled_now: bool) -> tuple[str, str, Grade]:
        """The clause a balance off the model breaks: ``surplus`` when it holds too much,
        ``cancelled_now`` when an order cancelled since the last check is Canceled."""
        if self.repeated and surplus:
            return "CANCEL-004", "a second cancel refunds nothing", Grade.FAIL
        if cancelled_now:
            return "CANCEL-003", "a cancelled order refunds its charge once", Grade.FAIL
        if self.refilled and not surplus:
            return "REFILL-006", "a refill costs nothing", Grade.NON_STRICT
        return "MONEY-010", "money is conserved", Grade.FAIL

    def clear(self) -> None:
        self.cancelled.clear()
        self.repeated.clear()
        self.refilled.clear()


class Ledger:
    """The model of one account: its opening balance, its orders and its refills."""

    def __init__(self, start: Decimal, places: int) -> None:
        self.start = start
        self.places = places
        self.orders: dict[str, ModelOrder] = {}
        self.refills: dict[str, str] = {}  # refill id -> order id
        self.blame = Blame()

    # -- what the suite did -------------------------------------------------------------------

    def placed(
        self,
        order_id: str,
        *,
        price: Decimal,
        units: int | None,
        debit: Decimal,
        refillable: bool = False,
    ) -> list[Violation]:
        """An ``add`` was accepted with ``order_id``; ``debit`` is the balance delta around it."""
        if order_id in self.orders:
            return [Violation("ADD-008", "each accepted add creates a distinct order",
                              f"order id {order_id} was issued again")]
        # A debit that is not the price may still be the charge (a panel pricing otherwise is
        # MONEY-001's business), or be blurred by a refund landing in the same window.
        priced = roundings(price, self.places)
        charges = frozenset({debit} if debit in priced else {debit, *priced})
        self.orders[order_id] = ModelOrder(order_id, price, units, charges, refillable)
        return []

    def cancel_sent(self, ids: Sequence[str], accepted: Mapping[str, bool]) -> list[Violation]:
        """A ``cancel`` of ``ids`` was answered: ``accepted`` per id (True: acknowledged).

        An order already Canceled, listed twice, or cancelled again since the last balance
        check is a repeat: it may be acknowledged again, but must refund nothing. An order
        already Completed or Partial must be refused.
        """
        found: list[Violation] = []
        seen: set[str] = set()
        for order_id in ids:
            order = self.orders.get(order_id)
            if order is None:
                continue
            again = order_id in seen or order_id in self.blame.cancelled
            if again or order.status is OrderStatus.CANCELED:
                self.blame.repeated.add(order_id)
            seen.add(order_id)
            self.blame.cancelled.add(order_id)
            if accepted.get(order_id) and order.terminal and order.status is not (
                OrderStatus.CANCELED
            ):
                found.append(Violation(
                    "CANCEL-006", "a completed order cannot be cancelled",
                    f"cancel of order {order_id} accepted, yet it was already "
                    f"{order.status.value if order.status else '?'}"))
        return found

    def refilled(self, order_id: str, refill_id: str) -> list[Violation]:
        """A ``refill`` of ``order_id`` was accepted with ``refill_id``."""
        self.blame.refilled.add(order_id)
        if refill_id in self.refills:
            return [Violation("REFILL-001", "each refill gets a refill id of its own",
                              f"refill id {refill_id} was issued again (first for order "
                              f"{self.refills[refill_id]}, now for order {order_id})")]
        self.refills[refill_id] = order_id
        return []

    # -- what the panel said ------------------------------------------------------------------

    def observe(self, order_id: str, word: object, remains: object) -> list[Violation]:
        """A status (single, or a multi-status member agreeing with it) of an own order."""
        order = self.orders.get(order_id)
        status = values.order_status(word)
        if order is None or status is None:
            return []  # an unknown word is STATUS-002's business, checked on every answer
        count = values.count(remains)
        old = order.status
        if old is not None:
            if status.rank < old.rank:
                return [Violation("STATUS-008", "an order's status never goes backwards",
                                  f"order {order_id} went from {old.value} to {word!r}")]
            changed = status is not old or (
                count is not None and order.remains is not None and count != order.remains
            )
            if old.terminal and changed:
                return [Violation("LIFE-004", "terminal statuses are final",
                                  f"order {order_id} was {old.value} (remains "
                                  f"{order.remains}), now {word!r} (remains {remains!r})")]
        if count is not None and order.remains is not None and count > order.remains:
            return [Violation("STATUS-009", "remains never grows",
                              f"order {order_id}: remains {order.remains} -> {count}")]
        order.status = status
        if count is not None:
            order.remains = count
        return []

    def multi_status(
        self,
        order_id: str,
        before: Mapping[str, object],
        member: object,
        after: Mapping[str, object],
    ) -> list[Violation]:
        """A multi-status ``member`` for an own order, between two single reads of it.

        Whatever moved between the reads, the member must sit between them: its status rank
        between theirs (the very status when both agree), its remains between theirs, its
        charge one of theirs. A disagreeing member is not taken as the order's history.
        """
        found = self.observe(order_id, before.get("status"), before.get("remains"))
        disagreement = _disagreement(before, member, after)
        if disagreement is not None:
            found.append(Violation("MSTATUS-003", "multi-status agrees with single status",
                                   f"order {order_id}: {disagreement}"))
        else:
            assert isinstance(member, Mapping)
            found += self.observe(order_id, member.get("status"), member.get("remains"))
        found += self.observe(order_id, after.get("status"), after.get("remains"))
        return found

    def check_balance(self, observed: Decimal) -> list[Violation]:
        """The balance read at a quiet moment (statuses unchanged around it): it must be one
        the model allows. A refill charge (a SHOULD) is accepted into the model once reported.
        """
        expected = self.expected_balances()
        if expected is None:
            return []  # judged at a later quiet moment, with what happened so far still in view
        blame, self.blame = self.blame, Blame()
        if _allowed(observed, expected):
            return []
        nearest = min(expected, key=lambda amount: (abs(observed - amount), amount))
        cancelled_now = any(self.orders[i].status is OrderStatus.CANCELED
                            for i in blame.cancelled)
        clause, title, grade = blame.clause(surplus=observed > nearest,
                                            cancelled_now=cancelled_now)
        if grade is Grade.NON_STRICT:
            self.start += observed - nearest
        return [Violation(clause, title, _balance_message(self, observed, nearest), grade)]

    # -- views --------------------------------------------------------------------------------

    def expected_balances(self) -> set[Decimal] | None:
        """Every balance the model allows now; ``None`` when a status leaves it open."""
        sums = {Decimal(0)}
        exact = Decimal(0)
        for order in self.orders.values():
            nets = order.nets(self.places)
            net = order.exact_net()
            if nets is None or net is None:
                return None
            sums = {a + b for a in sums for b in nets}
            exact += net
            if len(sums) > _MAX_CANDIDATES:
                sums = {min(sums), max(sums)}
        return {self.start + s for s in sums} | roundings(self.start + exact, self.places)

    def worst_balance(self) -> Decimal:
        """The least the balance can hold now: every charge at its highest, no refund."""
        return self.start - sum((max(o.charges) for o in self.orders.values()), Decimal(0))

    def unsettled(self) -> list[str]:
        """Orders whose status may still change (or was never read)."""
        return [o.id for o in self.orders.values() if not o.terminal]

    def refillable(self) -> list[str]:
        """Completed orders of refill services not refilled yet: a refill must be accepted
        for each (a second one while the first runs may fairly be refused)."""
        done = set(self.refills.values())
        return [o.id for o in self.orders.values()
                if o.refillable and o.status is OrderStatus.COMPLETED and o.id not in done]

    def ids(self) -> Iterable[str]:
        return self.orders.keys()


def _allowed(observed: Decimal, expected: set[Decimal]) -> bool:
    if len(expected) > _MAX_CANDIDATES:
        return min(expected) <= observed <= max(expected)
    return observed in expected


def _balance_message(ledger: Ledger, observed: Decimal, nearest: Decimal) -> str:
    statuses = ", ".join(
        f"{o.id} {o.status.value if o.status else '?'}" for o in ledger.orders.values()
    )
    return (f"balance {observed}, the model expects {nearest} (off by {observed - nearest}): "
            f"start {ledger.start}, orders [{statuses}]")


def _same(a: OrderStatus, b: OrderStatus) -> bool:
    """Two readings of one status (In progress and Processing are one)."""
    return a is b or (a.rank == b.rank and not a.terminal)


def _disagreement(
    before: Mapping[str, object], member: object, after: Mapping[str, object]
) -> str | None:
    """Why ``member`` cannot be a reading taken between ``before`` and ``after``, or None."""
    if not isinstance(member, Mapping) or "error" in member:
        return f"multi-status answers {member!r}, single status {before.get('status')!r}"
    first, last = (values.order_status(s.get("status")) for s in (before, after))
    middle = values.order_status(member.get("status"))
    if first is not None and last is not None and middle is not None:
        between = first.rank < middle.rank < last.rank
        if not (_same(middle, first) or _same(middle, last) or between):
            return (f"status: multi {member.get('status')!r}, single "
                    f"{before.get('status')!r} then {after.get('status')!r}")
    high, mid, low = (values.count(s.get("remains")) for s in (before, member, after))
    if high is not None and mid is not None and low is not None and not low <= mid <= high:
        return f"remains: multi {mid}, single {high} then {low}"
    charges = [values.money(s.get("charge")) for s in (before, member, after)]
    if None not in charges and charges[1] not in (charges[0], charges[2]):
        return f"charge: multi {charges[1]}, single {charges[0]} then {charges[2]}"
    return None
