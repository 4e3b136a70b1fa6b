"""CLIENT-015: ``add`` for every service type the dialect's catalogue offers and the library
supports, each with its own parameters.

The orders are the harness's simplest order of each orderable type (``harness.strategies.
order_examples``: the cheapest service, its smallest quantity, the type's required fields from
``schemas/v2/request/add.json``), handed to the adapter as an :class:`OrderRequest` whose
``extras`` are the type's fields besides ``link`` and ``quantity``. Judged from the journal
(the fields of that type were sent, and the panel placed the order) and from what the library
returned (the id the panel sent). An adapter whose library has no way to send a type raises
``NotImplementedError`` for it: N/A for that type.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from clientcert.protocol import OrderRequest
from clientcert.reading import same_id, scalar_or_field
from clientcert.scenarios.base import Observation, Scenario, new_entries, refusal
from clientcert.trial import NotOffered, Trial
from harness import Catalog, OrderSpec, Verdict, strategies

__all__ = ["ORDER_TYPES"]

CLAUSE = "CLIENT-015"
#: What the examples may cost together at most (the trial's balance is about 100).
BUDGET = Decimal("20")


def _request(spec: OrderSpec, listed: list[Mapping[str, Any]]) -> OrderRequest:
    """The spec as the adapter receives it: the service id exactly as the panel listed it."""
    raw = next((row["service"] for row in listed if str(row.get("service")) == spec.service.id),
               spec.service.id)
    fields = dict(spec.params)
    link = fields.pop("link", "")
    quantity = fields.pop("quantity", None)
    return OrderRequest(raw, link, None if quantity is None else int(quantity),
                        spec.service.type, tuple(fields.items()))


def _missing(spec: OrderSpec, sent: Mapping[str, Any]) -> list[str]:
    """The fields of the type absent from what was sent, or sent with another value (the
    lines of a list field compared line by line, whatever their line ends)."""
    wrong = []
    for name, value in (("service", spec.service.id), *spec.params):
        got = sent.get(name)
        if got is None or str(got).strip().splitlines() != value.strip().splitlines():
            wrong.append(name)
    return wrong


def _one(trial: Trial, spec: OrderSpec, listed: list[Mapping[str, Any]]) -> Observation:
    kind = spec.service.type
    order = _request(spec, listed)
    before = len(trial.bench.journal())
    try:
        call = trial.call("add", order)
    except NotOffered:
        return Observation(CLAUSE, Verdict.NA, f"{kind}: not supported by the library")
    sent = new_entries(trial, before, "add")
    if not sent:
        return Observation(CLAUSE, Verdict.FAIL,
                           f"{kind}: no add reached the panel ({call.describe()})")
    entry = sent[-1]
    params = {k: v for k, v in entry.get("params", {}).items() if k not in ("key", "action")}
    error = refusal(entry)
    wrong = _missing(spec, params)
    if error is not None:
        because = f" (wrong or missing: {', '.join(wrong)})" if wrong else ""
        return Observation(CLAUSE, Verdict.FAIL,
                           f"{kind}: the panel refused the library's add {params}{because}: "
                           f"{error}")
    wire = entry.get("response")
    wire_id = wire.get("order") if isinstance(wire, Mapping) else None
    read = None if call.raised else scalar_or_field(call.value, "order")
    if not same_id(read, wire_id):
        shown = call.describe() if call.raised else f"gave {read!r}"
        return Observation(CLAUSE, Verdict.FAIL,
                           f"{kind}: the panel placed order {wire_id!r}, the library {shown}")
    return Observation(CLAUSE, Verdict.PASS,
                       f"{kind}: {', '.join(sorted(params))} sent, order {wire_id!r} read")


def _order_types(trial: Trial) -> list[Observation]:
    listed = trial.bench.catalogue()
    specs = strategies.order_examples(Catalog.parse(listed), budget=BUDGET,
                                      places=trial.bench.money_places)
    if not specs:
        return [Observation(CLAUSE, Verdict.NA, "no orderable service type in the catalogue")]
    return [_one(trial, spec, listed) for spec in specs]


ORDER_TYPES = Scenario("order_types", (CLAUSE,), _order_types)
