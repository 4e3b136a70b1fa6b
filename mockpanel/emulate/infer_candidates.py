"""Which refusals a request could have earned: the candidates of each refusal of a recording.

A refusal is read from its request, never from its words: a request without a key can only
have been refused for the key (or for its body); an ``add`` whose quantity is below the
catalogue's minimum, for the quantity. Each refusal gets its candidates, the codes its request
could have earned, in the reference's order of precedence (body, key, action, then the action's
own checks); :mod:`mockpanel.emulate.infer_errors` picks among them by the wording.

The refusals of an order depend on the order (whose it is, its service, its status), so every
order is followed through the recording: who placed it, for which service, its last status
seen; and a refusal inside a served answer (an unknown id of a multi-status, a refused cancel
item) is found here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from mockpanel.emulate.infer_read import KeyUse, Seen, error_of
from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import OrderStatus, Service
from mockpanel.state.money import SharedAmounts
from mockpanel.state.params import is_link, validate_add

__all__ = [
    "MULTI_ALIASES",
    "STANDARD_ACTIONS",
    "Candidate",
    "Context",
    "candidates",
    "canonical_order_status",
    "item_errors",
    "word",
]

E = ErrorCode
STANDARD_ACTIONS: Final = (
    "services", "add", "status", "cancel", "refill", "refill_status", "balance",
)
# Multi-status under an action of its own (schemas/dialects.yaml: multi_status.action).
MULTI_ALIASES: Final = ("orders", "multiStatus", "multistatus", "multi_status", "status_multi")
_ID: Final = re.compile(r"[A-Za-z0-9]{1,64}")
_BIG_BODY: Final = 65536  # the mock's default body limit: a larger body is refused for its size
_DELIVERED: Final = frozenset({OrderStatus.COMPLETED, OrderStatus.DONE})


def canonical_order_status(text: object) -> OrderStatus | None:
    """The status a panel's word names (``Inprogress``, ``Cancelled``, ``completed``, ...)."""
    if not isinstance(text, str):
        return None
    folded = re.sub(r"[^a-z]", "", text.lower())
    return _ORDER_WORDS.get(folded)


_ORDER_WORDS: Final = {
    **{re.sub(r"[^a-z]", "", s.value.lower()): s for s in OrderStatus},
    "cancelled": OrderStatus.CANCELED,
    "complete": OrderStatus.COMPLETED,
    "inprocess": OrderStatus.IN_PROGRESS,
}


def word(status: OrderStatus) -> str:
    """The status as ``by_status`` names it: Processing is In progress in another word."""
    return (OrderStatus.IN_PROGRESS if status is OrderStatus.PROCESSING else status).value


@dataclass(slots=True)
class _Order:
    owner: str | None
    service: int | None
    status: OrderStatus = OrderStatus.PENDING


@dataclass(slots=True)
class Context:
    """What classifying needs beyond one request: the catalogue and the accepted encodings,
    and (filled in on the way) what happened to each order."""

    catalog: Mapping[int, Service]
    accepted: frozenset[str]
    accepted_media: str
    places: int
    orders: dict[str, _Order] = field(default_factory=dict)
    # Statuses an order was in when a cancel of it was accepted / refused for its status.
    cancel_accepted: set[OrderStatus] = field(default_factory=set)
    cancel_refused: set[OrderStatus] = field(default_factory=set)
    # The flags the services answer carries (a flag it lacks is known only from behaviour),
    # and the services whose orders were refilled / cancelled.
    flags: frozenset[str] = frozenset({"dripfeed", "refill", "cancel"})
    refilled: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    # ... and those whose orders were refused a refill once Completed, a cancel while Pending:
    # what the service refuses, not what the order's state does.
    refill_refused: set[int] = field(default_factory=set)
    cancel_refused_services: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Candidate:
    code: ErrorCode
    values: Mapping[str, str] = field(default_factory=dict)
    status: OrderStatus | None = None



# --- candidates ----------------------------------------------------------------------------


def _batch(params: Mapping[str, str], name: str, single: str | None) -> list[Candidate]:
    items = [item.strip() for item in params.get(name, "").split(",")]
    ids = list(dict.fromkeys(item for item in items if item))
    out: list[Candidate] = []
    if not ids:
        return [Candidate(E.MISSING_PARAM, {"param": name})]
    if len(ids) > 100:
        out.append(Candidate(E.TOO_MANY_IDS))
    bad = next((item for item in ids if not _ID.fullmatch(item)), None)
    if bad is not None:
        out.append(Candidate(E.INVALID_PARAM, {"param": name, "value": bad[:64]}))
    if len(ids) > 1 and len(ids) <= 100:
        out.append(Candidate(E.TOO_MANY_IDS))
    if single is not None:
        out.append(Candidate(E.MISSING_PARAM, {"param": single}))
    return out


def _refill_refusals(ctx: Context, order_id: str, owner: str | None) -> list[Candidate]:
    order = ctx.orders.get(order_id)
    if order is None or not _same(order.owner, owner):
        return [Candidate(E.UNKNOWN_ORDER, {"order": order_id})]
    values = {"order": order_id}
    service = ctx.catalog.get(order.service) if order.service is not None else None
    not_available = Candidate(E.REFILL_NOT_AVAILABLE, values)
    unfinished = Candidate(E.ORDER_NOT_COMPLETED, values, order.status)
    expired = Candidate(E.REFILL_WINDOW_EXPIRED, values)
    if service is not None and not service.refill and "refill" in ctx.flags:
        return [not_available]
    if order.status not in _DELIVERED:
        return [unfinished, not_available]
    if order.service is not None:  # refused once delivered: the service's doing, or its window
        ctx.refill_refused.add(order.service)
    return [expired, not_available]


def _same(owner: str | None, asker: str | None) -> bool:
    return owner is None or asker is None or owner == "?" or asker == "?" or owner == asker


def _add(ctx: Context, params: Mapping[str, str]) -> list[Candidate]:
    out: list[Candidate] = []
    service_id = params.get("service", "").strip()
    try:
        validate_add(ctx.catalog, service_id, params, SharedAmounts(ctx.places))
    except DomainError as error:
        values = {k: str(v) for k, v in error.params.items() if k != "detail"}
        if error.code is E.UNKNOWN_SERVICE:
            values["service"] = service_id
        out.append(Candidate(error.code, values))
    except (ValueError, ArithmeticError):
        pass
    known = service_id.isdigit() and len(service_id) < 12
    service = ctx.catalog.get(int(service_id)) if known else None
    if service is not None:
        quantity = params.get("quantity", "").strip()
        if quantity.isdigit() and len(quantity) < 12:
            total = int(quantity) * (int(params["runs"]) if params.get("runs", "").isdigit() else 1)
            if total < service.min:
                out.append(Candidate(E.QUANTITY_TOO_LOW, {"min": str(service.min),
                                                           "quantity": str(total)}))
            if total > service.max:
                out.append(Candidate(E.QUANTITY_TOO_HIGH, {"max": str(service.max),
                                                            "quantity": str(total)}))
        link = params.get("link", "")
        # An empty or missing link is "Bad link" to the SmartPanel and TR scripts
        # (protocol-variants.md section 6), a missing parameter to others.
        if (link and not is_link(link)) or ("link" in service.rule.params and not link.strip()):
            out.append(Candidate(E.INVALID_LINK))
        if (params.get("runs") or params.get("interval")) and not service.dripfeed:
            out.append(Candidate(E.DRIPFEED_NOT_SUPPORTED))
    elif service_id:
        out.append(Candidate(E.UNKNOWN_SERVICE, {"service": service_id}))
    for name in ("quantity", "runs", "interval"):  # counts: digits, at least 1
        value = params.get(name, "").strip()
        if value and not (value.isdigit() and int(value[:12]) > 0):
            out.append(Candidate(E.INVALID_PARAM, {"param": name, "value": value[:64]}))
    out.append(Candidate(E.INSUFFICIENT_FUNDS))
    # Each code once, the first (most telling) values kept.
    return list({c.code: c for c in reversed(out)}.values())[::-1]


def _for_action(ctx: Context, s: Seen, action: str) -> list[Candidate]:
    p = s.params
    if action == "add":
        return _add(ctx, p)
    if action in MULTI_ALIASES:
        return _batch(p, "orders", None)
    if action in ("status", "cancel", "refill") and p.get("orders", "").strip():
        return _batch(p, "orders", None if action == "cancel" else "order")
    if action == "refill_status" and p.get("refills", "").strip():
        return _batch(p, "refills", "refill")
    if action == "cancel":
        return [Candidate(E.MISSING_PARAM, {"param": "orders"})]
    name = "refill" if action == "refill_status" else "order"
    value = p.get(name, "").strip()
    if not value:
        return [Candidate(E.MISSING_PARAM, {"param": name})]
    invalid = Candidate(E.INVALID_PARAM, {"param": name, "value": value[:64]})
    if action == "refill_status":
        return [Candidate(E.UNKNOWN_REFILL, {"refill": value}), invalid]
    if action == "refill":
        return [*_refill_refusals(ctx, value, s.key_label), invalid]
    if action == "status":
        return [Candidate(E.UNKNOWN_ORDER, {"order": value}), invalid]
    return []


def candidates(ctx: Context, s: Seen) -> list[Candidate]:
    if s.status == 429:
        return [Candidate(E.RATE_LIMITED, {"retry_after": s.headers.get("retry-after", "")})]
    refused_encoding = s.encoding in ("json", "query") and s.encoding not in ctx.accepted
    if s.encoding == "other" or refused_encoding:
        return [Candidate(E.UNSUPPORTED_ENCODING, {
            "encoding": s.content_type or "none", "accepted": ctx.accepted_media})]
    if s.body_size > _BIG_BODY:
        return [Candidate(E.BODY_TOO_LARGE)]
    # A large body may be over a panel's smaller limit (or the mock's, counted otherwise).
    out = [Candidate(E.BODY_TOO_LARGE)] if s.body_size > _BIG_BODY // 8 else []
    if s.odd_body:
        out.append(Candidate(E.BAD_REQUEST))
    if s.key is KeyUse.ABSENT:
        return [*out, Candidate(E.MISSING_KEY)]
    if s.key is KeyUse.INVALID:
        return [*out, Candidate(E.INVALID_KEY)]
    unknown_key = [Candidate(E.INVALID_KEY)] if s.key is KeyUse.UNKNOWN else []
    action = s.action
    if not action:
        return [*out, Candidate(E.MISSING_ACTION), *unknown_key]
    unknown = Candidate(E.UNKNOWN_ACTION, {"action": action})
    if action not in STANDARD_ACTIONS and action not in MULTI_ALIASES:
        return [*out, unknown, *unknown_key]
    if action in ("balance", "services"):  # nothing of theirs to refuse but the key
        return [*out, *unknown_key, unknown]
    return [*out, *_for_action(ctx, s, action), unknown, *unknown_key, Candidate(E.BODY_TOO_LARGE)]


# --- following the orders ------------------------------------------------------------------


def _ids(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value)
    return None


def item_errors(ctx: Context, s: Seen) -> Iterable[tuple[str, list[Candidate]]]:
    """The refusals inside a served answer (multi-status, cancel and refill lists), and what
    the answer says of the orders it names."""
    body, action, asker = s.json, s.action, s.key_label
    if action == "add" and isinstance(body, dict):
        order_id = _ids(body.get("order"))
        service = s.params.get("service", "")
        if order_id is not None:
            ctx.orders[order_id] = _Order(asker, int(service) if service.isdigit()
                                          and len(service) < 12 else None)
        return
    if action in ("status", *MULTI_ALIASES) and isinstance(body, dict):
        if ("orders" in s.params and action == "status") or action in MULTI_ALIASES:
            for order_id, item in body.items():
                if isinstance(item, dict) and "status" in item:
                    _saw_status(ctx, order_id, item["status"])
                    continue
                message = item if isinstance(item, str) else error_of(item)
                if message is not None:
                    yield message, [Candidate(E.UNKNOWN_ORDER, {"order": order_id})]
        elif "order" in s.params:
            _saw_status(ctx, s.params["order"].strip(), body.get("status"))
        return
    items = [body] if isinstance(body, dict) else body if isinstance(body, list) else []
    for item in items:
        if not isinstance(item, dict):
            continue
        if action == "cancel":
            yield from _cancel_item(ctx, item, asker)
        elif action == "refill":
            order_id = _ids(item.get("order")) or s.params.get("order", "").strip()
            message = error_of(item.get("refill")) or error_of(item)
            order = ctx.orders.get(order_id)
            if message is not None:
                yield message, _refill_refusals(ctx, order_id, asker)
            elif order is not None and order.service is not None:
                ctx.refilled.add(order.service)
        elif action == "refill_status":
            refill = _ids(item.get("refill"))
            message = error_of(item.get("status")) or error_of(item)
            if refill is not None and message is not None:
                yield message, [Candidate(E.UNKNOWN_REFILL, {"refill": refill})]


def _cancel_item(
    ctx: Context, item: Mapping[str, Any], asker: str | None
) -> Iterable[tuple[str, list[Candidate]]]:
    order_id = _ids(item.get("order"))
    if order_id is None:
        return
    message = error_of(item.get("cancel")) or error_of(item)
    order = ctx.orders.get(order_id)
    own = order is not None and _same(order.owner, asker)
    if message is None:
        if order is not None and own:
            ctx.cancel_accepted.add(order.status)
            if order.service is not None:
                ctx.cancelled.add(order.service)
        return
    if order is None or not own:
        yield message, [Candidate(E.UNKNOWN_ORDER, {"order": order_id})]
        return
    service = ctx.catalog.get(order.service) if order.service is not None else None
    if service is None or service.cancel or "cancel" not in ctx.flags:
        ctx.cancel_refused.add(order.status)
    if order.service is not None and order.status is OrderStatus.PENDING:
        ctx.cancel_refused_services.add(order.service)
    yield message, [Candidate(E.ORDER_NOT_CANCELLABLE, {"order": order_id}, order.status)]


def _saw_status(ctx: Context, order_id: str, text: object) -> None:
    status = canonical_order_status(text)
    order = ctx.orders.get(order_id)
    if order is not None and status is not None:
        order.status = status
