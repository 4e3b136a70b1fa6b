"""CLIENT-003 (money read exactly) and CLIENT-004 (counts and ids read exactly)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from clientcert.protocol import OrderRequest
from clientcert.reading import (
    MISSING,
    exact_count,
    exact_money,
    field,
    items_by_id,
    same_id,
    scalar_or_field,
)
from clientcert.scenarios.base import LINK, Observation, Scenario, new_entries, refusal
from clientcert.trial import NotOffered, Trial
from harness import Verdict

__all__ = ["COUNTS_AND_IDS", "MONEY"]

#: The balance seed 003 shows; a binary float cannot hold it.
BALANCE = "100.84292"


def _answer(trial: Trial, before: int, action: str) -> Any:
    sent = new_entries(trial, before, action)
    if not sent or refusal(sent[-1]) is not None:
        return MISSING
    return sent[-1]["response"]


def _money(trial: Trial) -> list[Observation]:
    found: list[Observation] = []
    before = len(trial.bench.journal())
    try:
        call = trial.call("balance")
    except NotOffered:
        call = None
    wire = _answer(trial, before, "balance")
    if call is not None and wire is not MISSING:
        if call.raised:
            found.append(Observation("CLIENT-003", Verdict.FAIL,
                                     f"balance {wire.get('balance')!r}: {call.describe()}"))
        else:
            problem = exact_money(scalar_or_field(call.value, "balance"), wire.get("balance"))
            found.append(Observation("CLIENT-003", Verdict.FAIL if problem else Verdict.PASS,
                                     f"balance: {problem or 'exact'}"))
    before = len(trial.bench.journal())
    try:
        call = trial.call("services")
    except NotOffered:
        return found
    wire = _answer(trial, before, "services")
    if call.raised or not isinstance(wire, list) or not wire:
        if call.raised and isinstance(wire, list):
            found.append(Observation("CLIENT-003", Verdict.FAIL,
                                     f"services: {call.describe()}"))
        return found
    listed = items_by_id(_by_service(call.value))
    first = wire[0]
    item = listed.get(str(first.get("service"))) if listed else None
    if item is None:
        found.append(Observation("CLIENT-003", Verdict.FAIL,
                                 f"services: service {first.get('service')!r} not found in "
                                 f"{str(call.value)[:160]}"))
        return found
    problem = exact_money(field(item, "rate"), first.get("rate"))
    found.append(Observation("CLIENT-003", Verdict.FAIL if problem else Verdict.PASS,
                             f"rate of service {first.get('service')}: {problem or 'exact'}"))
    return found


def _by_service(value: object) -> object:
    """A catalogue as a list of items each naming its ``order`` key (for items_by_id): the
    services list is keyed by ``service``, so rename on the fly. A JSON text is parsed."""
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=Decimal)
        except ValueError:
            return value
    if isinstance(value, list):
        return {str(field(item, "service")): item for item in value}
    return value


def _counts_and_ids(trial: Trial) -> list[Observation]:
    service = trial.bench.default_service()
    before = len(trial.bench.journal())
    try:
        call = trial.call("add", OrderRequest(service["service"], LINK, int(service["min"])))
    except NotOffered:
        return [Observation("CLIENT-004", Verdict.NA, "add not offered by the library")]
    wire = _answer(trial, before, "add")
    if wire is MISSING:
        sent = new_entries(trial, before, "add")
        reason = (f"the panel refused the library's add: {refusal(sent[-1])}" if sent
                  else f"no add reached the panel ({call.describe()})")
        return [Observation("CLIENT-004", Verdict.FAIL, reason)]
    wire_id = wire.get("order")
    read_id = None if call.raised else scalar_or_field(call.value, "order")
    if not same_id(read_id, wire_id):
        return [Observation("CLIENT-004", Verdict.FAIL,
                            f"add: the panel sent order {wire_id!r}, the library "
                            f"{call.describe() if call.raised else f'gave {read_id!r}'}")]
    found = [Observation("CLIENT-004", Verdict.PASS, f"order id {wire_id!r} read")]
    trial.bench.outcome(wire_id, "Partial", remains=157)
    before = len(trial.bench.journal())
    try:
        status = trial.call("status", read_id)
    except NotOffered:
        return found
    answer = _answer(trial, before, "status")
    if answer is MISSING:
        found.append(Observation("CLIENT-004", Verdict.FAIL,
                                 f"status with the id {read_id!r} the library returned: "
                                 f"{status.describe()}"))
        return found
    if status.raised:
        found.append(Observation("CLIENT-004", Verdict.FAIL,
                                 f"status of order {wire_id!r}: {status.describe()}"))
        return found
    problem = exact_count(field(status.value, "remains"), answer.get("remains"))
    found.append(Observation("CLIENT-004", Verdict.FAIL if problem else Verdict.PASS,
                             f"remains: {problem or 'exact'}"))
    charge = field(status.value, "charge")
    if charge is not MISSING and "charge" in answer:
        problem = exact_money(charge, answer.get("charge"))
        found.append(Observation("CLIENT-003", Verdict.FAIL if problem else Verdict.PASS,
                                 f"charge: {problem or 'exact'}"))
    return found


MONEY = Scenario("money", ("CLIENT-003",), _money)
COUNTS_AND_IDS = Scenario("counts_and_ids", ("CLIENT-003", "CLIENT-004"), _counts_and_ids)
