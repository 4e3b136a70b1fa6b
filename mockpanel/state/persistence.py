"""The state file: a panel's tenants, money, orders, refills, timers and clock kept in SQLite.

**Rows, not an event log.** Each table holds the current image of one kind of record, and
:class:`~mockpanel.state.panel.PanelState` hands the store everything one domain operation
touched (a :class:`Changes`) to write in ONE transaction, committed before the operation
returns, so before the wire layer sends its response. Why entity rows rather than replayed
facts:

- Restoring never re-runs a business rule and never replays history: a row *is* what the
  rules produced (status, remains, refunded, start count, progress, every timer with its due
  time and generation). A restart costs what is alive, not everything that ever happened, the
  file never needs compacting, and a later change of rules or timings cannot re-price or
  re-time anything that was already acknowledged.
- Atomicity comes from the operation: a debit and the order it pays for, a refund and the
  status that gives it, are changed by the same call and so written by the same transaction.
  "No money moves without its order" holds by construction, not by careful fact design.
- The file answers questions by itself (``select balance from tenants``) with no replayer;
  the audit trail of traffic is the wire journal's job, not the state file's.

Durability: WAL with ``synchronous=FULL`` on the one connection the state owns; every write is
``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back whole on any error. ``locking_mode=EXCLUSIVE``
keeps a second process off a file in use. API keys are stored only as their SHA-256 digests.

The clock is stored as a *horizon*: a time the panel promises never to go back before. The
facade keeps it at or after every clock reading it has used (see ``PanelState``), so a restart
resumes no earlier than any response was built from, and statuses never go backwards.

Errors: :class:`StateFileError` when a file cannot be used (not a state file, damaged, another
schema version, written for other money places / id style / seed, in use by another process);
:class:`StoreError` when a write fails (its transaction was rolled back). Neither message ever
contains a key.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from mockpanel.state.catalog import Service
from mockpanel.state.config import StateConfig
from mockpanel.state.ledger import Account
from mockpanel.state.money import check_amount
from mockpanel.state.orders import Order, OrderStatus, Outcome, Progress
from mockpanel.state.refills import Refill, RefillStatus
from mockpanel.state.schedule import Event, EventKind
from mockpanel.state.tenants import Tenant, check_currency

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "Changes",
    "Fingerprint",
    "Image",
    "Meta",
    "StateFileError",
    "Store",
    "StoreError",
    "TenantImage",
    "Unrecorded",
]

# "SMMP" in the SQLite header: tells our files from any other SQLite database.
APPLICATION_ID: Final = 0x534D4D50
# Bump on any change to the tables below; an older or newer file is refused, never guessed at.
SCHEMA_VERSION: Final = 2  # 2: tenants.suspended, orders.planned_working
# Seconds to wait for another connection's lock before calling the file "in use".
_LOCK_TIMEOUT = 1.0

_Row = tuple[Any, ...]

_SCHEMA: Final = (
    """CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        money_places INTEGER NOT NULL,
        id_style TEXT NOT NULL,
        seed TEXT NOT NULL,  -- any Python int, which SQLite's 64-bit INTEGER is not
        tenants_opened INTEGER NOT NULL,
        orders_issued INTEGER NOT NULL,
        refills_issued INTEGER NOT NULL,
        timer_seq INTEGER NOT NULL,
        clock REAL NOT NULL
    )""",
    """CREATE TABLE tenants (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        key_digest BLOB NOT NULL UNIQUE,
        currency TEXT NOT NULL,
        opening TEXT NOT NULL,
        debited TEXT NOT NULL,
        credited TEXT NOT NULL,
        balance TEXT NOT NULL,
        suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1))
    )""",
    """CREATE TABLE orders (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        service_id INTEGER NOT NULL,
        link TEXT,
        quantity INTEGER NOT NULL,
        charge TEXT NOT NULL,
        currency TEXT NOT NULL,
        runs INTEGER,
        drip_interval INTEGER,
        created_at REAL NOT NULL,
        planned_status TEXT NOT NULL,
        planned_remains INTEGER NOT NULL,
        planned_working TEXT NOT NULL,
        status TEXT NOT NULL,
        remains INTEGER NOT NULL,
        refunded TEXT NOT NULL,
        start_count INTEGER,
        progress_started_at REAL,
        progress_duration REAL,
        progress_start_remains INTEGER,
        progress_target INTEGER,
        finished_at REAL,
        generation INTEGER NOT NULL
    )""",
    """CREATE TABLE refills (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        status TEXT NOT NULL,
        finished_at REAL,
        generation INTEGER NOT NULL
    )""",
    """CREATE TABLE timers (
        seq INTEGER PRIMARY KEY,
        due REAL NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        generation INTEGER NOT NULL
    )""",
)

_ORDER_FIXED = (
    "id", "tenant_id", "service_id", "link", "quantity", "charge", "currency", "runs",
    "drip_interval", "created_at", "planned_status", "planned_remains", "planned_working",
)  # fmt: skip
_ORDER_MOVING = (
    "status", "remains", "refunded", "start_count", "progress_started_at", "progress_duration",
    "progress_start_remains", "progress_target", "finished_at", "generation",
)  # fmt: skip
_REFILL_FIXED = ("id", "tenant_id", "order_id", "created_at")
_REFILL_MOVING = ("status", "finished_at", "generation")


def _upsert(table: str, fixed: tuple[str, ...], moving: tuple[str, ...]) -> str:
    """Insert a new record, or update only the columns that can change (its ``seq`` stays)."""
    columns = fixed + moving
    updates = ", ".join(f"{name} = excluded.{name}" for name in moving)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )


_UPSERT_ORDER: Final = _upsert("orders", _ORDER_FIXED, _ORDER_MOVING)
_UPSERT_REFILL: Final = _upsert("refills", _REFILL_FIXED, _REFILL_MOVING)
_SELECT_ORDERS: Final = f"SELECT {', '.join(_ORDER_FIXED + _ORDER_MOVING)} FROM orders ORDER BY seq"
_SELECT_REFILLS: Final = (
    f"SELECT {', '.join(_REFILL_FIXED + _REFILL_MOVING)} FROM refills ORDER BY seq"
)


class StoreError(RuntimeError):
    """The state file could not be written (or is closed); the transaction was rolled back."""


class StateFileError(StoreError):
    """The state file cannot be used: not a state file, damaged, incompatible, or in use."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a file's amounts and ids mean: a file is only reopened with the same values."""

    money_places: int
    id_style: str
    seed: int

    @classmethod
    def of(cls, config: StateConfig) -> Fingerprint:
        return cls(config.money_places, config.id_style, config.seed)


@dataclass(frozen=True, slots=True)
class Meta:
    """The panel-wide figures: counters that must never reissue an id, and the clock horizon."""

    tenants_opened: int
    orders_issued: int
    refills_issued: int
    timer_seq: int
    clock: float


@dataclass(frozen=True, slots=True)
class TenantImage:
    """A tenant as stored: who it is, its key's digest, its account and whether the control
    API has suspended it."""

    tenant: Tenant
    digest: bytes
    account: Account
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class Image:
    """Everything a state file holds, as fresh records in creation order."""

    meta: Meta
    tenants: tuple[TenantImage, ...]
    orders: tuple[Order, ...]
    refills: tuple[Refill, ...]
    timers: tuple[Event, ...]


@dataclass(slots=True)
class Changes:
    """What one domain operation changed: the facade fills it, the store writes it at once.

    Records are held by reference, so the store writes them as they are when the operation
    ends. A timer scheduled and fired within the same operation is never written at all.
    """

    wiped: bool = False  # a reset: every tenant, order, refill and timer row goes first
    clock: bool = False  # the clock horizon moved
    tenants: dict[str, tuple[Tenant, bytes]] = field(default_factory=dict)  # new, with digest
    accounts: set[str] = field(default_factory=set)  # tenant ids whose account moved
    suspensions: dict[str, bool] = field(default_factory=dict)  # tenant id -> now suspended
    orders: dict[str, Order] = field(default_factory=dict)
    refills: dict[str, Refill] = field(default_factory=dict)
    timers_added: dict[int, Event] = field(default_factory=dict)
    timers_removed: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(
            self.wiped
            or self.clock
            or self.accounts
            or self.suspensions
            or self.orders
            or self.refills
            or self.timers_added
            or self.timers_removed
        )

    def tenant_opened(self, tenant: Tenant, digest: bytes) -> None:
        self.tenants[tenant.id] = (tenant, digest)
        self.accounts.add(tenant.id)

    def tenant_suspended(self, tenant_id: str, suspended: bool) -> None:
        self.suspensions[tenant_id] = suspended

    def order_changed(self, order: Order) -> None:
        self.orders[order.id] = order

    def refill_changed(self, refill: Refill) -> None:
        self.refills[refill.id] = refill

    def account_moved(self, tenant_id: str) -> None:
        self.accounts.add(tenant_id)

    def timer_pushed(self, event: Event) -> None:
        self.timers_added[event.seq] = event

    def order_placed(self, order: Order, timer: Event) -> None:
        """What an ``add`` changes: the new order, its tenant's account, its first timer."""
        self.order_changed(order)
        self.account_moved(order.tenant_id)
        self.timer_pushed(timer)

    def timer_popped(self, event: Event) -> None:
        if self.timers_added.pop(event.seq, None) is None:
            self.timers_removed.add(event.seq)

    def wipe(self) -> None:
        """Everything recorded so far is superseded by deleting every row."""
        self.clear()
        self.wiped = True

    def clear(self) -> None:
        """Nothing recorded (after a commit): reused rather than rebuilt, as it is per call."""
        self.wiped = False
        self.clock = False
        self.tenants.clear()
        self.accounts.clear()
        self.suspensions.clear()
        self.orders.clear()
        self.refills.clear()
        self.timers_added.clear()
        self.timers_removed.clear()



class Unrecorded(Changes):
    """The changes of a state kept in memory only: with no file to write them to, nothing is
    recorded, so there is never anything to commit (every recording call is a no-op)."""

    __slots__ = ()

    def tenant_opened(self, tenant: Tenant, digest: bytes) -> None:
        pass

    def tenant_suspended(self, tenant_id: str, suspended: bool) -> None:
        pass

    def order_changed(self, order: Order) -> None:
        pass

    def refill_changed(self, refill: Refill) -> None:
        pass

    def account_moved(self, tenant_id: str) -> None:
        pass

    def timer_pushed(self, event: Event) -> None:
        pass

    def order_placed(self, order: Order, timer: Event) -> None:
        pass

    def timer_popped(self, event: Event) -> None:
        pass

    def wipe(self) -> None:
        pass


# ---------------------------------------------------------------- records <-> rows


def _order_row(order: Order) -> _Row:
    progress = order.progress
    return (
        order.id,
        order.tenant_id,
        order.service.id,
        order.link,
        order.quantity,
        str(order.charge),
        order.currency,
        order.runs,
        order.interval,
        order.created_at,
        order.planned.status.value,
        order.planned.remains,
        order.planned.working.value,
        order.status.value,
        order.remains,
        str(order.refunded),
        order.start_count,
        None if progress is None else progress.started_at,
        None if progress is None else progress.duration,
        None if progress is None else progress.start_remains,
        None if progress is None else progress.target,
        order.finished_at,
        order.generation,
    )


def _refill_row(refill: Refill) -> _Row:
    return (
        refill.id,
        refill.tenant_id,
        refill.order_id,
        refill.created_at,
        refill.status.value,
        refill.finished_at,
        refill.generation,
    )


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    return value


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    return value


def _real(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def _opt_int(value: object, name: str) -> int | None:
    return None if value is None else _int(value, name)


def _opt_real(value: object, name: str) -> float | None:
    return None if value is None else _real(value, name)


def _money(value: object, name: str, places: int) -> Decimal:
    return check_amount(Decimal(_text(value, name)), places)


def _working(value: object) -> OrderStatus:
    """The word an order shows while it runs: In progress, or a provider's Processing."""
    word = OrderStatus(_text(value, "planned working status"))
    if word not in (OrderStatus.IN_PROGRESS, OrderStatus.PROCESSING):
        raise ValueError(f"{word.value!r} is not a working status")
    return word


def _order(row: _Row, catalog: Mapping[int, Service], places: int) -> Order:
    (
        order_id, tenant_id, service_id, link, quantity, charge, currency, runs, interval,
        created_at, planned_status, planned_remains, planned_working, status, remains, refunded,
        start_count, started_at, duration, start_remains, target, finished_at, generation,
    ) = row  # fmt: skip
    oid = _text(order_id, "order id")
    service = catalog.get(_int(service_id, "service id"))
    if service is None:
        raise ValueError(f"order {oid} is for service {service_id}, not in this catalogue")
    progress = None
    if started_at is not None:
        progress = Progress(
            _real(started_at, "progress start"),
            _real(duration, "progress duration"),
            _int(start_remains, "progress start remains"),
            _int(target, "progress target"),
        )
    return Order(
        id=oid,
        tenant_id=_text(tenant_id, "tenant id"),
        service=service,
        link=None if link is None else _text(link, "link"),
        quantity=_int(quantity, "quantity"),
        charge=_money(charge, "charge", places),
        currency=check_currency(_text(currency, "currency")),
        runs=_opt_int(runs, "runs"),
        interval=_opt_int(interval, "interval"),
        created_at=_real(created_at, "created_at"),
        planned=Outcome(
            OrderStatus(planned_status),
            _int(planned_remains, "planned remains"),
            _working(planned_working),
        ),
        remains=_int(remains, "remains"),
        refunded=_money(refunded, "refunded", places),
        status=OrderStatus(status),
        start_count=_opt_int(start_count, "start_count"),
        progress=progress,
        finished_at=_opt_real(finished_at, "finished_at"),
        generation=_int(generation, "generation"),
    )


def _refill(row: _Row) -> Refill:
    refill_id, tenant_id, order_id, created_at, status, finished_at, generation = row
    return Refill(
        id=_text(refill_id, "refill id"),
        tenant_id=_text(tenant_id, "tenant id"),
        order_id=_text(order_id, "order id"),
        created_at=_real(created_at, "created_at"),
        status=RefillStatus(status),
        finished_at=_opt_real(finished_at, "finished_at"),
        generation=_int(generation, "generation"),
    )


def _tenant(row: _Row, places: int) -> TenantImage:
    tenant_id, digest, currency, opening, debited, credited, balance, suspended = row
    if not isinstance(digest, bytes):
        raise ValueError("a key digest must be a blob")
    if suspended not in (0, 1) or isinstance(suspended, bool):
        raise ValueError(f"suspended must be 0 or 1, got {suspended!r}")
    return TenantImage(
        Tenant(_text(tenant_id, "tenant id"), check_currency(_text(currency, "currency"))),
        digest,
        Account(
            _money(opening, "opening", places),
            _money(debited, "debited", places),
            _money(credited, "credited", places),
            _money(balance, "balance", places),
        ),
        suspended == 1,
    )


def _timer(row: _Row) -> Event:
    seq, due, kind, target, generation = row
    return Event(
        _real(due, "due"),
        _int(seq, "timer seq"),
        EventKind(kind),
        _text(target, "timer target"),
        _int(generation, "generation"),
    )


# -------------------------------------------------------------------------- the store


class Store:
    """One state file, through one connection. Not thread-safe: the facade's lock is."""

    __slots__ = ("_connection", "path")

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._connection: sqlite3.Connection | None = connection
        self.path = path

    @classmethod
    def open(cls, path: str | os.PathLike[str], fingerprint: Fingerprint) -> Store:
        """Open ``path``, creating the schema in a new or empty file; lock it for this process.

        :class:`StateFileError` when the file is not a state file, is damaged, has another
        schema version, was written for another ``fingerprint``, or is in use.
        """
        where = os.fspath(path)
        try:
            connection = sqlite3.connect(
                where, timeout=_LOCK_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot open state file {where}: {exc}") from exc
        store = cls(connection, where)
        try:
            store._prepare(connection, fingerprint)
        except BaseException:
            connection.close()
            raise
        return store

    def _prepare(self, connection: sqlite3.Connection, fingerprint: Fingerprint) -> None:
        try:
            # Exclusive: the first write below takes a lock that is held until close.
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
        except sqlite3.OperationalError as exc:
            raise self._unusable(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise StateFileError(
                f"{self.path} is not a mockpanel state file, or it is damaged ({exc})"
            ) from exc
        fresh = application_id == 0 and version == 0 and tables == 0
        if not fresh and application_id != APPLICATION_ID:
            raise StateFileError(
                f"{self.path} is an SQLite database but not a mockpanel state file"
            )
        if not fresh and version != SCHEMA_VERSION:
            raise StateFileError(
                f"{self.path} has state schema version {version}; this mockpanel reads version "
                f"{SCHEMA_VERSION} only: start with a new state file"
            )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            if fresh:
                self._create(connection, fingerprint)
            else:
                self._check(connection, fingerprint)
        except sqlite3.OperationalError as exc:
            raise self._unusable(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path} is damaged ({exc})") from exc

    def _unusable(self, exc: sqlite3.OperationalError) -> StateFileError:
        if "locked" in str(exc) or "busy" in str(exc):
            return StateFileError(f"{self.path} is in use by another process")
        return StateFileError(f"cannot use state file {self.path}: {exc}")

    @staticmethod
    def _create(connection: sqlite3.Connection, fingerprint: Fingerprint) -> None:
        connection.execute("BEGIN EXCLUSIVE")
        try:
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO meta VALUES (1, ?, ?, ?, 0, 0, 0, 0, 0.0)",
                (fingerprint.money_places, fingerprint.id_style, str(fingerprint.seed)),
            )
            connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _check(self, connection: sqlite3.Connection, fingerprint: Fingerprint) -> None:
        connection.execute("BEGIN EXCLUSIVE")  # takes the lock this process keeps
        try:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StateFileError(f"{self.path} is damaged: {'; '.join(problems[:3])}")
            row = connection.execute(
                "SELECT money_places, id_style, seed FROM meta WHERE id = 1"
            ).fetchone()
        finally:
            connection.execute("COMMIT")
        if row is None:
            raise StateFileError(f"{self.path} is damaged: it has no meta row")
        places, style, seed = row
        mine = fingerprint
        if (places, style, seed) != (mine.money_places, mine.id_style, str(mine.seed)):
            raise StateFileError(
                f"{self.path} was written by a panel with money_places={places}, "
                f"id_style={style}, seed={seed}; this one has "
                f"money_places={fingerprint.money_places}, id_style={fingerprint.id_style}, "
                f"seed={fingerprint.seed} (profile or --seed differ): use the same ones or a "
                "new state file"
            )

    @property
    def closed(self) -> bool:
        return self._connection is None

    def close(self) -> None:
        """Close the file (idempotent); everything committed stays."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def _open_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError(f"the state file {self.path} is closed")
        return self._connection

    def load(self, catalog: Mapping[int, Service], places: int) -> Image:
        """Everything the file holds, as fresh records; :class:`StateFileError` if damaged."""
        connection = self._open_connection()
        try:
            connection.execute("BEGIN")
            try:
                meta = connection.execute(
                    "SELECT tenants_opened, orders_issued, refills_issued, timer_seq, clock "
                    "FROM meta WHERE id = 1"
                ).fetchone()
                tenant_rows = connection.execute(
                    "SELECT id, key_digest, currency, opening, debited, credited, balance, "
                    "suspended FROM tenants ORDER BY seq"
                ).fetchall()
                order_rows = connection.execute(_SELECT_ORDERS).fetchall()
                refill_rows = connection.execute(_SELECT_REFILLS).fetchall()
                timer_rows = connection.execute(
                    "SELECT seq, due, kind, target, generation FROM timers ORDER BY seq"
                ).fetchall()
            finally:
                connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot read state file {self.path}: {exc}") from exc
        try:
            if meta is None:
                raise ValueError("it has no meta row")
            opened, orders_issued, refills_issued, timer_seq, clock = meta
            return Image(
                meta=Meta(
                    _int(opened, "tenants_opened"),
                    _int(orders_issued, "orders_issued"),
                    _int(refills_issued, "refills_issued"),
                    _int(timer_seq, "timer_seq"),
                    _real(clock, "clock"),
                ),
                tenants=tuple(_tenant(row, places) for row in tenant_rows),
                orders=tuple(_order(row, catalog, places) for row in order_rows),
                refills=tuple(_refill(row) for row in refill_rows),
                timers=tuple(_timer(row) for row in timer_rows),
            )
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise StateFileError(f"{self.path} is damaged: {exc}") from exc

    def commit(self, changes: Changes, accounts: Mapping[str, Account], meta: Meta) -> None:
        """Write ``changes`` (with the touched ``accounts`` and ``meta``) in one transaction.

        Either all of it is durable when this returns, or none of it is and :class:`StoreError`
        (or the interrupting exception) is raised.
        """
        connection = self._open_connection()
        try:
            connection.execute("BEGIN IMMEDIATE")
            self._write(connection, changes, accounts, meta)
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                with suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"could not write the state file {self.path}: {exc}") from exc
            raise

    @staticmethod
    def _write(
        connection: sqlite3.Connection,
        changes: Changes,
        accounts: Mapping[str, Account],
        meta: Meta,
    ) -> None:
        if changes.wiped:
            for table in ("timers", "refills", "orders", "tenants"):  # fixed names, no input
                connection.execute(f"DELETE FROM {table}")
        for tenant, digest in changes.tenants.values():
            account = accounts[tenant.id]
            connection.execute(
                "INSERT INTO tenants (id, key_digest, currency, opening, debited, credited, "
                "balance) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant.id,
                    digest,
                    tenant.currency,
                    str(account.opening),
                    str(account.debited),
                    str(account.credited),
                    str(account.balance),
                ),
            )
        for tenant_id, account in accounts.items():
            if tenant_id in changes.tenants:
                continue
            updated = connection.execute(
                "UPDATE tenants SET debited = ?, credited = ?, balance = ? WHERE id = ?",
                (str(account.debited), str(account.credited), str(account.balance), tenant_id),
            )
            if updated.rowcount != 1:
                raise StoreError(f"tenant {tenant_id} has no row in the state file")
        for tenant_id, suspended in changes.suspensions.items():
            updated = connection.execute(
                "UPDATE tenants SET suspended = ? WHERE id = ?", (int(suspended), tenant_id)
            )
            if updated.rowcount != 1:
                raise StoreError(f"tenant {tenant_id} has no row in the state file")
        if changes.orders:
            connection.executemany(_UPSERT_ORDER, map(_order_row, changes.orders.values()))
        if changes.refills:
            connection.executemany(_UPSERT_REFILL, map(_refill_row, changes.refills.values()))
        if changes.timers_removed:
            connection.executemany(
                "DELETE FROM timers WHERE seq = ?", [(seq,) for seq in changes.timers_removed]
            )
        if changes.timers_added:
            connection.executemany(
                "INSERT INTO timers (seq, due, kind, target, generation) VALUES (?, ?, ?, ?, ?)",
                [
                    (e.seq, e.due, e.kind.value, e.target, e.generation)
                    for e in changes.timers_added.values()
                ],
            )
        connection.execute(
            "UPDATE meta SET tenants_opened = ?, orders_issued = ?, refills_issued = ?, "
            "timer_seq = ?, clock = ? WHERE id = 1",
            (
                meta.tenants_opened,
                meta.orders_issued,
                meta.refills_issued,
                meta.timer_seq,
                meta.clock,
            ),
        )
