"""Order status checks: status words and counts of one answer, and the pair checks that hold an
order's status and remains to never going backwards (they need the previous answer).
"""

from __future__ import annotations

from harness.base import values
from harness.base.exchange import Exchange
from harness.judging.checks.core import (
    Applies,
    Facts,
    Grade,
    Registry,
    answer_kind,
    broken,
    check,
    status_objects,
)

__all__ = ["CHECKS"]


@check("STATUS-002", "status words are in the vocabulary", forms=["status", "status-multi"],
       applies=Applies.SUCCESS)
def status_word_known(exchange: Exchange, facts: Facts) -> None:
    for label, item in status_objects(exchange):
        if values.order_status(item.get("status")) is None:
            broken(f"{label}: unknown status word {item.get('status')!r}")


@check("STATUS-003", "status words use the canonical spelling",
       forms=["status", "status-multi"], applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def status_word_canonical(exchange: Exchange, facts: Facts) -> None:
    canonical = {s.value for s in values.OrderStatus}
    for label, item in status_objects(exchange):
        word = item.get("status")
        if values.order_status(word) is not None and word not in canonical:
            broken(f"{label}: status spelled {word!r}")


@check("STATUS-004", "remains is a count", forms=["status", "status-multi"],
       applies=Applies.SUCCESS)
def remains_in_range(exchange: Exchange, facts: Facts) -> None:
    for label, item in status_objects(exchange):
        if "remains" not in item:
            continue
        if values.count(item["remains"]) is None:
            broken(f"{label}: remains {item['remains']!r} is not a count")


@check("STATUS-004", "remains never exceeds the ordered quantity", forms=["status"],
       applies=Applies.SUCCESS, needs=("quantity",))
def remains_within_quantity(exchange: Exchange, facts: Facts) -> None:
    for label, item in status_objects(exchange):
        remains = values.count(item.get("remains"))
        if remains is not None and facts.quantity is not None and remains > facts.quantity:
            broken(f"{label}: remains {remains} exceeds the ordered {facts.quantity}")


@check("LIFE-005", "start_count is a non-negative integer", forms=["status", "status-multi"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def start_count_count(exchange: Exchange, facts: Facts) -> None:
    for label, item in status_objects(exchange):
        # null while the order waits: the count is unknown until delivery starts.
        if item.get("start_count") is not None and values.count(item["start_count"]) is None:
            broken(f"{label}: start_count {item['start_count']!r}")


def _single_status(exchange: Exchange | None) -> dict[str, object] | None:
    if exchange is None or answer_kind(exchange) is not Applies.SUCCESS:
        return None
    body = exchange.json
    return body if isinstance(body, dict) and exchange.form == "status" else None


@check("STATUS-008", "an order's status never goes backwards", forms=["status"],
       applies=Applies.SUCCESS, needs=("previous",))
def status_never_backwards(exchange: Exchange, facts: Facts) -> None:
    before, now = _single_status(facts.previous), _single_status(exchange)
    if before is None or now is None:
        return
    old, new = values.order_status(before.get("status")), values.order_status(now.get("status"))
    if old is None or new is None:
        return
    if new.rank < old.rank or (old.terminal and new is not old):
        broken(f"status went from {before.get('status')!r} to {now.get('status')!r}")


@check("STATUS-009", "remains never grows", forms=["status"], applies=Applies.SUCCESS,
       needs=("previous",))
def remains_never_grows(exchange: Exchange, facts: Facts) -> None:
    before, now = _single_status(facts.previous), _single_status(exchange)
    if before is None or now is None:
        return
    old, new = values.count(before.get("remains")), values.count(now.get("remains"))
    if old is not None and new is not None and new > old:
        broken(f"remains grew from {old} to {new}")


@check("LIFE-004", "terminal statuses are final", forms=["status"], applies=Applies.SUCCESS,
       needs=("previous",))
def terminal_is_final(exchange: Exchange, facts: Facts) -> None:
    before, now = _single_status(facts.previous), _single_status(exchange)
    if before is None or now is None:
        return
    old = values.order_status(before.get("status"))
    if old is None or not old.terminal:
        return
    for name in ("status", "remains", "charge"):
        if name in before and str(before.get(name)) != str(now.get(name)):
            broken(f"{name} changed after {old.value}: {before.get(name)!r} -> {now.get(name)!r}")


CHECKS = Registry.collect(globals())
