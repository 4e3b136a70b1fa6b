"""The HTTP side of a legit panel: a plain ``http.server`` that speaks one family's dialect.

Everything a family chooses about the wire is a field of :class:`Wire`: the endpoint, which
HTTP methods the API script sees and what the web server answers for the others, how bodies
are read, the JSON's content type and layout, the JSON types of money, counts, ids and flags,
the HTTP status of each kind of refusal, multi-status and batch rules, and the cancel answer's
shape. The business itself is :class:`legit_ledger.Books`; nothing here imports the mock or the
harness.

With a control token, ``/_mock`` offers the levers a vendor sandbox would, in the shapes the
harness's control client sends (``POST /_mock/tenants``, ``/_mock/clock/advance``,
``/_mock/orders/<id>/outcome``, ``/_mock/refills/<id>/outcome``, bearer token).
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.conformance.legit_ledger import (
    Books,
    Conflict,
    Kind,
    Order,
    Refill,
    Refused,
    Status,
    Tenant,
)

__all__ = [
    "CancelShape",
    "FlagStyle",
    "HttpStatuses",
    "IdJson",
    "MoneyStyle",
    "OtherMethods",
    "OverLimit",
    "PendingCount",
    "Wire",
    "serving",
]

Json = Any  # what json.dumps takes
MiB = 1024 * 1024
_HARD_BODY_LIMIT = 64 * MiB  # past this a body is not even read (the socket is closed)
_FORM = "application/x-www-form-urlencoded"
_HOST = "127.0.0.1"
WIRE_FLAWS: frozenset[str] = frozenset({
    "services-keyed-by-id", "service-without-category", "service-min-above-max",
    "service-negative-rate", "service-listed-twice", "balance-without-currency",
    "balance-with-symbol", "currency-lower-case", "add-errors-as-message-list",
    "errors-as-201", "missing-action-lists-services", "funds-error-with-balance",
    "successes-as-201", "php-warning-before-json", "unknown-order-reads-pending",
    "status-without-id-reads-pending", "refill-status-as-code", "unknown-refill-reads-pending",
    "services-without-key", "status-in-provider-currency", "oversized-body-hangs-up",
    "non-form-body-crashes", "huge-refill-id-crashes", "multi-refill-items-unnamed",
    "multi-status-as-list", "new-order-invisible-to-status", "cancel-batch-one-error",
    "multi-status-ignores-owner", "multi-status-from-stale-copy", "batch-limit-fifty",
})
"""The deliberate defects the wire knows (``flaws.py``): each name breaks one rule."""
# Facebook Page Likes was entered with min and max swapped; Promo Views got a discount larger
# than its price. Neither is in the books: an add of either is refused as an unknown service.
_SWAPPED_LIMITS = {"service": 105, "name": "Facebook Page Likes", "type": "Default",
                   "category": "Facebook", "rate": "0.48120", "min": "1000", "max": "100",
                   "dripfeed": False, "refill": False, "cancel": False}
_NEGATIVE_RATE = {"service": 106, "name": "Promo Views [-20% off]", "type": "Default",
                  "category": "Promo", "rate": "-0.12000", "min": "100", "max": "10000",
                  "dripfeed": False, "refill": False, "cancel": False}
# What PHP 7 prints (display_errors=On) before the JSON when "abc" is multiplied by a rate.
_PHP_WARNING = ("<br />\n<b>Warning</b>:  A non-numeric value encountered in "
                "<b>/var/www/html/api/v2/index.php</b> on line <b>214</b><br />\n")
_BIGINT_MAX = 2**63 - 1
_PHP_NUMBER = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")
_REFILL_CODES = {Status.PENDING: "0", Status.IN_PROGRESS: "1", Status.COMPLETED: "2",
                 Status.REJECTED: "3"}


class OtherMethods(StrEnum):
    """What answers HTTP methods other than GET and POST (PUT, DELETE)."""

    API = "api"  # the PHP script itself: every method reaches it (and finds no POST fields)
    STOCK_501 = "stock-501"  # a server that does not implement them: its stock 501 page
    HTML_405 = "html-405"  # a framework route for GET/POST only: Werkzeug's stock 405 page
    JSON_405 = "json-405"  # Laravel, asked for JSON: {"message": "The PUT method is not ..."}


class MoneyStyle(StrEnum):
    STRING = "string"  # "100.84292", always with the panel's decimals (PerfectPanel)
    FLOAT = "float"  # a JSON number: PHP's json_encode of a float (100.84292, 500.0)


class IdJson(StrEnum):
    INT = "int"  # 23501
    STRING = "string"  # "23501"


class FlagStyle(StrEnum):
    BOOL = "bool"  # true / false (PerfectPanel)
    STR01 = "str01"  # "1" / "0": a TINYINT column read through mysqli (SmartPanel)
    WORDS = "words"  # "true" / "false": an ENUM('true','false') column printed as is


class PendingCount(StrEnum):
    """What ``start_count`` says before the provider has reported it."""

    COUNT = "count"  # the count read when the order was placed
    NULL = "null"  # a nullable column, serialized as null (Laravel)
    ZERO = "zero"  # a default of 0 (FLASK)
    ABSENT = "absent"  # left out (seed 000's Pending item)


class OverLimit(StrEnum):
    """What a batch of more than ``Wire.batch_limit`` ids gets."""

    REFUSE = "refuse"  # one error for the whole request
    TRUNCATE = "truncate"  # the first ``batch_limit`` ids are answered
    WHOLE = "whole"  # every id is answered (the limit is not enforced)


class CancelShape(StrEnum):
    LIST = "list"  # [{"order": 9, "cancel": 1}, {"order": 2, "cancel": {"error": ...}}]
    SUCCESS = "success"  # seed 000: {"order": "K7M2X9", "cancel": {"status": "success"}}


@dataclass(frozen=True, slots=True)
class HttpStatuses:
    """The HTTP status of each kind of refusal, and of an answer that created something."""

    bad_request: int = 200
    auth: int = 200
    funds: int = 200
    not_found: int = 200
    created: int = 200

    def of(self, kind: Kind) -> int:
        return {Kind.BAD_REQUEST: self.bad_request, Kind.AUTH: self.auth,
                Kind.FUNDS: self.funds, Kind.NOT_FOUND: self.not_found}[kind]


@dataclass(frozen=True, slots=True)
class Wire:
    """One family's wire: every field is a choice real panels make differently."""

    path: str = "/api/v2"
    other_methods: OtherMethods = OtherMethods.API
    query_params: bool = False
    """Parameters are also read from the query string ($_REQUEST, Flask's request.values)."""
    json_bodies: bool = False
    """A JSON object body is read like a form (Laravel's $request->all(), FLASK)."""
    max_body: int = 1 * MiB
    """Past this many bytes the body's fields are dropped, as PHP does past post_max_size."""
    content_type: str = "application/json"
    prefix: str = ""
    """Text before the JSON (a stray newline printed before ``<?php``)."""
    indent: int | None = None
    """Pretty-printed JSON (SmartPanel's JSON_PRETTY_PRINT)."""
    statuses: HttpStatuses = field(default_factory=HttpStatuses)
    money: MoneyStyle = MoneyStyle.STRING
    counts_as_strings: bool = True
    """start_count, remains, min and max as "157" (PerfectPanel) or 157."""
    order_ids: IdJson = IdJson.INT
    service_ids: IdJson = IdJson.INT
    refill_id: IdJson = IdJson.STRING
    """The id a single refill answers with (canonical: the string "1"; lists carry ints)."""
    flags: FlagStyle = FlagStyle.BOOL
    service_type: str = "Default"
    pending_count: PendingCount = PendingCount.COUNT
    success_marker: bool = False
    """add and balance also say "status": "success" (SmartPanel, FOLLOWERAN)."""
    actions: frozenset[str] = frozenset(
        {"services", "balance", "add", "status", "cancel", "refill", "refill_status"})
    """The actions the panel offers; any other is answered as an unknown action."""
    multi_actions: tuple[str, ...] = ("status",)
    """The actions that answer a list of ids in ``orders``."""
    bare_string_errors: bool = False
    """An unknown id in a multi-status is a bare "Incorrect order ID" (SmartPanel)."""
    batch_limit: int = 100
    over_limit: OverLimit = OverLimit.REFUSE
    cancel_shape: CancelShape = CancelShape.LIST
    flaws: frozenset[str] = frozenset()
    """Deliberate defects (``flaws.py``): names from :data:`WIRE_FLAWS`; a correct panel
    has none."""


# ---------------------------------------------------------------------------------------------
# Rendering: the business's values in one family's JSON types


@dataclass(frozen=True, slots=True)
class _Render:
    wire: Wire
    books: Books

    def money(self, amount: Decimal) -> Json:
        if self.wire.money is MoneyStyle.FLOAT:
            return float(amount)  # exact enough: panels' amounts carry < 15 significant digits
        return format(amount, "f")

    def rate(self, rate: Decimal) -> Json:
        return float(rate) if self.wire.money is MoneyStyle.FLOAT else format(rate, "f")

    def count(self, value: int) -> Json:
        return str(value) if self.wire.counts_as_strings else value

    def order_id(self, order_id: str) -> Json:
        return _id(order_id, self.wire.order_ids)

    def flag(self, value: bool) -> Json:
        style = self.wire.flags
        if style is FlagStyle.STR01:
            return "1" if value else "0"
        if style is FlagStyle.WORDS:
            return "true" if value else "false"
        return value

    def services(self) -> Json:
        items: list[dict[str, Json]] = [
            {
                "service": _id(str(s.id), self.wire.service_ids), "name": s.name,
                "type": self.wire.service_type, "category": s.category,
                "rate": self.rate(s.rate), "min": self.count(s.min), "max": self.count(s.max),
                "dripfeed": self.flag(s.dripfeed), "refill": self.flag(s.refill),
                "cancel": self.flag(s.cancel),
            }
            for s in self.books.catalogue
        ]
        flaws = self.wire.flaws
        if "service-without-category" in flaws:  # its category row was deleted
            del items[-1]["category"]
        if "service-min-above-max" in flaws:
            items.append(dict(_SWAPPED_LIMITS))
        if "service-negative-rate" in flaws:
            items.append(dict(_NEGATIVE_RATE))
        if "service-listed-twice" in flaws:  # a JOIN on a second category repeats the row
            items.append({**items[0], "category": "Instagram Followers"})
        if "services-keyed-by-id" in flaws:  # PHP's $rows[$row['id']] = $row, json_encoded
            return {str(item["service"]): item for item in items}
        return items

    def currency(self, code: str) -> str:
        # Stored as a payment gateway returns it (Stripe's "usd").
        return code.lower() if "currency-lower-case" in self.wire.flaws else code

    def status(self, order: Order) -> dict[str, Json]:
        body: dict[str, Json] = {"charge": self.money(order.charge)}
        if order.status is Status.PENDING and not order.forced:
            pending = self.wire.pending_count
            if pending is PendingCount.NULL:
                body["start_count"] = None
            elif pending is PendingCount.ZERO:
                body["start_count"] = self.count(0)
            elif pending is PendingCount.COUNT:
                body["start_count"] = self.count(order.start_count)
        else:
            body["start_count"] = self.count(order.start_count)
        body["status"] = order.status.value
        body["remains"] = self.count(order.remains)
        body["currency"] = self.currency(self.books.rules.currency)
        if "status-in-provider-currency" in self.wire.flaws:  # the upstream provider's
            body["currency"] = "EUR"
        return body

    def with_marker(self, body: dict[str, Json]) -> dict[str, Json]:
        return {"status": "success", **body} if self.wire.success_marker else body


def _id(value: str, style: IdJson) -> Json:
    return int(value) if style is IdJson.INT and value.isdigit() else value


# ---------------------------------------------------------------------------------------------
# The API: one function per action, each returning (HTTP status, JSON)


Answer = tuple[int, Json]


@dataclass(frozen=True, slots=True)
class _Api:
    wire: Wire
    books: Books
    render: _Render
    cached: set[str] = field(default_factory=set)
    """Order ids the status cache holds (flaw ``new-order-invisible-to-status`` only)."""

    def answer(self, params: Mapping[str, str]) -> Answer:
        flaws = self.wire.flaws
        if ("services-without-key" in flaws and "key" not in params
                and params.get("action") == "services"):
            return 200, self.render.services()  # the catalogue route skips the auth guard
        tenant: Tenant | None = None
        try:
            tenant = self.books.tenant(params.get("key"))
            action = params.get("action", "")
            if "missing-action-lists-services" in flaws and not action:
                action = "services"  # switch ($action) { default: services }
            if action in self.wire.multi_actions and action != "status":
                return self._multi_status(tenant, params.get("orders", ""))
            handler = self._actions().get(action) if action in self.wire.actions else None
            if handler is None:
                raise Refused(Kind.BAD_REQUEST, "Incorrect request")
            status, body = handler(tenant, params)
            if "successes-as-201" in flaws and status == 200:
                status = 201  # NestJS: a @Post() handler answers 201 unless told otherwise
            return status, body
        except Refused as refused:
            error: dict[str, Json] = {"error": refused.message}
            if ("add-errors-as-message-list" in flaws and refused.kind is Kind.BAD_REQUEST
                    and params.get("action") == "add"):
                error = {"error": [refused.message]}  # the validator's messages, as a list
            if ("funds-error-with-balance" in flaws and refused.kind is Kind.FUNDS
                    and tenant is not None):
                error["balance"] = self.render.money(self.books.balance(tenant))
            if "errors-as-201" in flaws:
                return 201, error  # NestJS: the @Post() default status, the error returned
            return self.wire.statuses.of(refused.kind), error

    def _actions(self) -> dict[str, Callable[[Tenant, Mapping[str, str]], Answer]]:
        return {"services": self._services, "balance": self._balance, "add": self._add,
                "status": self._status, "cancel": self._cancel, "refill": self._refill,
                "refill_status": self._refill_status}

    def _services(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        return 200, self.render.services()

    def _balance(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        balance = self.books.balance(tenant)
        body = {"balance": self.render.money(balance),
                "currency": self.render.currency(tenant.currency)}
        if "balance-without-currency" in self.wire.flaws:
            del body["currency"]
        if "balance-with-symbol" in self.wire.flaws:  # the dashboard's formatter, reused
            body["balance"] = "$" + body["balance"]
        return 200, self.render.with_marker(body)

    def _add(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        order = self.books.place(tenant, params)
        body = self.render.with_marker({"order": self.render.order_id(order.id)})
        return self.wire.statuses.created, body

    def _status(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        if params.get("orders", "").strip() and "status" in self.wire.multi_actions:
            return self._multi_status(tenant, params["orders"])
        order_id = params.get("order", "").strip()
        flaws = self.wire.flaws
        if not order_id:
            if "status-without-id-reads-pending" in flaws:
                return 200, self._no_row()  # WHERE id = '' finds no row either
            raise Refused(Kind.BAD_REQUEST, "Incorrect request: order is required")
        try:
            order = self.books.order(tenant, order_id)
        except Refused as refused:
            if ("unknown-order-reads-pending" in flaws and refused.kind is Kind.NOT_FOUND
                    and order_id.isdigit() and len(order_id) < 19):  # a well-formed id
                return 200, self._no_row()
            raise
        if "new-order-invisible-to-status" in flaws and order.id not in self.cached:
            # Status reads a cache that add does not fill: the first read misses, fills it.
            self.cached.add(order.id)
            raise Refused(Kind.NOT_FOUND, "Incorrect order ID")
        return 200, self.render.status(order)

    def _no_row(self) -> dict[str, Json]:
        """What a status query whose LEFT JOIN finds no order row renders: the defaults."""
        zero = self.render.count(0)
        return {"charge": self.render.money(Decimal(0)), "start_count": zero,
                "status": Status.PENDING.value, "remains": zero,
                "currency": self.render.currency(self.books.rules.currency)}

    def _multi_status(self, tenant: Tenant, text: str) -> Answer:
        members: dict[str, Json] = {}
        flaws = self.wire.flaws
        for order_id in self._batch(text):
            try:
                if "multi-status-ignores-owner" in flaws:
                    # Flaw: the batch query selects by id alone, with no owner filter.
                    members[order_id] = self.render.status(self.books.any_order(order_id))
                    continue
                order = self.books.order(tenant, order_id)
                if "multi-status-from-stale-copy" in flaws:
                    # Flaw: the batch reads a replica that never saw delivery start.
                    members[order_id] = {**self.render.status(order), "status": "Pending"}
                    continue
                members[order_id] = self.render.status(order)
            except Refused as refused:
                members[order_id] = (refused.message if self.wire.bare_string_errors
                                     else {"error": refused.message})
        if "multi-status-as-list" in self.wire.flaws:  # $result[] = ...: a JSON array
            return 200, [{"order": self.render.order_id(k), **(v if isinstance(v, dict) else
                                                                 {"error": v})}
                         for k, v in members.items()]
        return 200, members

    def _cancel(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        # A single ``order`` is read too (FLASK; DEV-SAFE's action table): harmless.
        ids = self._batch(params.get("orders") or params.get("order", ""))
        success = self.wire.cancel_shape is CancelShape.SUCCESS
        items: list[Json] = []
        for order_id in ids:
            try:
                self.books.cancel(tenant, order_id)
                outcome: Json = {"status": "success"} if success else 1
            except Refused as refused:
                if "cancel-batch-one-error" in self.wire.flaws:
                    # Flaw: one bad id answers the whole batch with one error (the others
                    # already processed stay cancelled).
                    return self.wire.statuses.of(refused.kind), {"error": refused.message}
                outcome = {"error": refused.message}
            items.append({"order": self.render.order_id(order_id), "cancel": outcome})
        return 200, items[0] if success and len(items) == 1 else items

    def _refill(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        if params.get("orders", "").strip():
            items: list[Json] = []
            for order_id in self._batch(params["orders"]):
                try:
                    made: Json = _id(self.books.refill(tenant, order_id).id, IdJson.INT)
                except Refused as refused:
                    made = {"error": refused.message}
                items.append({"order": self.render.order_id(order_id), "refill": made})
            if "multi-refill-items-unnamed" in self.wire.flaws:
                items = [{"refill": item["refill"]} for item in items]
            return 200, items
        order_id = params.get("order", "").strip()
        if not order_id:
            raise Refused(Kind.BAD_REQUEST, "Incorrect request: order is required")
        refill = self.books.refill(tenant, order_id)
        return self.wire.statuses.created, {"refill": _id(refill.id, self.wire.refill_id)}

    def _refill_status(self, tenant: Tenant, params: Mapping[str, str]) -> Answer:
        if params.get("refills", "").strip():
            items: list[Json] = []
            for refill_id in self._batch(params["refills"]):
                try:
                    word: Json = self.books.refill_status(tenant, refill_id).status.value
                except Refused as refused:
                    word = {"error": refused.message}
                items.append({"refill": _id(refill_id, IdJson.INT), "status": word})
            return 200, items
        refill_id = params.get("refill", "").strip()
        if not refill_id:
            raise Refused(Kind.BAD_REQUEST, "Incorrect request: refill is required")
        flaws = self.wire.flaws
        if ("huge-refill-id-crashes" in flaws and refill_id.isdigit()
                and int(refill_id) > _BIGINT_MAX):
            raise OverflowError("SQLSTATE[22003]: Numeric value out of range")
        try:
            refill = self.books.refill_status(tenant, refill_id)
        except Refused:
            if "unknown-refill-reads-pending" not in flaws:
                raise
            return 200, {"status": Status.PENDING.value}  # the default of a missing row
        if "refill-status-as-code" in flaws:  # the raw TINYINT column
            return 200, {"status": _REFILL_CODES[refill.status]}
        return 200, {"status": refill.status.value}

    def _batch(self, text: str) -> list[str]:
        ids = [part.strip() for part in text.split(",") if part.strip()]
        if not ids:
            raise Refused(Kind.BAD_REQUEST, "Incorrect order ID")
        limit, rule = self.wire.batch_limit, self.wire.over_limit
        if "batch-limit-fifty" in self.wire.flaws:
            limit = 50  # Flaw: a limit below the documented 100 ids
        if len(ids) > limit and rule is OverLimit.REFUSE:
            raise Refused(Kind.BAD_REQUEST, f"Up to {limit} IDs per request")
        return ids[:limit] if rule is OverLimit.TRUNCATE else ids


# ---------------------------------------------------------------------------------------------
# The control API (a sandbox's levers), in the shapes the harness's control client sends


@dataclass(frozen=True, slots=True)
class _Control:
    books: Books
    token: str

    def answer(self, method: str, path: str, headers: Mapping[str, str],
               body: bytes) -> Answer:
        scheme, _, sent = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sent.strip():
            return 401, {"error": "the control API needs an Authorization: Bearer header"}
        if not hmac.compare_digest(sent.strip().encode(), self.token.encode()):
            return 403, {"error": "wrong control token"}
        try:
            document = json.loads(body or b"{}", parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "the body must be a JSON object"}
        if not isinstance(document, dict) or method != "POST":
            return 400, {"error": "POST a JSON object"}
        parts = [unquote(p) for p in path.strip("/").split("/")[1:]]
        try:
            return self._route(parts, document)
        except KeyError as missing:
            return 404, {"error": f"no such id {missing}"}
        except Conflict as final:
            return 409, {"error": str(final)}
        except (ValueError, InvalidOperation, TypeError) as wrong:
            return 400, {"error": str(wrong)}

    def _route(self, parts: list[str], body: dict[str, Any]) -> Answer:
        if parts == ["tenants"]:
            balance = Decimal(str(body.get("balance")))
            key, currency = body.get("key"), body.get("currency")
            if not isinstance(key, str | None) or not isinstance(currency, str | None):
                raise ValueError("key and currency are strings")
            key, tenant = self.books.open_tenant(balance, key=key, currency=currency)
            return 201, {"key": key, "tenant": tenant}
        if parts == ["clock", "advance"]:
            seconds = body.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal):
                raise ValueError("seconds is a number >= 0")
            return 200, {"now": self.books.advance(float(seconds))}
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "outcome":
            order = self.books.set_outcome(
                parts[1], _status(body.get("status")), _count(body.get("remains")),
                _count(body.get("start_count")))
            return 200, _order_view(order)
        if len(parts) == 3 and parts[0] == "refills" and parts[2] == "outcome":
            refill = self.books.set_refill_outcome(parts[1], _status(body.get("status")))
            return 200, _refill_view(refill)
        raise KeyError("/".join(parts))


def _status(value: object) -> Status:
    if not isinstance(value, str):
        raise ValueError("status is required")
    return Status(value)  # ValueError for a word that is no status


def _count(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("counts are whole numbers >= 0")
    return value


def _order_view(order: Order) -> dict[str, Json]:
    return {"id": order.id, "status": order.status.value, "charge": format(order.charge, "f"),
            "quantity": order.units, "remains": order.remains, "start_count": order.start_count}


def _refill_view(refill: Refill) -> dict[str, Json]:
    return {"id": refill.id, "order": refill.order, "status": refill.status.value}


# ---------------------------------------------------------------------------------------------
# The HTTP server


# Werkzeug's stock page for a method a Flask route does not list.
_WERKZEUG_405 = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    "<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, wire: Wire, books: Books, token: str | None) -> None:
        self.wire, self.books = wire, books
        self.api = _Api(wire, books, _Render(wire, books))
        self.control = _Control(books, token) if token else None
        super().__init__((_HOST, 0), _handler_for(wire))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # a client that stops sending mid-body frees its thread after this
    error_content_type = "text/html;charset=utf-8"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: nothing of a request is ever printed (keys travel in bodies)."""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            self._dispatch()
        except Exception as crash:  # a bug of this panel: shown as one, never hidden
            self._send(500, {"error": f"Internal error ({type(crash).__name__})"})

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        wire, server = self.server.wire, self.server
        body = self._body()
        if body is None and "oversized-body-hangs-up" in wire.flaws:
            self.close_connection = True  # the worker hit its memory limit: no answer at all
            return
        if server.control is not None and url.path.startswith("/_mock/"):
            headers = {k: v for k, v in self.headers.items()}
            self._send(*server.control.answer(self.command, url.path, headers, body or b""))
            return
        if url.path.rstrip("/") != wire.path.rstrip("/"):
            self.send_error(404)
            return
        if self.command not in ("GET", "POST") and wire.other_methods is OtherMethods.HTML_405:
            self._send_text(405, _WERKZEUG_405, "text/html; charset=utf-8",
                            {"Allow": "GET, HEAD, OPTIONS, POST"})
            return
        if self.command != "POST" and wire.other_methods is OtherMethods.JSON_405:
            message = (f"The {self.command} method is not supported for route "
                       f"{wire.path.strip('/')}. Supported methods: POST.")
            self._send(405, {"message": message}, {"Allow": "POST"})
            return
        params = self._params(url.query, body)
        status, answer = server.api.answer(params)
        if ("php-warning-before-json" in wire.flaws and params.get("action") == "add"
                and not _PHP_NUMBER.fullmatch(params.get("quantity", "0"))):
            self._send_text(status, _PHP_WARNING + json.dumps(answer), wire.content_type, {})
            return
        self._send(status, answer)

    def _body(self) -> bytes | None:
        """The body, or ``None`` when it exceeds the panel's limit (drained, then dropped)."""
        try:
            length = max(int(self.headers.get("Content-Length") or 0), 0)
        except ValueError:
            length = 0
        if length > _HARD_BODY_LIMIT:
            self.close_connection = True
            return None
        if length > self.server.wire.max_body:
            for _ in _chunks(length):
                self.rfile.read(_)
            return None
        return self.rfile.read(length) if length else b""

    def _params(self, query: str, body: bytes | None) -> dict[str, str]:
        """The request's fields, as PHP fills $_POST: the last of repeated names wins."""
        wire = self.server.wire
        params: dict[str, str] = {}
        if wire.query_params:
            params.update(_form(query.encode()))
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body is None or not body:
            return params
        if "non-form-body-crashes" in wire.flaws and kind != _FORM:
            json.loads(body)  # any other body is taken for JSON: a parse error escapes as 500
        if kind == _FORM:
            params.update(_form(body))
        elif kind == "application/json" and wire.json_bodies:
            params.update(_json_fields(body))
        return params

    def _send(self, status: int, body: Json, headers: Mapping[str, str] | None = None) -> None:
        wire = self.server.wire
        text = wire.prefix + json.dumps(body, indent=wire.indent)
        self._send_text(status, text, wire.content_type, headers or {})

    def _send_text(self, status: int, text: str, content_type: str,
                   headers: Mapping[str, str]) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _handler_for(wire: Wire) -> type[_Handler]:
    """The handler class for ``wire``: methods the server does not implement are left out, so
    that ``BaseHTTPRequestHandler`` answers them with its stock 501 page."""
    methods: dict[str, Any] = {}
    if wire.other_methods is not OtherMethods.STOCK_501:
        methods = {"do_PUT": _Handler._serve, "do_DELETE": _Handler._serve}
    return type("LegitHandler", (_Handler,), methods)


def _chunks(length: int, size: int = 64 * 1024) -> Iterator[int]:
    while length > 0:
        yield min(size, length)
        length -= size


def _form(raw: bytes) -> dict[str, str]:
    # Bytes that are not UTF-8 become U+FFFD: a PHP panel does not care either.
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True,
                          encoding="utf-8", errors="replace"))


def _json_fields(raw: bytes) -> dict[str, str]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(document, dict):
        return {}
    # Scalars as the form would carry them; nested values are not fields of this API.
    return {str(k): (json.dumps(v) if isinstance(v, bool) else str(v))
            for k, v in document.items() if isinstance(v, str | int | float | bool)}


@contextmanager
def serving(wire: Wire, books: Books, token: str | None = None) -> Iterator[str]:
    """Serve ``books`` through ``wire`` on a free loopback port; yields the API URL."""
    server = _Server(wire, books, token)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://{_HOST}:{server.server_address[1]}{wire.path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
