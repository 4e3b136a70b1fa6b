"""The broken-panels matrix: the mock panel with exactly one rule broken, and where it is caught.

Each :class:`BrokenPanel` is the real mock (reference profile) with one small, named variation:
a :class:`PanelState` subclass overriding one behaviour (hosted through the ``state_type`` test
seam of :func:`mockpanel.wire.app.create_app`), or a wire-level rewrite of the built app (an
action wrapped, or a middleware in front of the API). Its record says which defect of the
issue it reproduces, the clauses the harness must FAIL it under, the clauses the defect
breaks by its nature as well (``also_fails``), the clauses that move only because a check is
not specific yet (``crosstalk``, each with why), and the harness tests that catch it.

The variations reach into the state's protected parts (``_ledger``, ``_orders``, ``_books``)
on purpose: they exist to break exactly what those parts guarantee.

Run one on a free port (it prints its API URL, then serves until stdin closes)::

    BROKEN_PANEL_KEYS='k1=500.00,k2=1.00' python -m tests.conformance.broken_panels serve NAME

and regenerate the table of ``DEFECTS.md`` with ``python -m tests.conformance.broken_panels
table > tests/conformance/DEFECTS.md``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from aiohttp import web
from aiohttp.typedefs import Handler as RequestHandler

from mockpanel.config import MockConfig
from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import get_profile
from mockpanel.state import (
    Clock,
    LifecycleTimings,
    OrderStatus,
    OrderView,
    PanelState,
    Service,
    ServiceType,
    StateConfig,
    Tenant,
)
from mockpanel.state.ledger import Ledger
from mockpanel.state.params import validate_add
from mockpanel.state.persistence import Store
from mockpanel.wire.actions import Action, Call
from mockpanel.wire.app import create_app
from mockpanel.wire.jsontext import Json
from mockpanel.wire.keys import ACTIONS, STATE
from mockpanel.wire.render import Reply
from tests.conformance import flawed_ledger, flawed_wire

__all__ = [
    "BLACK_BOX_TIMINGS",
    "BROKEN_PANELS",
    "UNBROKEN",
    "BrokenPanel",
    "Mode",
    "by_name",
    "config_for",
    "defects_table",
    "unbroken",
]

PROFILE = "reference"
# Black-box runs have no control API and a real clock, yet their verdicts must not depend on
# the machine's speed. Several harness tests need a fresh order still Pending: its first status
# read (a status word defect, remains above quantity), a cancel right after the add (every
# refund test), a refill of an unfinished order (REFILL-003). Others wait for the end: the
# driver's follow() and the scenarios' wait_for poll status at 0, 0.5, 1.5, 3.5 ... s up to
# --panel-order-timeout. With a timed Pending window (it was 0.8 s) a loaded machine misses
# the first kind; a window long enough for any load makes every follow() wait it out. So a
# black-box panel moves an order on its owner's status reads, not on the clock
# (:class:`_MovesOnReads`): Pending until read twice, then In progress, then its planned
# outcome (a magic link's Partial too) from the third read. The timed lifecycle is a day long,
# so it never runs within a run; refills (which no black-box test waits for) keep real time.
BLACK_BOX_TIMINGS = LifecycleTimings(
    order_pending=86400.0, order_in_progress=86400.0, refill_pending=0.8, refill_in_progress=0.2
)


class Mode(StrEnum):
    """How the harness is run against a broken panel."""

    BLACK_BOX = "black-box"  # no control API: what a vendor's own certification run sees
    CONTROLLED = "controlled"  # control API given: outcomes and time driven through it


# ---------------------------------------------------------------------------------------------
# Black-box pacing (the set-up of every black-box run, broken or not; see BLACK_BOX_TIMINGS)


class _MovesOnReads(PanelState):
    """Moves an order one step on each status read of its owner after the first: Pending on
    the first read (and until the second: cancellable), In progress on the second, its planned
    outcome from the third. Through the control plane's own moves, so the money moves exactly
    as a timed lifecycle moves it. Reads through another key move nothing."""

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        super().__init__(config, clock, store=store)
        self._reads: dict[str, int] = {}

    def order(self, tenant: Tenant, order_id: str) -> OrderView:
        with self._lock:
            found = self._orders.get(order_id) if isinstance(order_id, str) else None
            if found is not None and found.tenant_id == tenant.id:
                reads = self._reads[order_id] = self._reads.get(order_id, 0) + 1
                if reads > 1 and found.status is OrderStatus.PENDING:
                    self.set_order_outcome(order_id, OrderStatus.IN_PROGRESS)
                elif reads > 1 and found.status is OrderStatus.IN_PROGRESS:
                    planned = found.planned
                    self.set_order_outcome(order_id, planned.status, remains=planned.remains)
        return super().order(tenant, order_id)


@cache
def _moved_on_reads(state_type: type[PanelState]) -> type[PanelState]:
    """``state_type`` (a broken panel's variation) paced by :class:`_MovesOnReads`."""
    return type(f"{state_type.__name__}MovedOnReads", (_MovesOnReads, state_type), {})


# ---------------------------------------------------------------------------------------------
# State variations: PanelState subclasses


class _EnforcesAnotherCatalog(PanelState):
    """Advertises the real catalogue in ``services`` but prices and validates ``add`` (and
    refills) against :meth:`enforced` versions of the services."""

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        self._advertised = config.catalog
        enforced = tuple(self.enforced(service) for service in config.catalog)
        super().__init__(replace(config, catalog=enforced), clock, store=store)

    def enforced(self, service: Service) -> Service:
        """The service as it is really enforced (as advertised, unless a subclass says)."""
        return service

    def services(self) -> tuple[Service, ...]:
        return self._advertised


class StalePriceList(_EnforcesAnotherCatalog):
    """Charges Default services 20% above the rate ``services`` advertises (a stale price
    list): the debit is not rate * quantity / 1000."""

    def enforced(self, service: Service) -> Service:
        if service.type is not ServiceType.DEFAULT:
            return service
        return replace(service, rate=service.rate * Decimal("1.2"))


class MinNotEnforced(_EnforcesAnotherCatalog):
    """Accepts any quantity from 1 up, whatever min ``services`` advertises."""

    def enforced(self, service: Service) -> Service:
        return replace(service, min=1)


class MaxNotEnforced(_EnforcesAnotherCatalog):
    """Accepts ten times the max that ``services`` advertises."""

    def enforced(self, service: Service) -> Service:
        return replace(service, max=min(service.max * 10, 10**9))


class RefillFlagIgnored(_EnforcesAnotherCatalog):
    """Refills completed orders of every service, whatever ``services`` says of refill."""

    def enforced(self, service: Service) -> Service:
        return replace(service, refill=True, refill_days=max(service.refill_days, 30))


class DebitsTwoStepsMore(PanelState):
    """Debits two money steps (two units in the last decimal place it keeps) more than each
    order's price: a wrong amount no rounding mode explains, however the panel rounds."""

    def place_order(self, tenant: Tenant, service: str, params: Mapping[str, str]) -> OrderView:
        view = super().place_order(tenant, service, params)
        with self._lock:
            self._ledger.debit(tenant.id, Decimal(2).scaleb(-self.config.money_places))
        return view


class ReportsTwiceTheCharge(PanelState):
    """Debits correctly but reports twice the debit as the order's ``charge``."""

    def order(self, tenant: Tenant, order_id: str) -> OrderView:
        view = super().order(tenant, order_id)
        return view._replace(charge=view.charge * 2)


class UnknownServiceFallsBack(PanelState):
    """Places an order for an unknown numeric service id on the cheapest service (a lookup
    that falls back to a default row) instead of refusing it."""

    def place_order(self, tenant: Tenant, service: str, params: Mapping[str, str]) -> OrderView:
        known = {str(s.id) for s in self.services()}
        if service.isdigit() and int(service) < 2**63 and service not in known:
            service = str(min(self.services(), key=lambda s: s.rate).id)
        return super().place_order(tenant, service, params)


class _RemembersFirstTenant(PanelState):
    """Keeps the first tenant it opened: the "default account" the key variations fall into."""

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        self._first: Tenant | None = None
        super().__init__(config, clock, store=store)

    def create_tenant(
        self, balance: Decimal, currency: str | None = None, key: str | None = None
    ) -> tuple[Tenant, str]:
        made = super().create_tenant(balance, currency, key)
        if self._first is None:
            self._first = made[0]
        return made


class WrongKeyIsFirstAccount(_RemembersFirstTenant):
    """Serves a request with a key it never issued as the first account."""

    def authenticate(self, key: str) -> Tenant | None:
        found = super().authenticate(key)
        return found if found is not None or not key.strip() else self._first


class BlankKeyIsFirstAccount(_RemembersFirstTenant):
    """Serves a request whose key is only whitespace as the first account."""

    def authenticate(self, key: str) -> Tenant | None:
        if isinstance(key, str) and not key.strip():
            return self._first
        return super().authenticate(key)


class _TakesWhatIsLeft(Ledger):
    """A debit larger than the balance takes the balance instead of being refused."""

    def debit_units(self, account: str, units: int) -> None:
        balance = self._accounts[account].balance  # in steps, as units are
        if units <= balance:
            super().debit_units(account, units)
        elif balance > 0:
            super().debit_units(account, balance)


class AcceptsBeyondBalance(PanelState):
    """Accepts an order that costs more than the balance (and takes what the balance holds)."""

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        super().__init__(config, clock, store=store)
        self._ledger = _TakesWhatIsLeft(config.money_places)


class _Overdraws(Ledger):
    """A debit never checks the balance: the account may go below zero."""

    def debit_units(self, account: str, units: int) -> None:
        figures = self._accounts[account]  # the running figures in steps, changed in place
        figures.debited += units
        figures.balance -= units
        figures.shown = None


class FundsCheckedOnStaleBalance(PanelState):
    """Checks an order's price against a balance read at most once every two seconds per
    account (a cached read replica), then debits without looking again: a burst of orders
    all pass the check and overdraw the account."""

    STALE_SECONDS = 2.0

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        super().__init__(config, clock, store=store)
        self._ledger = _Overdraws(config.money_places)
        self._seen: dict[str, tuple[float, Decimal]] = {}

    def place_order(self, tenant: Tenant, service: str, params: Mapping[str, str]) -> OrderView:
        now = self.clock.now()
        read_at, seen = self._seen.get(tenant.id, (None, Decimal(0)))
        if read_at is None or now - read_at > self.STALE_SECONDS:
            seen = self.balance(tenant)
            self._seen[tenant.id] = (now, seen)
        request = validate_add(self._catalog, service, params, self._amounts)
        if request.charge > seen:
            raise DomainError(ErrorCode.INSUFFICIENT_FUNDS, needed=request.charge, balance=seen)
        return super().place_order(tenant, service, params)


class CancelKeepsTheMoney(PanelState):
    """Cancels an order (status Canceled) but takes its refund straight back."""

    def cancel(self, tenant: Tenant, order_id: str) -> OrderView:
        view = super().cancel(tenant, order_id)
        with self._lock:
            self._ledger.debit(tenant.id, view.charge)
        return view


class CancelRefundsAgain(PanelState):
    """Accepts a second cancel of a Canceled order and refunds its charge again."""

    def cancel(self, tenant: Tenant, order_id: str) -> OrderView:
        try:
            return super().cancel(tenant, order_id)
        except DomainError:
            view = self.order(tenant, order_id)  # another tenant's id stays unknown
            if view.status is not OrderStatus.CANCELED:
                raise
            with self._lock:
                self._ledger.credit(tenant.id, view.charge)
            return view


class CancelRefundsCompleted(PanelState):
    """Accepts a cancel of a Completed order: refunds its charge and answers it as cancelled,
    while the order stays Completed. Only a controlled run can complete an order on demand."""

    def cancel(self, tenant: Tenant, order_id: str) -> OrderView:
        try:
            return super().cancel(tenant, order_id)
        except DomainError:
            view = self.order(tenant, order_id)  # another tenant's id stays unknown
            if view.status is not OrderStatus.COMPLETED:
                raise
            with self._lock:
                self._ledger.credit(tenant.id, view.charge)
            return view


class OtherKeysOrdersVisible(PanelState):
    """Answers ``status`` for any order id, whichever key placed the order."""

    def order(self, tenant: Tenant, order_id: str) -> OrderView:
        try:
            return super().order(tenant, order_id)
        except DomainError as refused:
            found = self._orders.get(order_id)
            if refused.code is not ErrorCode.UNKNOWN_ORDER or found is None:
                raise
            return found.view(self.clock.now())


class OtherKeysOrdersCancellable(PanelState):
    """Cancels any order id, whichever key placed it (the refund goes to its owner)."""

    def cancel(self, tenant: Tenant, order_id: str) -> OrderView:
        try:
            return super().cancel(tenant, order_id)
        except DomainError as refused:
            found = self._orders.get(order_id)
            if refused.code is not ErrorCode.UNKNOWN_ORDER or found is None:
                raise
            return super().cancel(self._books[found.tenant_id].tenant, order_id)


class RemainsAboveQuantity(PanelState):
    """Reports 100 more ``remains`` than the truth while an order runs (so a fresh order
    has more remaining than was ordered)."""

    def order(self, tenant: Tenant, order_id: str) -> OrderView:
        view = super().order(tenant, order_id)
        if view.status in (OrderStatus.PENDING, OrderStatus.IN_PROGRESS):
            return view._replace(remains=view.remains + 100)
        return view


class CompletedFlapsBack(PanelState):
    """Reports a Completed order as In progress on every read after the first one that
    showed it Completed (the status goes backwards)."""

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        super().__init__(config, clock, store=store)
        self._shown_completed: set[str] = set()

    def order(self, tenant: Tenant, order_id: str) -> OrderView:
        view = super().order(tenant, order_id)
        if view.status is OrderStatus.COMPLETED:
            if view.id in self._shown_completed:
                return view._replace(status=OrderStatus.IN_PROGRESS)
            self._shown_completed.add(view.id)
        return view


# ---------------------------------------------------------------------------------------------
# Wire variations: rewrites of the built app (before it starts)


Rewire = Callable[[web.Application], None]


def _wrap_action(name: str, rewrite: Callable[[Call, Reply], Reply]) -> Rewire:
    """A rewire that passes every answer of action ``name`` through ``rewrite``."""

    def rewire(app: web.Application) -> None:
        current: Mapping[str, Action] = app[ACTIONS]
        table = dict(current)
        inner = table[name]

        def wrapped(call: Call) -> Reply:
            return rewrite(call, inner(call))

        table[name] = wrapped
        app[ACTIONS] = MappingProxyType(table)

    rewire.__doc__ = rewrite.__doc__
    return rewire


def _is_multi(call: Call) -> bool:
    return bool(call.params.get("orders", "").strip())


def _drop_unknown_ids(call: Call, reply: Reply) -> Reply:
    """Multi-status answers only the ids it found: error members are left out."""
    if not _is_multi(call) or not isinstance(reply.body, dict):
        return reply
    kept: dict[str, Json] = {
        order_id: item
        for order_id, item in reply.body.items()
        if not isinstance(item, str) and not (isinstance(item, dict) and "error" in item)
    }
    return reply._replace(body=kept)


def _respelled(word: str, spelling: str, doc: str) -> Callable[[Call, Reply], Reply]:
    """A status rewrite that spells the status ``word`` as ``spelling`` (a word of no
    dialect), in single and multi status."""

    def respell(item: Json) -> Json:
        if isinstance(item, dict) and item.get("status") == word:
            return {**item, "status": spelling}
        return item

    def rewrite(call: Call, reply: Reply) -> Reply:
        body = reply.body
        if _is_multi(call) and isinstance(body, dict):
            return reply._replace(body={key: respell(item) for key, item in body.items()})
        return reply._replace(body=respell(body))

    rewrite.__doc__ = doc
    return rewrite


_queued_for_pending = _respelled(
    "Pending", "Queued",
    'Pending is spelled "Queued", a word of no dialect, in single and multi status.')
_delivered_for_completed = _respelled(
    "Completed", "Delivered",
    'Completed is spelled "Delivered", a word of no dialect, in single and multi status: an '
    "order that finished never reads as finished.")


def _start_count_as_text(call: Call, reply: Reply) -> Reply:
    """Single status says ``"start_count": "n/a"``: a count that is not a number is off the
    status schema."""
    if _is_multi(call) or not isinstance(reply.body, dict) or "start_count" not in reply.body:
        return reply
    return reply._replace(body={**reply.body, "start_count": "n/a"})


class _DefaultsToBalance(Mapping[str, Action]):
    """An action table in which every unknown action name runs ``balance``."""

    def __init__(self, table: Mapping[str, Action]) -> None:
        self._table = table

    def __getitem__(self, name: str) -> Action:
        return self._table.get(name) or self._table["balance"]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def _unknown_action_runs_balance(app: web.Application) -> None:
    """Runs ``balance`` for every action name it does not know."""
    app[ACTIONS] = _DefaultsToBalance(app[ACTIONS])


_FORM = "application/x-www-form-urlencoded"
_INSPECTED_BYTES = 65536


async def _small_form_body(request: web.Request) -> bytes | None:
    """The body of a form POST small enough to inspect here, else ``None``."""
    length = request.content_length
    if request.method != "POST" or request.content_type != _FORM:
        return None
    if length is None or length > _INSPECTED_BYTES:
        return None
    return await request.read()  # cached: the API view reads it again


def _add_middleware(middleware: Any) -> Rewire:
    def rewire(app: web.Application) -> None:
        app.middlewares.append(middleware)

    rewire.__doc__ = middleware.__doc__
    return rewire


@web.middleware
async def _crash_on_invalid_utf8(
    request: web.Request, handler: RequestHandler
) -> web.StreamResponse:
    """A form body that is not UTF-8 once percent-decoded crashes the panel: HTTP 500."""
    body = await _small_form_body(request)
    if body is not None:
        try:
            unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "Internal Server Error"}, status=500)
    return await handler(request)


def _form_action(body: bytes | None) -> str | None:
    """The ``action`` field of a small form body, if it has one."""
    if body is None:
        return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    actions = fields.get("action")
    return actions[0] if actions else None


def _known_key(request: web.Request, body: bytes | None) -> bool:
    """Whether the form's key opens an account (the script checks the key before the action)."""
    fields = parse_qs((body or b"").decode("utf-8", "replace"))
    key = (fields.get("key") or [""])[0]
    return bool(key) and request.app[STATE].authenticate(key) is not None


@web.middleware
async def _cancel_answers_null(
    request: web.Request, handler: RequestHandler
) -> web.StreamResponse:
    """Has no cancel: a PHP script whose switch over the action has no ``cancel`` branch and
    falls through to ``echo json_encode($result)`` of nothing, so every cancel is answered
    ``null`` (while unknown actions get the error envelope)."""
    body = await _small_form_body(request)
    if _form_action(body) == "cancel" and _known_key(request, body):
        return web.Response(text="null", content_type="application/json")
    return await handler(request)


@web.middleware
async def _refill_status_crashes(
    request: web.Request, handler: RequestHandler
) -> web.StreamResponse:
    """``refill_status`` crashes: every such request gets the framework's HTML error page
    with HTTP 500."""
    if _form_action(await _small_form_body(request)) == "refill_status":
        return web.Response(text="<html><body><h1>500 Internal Server Error</h1></body></html>",
                            status=500, content_type="text/html")
    return await handler(request)


def _unparsable_form(body: bytes) -> bool:
    """A stray ``%`` or a field without a name: what a strict form parser chokes on."""
    for field in body.split(b"&"):
        if field.startswith(b"="):
            return True
        rest = field
        while b"%" in rest:
            rest = rest[rest.index(b"%") + 1 :]
            if len(rest) < 2 or not all(chr(c) in "0123456789abcdefABCDEF" for c in rest[:2]):
                return True
    return False


@web.middleware
async def _html_for_unparsable_forms(
    request: web.Request, handler: RequestHandler
) -> web.StreamResponse:
    """A form body the framework cannot parse gets its HTML error page, with HTTP 200."""
    body = await _small_form_body(request)
    if body is not None and _unparsable_form(body):
        return web.Response(
            text="<html><body><h1>Whoops, looks like something went wrong.</h1></body></html>",
            content_type="text/html",
        )
    return await handler(request)


# ---------------------------------------------------------------------------------------------
# The matrix


@dataclass(frozen=True, slots=True)
class BrokenPanel:
    """One deliberately broken panel and what the harness must say about it.

    Every clause of the run keeps the verdict the unbroken panel gets in the same mode, except
    ``catches`` and ``also_fails`` (which must fail) and ``crosstalk`` (which moves)."""

    name: str
    defect: str
    """The defect, as the issue lists it."""
    catches: tuple[str, ...]
    """The MUST clauses the harness must FAIL it under."""
    caught_by: tuple[str, ...]
    """Harness tests or scenarios whose FAIL evidence shows the defect."""
    state_type: type[PanelState] = PanelState
    rewire: Rewire | None = None
    also_fails: tuple[str, ...] = ()
    """Clauses the defect breaks by its nature too (a clause it really violates): each must
    fail as well, at its level (FAIL for MUST, NON-STRICT for SHOULD and MAY)."""
    crosstalk: tuple[tuple[str, str], ...] = ()
    """Clauses whose verdict moves (to FAIL, NON-STRICT or N/A) only because a check is not
    specific yet, or because a test stops at the defect's failure before it judges them; each
    with why. A misdiagnosis the harness should lose one day: the entry goes with it."""
    mode: Mode = Mode.BLACK_BOX

    @property
    def variation(self) -> str:
        """How the mock is broken: the docstring of the state subclass or of the rewire."""
        source: Any = self.state_type if self.rewire is None else self.rewire
        return " ".join((source.__doc__ or "").split())

    def app(self, config: MockConfig) -> web.Application:
        """The mock's app for ``config`` with this panel's one rule broken; without the control
        API (black-box), orders move on status reads instead of the clock (``BLACK_BOX_TIMINGS``
        says why)."""
        black_box = config.control_token is None
        state_type = _moved_on_reads(self.state_type) if black_box else self.state_type
        app = create_app(config, state_type=state_type)
        if self.rewire is not None:
            self.rewire(app)
        return app


def _why(reason: str, *clauses: str) -> tuple[tuple[str, str], ...]:
    """Cross-talk entries: ``clauses``, each with the same ``reason``."""
    return tuple((clause, reason) for clause in clauses)


def _stopped_at(clause: str, where: str) -> str:
    """Why a clause is N/A: it is judged in ``where`` after ``clause``, whose failure stops it."""
    return f"N/A: judged after {clause} in {where}, stopped at {clause}'s failure"


_VALID_ORDER = "test_04_add.py::test_valid_order_debits_rate_times_quantity"
_CANCEL_ONCE = "test_08_cancel.py::test_cancel_refunds_once"
_ISOLATION = "test_09_isolation.py and isolation.yaml"
_OVERDRAW_PRICE = (
    "the overdraw test (harness/suite/test_06_money.py) also checks the balance against the "
    "advertised price, so a wrong debit reads as an overdraw")
_COMPLETED_CHARGE = (
    "test_10_lifecycle.py::test_completed_order compares the completed order's charge with the "
    "measured debit, not with the charge shown before completion: the charge/debit difference "
    "(MONEY-003's) reads as a completion that changed the charge")
_UNREADABLE_WORD = (
    "N/A: blocked by STATUS-002: every test that waits for an order to end (the driver's "
    "follow()) stops at the first status word it cannot read")


BROKEN_PANELS: tuple[BrokenPanel, ...] = (
    BrokenPanel(
        "stale-price-list", "a debit that is not rate * quantity / 1000",
        ("MONEY-001",), (_VALID_ORDER, "balance-debits.yaml::balance-debits"),
        StalePriceList,
        crosstalk=(
            ("MONEY-007", _OVERDRAW_PRICE),
            ("DRIP-001", "test_05_dripfeed.py compares the debit with the advertised rate * "
                         "runs * quantity: the surcharge reads as a total not charged on runs "
                         "* quantity"),
            *_why(_stopped_at("MONEY-001", _VALID_ORDER), "LIFE-001", "MONEY-009"),
        ),
    ),
    BrokenPanel(
        "debit-two-steps-off", "a debit two units in the last place above the price",
        ("MONEY-001",), (_VALID_ORDER, "balance-debits.yaml::balance-debits"),
        # The reported charge and the refunds stay the true price's: the package debit is as
        # wrong as the per-1000 one, and money is not conserved. Every check that compares a
        # measured debit with a price, a charge or a refund sees the two steps too.
        DebitsTwoStepsMore, also_fails=("MONEY-002", "MONEY-010"),
        crosstalk=(
            ("MONEY-003", _stopped_at("MONEY-001", f"{_VALID_ORDER} and balance-debits.yaml")
             + " (the defect does break it: the charge is the price, the debit two steps "
             "more)"),
            *_why(_stopped_at("MONEY-001", _VALID_ORDER), "LIFE-001", "MONEY-009"),
            ("MONEY-007", _OVERDRAW_PRICE),
            ("CANCEL-003", f"{_CANCEL_ONCE} expects the balance back where it was before the "
                           "order: the cancel refunds the charge, so the two steps debited "
                           "beyond it read as a short refund"),
            *_why(_stopped_at("CANCEL-003", _CANCEL_ONCE), "BATCH-006", "CANCEL-004"),
            ("ISO-005", "isolation.yaml expects the ordering key's balance to move by the "
                        "advertised price: the two steps read as balances that are not "
                        "independent"),
            ("LIFE-002", _COMPLETED_CHARGE),
            ("DRIP-001", "test_05_dripfeed.py compares the debit with rate * runs * quantity: "
                         "the two steps read as a total not charged on runs * quantity"),
            ("ADD-010", "test_04_add.py compares the debit with rate * lines: the two steps "
                        "read as comments not charged per line"),
        ),
    ),
    BrokenPanel(
        "charge-differs-from-debit", "a reported charge that differs from the debit",
        ("MONEY-003",), (_VALID_ORDER, "balance-debits.yaml::balance-debits"),
        ReportsTwiceTheCharge,
        crosstalk=(
            ("LIFE-002", _COMPLETED_CHARGE),
            *_why(_stopped_at("MONEY-003", _VALID_ORDER), "LIFE-001", "MONEY-009"),
        ),
    ),
    BrokenPanel(
        "min-not-enforced", "min not enforced",
        ("ADD-003",), ("test_04_add.py::test_quantity_below_min_is_refused",),
        MinNotEnforced,
    ),
    BrokenPanel(
        "max-not-enforced", "max not enforced",
        ("ADD-004",), ("test_04_add.py::test_quantity_above_max_is_refused",),
        # A drip-feed total above max is a quantity above max.
        MaxNotEnforced, also_fails=("DRIP-002",),
    ),
    BrokenPanel(
        "unknown-service-accepted", "an unknown service accepted",
        ("ADD-005",), ("test_04_add.py::test_unknown_service_is_refused",),
        UnknownServiceFallsBack,
    ),
    BrokenPanel(
        "wrong-key-accepted", "a wrong key accepted",
        ("AUTH-002",), ("test_02_errors_and_keys.py::test_wrong_key_is_refused",),
        WrongKeyIsFirstAccount, also_fails=("AUTH-004",),
    ),
    BrokenPanel(
        "blank-key-accepted", "an empty key accepted",
        ("AUTH-003",), ("test_02_errors_and_keys.py::test_empty_key_is_refused",),
        BlankKeyIsFirstAccount,
    ),
    BrokenPanel(
        "order-beyond-balance", "an order accepted beyond the balance (second key)",
        ("MONEY-005",), ("test_06_money.py::test_order_beyond_the_balance_is_refused",),
        AcceptsBeyondBalance,
        crosstalk=(
            ("MONEY-006", "N/A: the beyond-balance test (test_06_money.py) stops at "
                          "MONEY-005's failure, and the overdraw test finds the second key "
                          "drained by the accepted order"),
            ("MONEY-007", "N/A: the accepted beyond-balance order took all the second key "
                          "held, so the overdraw test (test_06_money.py) finds no order size "
                          "that fits it"),
        ),
    ),
    BrokenPanel(
        "concurrent-overdraw", "concurrent orders that overdraw",
        ("MONEY-007",), ("test_06_money.py::test_concurrent_orders_never_overdraw",),
        # The overdrawn balance is negative: off the balance schema and below zero.
        FundsCheckedOnStaleBalance, also_fails=("BAL-001", "BAL-002"),
        crosstalk=(
            ("MONEY-008", "the overdraw test's balance read is judged by MONEY-008's format "
                          "check too, which takes the minus sign for a malformed decimal "
                          "(BAL-002's finding)"),
        ),
    ),
    BrokenPanel(
        "cancel-without-refund", "a cancel that does not refund",
        ("CANCEL-003",), (f"{_CANCEL_ONCE}",),
        # A Canceled order whose refund never came: money is not conserved.
        CancelKeepsTheMoney, also_fails=("MONEY-010",),
        crosstalk=_why(_stopped_at("CANCEL-003", _CANCEL_ONCE), "BATCH-006", "CANCEL-004"),
    ),
    BrokenPanel(
        "cancel-refunds-twice", "a cancel that refunds twice",
        ("CANCEL-004",), (_CANCEL_ONCE,),
        CancelRefundsAgain,
        crosstalk=(
            ("BATCH-006", f"N/A: {_CANCEL_ONCE} checks it before CANCEL-004 but credits its "
                          "clauses only when it ends, and it stops at CANCEL-004's failure"),
        ),
    ),
    BrokenPanel(
        "other-keys-order-visible", "another key's order visible",
        ("ISO-001",), ("test_09_isolation.py::test_another_keys_order_is_invisible",),
        OtherKeysOrdersVisible,
        crosstalk=(
            ("ISO-002", _stopped_at("ISO-001", _ISOLATION) + " (the defect does break it: "
                        "multi-status answers the order too)"),
            *_why(_stopped_at("ISO-001", _ISOLATION), "ISO-003", "ISO-004"),
        ),
    ),
    BrokenPanel(
        "other-keys-order-cancellable", "another key's order cancellable",
        ("ISO-003",), ("test_09_isolation.py::test_another_keys_order_is_invisible",),
        OtherKeysOrdersCancellable,
    ),
    BrokenPanel(
        "multi-status-drops-unknown-ids", "multi-status that drops unknown ids",
        ("MSTATUS-002",),
        ("test_07_status.py::test_multi_status_keeps_unknown_ids_and_agrees_with_status",),
        rewire=_wrap_action("status", _drop_unknown_ids),
        # Every multi-status with an id it does not answer misses that member: a batch of
        # unknown ids, another key's order.
        also_fails=("MSTATUS-001", "BATCH-001", "BATCH-004", "ISO-002"),
        crosstalk=(
            *_why(_stopped_at("ISO-002", _ISOLATION), "ISO-003", "ISO-004"),
            ("MSTATUS-003", _stopped_at("MSTATUS-002", "test_07_status.py and "
                                                       "multi-status.yaml")),
        ),
    ),
    BrokenPanel(
        "unknown-status-word", "an unknown status word",
        ("STATUS-002",), (_VALID_ORDER,),
        rewire=_wrap_action("status", _queued_for_pending),
        # A word of no dialect is off the status and multi-status schemas too.
        also_fails=("STATUS-001", "MSTATUS-001"),
        crosstalk=_why(_UNREADABLE_WORD, "LIFE-002", "LIFE-003", "MONEY-011", "REFILL-001",
                       "REFILL-002", "REFILL-005", "REFILL-006", "RSTATUS-001", "RSTATUS-004"),
    ),
    BrokenPanel(
        "remains-above-quantity", "remains above quantity",
        ("STATUS-004",), (_VALID_ORDER,),
        RemainsAboveQuantity,
        crosstalk=(
            ("ADD-010", "test_04_add.py reads the order's quantity from its remains: remains "
                        "above the quantity (STATUS-004's) read as a wrong line count"),
            ("DRIP-001", "test_05_dripfeed.py reads the order's total from its remains: "
                         "remains above the quantity (STATUS-004's) read as a wrong runs * "
                         "quantity total"),
        ),
    ),
    BrokenPanel(
        "status-goes-backwards", "status going backwards",
        ("STATUS-008",), ("test_10_lifecycle.py::test_status_moves_forward_only",),
        # Completed is terminal: leaving it changes a final status.
        CompletedFlapsBack, also_fails=("LIFE-004",),
    ),
    BrokenPanel(
        "refill-without-refill-service", "a refill accepted for a service without refill",
        ("REFILL-002",), ("test_10_lifecycle.py::test_refill_needs_a_refill_service",),
        RefillFlagIgnored,
    ),
    BrokenPanel(
        "completed-order-cancelled",
        "a completed order cancelled (an extra: only a controlled run shows it)",
        ("CANCEL-006",), ("test_08_cancel.py::test_completed_order_cannot_be_cancelled",),
        CancelRefundsCompleted, mode=Mode.CONTROLLED,
    ),
    BrokenPanel(
        "status-off-contract", "a response off the contract",
        ("STATUS-001",), (_VALID_ORDER,),
        rewire=_wrap_action("status", _start_count_as_text),
        # start_count has a clause of its own.
        also_fails=("LIFE-005",),
    ),
    BrokenPanel(
        "5xx-on-invalid-utf8", "a 5xx answer to malformed input",
        ("ROBUST-003",), ("test_11_robustness.py::test_invalid_utf8",),
        # Random bytes are malformed bodies that are not UTF-8 either.
        rewire=_add_middleware(_crash_on_invalid_utf8), also_fails=("ROBUST-001",),
    ),
    BrokenPanel(
        "html-on-unparsable-form", "a non-JSON answer to malformed input",
        # A hand-made unparsable body is a probe: its own clause judges the HTML page, not
        # GEN-002 as well (one defect, one failure).
        ("ROBUST-002",), ("test_11_robustness.py::test_unusable_bodies_get_an_error",),
        rewire=_add_middleware(_html_for_unparsable_forms),
    ),
    BrokenPanel(
        "completed-spelled-delivered", "a terminal status word of no dialect (fails at once)",
        ("STATUS-002",), ("test_04_add.py::", "test_05_dripfeed.py::", "test_06_money.py::",
                          "test_10_lifecycle.py::", "balance-debits.yaml::", "cancel.yaml::",
                          "drip-feed.yaml::", "partial-refunds.yaml::", "multi-status.yaml::"),
        rewire=_wrap_action("status", _delivered_for_completed),
        # Off the status schema too. (No multi-status of this run reads a finished order.)
        also_fails=("STATUS-001",),
        crosstalk=_why(_UNREADABLE_WORD, "LIFE-002", "REFILL-001", "REFILL-002", "REFILL-005",
                       "REFILL-006", "RSTATUS-001", "RSTATUS-004"),
    ),
    BrokenPanel(
        "cancel-answers-null", "an action not offered, answered null (one failure, not five)",
        ("CANCEL-001",), ("test_06_money.py::", "test_08_cancel.py::", "test_09_isolation.py::"),
        rewire=_add_middleware(_cancel_answers_null),
        crosstalk=_why("N/A: blocked by CANCEL-001: every test that cancels needs a usable "
                       "cancel (one failure, not five)",
                       "BATCH-006", "CANCEL-003", "CANCEL-004", "CANCEL-005", "CANCEL-007"),
    ),
    BrokenPanel(
        "refill-status-500", "an HTTP 500 page (one failure, not four)",
        ("ROBUST-001",), ("test_10_lifecycle.py::", "test_09_isolation.py::",
                          "test_14_stateful.py::"),
        rewire=_add_middleware(_refill_status_crashes),
        crosstalk=(
            *_why("N/A: blocked by ROBUST-001: refill_status is unusable",
                  "RSTATUS-002", "RSTATUS-003"),
            *_why("N/A: test_10_lifecycle.py::test_refill_of_a_completed_order asks offers() "
                  "and reads the crash as refill_status not offered, not as blocked by "
                  "ROBUST-001", "RSTATUS-001", "RSTATUS-004"),
            ("REFILL-006", "N/A: test_10_lifecycle.py::test_refill_of_a_completed_order "
                           "checks it, then ends N/A for refill_status: a clause it already "
                           "checked is not credited"),
        ),
    ),
    BrokenPanel(
        "unknown-action-answered", "an unknown action answered with anything but an error",
        ("ERR-005",), ("test_02_errors_and_keys.py::test_unknown_action_is_an_error",),
        # A malformed action name is an unknown one: it is answered with a balance too.
        rewire=_unknown_action_runs_balance, also_fails=("ROBUST-002",),
        crosstalk=(
            ("MSTATUS-005", "test_07_status.py::test_multi_status_aliases takes any success "
                            "to action=orders for an alias and judges its shape: here it is "
                            "the balance every unknown action gets (ERR-005's finding)"),
        ),
    ),
)


# The control case: the same mock and the same run, nothing broken (black-box; and controlled,
# the baseline of the controlled rows).
UNBROKEN = BrokenPanel("unbroken", "none", (), ())
_UNBROKEN_IN: Mapping[Mode, BrokenPanel] = MappingProxyType({
    Mode.BLACK_BOX: UNBROKEN,
    Mode.CONTROLLED: replace(UNBROKEN, name="unbroken-controlled", mode=Mode.CONTROLLED),
})


def unbroken(mode: Mode) -> BrokenPanel:
    """The unbroken panel run in ``mode``: what a broken panel's verdicts are compared with."""
    return _UNBROKEN_IN[mode]


def by_name(name: str) -> BrokenPanel:
    for panel in (*BROKEN_PANELS, *_UNBROKEN_IN.values()):
        if panel.name == name:
            return panel
    raise KeyError(f"no broken panel {name!r}")


def defects_table() -> str:
    """The Markdown of ``DEFECTS.md``, generated from :data:`BROKEN_PANELS`."""
    lines = [
        "# The broken-panels matrix",
        "",
        "Generated from `tests/conformance/broken_panels.py` (`python -m",
        "tests.conformance.broken_panels table > tests/conformance/DEFECTS.md`);",
        "`tests/conformance/test_defects.py` runs the harness against each broken panel, checks",
        "every row, and fails if this file is out of date. Each panel is the reference mock with",
        "one rule broken. *Caught under* must be FAIL, with evidence from *caught by*; *also",
        "fails* must fail too (FAIL, or NON-STRICT for a SHOULD or MAY clause): the defect breaks",
        "them by its nature. *Cross-talk* moves (to FAIL, NON-STRICT or N/A) although the",
        "defect does not break it: a check that is not specific yet, or a test stopped by the",
        "defect's failure before it judged the clause (an entry that no longer moves at the",
        "project's seed must go). Every other clause must keep the verdict",
        "(PASS, NON-STRICT, N/A or FAIL) the unbroken panel gets in the same mode. Black-box runs",
        "get no control API, a spend cap and `--panel-second-key`, and their orders move on",
        "status reads (`BLACK_BOX_TIMINGS`); controlled runs get the control API as well.",
        "",
        "| defect | broken panel | caught under | also fails "
        "| cross-talk (why the check is not specific yet) | caught by | mode |",
        "|---|---|---|---|---|---|---|",
    ]
    for panel in BROKEN_PANELS:
        tests = "<br>".join(f"`{test}`" for test in panel.caught_by)
        crosstalk = "<br>".join(f"{clause}: {why}" for clause, why in panel.crosstalk)
        lines.append(
            f"| {panel.defect} | `{panel.name}`: {panel.variation} | "
            f"{', '.join(panel.catches)} | {', '.join(panel.also_fails) or '-'} | "
            f"{crosstalk or '-'} | {tests} | {panel.mode.value} |"
        )
    lines += [
        "",
        "## Flawed independent panels",
        "",
        "The same columns for the flawed panels (`tests/conformance/flaws.py`, run by",
        "`test_flaws.py`): the `perfectpanel-classic` panel of `legit_panels.py`, written apart",
        "from the mock, with one flaw in its books (`flawed_ledger.py`) or its wire",
        "(`flawed_wire.py`), so that detection never depends on the mock's internals.",
        "",
        "| defect | flaw | caught under | also fails "
        "| cross-talk (why the check is not specific yet) | caught by | mode |",
        "|---|---|---|---|---|---|---|",
    ]
    for flawed in (*flawed_wire.FLAWED, *flawed_ledger.FLAWED):
        tests = "<br>".join(f"`{test}`" for test in flawed.caught_by)
        crosstalk = "<br>".join(f"{clause}: {why}" for clause, why in flawed.crosstalk)
        mode = "controlled" if flawed.controlled else "black-box"
        lines.append(
            f"| {flawed.defect} | `{flawed.name}` | {', '.join(flawed.catches)} | "
            f"{', '.join(flawed.also_fails) or '-'} | {crosstalk or '-'} | {tests} | {mode} |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Serving one (in a process of its own, so the harness under test never shares its GIL)


def _keys(text: str) -> tuple[tuple[str, Decimal], ...]:
    pairs = []
    for item in text.split(","):
        key, _, balance = item.rpartition("=")
        pairs.append((key, Decimal(balance)))
    return tuple(pairs)


def config_for(panel: BrokenPanel, keys: tuple[tuple[str, Decimal], ...],
               control_token: str | None) -> MockConfig:
    """The mock configuration a broken panel runs with in its mode."""
    if panel.mode is Mode.CONTROLLED:
        return MockConfig(profile=PROFILE, keys=keys, control_token=control_token,
                          clock="manual", rate_limit="off")
    return MockConfig(profile=PROFILE, keys=keys, clock="real", timings=BLACK_BOX_TIMINGS,
                      rate_limit="off")


async def _serve(panel: BrokenPanel, config: MockConfig) -> None:
    runner = web.AppRunner(panel.app(config), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"http://{host}:{port}{get_profile(config.profile).wire.paths[0]}", flush=True)
        # Serve until the parent closes our stdin (or goes away).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> int:
    if argv[:1] == ["table"]:
        sys.stdout.write(defects_table())
        return 0
    if len(argv) == 2 and argv[0] == "serve":
        panel = by_name(argv[1])
        config = config_for(panel, _keys(os.environ["BROKEN_PANEL_KEYS"]),
                            os.environ.get("BROKEN_PANEL_CONTROL_TOKEN"))
        asyncio.run(_serve(panel, config))
        return 0
    print("usage: broken_panels.py table | serve NAME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
