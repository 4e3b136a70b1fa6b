"""Catalogue checks: each service of a ``services`` answer carries its fields, sane limits, a
rate, a unique id, its refill and cancel flags and a documented type.
"""

from __future__ import annotations

from harness import contract
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
)

__all__ = ["CHECKS"]


@check("SVC-002", "services carry their fields", forms=["services"], applies=Applies.SUCCESS)
def services_fields(exchange: Exchange, facts: Facts) -> None:
    required = ("service", "name", "type", "category", "rate", "min", "max")
    for index, item in enumerate(service_items(exchange)):
        missing = [name for name in required if name not in item]
        if missing:
            broken(f"item {index} lacks {', '.join(missing)}")
        if values.id_text(item["service"]) is None:
            broken(f"item {index} has service id {item['service']!r}")


@check("SVC-003", "min and max are positive with min <= max", forms=["services"],
       applies=Applies.SUCCESS)
def services_min_max(exchange: Exchange, facts: Facts) -> None:
    for item in service_items(exchange):
        low, high = values.count(item.get("min")), values.count(item.get("max"))
        if not low or not high or low > high:
            broken(f"service {item.get('service')!r}: min {item.get('min')!r}, "
                   f"max {item.get('max')!r}")


@check("SVC-004", "rates are non-negative decimals", forms=["services"], applies=Applies.SUCCESS)
def services_rate(exchange: Exchange, facts: Facts) -> None:
    for item in service_items(exchange):
        if values.money(item.get("rate")) is None:
            broken(f"service {item.get('service')!r}: rate {item.get('rate')!r}")


@check("SVC-005", "service ids are unique", forms=["services"], applies=Applies.SUCCESS)
def services_unique(exchange: Exchange, facts: Facts) -> None:
    seen: set[str] = set()
    for item in service_items(exchange):
        key = str(item.get("service"))
        if key in seen:
            broken(f"service id {key} appears twice")
        seen.add(key)


@check("SVC-007", "services state refill and cancel", forms=["services"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def services_flags(exchange: Exchange, facts: Facts) -> None:
    for item in service_items(exchange):
        missing = [name for name in ("refill", "cancel") if name not in item]
        if missing:
            broken(f"service {item.get('service')!r} has no {' or '.join(missing)} flag")


@check("SVC-009", "service types are documented add variants", forms=["services"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def services_type(exchange: Exchange, facts: Facts) -> None:
    known = contract.service_types()
    for item in service_items(exchange):
        if item.get("type") not in known:
            broken(f"service {item.get('service')!r} has type {item.get('type')!r}")


CHECKS = Registry.collect(globals())
