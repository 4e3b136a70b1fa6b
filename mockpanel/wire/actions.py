"""The API actions: one function per :class:`~mockpanel.profiles.Handler`, and the table that
binds a profile's action names to them.

Each function takes an authenticated :class:`Call` and returns a rendered
:class:`~mockpanel.wire.render.Reply`, or raises :class:`DomainError` for the whole request.
Inside a batch every id gets its own answer: a refused id becomes an error entry (never
dropped, never failing the batch), which is how real panels report batch errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, NamedTuple, TypeVar

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import HANDLER_STATUS, Handler, Profile
from mockpanel.state import PanelState, Tenant
from mockpanel.wire import render
from mockpanel.wire.render import Reply

__all__ = ["HANDLERS", "Action", "Call", "action_table", "batch_ids"]

T = TypeVar("T")

_ID: Final = re.compile(r"[A-Za-z0-9]{1,64}")
# Fields that are never order parameters: the key stays out of everything state might echo.
_NOT_ORDER_PARAMS: Final = frozenset({"key", "action", "service"})


class Call(NamedTuple):
    """One authenticated API request: who asked, what they sent, and where it is answered."""

    state: PanelState
    profile: Profile
    tenant: Tenant
    params: Mapping[str, str]


Action = Callable[[Call], Reply]


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise DomainError(ErrorCode.MISSING_PARAM, param=name)
    return value


def batch_ids(params: Mapping[str, str], name: str, limit: int) -> tuple[str, ...]:
    """The ids of a comma-separated list: trimmed, empty items skipped, each answered once.

    ``MISSING_PARAM`` when no id is left, ``TOO_MANY_IDS`` when more than ``limit`` distinct
    ids remain (the request is refused whole rather than silently truncated), and
    ``INVALID_PARAM`` for an item that is not 1..64 letters and digits: ids become the keys of
    a multi-status answer, and no panel ever issued such an id.
    """
    items = (item.strip() for item in params.get(name, "").split(","))
    ids = tuple(dict.fromkeys(item for item in items if item))
    if not ids:
        raise DomainError(ErrorCode.MISSING_PARAM, param=name)
    if len(ids) > limit:
        raise DomainError(ErrorCode.TOO_MANY_IDS, limit=limit)
    for item in ids:
        if not _ID.fullmatch(item):
            raise DomainError(ErrorCode.INVALID_PARAM, param=name, value=item[:64])
    return ids


def _each(ids: tuple[str, ...], get: Callable[[str], T]) -> dict[str, T | DomainError]:
    """``get`` applied to every id, a refusal kept as that id's result."""
    results: dict[str, T | DomainError] = {}
    for item in ids:
        try:
            results[item] = get(item)
        except DomainError as error:
            results[item] = error
    return results


def _is_batch(call: Call, handler: Handler, name: str) -> bool:
    return handler in call.profile.shapes.batch and bool(call.params.get(name, "").strip())


def services(call: Call) -> Reply:
    return Reply(render.services(call.profile, call.state.services()))


def balance(call: Call) -> Reply:
    amount = call.state.balance(call.tenant)
    return Reply(render.balance(call.profile, amount, call.tenant.currency))


def add(call: Call) -> Reply:
    service = _required(call.params, "service")
    params = dict(call.params)  # the order's own parameters: all but the three
    for name in _NOT_ORDER_PARAMS:
        params.pop(name, None)
    view = call.state.place_order(call.tenant, service, params)
    return render.added(call.profile, view)


def status(call: Call) -> Reply:
    if _is_batch(call, HANDLER_STATUS, "orders"):
        return status_multi(call)
    view = call.state.order(call.tenant, _required(call.params, "order"))
    return Reply(render.order_status(call.profile, view))


def status_multi(call: Call) -> Reply:
    ids = batch_ids(call.params, "orders", call.profile.shapes.max_ids)
    results = _each(ids, lambda order_id: call.state.order(call.tenant, order_id))
    return Reply(render.multi_status(call.profile, results))


def cancel(call: Call) -> Reply:
    ids = batch_ids(call.params, "orders", call.profile.shapes.max_ids)
    results = _each(ids, lambda order_id: call.state.cancel(call.tenant, order_id))
    return Reply(render.cancel_items(call.profile, results))


def refill(call: Call) -> Reply:
    if _is_batch(call, Handler.REFILL, "orders"):
        ids = batch_ids(call.params, "orders", call.profile.shapes.max_ids)
        results = _each(ids, lambda order_id: call.state.refill(call.tenant, order_id))
        return Reply(render.refill_items(call.profile, results))
    view = call.state.refill(call.tenant, _required(call.params, "order"))
    return render.refill_created(call.profile, view)


def refill_status(call: Call) -> Reply:
    if _is_batch(call, Handler.REFILL_STATUS, "refills"):
        ids = batch_ids(call.params, "refills", call.profile.shapes.max_ids)
        results = _each(ids, lambda refill_id: call.state.refill_status(call.tenant, refill_id))
        return Reply(render.refill_status_items(call.profile, results))
    view = call.state.refill_status(call.tenant, _required(call.params, "refill"))
    return Reply(render.refill_status(call.profile, view))


HANDLERS: Final[Mapping[Handler, Action]] = MappingProxyType(
    {
        Handler.SERVICES: services,
        Handler.ADD: add,
        Handler.STATUS: status,
        Handler.STATUS_MULTI: status_multi,
        Handler.CANCEL: cancel,
        Handler.REFILL: refill,
        Handler.REFILL_STATUS: refill_status,
        Handler.BALANCE: balance,
    }
)


def action_table(profile: Profile) -> Mapping[str, Action]:
    """The profile's action names bound to their functions: the request path is one lookup."""
    return MappingProxyType({name: HANDLERS[handler] for name, handler in profile.actions.items()})
