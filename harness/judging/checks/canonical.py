"""Canonical details with a SHOULD clause of their own: the JSON types and spellings of the
canonical dialect (string amounts, integer order ids, ``cancel: 1``, ...), each NON-STRICT.
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
    service_items,
    status_objects,
)

__all__ = ["CHECKS"]


def _body(exchange: Exchange) -> dict[str, object]:
    return exchange.json if isinstance(exchange.json, dict) else {}


@check("SVC-006", "catalogue fields use the canonical types", forms=["services"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def services_canonical_types(exchange: Exchange, facts: Facts) -> None:
    for item in service_items(exchange):
        label = f"service {item.get('service')!r}"
        if isinstance(item.get("service"), bool) or not isinstance(item.get("service"), int):
            broken(f"{label}: id is not a JSON integer")
        for name in ("rate", "min", "max"):
            if name in item and not isinstance(item[name], str):
                broken(f"{label}: {name} {item[name]!r} is not a string")
        for name in ("refill", "cancel", "dripfeed"):
            if name in item and not isinstance(item[name], bool):
                broken(f"{label}: {name} {item[name]!r} is not a boolean")


@check("BAL-003", "the balance is a string", forms=["balance"], applies=Applies.SUCCESS,
       grade=Grade.NON_STRICT)
def balance_is_a_string(exchange: Exchange, facts: Facts) -> None:
    balance = _body(exchange).get("balance")
    if balance is not None and not isinstance(balance, str):
        broken(f"balance {balance!r} is a JSON number")


@check("ADD-002", "order ids are JSON integers", forms=["add"], applies=Applies.SUCCESS,
       grade=Grade.NON_STRICT)
def order_id_is_an_integer(exchange: Exchange, facts: Facts) -> None:
    order = _body(exchange).get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        broken(f"order {order!r} is not a JSON integer")


@check("STATUS-007", "status numbers are strings", forms=["status", "status-multi"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def status_numbers_are_strings(exchange: Exchange, facts: Facts) -> None:
    for label, item in status_objects(exchange):
        for name in ("charge", "start_count", "remains"):
            if name in item and not isinstance(item[name], str):
                broken(f"{label}: {name} {item[name]!r} is not a string")


@check("CANCEL-002", "an accepted cancel is reported as cancel 1", forms=["cancel"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def cancel_ack_is_one(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    for item in body if isinstance(body, list) else [body]:
        if not isinstance(item, dict) or "error" in item:
            continue
        ack = item.get("cancel")
        if isinstance(ack, dict) and "error" in ack:
            continue
        if ack != 1 or isinstance(ack, bool):
            broken(f"order {item.get('order')!r}: cancel {ack!r}, canonical 1")


@check("REFILL-005", "the single refill id is a string", forms=["refill"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def refill_id_is_a_string(exchange: Exchange, facts: Facts) -> None:
    refill = _body(exchange).get("refill")
    if refill is not None and not isinstance(refill, str):
        broken(f"refill {refill!r} is a JSON number")


@check("RSTATUS-004", "refill statuses use the canonical spelling", forms=["refill_status"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def refill_status_canonical(exchange: Exchange, facts: Facts) -> None:
    word = _body(exchange).get("status")
    if values.refill_status(word) is not None and word not in {
        s.value for s in values.RefillStatus
    }:
        broken(f"refill status spelled {word!r}")


CHECKS = Registry.collect(globals())
