"""The panel state facade: every API and control operation on tenants, orders and refills.

Each public method takes the lock, settles the timed events that are due (all but
``authenticate``, which only reads keys), validates everything, and only then changes
anything; so a :class:`DomainError` (or ``ValueError`` / ``KeyError`` on the control plane)
always leaves the state exactly as it was, and a funds check and its debit can never be
separated by another call, from a coroutine or a thread.

Decisions documented here (the wire layer and the harness rely on them):

- Ids: order and refill ids come from one counter each per panel, so they are unique across
  tenants; another tenant's id answers ``UNKNOWN_ORDER`` / ``UNKNOWN_REFILL`` with the same
  params (``order=<id as given>`` / ``refill=<id as given>``) as a never-issued id.
- ``reset()`` forgets tenants, keys, balances, orders, refills and pending timers, but the id
  and tenant counters keep counting and listeners stay subscribed: an id or a ``Tenant`` held
  from before the reset can never alias something created after it. A stale ``Tenant`` is
  refused with ``INVALID_KEY``.
- Refills are allowed for ``Completed`` (or ``Done``) orders only (not ``Partial``), within
  ``service.refill_days`` days of the order's completion.
- Cancel refunds the whole charge and leaves ``remains == quantity``; a Partial refunds
  ``quantize(charge * remains / quantity)``. Each order's refund happens once: final statuses
  are absorbing.
- Listeners hear every order status change (timed or control or cancel), not the creation,
  with the order as it was at the moment of the change. They run under the lock, once the
  operation's changes are committed (to the state file too), and must not raise; an exception
  reaches the caller after every listener has heard every change.
- Durability (:meth:`PanelState.open`): every operation records what it touched in a
  :class:`~mockpanel.state.persistence.Changes` (nothing, in a state without a file:
  :class:`~mockpanel.state.persistence.Unrecorded`); the outermost one writes it to the file
  in one transaction before it returns, even when it then refuses (time-driven changes made
  while settling are kept). If the write fails the state is reloaded from the file, so memory
  and file never disagree, and ``StoreError`` is raised. The clock horizon kept in the file is
  never behind a reading the state has used: a ``ManualClock`` is stored exactly, a clock that
  runs by itself ``REAL_CLOCK_LEASE`` seconds ahead (one write per lease at most). Reopening
  advances the given clock to at least the horizon (a fresh ``ManualClock`` lands on it
  exactly), so statuses never go backwards. A clock object cannot be wound back, so a failed
  write during ``advance_clock`` leaves the clock ahead of the file; the next write catches up.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.shortcuts import NO_SHORTCUTS
from mockpanel.state.catalog import MAX_COUNT, Service
from mockpanel.state.clock import Clock, ManualClock, check_seconds
from mockpanel.state.config import StateConfig
from mockpanel.state.ids import IdSequence
from mockpanel.state.ledger import Ledger
from mockpanel.state.money import SharedAmounts, check_amount, format_money, quantize
from mockpanel.state.orders import (
    DELIVERED_STATUSES,
    UNDELIVERED_STATUSES,
    Order,
    OrderStatus,
    OrderView,
    Outcome,
    Progress,
)
from mockpanel.state.params import new_order, validate_add
from mockpanel.state.persistence import (
    Changes,
    Fingerprint,
    Image,
    Meta,
    StateFileError,
    Store,
    StoreError,
    Unrecorded,
)
from mockpanel.state.refills import FINAL_REFILL_STATUSES, Refill, RefillStatus, RefillView
from mockpanel.state.schedule import EVENT_KIND_ORDER_START, Event, EventKind, Scheduler
from mockpanel.state.snapshot import order_json, refill_json
from mockpanel.state.tenants import KeyRing, Tenant, check_currency, new_key
from mockpanel.state.transitions import check_transition

__all__ = ["REAL_CLOCK_LEASE", "OrderListener", "PanelState"]

OrderListener = Callable[[OrderView], None]

# How far ahead of a self-running clock's reading the state file's horizon is set: at most one
# clock-only write per this many seconds, and at most this much of a jump after a crash.
REAL_CLOCK_LEASE = 1.0
_DAY = 86_400.0
_START_COUNT_SPAN = 50_000
_SHARED_CHARGES = 4096  # bounds the table of shared charges (a few hundred KiB at most)


@dataclass(slots=True)
class _Holdings:
    """What one tenant owns, in creation order (so listing never scans other tenants)."""

    tenant: Tenant
    order_ids: list[str] = field(default_factory=list)
    refill_ids: list[str] = field(default_factory=list)


def _catch_up(clock: Clock, horizon: float) -> None:
    """Advance ``clock`` to at least ``horizon``: time never goes backwards across a restart."""
    behind = horizon - clock.now()
    if behind > 0:
        clock.advance(behind)  # exact for a ManualClock started at 0
    nudge = math.ulp(horizon)
    while clock.now() < horizon:  # a clock's own float arithmetic may fall a hair short
        clock.advance(nudge)
        nudge *= 2


def _count_or_none(name: str, value: int | None, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ValueError(f"{name} must be an int in 0..{high}, got {value!r}")
    return value


class PanelState:
    """The whole state of one mock panel.

    Quiet calls: in memory (no state file) and with no timer due, an operation would settle
    nothing, record nothing and tell no listener, so :meth:`balance`, :meth:`order` and
    :meth:`place_order` then run under the lock alone (:meth:`_quiet`). The full operation is
    their reference twin, taken with a state file, when a timer is due, or always with
    ``MOCKPANEL_NO_SHORTCUTS=1``; the tests hold the two to the same answers.
    """

    def __init__(self, config: StateConfig, clock: Clock, *, store: Store | None = None) -> None:
        """An in-memory panel, or with ``store`` one restored from (and kept in) that file.

        Prefer :meth:`open` for a state file; it also closes the file if restoring fails.
        """
        self.config = config
        self.clock = clock
        self._lock = threading.RLock()
        self._catalog: Mapping[int, Service] = MappingProxyType(
            {service.id: service for service in config.catalog}
        )
        self._order_ids, self._refill_ids = self._id_sequences()
        self._tenant_count = 0
        self._listeners: list[OrderListener] = []
        self._keys = KeyRing()
        self._ledger = Ledger(config.money_places)
        # Every order starts with this refund (a Decimal is immutable, so all share one).
        self._no_refund = quantize(Decimal(0), config.money_places)
        # Charges seen so far, so equal charges share one Decimal (most orders repeat a few).
        self._amounts = SharedAmounts(config.money_places, _SHARED_CHARGES)
        self._books: dict[str, _Holdings] = {}
        # The ids of the tenants the control plane has suspended. Never changed in place: a
        # change binds a new frozenset, under the lock, so is_suspended may read it without.
        self._suspended: frozenset[str] = frozenset()
        self._orders: dict[str, Order] = {}
        self._refills: dict[str, Refill] = {}
        self._scheduler = Scheduler()
        # Told when the earliest due time may have come nearer (see watch_due); kept across
        # the schedulers that reset() and a reload put in place.
        self._due_watch: Callable[[float], None] | None = None
        # Durability: what the running operation changed, the views its listeners will hear
        # once it is committed, how deep operations are nested, and the clock horizon.
        self._store = store
        self._changes = Changes() if store is not None else Unrecorded()
        self._heard: list[OrderView] = []
        self._depth = 0
        self._failure: StoreError | None = None
        # One reusable context for every operation (``with self._operation:``): it holds no
        # state of its own (the depth lives here), so nesting and threads are safe.
        self._operation = _Operation(self)
        self._lease = 0.0 if isinstance(clock, ManualClock) else REAL_CLOCK_LEASE
        # Shortcut: quiet calls (see the class docstring); twin: the full operation.
        self._may_be_quiet = store is None and not NO_SHORTCUTS
        self._horizon = 0.0
        if store is not None:
            self._restore(store.load(self._catalog, config.money_places))
            _catch_up(clock, self._horizon)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        config: StateConfig,
        clock: Clock,
        *,
        keys: Iterable[tuple[str, Decimal]] = (),
    ) -> PanelState:
        """A panel kept in the SQLite state file ``path``: restored when the file holds one,
        started empty (creating the file) otherwise.

        Each ``(key, balance)`` in ``keys`` gets a tenant unless the file already has one for
        that key: an existing key keeps its balance, orders and tenant id (the balance given
        is ignored), so restarting with the same keys never duplicates or refills a tenant.
        :class:`StateFileError` when the file cannot be used; the file is closed again then.
        """
        store = Store.open(path, Fingerprint.of(config))
        try:
            state = cls(config, clock, store=store)
            with state._operation:
                for key, balance in keys:
                    if state._keys.find(key) is None:
                        state.create_tenant(balance, key=key)
        except BaseException:
            store.close()
            raise
        return state

    def close(self) -> None:
        """Close the state file (a no-op in memory); every later call raises ``StoreError``."""
        with self._lock:
            if self._store is not None and not self._store.closed:
                self._store.close()
                self._failure = StoreError(f"the state file {self._store.path} is closed")

    # ----------------------------------------------------------------- tenants and money

    def create_tenant(
        self, balance: Decimal, currency: str | None = None, key: str | None = None
    ) -> tuple[Tenant, str]:
        """A new isolated tenant with ``balance`` and its API key (random when ``key`` is None).

        ``ValueError`` for a bad balance (negative, non-finite, float, too many decimals), a
        bad currency, or a key that is malformed or already in use; nothing is created then.
        """
        if isinstance(balance, int) and not isinstance(balance, bool):
            balance = Decimal(balance)
        if not isinstance(balance, Decimal):
            raise ValueError(f"balance must be a Decimal, got {type(balance).__name__}")
        with self._operation:
            self._settle()
            opening = check_amount(balance, self.config.money_places)
            tenant = Tenant(
                f"t{self._tenant_count + 1}",
                check_currency(self.config.default_currency if currency is None else currency),
            )
            secret = new_key() if key is None else key
            digest = self._keys.add(secret, tenant)  # validates the key; the first mutation
            self._tenant_count += 1
            self._ledger.open(tenant.id, opening)
            self._books[tenant.id] = _Holdings(tenant)
            self._changes.tenant_opened(tenant, digest)
            return tenant, secret

    def authenticate(self, key: str) -> Tenant | None:
        """The tenant owning ``key`` (constant-time comparison of digests), or ``None``.

        The one read that neither settles nor commits: which key belongs to whom does not
        depend on time, and every API request makes this call before its action (which
        settles), so a full operation here would do that work twice per request.

        Nor does it take the lock (about 0.7 % of a balance request's instructions): the
        key ring is only ever replaced whole (reset, reload) or grown by one dict insertion,
        and reading an attribute or looking a dict up is atomic, so this sees the ring from
        before a concurrent change or from after it, as if it had queued behind the lock on
        one side of that change. A tenant found here is only a claim: the action's
        operation, under the lock, refuses one the state no longer holds (:meth:`_holdings`:
        a tenant from before a reset, or one whose creation failed to commit and was undone).
        """
        if not isinstance(key, str):
            return None
        failure = self._failure
        if failure is not None:
            raise StoreError(str(failure)) from failure
        return self._keys.find(key)

    def is_suspended(self, tenant: Tenant) -> bool:
        """Whether ``tenant``'s account is suspended (its API calls are all refused).

        Read without the lock, which every request would otherwise take once more for it:
        the set of suspended ids is immutable and only ever replaced whole, and reading or
        binding one attribute is atomic, so this sees the set from before a concurrent
        change or the one after it, never half of one; the call simply lands on one side of
        that change, as it would behind the lock. What must not slip past a suspension (an
        order, a refund) is checked again under the lock by the operation itself
        (:meth:`_holdings`). A tenant this state does not know is not suspended.
        """
        return tenant.id in self._suspended

    def set_suspended(self, tenant_id: str, suspended: bool) -> bool:
        """Suspend (or resume) the tenant ``tenant_id``; idempotent; ``KeyError`` for a tenant
        this state does not know. Return whether anything changed.

        A suspended tenant's every call that names it (balance, add, status, cancel, refill,
        refill status) is refused with ``ACCOUNT_SUSPENDED`` and changes nothing; its orders
        already placed run their course, and the control plane may still finish them.
        """
        suspended = bool(suspended)
        with self._operation:
            self._settle()
            if tenant_id not in self._books:
                raise KeyError(tenant_id)
            if (tenant_id in self._suspended) is suspended:
                return False
            if suspended:  # a new set bound whole (see is_suspended), never one changed
                self._suspended = self._suspended | {tenant_id}
            else:
                self._suspended = self._suspended - {tenant_id}
            self._changes.tenant_suspended(tenant_id, suspended)
            return True

    def balance(self, tenant: Tenant) -> Decimal:
        with self._lock:
            if self._quiet(self.clock.now()):
                self._holdings(tenant)
                return self._ledger.balance(tenant.id)
        with self._operation:
            self._settle()
            self._holdings(tenant)
            return self._ledger.balance(tenant.id)

    def services(self) -> tuple[Service, ...]:
        return self.config.catalog

    # ----------------------------------------------------------------------- orders

    def place_order(self, tenant: Tenant, service: str, params: Mapping[str, str]) -> OrderView:
        """Validate, price, debit and create an order from raw form strings.

        Refusals, in precedence order: the service, the parameters, the quantity bounds, then
        ``INSUFFICIENT_FUNDS``; see :mod:`mockpanel.state.params`.
        """
        with self._lock:
            now = self.clock.now()
            if self._quiet(now):
                return self._place(tenant, service, params, now)
        with self._operation:
            return self._place(tenant, service, params, self._settle())

    def _place(
        self, tenant: Tenant, service: str, params: Mapping[str, str], now: float
    ) -> OrderView:
        """:meth:`place_order`'s work at ``now``, under the lock: in a quiet call, or in an
        operation that settled first."""
        holdings = self._holdings(tenant)
        request = validate_add(
            self._catalog, service, params, self._amounts, self.config.order_statuses
        )
        order_id = self._order_ids.peek()
        # INSUFFICIENT_FUNDS changes nothing; the debit is in money steps, as the price is
        self._ledger.debit_units(tenant.id, request.charge_units)
        self._order_ids.use_up()
        order = new_order(
            request,  # its charge shared with equal charges: see SharedAmounts
            order_id=order_id,
            tenant_id=tenant.id,
            currency=tenant.currency,
            created_at=now,
            refunded=self._no_refund,
        )
        self._orders[order_id] = order
        holdings.order_ids.append(order_id)
        timer = self._scheduler.push(
            now + self.config.timings.order_pending, EVENT_KIND_ORDER_START, order_id, 0
        )
        self._changes.order_placed(order, timer)
        return order.view(now)

    def order(self, tenant: Tenant, order_id: str) -> OrderView:
        with self._lock:
            now = self.clock.now()
            if self._quiet(now):
                return self._owned_order(tenant, order_id).view(now)
        with self._operation:
            now = self._settle()
            return self._owned_order(tenant, order_id).view(now)

    def orders(self, tenant: Tenant) -> tuple[OrderView, ...]:
        """All of ``tenant``'s orders, oldest first."""
        with self._operation:
            now = self._settle()
            holdings = self._holdings(tenant)
            return tuple(self._orders[oid].view(now) for oid in holdings.order_ids)

    def cancel(self, tenant: Tenant, order_id: str) -> OrderView:
        """Cancel, when the service allows it and the status is cancellable: an order with
        nothing delivered yet ends Canceled with a full refund; one cancelled mid-delivery (a
        profile may allow In progress) ends Partial, its undelivered share refunded, so its
        remains never grow back to the full quantity."""
        with self._operation:
            now = self._settle()
            order = self._owned_order(tenant, order_id)
            if not order.service.cancel or order.status not in self.config.cancellable:
                raise DomainError(
                    ErrorCode.ORDER_NOT_CANCELLABLE, order=order_id, status=order.status
                )
            order.generation += 1
            remains = order.remains_at(now)
            if order.status is OrderStatus.IN_PROGRESS and remains < order.quantity:
                outcome = Outcome(OrderStatus.PARTIAL, remains)
            else:
                outcome = Outcome(OrderStatus.CANCELED, order.quantity)
            self._finish(order, outcome, now)
            view = order.view(now)
            self._notify(view)
            return view

    # ---------------------------------------------------------------------- refills

    def refill(self, tenant: Tenant, order_id: str) -> RefillView:
        """Request a refill of a Completed order of a refill service, inside its window."""
        with self._operation:
            now = self._settle()
            holdings = self._holdings(tenant)
            order = self._owned_order(tenant, order_id)
            if not order.service.refill:
                raise DomainError(ErrorCode.REFILL_NOT_AVAILABLE, order=order_id)
            # Done is Completed in another word (see OrderStatus): refillable alike.
            if order.status not in DELIVERED_STATUSES or order.finished_at is None:
                raise DomainError(
                    ErrorCode.ORDER_NOT_COMPLETED, order=order_id, status=order.status
                )
            if now > order.finished_at + order.service.refill_days * _DAY:
                raise DomainError(ErrorCode.REFILL_WINDOW_EXPIRED, order=order_id)
            refill = Refill(self._refill_ids.peek(), tenant.id, order.id, now)
            self._refill_ids.use_up()
            self._refills[refill.id] = refill
            holdings.refill_ids.append(refill.id)
            self._changes.refill_changed(refill)
            self._schedule(
                now + self.config.timings.refill_pending, EventKind.REFILL_START, refill.id, 0
            )
            return refill.view()

    def refill_status(self, tenant: Tenant, refill_id: str) -> RefillView:
        with self._operation:
            self._settle()
            self._holdings(tenant)
            refill = self._refills.get(refill_id) if isinstance(refill_id, str) else None
            if refill is None or refill.tenant_id != tenant.id:
                raise DomainError(ErrorCode.UNKNOWN_REFILL, refill=refill_id)
            return refill.view()

    # ---------------------------------------------------------------- control plane

    def set_order_outcome(
        self,
        order_id: str,
        status: OrderStatus,
        remains: int | None = None,
        start_count: int | None = None,
    ) -> OrderView:
        """Force an order's status, with the money movement that status implies.

        ``In progress`` (from Pending; ``remains`` 0..quantity, default quantity),
        ``Completed`` (remains 0), ``Partial`` (0 < remains <= quantity, default
        ``quantity // 2`` clamped to 1..quantity; refunds ``charge * remains / quantity``),
        ``Canceled`` (full refund); where the dialect has them (``config.order_statuses``),
        ``Done`` (as Completed) and ``Failed`` (as Canceled: nothing delivered, full refund).
        The order's timed transitions are void afterwards. ``KeyError`` for an unknown id,
        :class:`InvalidTransition` for a move the declared transitions forbid (anything out of
        a final status), ``ValueError`` for bad numbers or a status the dialect never shows.
        """
        with self._operation:
            now = self._settle()
            order = self._orders[order_id]
            target = OrderStatus(status)
            check_transition(_ORDER_CONTROL, "order", order.id, order.status, target)
            if target not in self.config.order_statuses:
                raise ValueError(f"this panel's dialect has no order status {target.value!r}")
            start = _count_or_none("start_count", start_count, MAX_COUNT)
            wanted = _count_or_none("remains", remains, order.quantity)
            outcome = _control_outcome(target, wanted, order.quantity)
            # (an order that ends with nothing delivered never had a start count)
            if start is None and order.start_count is None and target not in UNDELIVERED_STATUSES:
                start = self._planned_start_count(order.id)
            # validated: from here on nothing can fail
            order.generation += 1
            if start is not None:
                order.start_count = start
            if outcome is None:
                order.move(OrderStatus.IN_PROGRESS, now)
                order.progress = None
                order.remains = order.quantity if wanted is None else wanted
            else:
                self._finish(order, outcome, now)
            self._changes.order_changed(order)
            view = order.view(now)
            self._notify(view)
            return view

    def set_refill_outcome(self, refill_id: str, status: RefillStatus) -> RefillView:
        """Force a refill to ``Completed`` or ``Rejected``; its timers are void afterwards."""
        with self._operation:
            now = self._settle()
            refill = self._refills[refill_id]
            target = RefillStatus(status)
            if target not in FINAL_REFILL_STATUSES:
                raise ValueError(f"a refill outcome is Completed or Rejected, got {target.value!r}")
            refill.move(target, now)
            refill.generation += 1
            self._changes.refill_changed(refill)
            return refill.view()

    def advance_clock(self, seconds: float) -> None:
        """Move the clock forward and apply every transition that has become due."""
        check_seconds(seconds)
        with self._operation:
            self._settle()
            self.clock.advance(seconds)
            self._settle()
            # The events still ahead are nearer in real time now: a due timer re-arms.
            if self._due_watch is not None and self._scheduler.next_due < math.inf:
                self._due_watch(self._scheduler.next_due)

    def reset(self) -> None:
        """Forget all tenants, keys, orders, refills and timers; counters keep counting."""
        with self._operation:
            self._keys = KeyRing()
            self._ledger = Ledger(self.config.money_places)
            self._books = {}
            self._suspended = frozenset()
            self._orders = {}
            self._refills = {}
            self._scheduler = Scheduler()
            self._scheduler.on_earlier = self._due_watch
            self._changes.wipe()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (money as strings). API keys are never in it."""
        with self._operation:
            now = self._settle()
            places = self.config.money_places
            tenants = []
            suspended = self._suspended
            for holdings in self._books.values():
                account = self._ledger.account(holdings.tenant.id)
                tenants.append(
                    {
                        "id": holdings.tenant.id,
                        "currency": holdings.tenant.currency,
                        "suspended": holdings.tenant.id in suspended,
                        "balance": format_money(account.balance, places),
                        "opening_balance": format_money(account.opening, places),
                        "debited": format_money(account.debited, places),
                        "credited": format_money(account.credited, places),
                        "orders": list(holdings.order_ids),
                        "refills": list(holdings.refill_ids),
                    }
                )
            return {
                "now": now,
                "money_places": places,
                "tenants": tenants,
                "orders": [order_json(o.view(now), places) for o in self._orders.values()],
                "refills": [refill_json(r.view()) for r in self._refills.values()],
                "scheduled_events": len(self._scheduler),
            }

    def subscribe(self, listener: OrderListener) -> None:
        """Call ``listener`` with the order on every order status change."""
        with self._lock:  # no state changes: nothing to commit
            self._listeners.append(listener)

    # ------------------------------------------------------------- timed events on time

    @property
    def next_due(self) -> float:
        """When the earliest timed event falls due, on :attr:`clock` (``inf``: none is)."""
        with self._lock:
            return self._scheduler.next_due

    def settle_due(self) -> float:
        """Apply every timed transition that is due now, as an operation of its own (committed
        to the state file, listeners told after); return :attr:`next_due` after it.

        Every other operation settles first anyway; this is for a timer that applies them
        when they fall due, with no request arriving (:mod:`mockpanel.wire.timer`).
        """
        with self._operation:
            self._settle()
            return self._scheduler.next_due

    def watch_due(self, watch: Callable[[float], None] | None) -> None:
        """Call ``watch`` with :attr:`next_due` whenever the wait until it may have shrunk: an
        event earlier than every other was scheduled, the state was reloaded, or the clock was
        advanced; ``None`` stops it. A push of a later event (most of them) calls nothing.

        ``watch`` runs under the lock, from whichever thread changed the state; it must not
        raise and must not call the state.
        """
        with self._lock:  # no state changes: nothing to commit
            self._due_watch = watch
            self._scheduler.on_earlier = watch

    # -------------------------------------------------------------------- internals

    def _commit(self) -> None:
        """Write what the operation changed to the state file (called only with a file, and
        only when the operation changed something)."""
        store, changes = self._store, self._changes
        assert store is not None  # a state without a file records nothing to commit
        accounts = {tid: self._ledger.account(tid) for tid in changes.accounts}
        try:
            store.commit(changes, accounts, self._meta())
        except BaseException:
            self._heard.clear()  # nothing of it happened
            self._reload()
            raise
        changes.clear()

    def _reload(self) -> None:
        """After a failed write: make memory equal to the file again, or refuse all calls."""
        assert self._store is not None
        try:
            self._restore(self._store.load(self._catalog, self.config.money_places))
        except BaseException as exc:
            self._failure = StoreError(f"the state file {self._store.path} is unusable: {exc}")
            raise

    def _meta(self) -> Meta:
        return Meta(
            tenants_opened=self._tenant_count,
            orders_issued=self._order_ids.issued,
            refills_issued=self._refill_ids.issued,
            timer_seq=self._scheduler.seq,
            clock=self._horizon,
        )

    def _id_sequences(self) -> tuple[IdSequence, IdSequence]:
        config = self.config
        alphanumeric = config.id_style == "alphanumeric"
        return (
            IdSequence(config.id_style, config.seed, "order"),
            IdSequence(
                config.id_style, config.seed, "refill", prefix="R" if alphanumeric else "", width=5
            ),
        )

    def _restore(self, image: Image) -> None:
        """Replace the whole state by ``image``; checked first, so a bad one replaces nothing."""
        try:
            keys = KeyRing()
            ledger = Ledger(self.config.money_places)
            books: dict[str, _Holdings] = {}
            for entry in image.tenants:
                if entry.tenant.id in books:
                    raise ValueError(f"tenant {entry.tenant.id} appears twice")
                keys.restore(entry.digest, entry.tenant)
                ledger.restore(entry.tenant.id, entry.account)
                books[entry.tenant.id] = _Holdings(entry.tenant)
            suspended = frozenset(entry.tenant.id for entry in image.tenants if entry.suspended)
            orders: dict[str, Order] = {}
            for order in image.orders:
                if order.id in orders or order.tenant_id not in books:
                    raise ValueError(f"order {order.id} is repeated or has no tenant")
                orders[order.id] = order
                books[order.tenant_id].order_ids.append(order.id)
            refills: dict[str, Refill] = {}
            for refill in image.refills:
                owner = orders.get(refill.order_id)
                if refill.id in refills or owner is None or owner.tenant_id != refill.tenant_id:
                    raise ValueError(f"refill {refill.id} is repeated or has no order")
                refills[refill.id] = refill
                books[refill.tenant_id].refill_ids.append(refill.id)
            order_ids, refill_ids = self._id_sequences()
            order_ids.restore(image.meta.orders_issued)
            refill_ids.restore(image.meta.refills_issued)
            scheduler = Scheduler.restore(image.timers, image.meta.timer_seq)
            if image.meta.tenants_opened < len(books):
                raise ValueError("fewer tenants opened than there are tenants")
        except ValueError as exc:
            path = "the state file" if self._store is None else self._store.path
            raise StateFileError(f"{path} is damaged: {exc}") from exc
        self._keys, self._ledger, self._books = keys, ledger, books
        self._suspended = suspended
        self._orders, self._refills, self._scheduler = orders, refills, scheduler
        scheduler.on_earlier = self._due_watch
        if self._due_watch is not None and scheduler.next_due < math.inf:
            self._due_watch(scheduler.next_due)  # a reload may bring back an earlier event
        self._order_ids, self._refill_ids = order_ids, refill_ids
        self._tenant_count = image.meta.tenants_opened
        self._horizon = image.meta.clock
        self._changes = Changes()  # (restored from a state file: changes are recorded)

    def _schedule(self, due: float, kind: EventKind, target: str, generation: int) -> None:
        self._changes.timer_pushed(self._scheduler.push(due, kind, target, generation))

    def _deliver(self) -> None:
        """Tell every listener of every committed change, in order; then raise the first
        exception a listener raised, if any."""
        heard, self._heard = self._heard, []
        first: Exception | None = None
        for view in heard:
            for listener in tuple(self._listeners):
                try:
                    listener(view)
                except Exception as exc:
                    first = first or exc
        if first is not None:
            raise first

    def _quiet(self, now: float) -> bool:
        """Whether a call at ``now`` may run as a quiet call (see the class docstring)."""
        return self._may_be_quiet and self._scheduler.next_due > now

    def _holdings(self, tenant: Tenant) -> _Holdings:
        """What ``tenant`` holds; ``INVALID_KEY`` for a tenant this state does not know,
        ``ACCOUNT_SUSPENDED`` for a suspended one (so no call of its can move money)."""
        holdings = self._books.get(tenant.id)
        if holdings is None or (holdings.tenant is not tenant and holdings.tenant != tenant):
            raise DomainError(ErrorCode.INVALID_KEY)
        if tenant.id in self._suspended:
            raise DomainError(ErrorCode.ACCOUNT_SUSPENDED)
        return holdings

    def _owned_order(self, tenant: Tenant, order_id: str) -> Order:
        self._holdings(tenant)
        order = self._orders.get(order_id) if isinstance(order_id, str) else None
        if order is None or order.tenant_id != tenant.id:
            raise DomainError(ErrorCode.UNKNOWN_ORDER, order=order_id)
        return order

    def _planned_start_count(self, order_id: str) -> int:
        digest = hashlib.sha256(f"{self.config.seed}:start_count:{order_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % _START_COUNT_SPAN

    def _finish(self, order: Order, outcome: Outcome, at: float) -> None:
        """End ``order`` with ``outcome`` and refund what it gives back (once: final is final)."""
        refund = order.refund_for(outcome, self.config.money_places)
        order.move(outcome.status, at)
        order.remains = outcome.remains
        self._changes.order_changed(order)
        if refund > 0:
            self._ledger.credit(order.tenant_id, refund)
            order.refunded += refund
            self._changes.account_moved(order.tenant_id)

    def _notify(self, view: OrderView) -> None:
        self._heard.append(view)  # delivered by _operation once the change is committed

    def _settle(self) -> float:
        """Apply every due event in due order; return the current time.

        With a state file, first make sure the file's horizon covers ``now`` (written in this
        operation's transaction), so no response is ever built from a time a restart could
        take back.
        """
        now = self.clock.now()
        if self._store is not None and now > self._horizon:
            self._horizon = now + self._lease
            self._changes.clock = True
        scheduler = self._scheduler
        if scheduler.next_due <= now:  # most calls find nothing due: no pop to try
            while (event := scheduler.pop_due(now)) is not None:
                self._changes.timer_popped(event)
                self._apply(event)
        return now

    def _apply(self, event: Event) -> None:
        timings = self.config.timings
        if event.kind in (EventKind.REFILL_START, EventKind.REFILL_FINISH):
            refill = self._refills.get(event.target)
            if refill is None or refill.generation != event.generation:
                return
            if event.kind is EventKind.REFILL_START and refill.status is RefillStatus.PENDING:
                refill.move(RefillStatus.IN_PROGRESS, event.due)
                self._schedule(
                    event.due + timings.refill_in_progress,
                    EventKind.REFILL_FINISH,
                    refill.id,
                    refill.generation,
                )
            elif (
                event.kind is EventKind.REFILL_FINISH
                and refill.status is RefillStatus.IN_PROGRESS
            ):
                refill.move(RefillStatus.COMPLETED, event.due)
            self._changes.refill_changed(refill)
            return
        order = self._orders.get(event.target)
        if order is None or order.generation != event.generation:
            return
        if event.kind is EventKind.ORDER_START and order.status is OrderStatus.PENDING:
            order.move(OrderStatus.IN_PROGRESS, event.due)
            order.start_count = self._planned_start_count(order.id)
            order.progress = Progress(
                event.due, timings.order_in_progress, order.quantity, order.planned.remains
            )
            self._changes.order_changed(order)
            self._schedule(
                event.due + timings.order_in_progress,
                EventKind.ORDER_FINISH,
                order.id,
                order.generation,
            )
        elif event.kind is EventKind.ORDER_FINISH and order.status is OrderStatus.IN_PROGRESS:
            self._finish(order, order.planned, event.due)
        else:
            return
        self._notify(order.view(event.due))


class _Operation:
    """``with state._operation:`` -- one domain operation under the state's lock.

    The outermost operation commits what it changed, whether it returns or raises, and only
    then lets the listeners hear of it; a nested one (``open()`` creating tenants) leaves that
    to it. Part of :class:`PanelState`, whose private fields it edits: a class of its own only
    because ``with`` takes an object.
    """

    __slots__ = ("_state",)

    def __init__(self, state: PanelState) -> None:
        self._state = state

    def __enter__(self) -> None:
        state = self._state
        state._lock.acquire()
        if state._depth == 0 and state._failure is not None:
            state._lock.release()
            raise StoreError(str(state._failure)) from state._failure
        state._depth += 1

    def __exit__(self, *exc_info: object) -> None:
        state = self._state
        try:
            state._depth -= 1
            # Most operations only read: nothing to commit, nobody to tell. (Without a state
            # file nothing is ever recorded: no need to ask the recorder.)
            if state._depth == 0:
                changes, heard = state._changes, state._heard
                try:
                    if state._store is not None and changes:
                        state._commit()
                finally:
                    if heard:
                        state._deliver()
        finally:
            state._lock.release()


# The moves the control plane may make: the order transitions minus "In progress" once an
# order is already in progress (the control plane sets In progress only from Pending).
_ORDER_CONTROL: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        OrderStatus.PENDING: frozenset(
            {
                OrderStatus.IN_PROGRESS,
                OrderStatus.COMPLETED,
                OrderStatus.PARTIAL,
                OrderStatus.CANCELED,
                OrderStatus.DONE,
                OrderStatus.FAILED,
            }
        ),
        OrderStatus.IN_PROGRESS: frozenset(
            {
                OrderStatus.COMPLETED,
                OrderStatus.PARTIAL,
                OrderStatus.CANCELED,
                OrderStatus.DONE,
                OrderStatus.FAILED,
            }
        ),
    }
)


def _control_outcome(target: OrderStatus, remains: int | None, quantity: int) -> Outcome | None:
    """The final outcome a control request asks for (``None`` for In progress), or ValueError."""
    match target:
        case OrderStatus.PENDING:
            raise ValueError("Pending is not a control outcome")
        case OrderStatus.PROCESSING:
            # No order is stored as Processing: it is In progress in some providers' word.
            raise ValueError("Processing is not a control outcome: ask for In progress on an "
                             "order placed with mock_outcome=processing")
        case OrderStatus.IN_PROGRESS:
            return None
        case OrderStatus.COMPLETED | OrderStatus.DONE:
            # Everything delivered: no refund (LIFE-002).
            if remains not in (None, 0):
                raise ValueError(f"{target.value} means remains 0, got {remains}")
            return Outcome(target, 0)
        case OrderStatus.PARTIAL:
            wanted = min(max(quantity // 2, 1), quantity) if remains is None else remains
            if not 0 < wanted <= quantity:
                raise ValueError(f"Partial needs 0 < remains <= {quantity}, got {wanted}")
            return Outcome(OrderStatus.PARTIAL, wanted)
        case OrderStatus.CANCELED | OrderStatus.FAILED:
            # Nothing delivered: the whole charge is refunded.
            if remains not in (None, quantity):
                raise ValueError(
                    f"{target.value} means remains == quantity ({quantity}), got {remains}"
                )
            return Outcome(target, quantity)
