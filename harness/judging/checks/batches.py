"""Batch checks: a multi-id request (multi-status, cancel, multi-refill and its status) is
answered with one member per requested id, each naming the id it answers.
"""

from __future__ import annotations

from harness.base import values
from harness.base.exchange import Exchange
from harness.judging.checks.core import (
    Applies,
    Facts,
    Grade,
    Registry,
    broken,
    check,
    requested_ids,
)

__all__ = ["CHECKS"]


@check("MSTATUS-001", "multi-status has one member per requested id", forms=["status-multi"],
       applies=Applies.SUCCESS)
def multi_status_keys(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if not isinstance(body, dict):
        broken(f"a {type(body).__name__}, not an object keyed by id")
    wanted = set(requested_ids(exchange))
    got = set(body)
    if wanted != got:
        missing, extra = sorted(wanted - got), sorted(got - wanted)
        broken(f"missing ids {missing[:5]}, unexpected keys {extra[:5]}")


@check("MSTATUS-004", "per-id errors are error objects", forms=["status-multi"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def multi_status_error_objects(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if isinstance(body, dict):
        for key, item in body.items():
            if isinstance(item, str):
                broken(f"id {key}: a bare string {item!r}, not {{\"error\": ...}}")


def _list_items_name_requested(exchange: Exchange, id_field: str, param: str) -> None:
    wanted = set(requested_ids(exchange, param))
    if not wanted:
        return
    body = exchange.json
    if not isinstance(body, list | dict):
        return  # null or a scalar: off the form's schema, that clause's failure alone
    items = body if isinstance(body, list) else [body]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            broken(f"item {index} is {item!r}, not an object")
        named = values.id_text(item.get(id_field))
        if named is None or named not in wanted:
            broken(f"item {index} names {id_field} {item.get(id_field)!r}, not a requested id")


@check("BATCH-005", "batch items name the id they answer",
       forms=["cancel", "refill-multi"], applies=Applies.SUCCESS)
def batch_items_name_orders(exchange: Exchange, facts: Facts) -> None:
    _list_items_name_requested(exchange, "order", "orders")


@check("BATCH-005", "batch items name the id they answer", forms=["refill_status-multi"],
       applies=Applies.SUCCESS)
def batch_items_name_refills(exchange: Exchange, facts: Facts) -> None:
    _list_items_name_requested(exchange, "refill", "refills")


@check("CANCEL-001", "cancel answers one item per requested id", forms=["cancel"],
       applies=Applies.SUCCESS)
def cancel_one_item_per_id(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    wanted = requested_ids(exchange)
    items = body if isinstance(body, list) else [body]
    named = {values.id_text(i.get("order")) for i in items if isinstance(i, dict)}
    missing = sorted(set(wanted) - {n for n in named if n})
    if missing:
        broken(f"no item for {missing[:5]}")


CHECKS = Registry.collect(globals())
