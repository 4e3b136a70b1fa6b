"""The control API under ``/_mock``: tenants (and their suspension), clock, outcomes, faults,
webhooks, journal, reset.

Mounted only when a control token is configured, as routes that each check
``Authorization: Bearer TOKEN`` with ``hmac.compare_digest`` (401 when absent or not Bearer,
403 when wrong). It speaks canonical JSON whatever the profile, with plain ``{"error": ...}``
refusals: 400 malformed input (with ``"field"`` naming the culprit where there is one), 404
unknown id, 409 a transition the order or refill cannot make, or a webhook for a profile that
sends none. Nothing here is ever answered in a vendor's wording: it is not part of any vendor's
API. Keys are accepted (a fault rule's ``key``) but never stored or repeated: tenant ids are.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler as RequestHandler

from mockpanel.config import webhook_url_problem
from mockpanel.state import (
    FINAL_REFILL_STATUSES,
    InvalidTransition,
    OrderStatus,
    PanelState,
    format_money,
    order_json,
    parse_money,
    refill_json,
)
from mockpanel.wire.decoding import abandon_body
from mockpanel.wire.faults import RuleError, parse_rules
from mockpanel.wire.jsontext import Json, dumps
from mockpanel.wire.keys import (
    BODY_TIMEOUT,
    CONFIG,
    FAULTS,
    JOURNAL,
    LIMITER,
    PROFILE,
    STATE,
    WEBHOOKS,
)
from mockpanel.wire.safety import safe
from mockpanel.wire.setup import open_tenants

__all__ = ["CONTROL_PREFIX", "mount"]

CONTROL_PREFIX = "/_mock"
S = TypeVar("S", bound=StrEnum)


class _Refused(Exception):
    """A control request answered with ``status`` and ``{"error": message, "field": ...}``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def body(self) -> dict[str, Json]:
        body: dict[str, Json] = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


def _refuse(status: int, message: str, field: str | None = None) -> NoReturn:
    raise _Refused(status, message, field)


def _json(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(body), status=status, content_type="application/json", headers=headers
    )


def _guarded(handler: RequestHandler, token: str) -> RequestHandler:
    """``handler`` behind the check of ``token``, its refusals answered as JSON (a decorator
    rather than a middleware: see :mod:`mockpanel.wire.safety`)."""
    expected = token.encode("utf-8")

    @functools.wraps(handler)
    async def guard(request: web.Request) -> web.StreamResponse:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sent.strip():
            return _json(
                {"error": "the control API needs an Authorization: Bearer <token> header"},
                401,
                {"WWW-Authenticate": 'Bearer realm="mockpanel control"'},
            )
        if not hmac.compare_digest(sent.strip().encode("utf-8", "surrogateescape"), expected):
            return _json({"error": "wrong control token"}, 403)
        try:
            return await handler(request)
        except _Refused as refused:
            return _json(refused.body(), refused.status)

    return safe(guard)


def _no_constant(name: str) -> NoReturn:
    _refuse(400, f"the body contains {name}, which is not JSON")


async def _document(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``); decimals stay ``Decimal``."""
    timeout = request.config_dict[BODY_TIMEOUT]
    try:
        async with asyncio.timeout(timeout):
            raw = await request.read()
    except web.RequestPayloadError as exc:  # a corrupt Content-Encoding or chunked framing
        abandon_body(request, exc)
        _refuse(400, "the body could not be decoded (check its Content-Encoding)")
    except TimeoutError as exc:
        abandon_body(request, exc)
        _refuse(400, f"the body did not arrive in full within {timeout:g} seconds")
    if not raw.strip():
        return {}
    try:
        document = json.loads(
            raw.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        _refuse(400, "the body must be a JSON object")
    if not isinstance(document, dict):
        _refuse(400, "the body must be a JSON object")
    return document


async def _body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``); unknown fields are refused."""
    document = await _document(request)
    unknown = sorted(set(document) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "no fields"
        _refuse(400, f"unknown field(s) {', '.join(unknown)}; expected {expected}", unknown[0])
    return document


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        _refuse(400, f"{name} must be a string")
    return value


def _optional_count(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _refuse(400, f"{name} must be a whole number >= 0")
    return value


def _status(body: dict[str, Any], allowed: Iterable[S]) -> S:
    """The ``status`` field, which must name one of ``allowed``."""
    choices = tuple(allowed)
    raw = body.get("status")
    status = next((s for s in choices if s.value == raw), None)
    if status is None:
        _refuse(400, "status must be one of " + ", ".join(repr(s.value) for s in choices))
    return status


async def _tenants(request: web.Request) -> web.Response:
    """``{"balance": "100.00", "currency": "USD", "key": optional}`` -> the new tenant's key."""
    body = await _body(request, frozenset({"balance", "currency", "key"}))
    state = request.config_dict[STATE]
    places = state.config.money_places
    raw = body.get("balance")
    try:
        if isinstance(raw, str):
            opening = parse_money(raw, places)
        elif isinstance(raw, int | Decimal) and not isinstance(raw, bool):
            opening = parse_money(format(Decimal(raw), "f"), places)
        else:
            _refuse(400, 'balance is required, as a decimal string such as "100.00"')
        tenant, key = state.create_tenant(
            opening, _optional_str(body, "currency"), _optional_str(body, "key")
        )
    except ValueError as exc:  # the state's messages never repeat a key
        _refuse(400, str(exc))
    return _json(
        {
            "key": key,
            "tenant": tenant.id,
            "balance": format_money(state.balance(tenant), places),
            "currency": tenant.currency,
        },
        201,
    )


async def _suspension(request: web.Request, suspended: bool) -> web.Response:
    """Suspend or resume a tenant (an empty body, or ``{}``); idempotent: ``changed`` says
    whether this request changed anything. Kept in the state file like the rest."""
    await _body(request, frozenset())
    tenant = request.match_info["tenant_id"]
    try:
        changed = request.config_dict[STATE].set_suspended(tenant, suspended)
    except KeyError:
        _refuse(404, f"no tenant {tenant}")
    return _json({"tenant": tenant, "suspended": suspended, "changed": changed})


async def _suspend(request: web.Request) -> web.Response:
    """Refuse every API request of the tenant with the profile's ``ACCOUNT_SUSPENDED``."""
    return await _suspension(request, True)


async def _resume(request: web.Request) -> web.Response:
    """Let a suspended tenant use the API again, its balance and orders as they were."""
    return await _suspension(request, False)


async def _advance(request: web.Request) -> web.Response:
    body = await _body(request, frozenset({"seconds"}))
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal):
        _refuse(400, "seconds is required, as a number >= 0")
    state = request.config_dict[STATE]
    try:
        state.advance_clock(float(seconds))
    except ValueError as exc:
        _refuse(400, str(exc))
    return _json({"now": state.clock.now()})


async def _order_outcome(request: web.Request) -> web.Response:
    """Force an order's status (with its refund); see ``PanelState.set_order_outcome``."""
    order_id = request.match_info["order_id"]
    body = await _body(request, frozenset({"status", "remains", "start_count"}))
    state = request.config_dict[STATE]
    # Any status but Pending that the panel's dialect can show (Done and Failed only where
    # the profile names them): the refusal lists exactly those.
    known = state.config.order_statuses
    status = _status(body, (s for s in OrderStatus if s in known and s is not OrderStatus.PENDING))
    try:
        view = state.set_order_outcome(
            order_id,
            status,
            remains=_optional_count(body, "remains"),
            start_count=_optional_count(body, "start_count"),
        )
    except KeyError:
        _refuse(404, f"no order {order_id}")
    except InvalidTransition as exc:
        _refuse(409, str(exc))
    except ValueError as exc:
        _refuse(400, str(exc))
    return _json(order_json(view, state.config.money_places))


async def _refill_outcome(request: web.Request) -> web.Response:
    refill_id = request.match_info["refill_id"]
    body = await _body(request, frozenset({"status"}))
    status = _status(body, FINAL_REFILL_STATUSES)
    state = request.config_dict[STATE]
    try:
        view = state.set_refill_outcome(refill_id, status)
    except KeyError:
        _refuse(404, f"no refill {refill_id}")
    except InvalidTransition as exc:
        _refuse(409, str(exc))
    except ValueError as exc:
        _refuse(400, str(exc))
    return _json(refill_json(view))


async def _journal(request: web.Request) -> web.Response:
    """Every kept exchange and webhook attempt, or one tenant's with ``?tenant=<tenant id>``."""
    journal, tenant = request.config_dict[JOURNAL], request.query.get("tenant")
    return _json(
        {
            "exchanges": [entry.to_json() for entry in journal.entries(tenant)],
            "webhooks": [entry.to_json() for entry in journal.deliveries(tenant)],
        }
    )


async def _state(request: web.Request) -> web.Response:
    return _json(request.config_dict[STATE].snapshot())


async def _reset(request: web.Request) -> web.Response:
    """Forget everything (journal, faults, budgets, tenants' webhook URLs too), then open the
    configured tenants again."""
    await _body(request, frozenset())
    app = request.config_dict
    state = app[STATE]
    state.reset()
    app[JOURNAL].clear()
    app[FAULTS].clear()
    app[WEBHOOKS].clear()
    limiter = app[LIMITER]
    if limiter is not None:
        limiter.clear()
    open_tenants(state, app[CONFIG])
    return _json({"reset": True})


def _tenant_exists(state: PanelState, tenant_id: str) -> bool:
    # The state has no lookup by tenant id; the snapshot lists them (control plane only).
    return any(entry["id"] == tenant_id for entry in state.snapshot()["tenants"])


def _tenant_of_key(state: PanelState, key: str) -> str | None:
    tenant = state.authenticate(key)
    return None if tenant is None else tenant.id


async def _faults(request: web.Request) -> web.Response:
    """The active fault rules, each with the fires it has ``left`` and its ``hits``."""
    return _json({"rules": request.config_dict[FAULTS].listing()})


async def _put_faults(request: web.Request) -> web.Response:
    """Replace every rule by the ones given, all validated first (see ``wire.faults``)."""
    document = await _document(request)
    app = request.config_dict
    state = app[STATE]
    try:
        rules = parse_rules(
            document,
            actions=frozenset(app[PROFILE].actions),
            default_seed=app[CONFIG].seed,
            tenant_of_key=lambda key: _tenant_of_key(state, key),
            tenant_exists=lambda tenant: _tenant_exists(state, tenant),
        )
    except RuleError as exc:
        _refuse(400, str(exc), exc.field)
    app[FAULTS].replace(rules)
    return _json({"rules": app[FAULTS].listing()})


async def _delete_faults(request: web.Request) -> web.Response:
    request.config_dict[FAULTS].clear()
    return _json({"rules": []})


def _webhook_tenant(request: web.Request) -> str:
    tenant = request.match_info["tenant_id"]
    if not _tenant_exists(request.config_dict[STATE], tenant):
        _refuse(404, f"no tenant {tenant}")
    return tenant


def _webhook_answer(request: web.Request, tenant: str) -> web.Response:
    url, source = request.config_dict[WEBHOOKS].setting(tenant)
    return _json({"tenant": tenant, "url": url, "source": source})


async def _webhook(request: web.Request) -> web.Response:
    """Where the tenant's order status changes are POSTed (``source``: its own or the panel's)."""
    return _webhook_answer(request, _webhook_tenant(request))


async def _put_webhook(request: web.Request) -> web.Response:
    """``{"url": "http://..."}`` for this tenant alone; ``{"url": null}`` switches it off."""
    tenant = _webhook_tenant(request)
    profile = request.config_dict[PROFILE]
    if not profile.webhooks:
        _refuse(409, f"profile {profile.name} does not send webhooks")
    body = await _body(request, frozenset({"url"}))
    if "url" not in body:
        _refuse(400, "url is required: an http(s) URL, or null to send nothing", "url")
    url = body["url"]
    if url is not None:
        problem = webhook_url_problem(url)
        if problem is not None:
            _refuse(400, f"url {problem}", "url")
    request.config_dict[WEBHOOKS].set_url(tenant, url)
    return _webhook_answer(request, tenant)


async def _delete_webhook(request: web.Request) -> web.Response:
    """Let the tenant follow the panel's ``--webhook-url`` again."""
    tenant = _webhook_tenant(request)
    request.config_dict[WEBHOOKS].unset(tenant)
    return _webhook_answer(request, tenant)


def mount(app: web.Application, token: str) -> None:
    """Add the control API to ``app`` under :data:`CONTROL_PREFIX`, guarded by ``token``."""
    def guarded(handler: RequestHandler) -> RequestHandler:
        return _guarded(handler, token)

    prefix = CONTROL_PREFIX
    app.router.add_routes(
        [
            web.post(prefix + "/tenants", guarded(_tenants)),
            web.post(prefix + "/tenants/{tenant_id}/suspend", guarded(_suspend)),
            web.post(prefix + "/tenants/{tenant_id}/resume", guarded(_resume)),
            web.post(prefix + "/clock/advance", guarded(_advance)),
            web.post(prefix + "/orders/{order_id}/outcome", guarded(_order_outcome)),
            web.post(prefix + "/refills/{refill_id}/outcome", guarded(_refill_outcome)),
            web.get(prefix + "/journal", guarded(_journal)),
            web.get(prefix + "/faults", guarded(_faults)),
            web.put(prefix + "/faults", guarded(_put_faults)),
            web.delete(prefix + "/faults", guarded(_delete_faults)),
            web.get(prefix + "/tenants/{tenant_id}/webhook", guarded(_webhook)),
            web.put(prefix + "/tenants/{tenant_id}/webhook", guarded(_put_webhook)),
            web.delete(prefix + "/tenants/{tenant_id}/webhook", guarded(_delete_webhook)),
            web.get(prefix + "/state", guarded(_state)),
            web.post(prefix + "/reset", guarded(_reset)),
        ]
    )

