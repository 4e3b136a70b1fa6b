"""Rendering through a profile: state views, amounts and domain errors into a vendor's JSON.

Every choice here is read from the :class:`~mockpanel.profiles.Profile` (field order, string
or number, status words, wrappers, error wording and HTTP status); nothing tests a profile's
name. Money is ``Decimal`` to the end: a money field rendered as a number stays a ``Decimal``
and :mod:`mockpanel.wire.jsontext` writes its digits exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final, NamedTuple

from aiohttp import web
from multidict import CIMultiDict

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import (
    HANDLER_ADD,
    HANDLER_BALANCE,
    NUMBER_STYLE_NUMBER,
    NUMBER_STYLE_STRING,
    UNKNOWN_COUNT_ZERO,
    CancelAck,
    FlagStyle,
    Handler,
    ItemError,
    NumberStyle,
    Profile,
    StatusField,
    TypeSpelling,
)
from mockpanel.shortcuts import NO_SHORTCUTS
from mockpanel.state import OrderStatus, OrderView, RefillStatus, RefillView, Service, format_money
from mockpanel.wire.jsontext import Json, dumps_bytes

__all__ = [
    "HINT_HEADER",
    "Reply",
    "added",
    "balance",
    "cancel_items",
    "error_message",
    "error_reply",
    "json_response",
    "multi_status",
    "order_status",
    "order_word",
    "refill_created",
    "refill_items",
    "refill_status",
    "refill_status_items",
    "refill_word",
    "services",
    "usual_headers",
    "usual_headers_reference",
    "usual_headers_shortcut",
    "webhook",
]

HINT_HEADER = "X-Mock-Hint"


class Reply(NamedTuple):
    """A rendered answer: the JSON body, the HTTP status and extra headers it goes out with."""

    body: Json
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


class _Params(dict[str, object]):
    """Template parameters; a placeholder without a value stays visible instead of crashing."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def error_message(profile: Profile, error: DomainError) -> str:
    """The profile's wording of ``error``, its template (which may depend on the status of
    the order the error is about) filled with the error's parameters."""
    params = error.params
    return profile.errors[error.code].template(params).format_map(_Params(params))


def error_reply(profile: Profile, error: DomainError, hint: str | None = None) -> Reply:
    """``{"error": message, ...extra fields}`` with the profile's HTTP status for the code.

    A ``hint`` (the mock's own advice, never text the client sent) is appended to the message
    in parentheses and repeated in the ``X-Mock-Hint`` header; a ``RATE_LIMITED`` error with a
    ``retry_after`` carries it as the ``Retry-After`` header.
    """
    spec = profile.errors[error.code]
    message = error_message(profile, error)
    headers: list[tuple[str, str]] = []
    if hint is not None:
        message = f"{message} ({hint})"
        headers.append((HINT_HEADER, hint))
    retry_after = error.params.get("retry_after")
    if error.code is ErrorCode.RATE_LIMITED and isinstance(retry_after, int):
        headers.append(("Retry-After", str(retry_after)))
    body: dict[str, Json] = {"error": message}
    body.update(spec.fields)
    return Reply(body, spec.status, tuple(headers))


def json_response(profile: Profile, reply: Reply) -> web.Response:
    """``reply`` as the profile sends it: its Content-Type, its indentation, its headers."""
    body, status, extra = reply
    wire = profile.wire
    headers: Mapping[str, str]
    if extra:
        headers = {"Content-Type": wire.content_type, **dict(extra)}
    else:
        headers = usual_headers(wire.content_type)
    return web.Response(body=dumps_bytes(body, indent=wire.indent), status=status, headers=headers)


def usual_headers_reference(content_type: str) -> Mapping[str, str]:
    """The headers of an answer without extras: its Content-Type alone."""
    return {"Content-Type": content_type}


@functools.lru_cache(maxsize=64)  # bounded: a profile is data, and may name any type
def usual_headers_shortcut(content_type: str) -> Mapping[str, str]:
    """:func:`usual_headers_reference` kept per content type as the ``CIMultiDict`` a response
    copies its headers into (never changed: each response gets its own copy)."""
    return CIMultiDict(usual_headers_reference(content_type))


# Shortcut: headers copied, not built (about 0.5 % of a request); twin: usual_headers_reference.
usual_headers = usual_headers_reference if NO_SHORTCUTS else usual_headers_shortcut


# ----------------------------------------------------------------------------- scalars


def _id(value: str, style: NumberStyle) -> Json:
    # Only a canonical positive number becomes a JSON integer: an alphanumeric id (smmpremium's
    # K7M2X9) and an id a client sent as "0" or "007" stay the text they are.
    if style is NUMBER_STYLE_NUMBER and value.isascii() and value.isdigit() and value[0] != "0":
        return int(value)
    return value


def _count(value: int, style: NumberStyle) -> Json:
    return value if style is NUMBER_STYLE_NUMBER else str(value)


def _decimal(value: Decimal, style: NumberStyle) -> Json:
    return value if style is NumberStyle.NUMBER else format(value, "f")


def _money(profile: Profile, amount: Decimal, style: NumberStyle) -> Json:
    text = format_money(amount, profile.money_places)
    return text if style is NUMBER_STYLE_STRING else Decimal(text)


def _flag(value: bool, style: FlagStyle) -> Json:
    if style is FlagStyle.BOOL:
        return value
    return int(value) if style is FlagStyle.INT else str(int(value))


# Each status's own word as a plain str (the JSON shortcut writes exact str only).
_ORDER_WORDS: Final = MappingProxyType({status: str(status.value) for status in OrderStatus})
_REFILL_WORDS: Final = MappingProxyType({status: str(status.value) for status in RefillStatus})


def order_word(profile: Profile, status: OrderStatus) -> str:
    return profile.order_words.get(status) or _ORDER_WORDS[status]


def refill_word(profile: Profile, status: RefillStatus) -> str:
    return profile.refill_words.get(status) or _REFILL_WORDS[status]


def _wrapped(profile: Profile, handler: Handler, body: dict[str, Json]) -> dict[str, Json]:
    """``body`` led by the profile's constant success fields for ``handler``, if any."""
    lead = profile.shapes.wrappers.get(handler)
    return dict(lead) | body if lead else body


# ---------------------------------------------------------------------------- answers


def services(profile: Profile, catalog: Iterable[Service]) -> list[Json]:
    """The ``services`` list: the profile's fields in its order, spelled its way."""
    numbers, shape = profile.numbers, profile.services
    rendered: list[Json] = []
    for service in catalog:
        type_name = service.type.value
        if shape.type_spelling is TypeSpelling.SNAKE:
            type_name = type_name.lower().replace(" ", "_")
        values: dict[str, Json] = {
            "service": _id(str(service.id), numbers.service_id),
            "name": service.name,
            "type": type_name,
            "category": service.category,
            "rate": _decimal(service.rate, numbers.rate),
            "min": _count(service.min, numbers.limits),
            "max": _count(service.max, numbers.limits),
            "dripfeed": _flag(service.dripfeed, shape.flags),
            "refill": _flag(service.refill, shape.flags),
            "cancel": _flag(service.cancel, shape.flags),
        }
        rendered.append({name: values[name] for name in shape.fields})
    return rendered


def balance(profile: Profile, amount: Decimal, currency: str) -> dict[str, Json]:
    body: dict[str, Json] = {
        "balance": _money(profile, amount, profile.numbers.balance),
        "currency": currency,
    }
    return _wrapped(profile, HANDLER_BALANCE, body)


def _order_fields(
    profile: Profile, view: OrderView, fields: Iterable[StatusField], style: NumberStyle | None
) -> dict[str, Json]:
    """The named fields of ``view``; ``style`` overrides every number style (smmpro's add).

    ``charge`` is what the order costs now: the debit less any refund, so a Canceled order
    shows 0 and a Partial one its reduced price, as PerfectPanel panels report it.
    """
    numbers = profile.numbers
    out: dict[str, Json] = {}
    for name in fields:
        if name == "charge":
            out[name] = _money(profile, view.charge - view.refunded, style or numbers.charge)
        elif name == "start_count":  # a Pending order has no start count yet
            start = view.start_count
            if start is None and numbers.unknown_start_count is UNKNOWN_COUNT_ZERO:
                start = 0
            if start is not None:
                out[name] = _count(start, style or numbers.start_count)
        elif name == "status":
            out[name] = order_word(profile, view.status)
        elif name == "remains":
            out[name] = _count(view.remains, style or numbers.remains)
        elif name == "order":
            out[name] = _id(view.id, numbers.order_id)
        else:
            out[name] = view.currency
    return out


def added(profile: Profile, view: OrderView) -> Reply:
    """The ``add`` answer: the new order id, plus the profile's extra fields."""
    body: dict[str, Json] = {"order": _id(view.id, profile.numbers.order_id)}
    extras = profile.shapes.add_fields
    if extras:  # most profiles answer the id alone
        body.update(_order_fields(profile, view, extras, profile.numbers.add_extras))
    return Reply(_wrapped(profile, HANDLER_ADD, body), profile.wire.create_status)


def order_status(profile: Profile, view: OrderView) -> dict[str, Json]:
    return _order_fields(profile, view, profile.shapes.status_fields, None)


def multi_status(
    profile: Profile, results: Mapping[str, OrderView | DomainError]
) -> dict[str, Json]:
    """Multi-status keyed by each id as sent; an unknown id gets an error entry, never dropped."""
    fields = profile.shapes.multi_status_fields
    body: dict[str, Json] = {}
    for order_id, result in results.items():
        if isinstance(result, DomainError):
            message = error_message(profile, result)
            string_item = profile.shapes.status_item_error is ItemError.STRING
            body[order_id] = message if string_item else {"error": message}
        else:
            body[order_id] = _order_fields(profile, result, fields, None)
    return body


def cancel_items(
    profile: Profile, results: Mapping[str, OrderView | DomainError]
) -> Json:
    """The ``cancel`` answer: one item per id, in the profile's cancel shape."""
    shape = profile.shapes.cancel
    ack: Json = 1 if shape.ack is CancelAck.FLAG else {"status": "success"}
    items: list[Json] = []
    for order_id, result in results.items():
        item: dict[str, Json] = {"order": _id(order_id, profile.numbers.order_id)}
        if not isinstance(result, DomainError):
            item["cancel"] = ack
        elif shape.error_nested:
            item["cancel"] = {"error": error_message(profile, result)}
        else:
            item["error"] = error_message(profile, result)
        items.append(item)
    if shape.unwrap_single and len(items) == 1:
        return items[0]
    return items


def refill_created(profile: Profile, view: RefillView) -> Reply:
    body: dict[str, Json] = {"refill": _id(view.id, profile.numbers.refill_id)}
    return Reply(_wrapped(profile, Handler.REFILL, body), profile.wire.create_status)


def refill_items(
    profile: Profile, results: Mapping[str, RefillView | DomainError]
) -> list[Json]:
    """Multi refill: ``{"order": id, "refill": id}`` or ``{"order": id, "refill": {"error"}}``."""
    numbers = profile.numbers
    items: list[Json] = []
    for order_id, result in results.items():
        refill: Json = (
            {"error": error_message(profile, result)}
            if isinstance(result, DomainError)
            else _id(result.id, numbers.listed_id)
        )
        items.append({"order": _id(order_id, numbers.order_id), "refill": refill})
    return items


def refill_status(profile: Profile, view: RefillView) -> dict[str, Json]:
    return {"status": refill_word(profile, view.status)}


def refill_status_items(
    profile: Profile, results: Mapping[str, RefillView | DomainError]
) -> list[Json]:
    """Multi refill_status: ``{"refill": id, "status": word | {"error": message}}``."""
    items: list[Json] = []
    for refill_id, result in results.items():
        status: Json = (
            {"error": error_message(profile, result)}
            if isinstance(result, DomainError)
            else refill_word(profile, result.status)
        )
        items.append({"refill": _id(refill_id, profile.numbers.listed_id), "status": status})
    return items


def webhook(profile: Profile, view: OrderView) -> dict[str, Json]:
    """The seed 004 webhook payload for an order's new status: ``order_id``, ``status``,
    ``remains``, ``start_count`` and ``charge`` (what the order costs now, as in ``status``).

    Numbers follow ``Numbers.webhook`` when the profile sets it, else each field's own style.
    """
    numbers = profile.numbers
    style = numbers.webhook
    start = view.start_count if view.start_count is not None else 0
    return {
        "order_id": _id(view.id, style or numbers.order_id),
        "status": order_word(profile, view.status),
        "remains": _count(view.remains, style or numbers.remains),
        "start_count": _count(start, style or numbers.start_count),
        "charge": _money(profile, view.charge - view.refunded, style or numbers.charge),
    }
