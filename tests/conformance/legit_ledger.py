"""The books of a small, correct SMM panel, written for the false-alarm corpus.

This is deliberately *not* the mock: nothing here imports ``mockpanel`` or ``harness``, and the
choices are a real panel's own. One :class:`Books` holds the tenants (one per API key), the
catalogue, the orders and the refills of one panel; its :class:`Rules` are the choices real
panel families make differently (money precision and rounding, when a cancel or a refill is
allowed, how drip-feed and quantities are read). The wire (``legit_panels.py``) turns requests
into calls here and the results into each family's JSON.

What every set of rules keeps, because a panel holding customers' money must:

* money is :class:`~decimal.Decimal` at the panel's precision, never a float;
* an order is charged ``rate * units / 1000`` rounded the panel's way, only if the balance
  covers it (no overdraft, checked and debited under one lock);
* a cancel refunds the whole charge once; a Partial refunds ``charge * remains / units``
  rounded the same way, once;
* another key's orders and refills answer exactly as never-issued ids do;
* bad input is refused (:class:`Refused`) having changed nothing.

Orders finish on their own timer, as a real panel's provider finishes them: Pending, then In
progress, then Completed. Time is compressed (seconds, not hours) so that a black-box run can
follow an order to its end; with a control API the clock is manual and moves only when told.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

__all__ = [
    "CATALOGUE",
    "DAY",
    "Books",
    "Clock",
    "Conflict",
    "IdStyle",
    "Kind",
    "Order",
    "QuantitySyntax",
    "Refill",
    "Refused",
    "Rules",
    "Service",
    "Status",
]

DAY = 86_400.0
LEDGER_FLAWS: frozenset[str] = frozenset({
    "status-miss-billed",  # GEN-004
    "cancel-unknown-acknowledged",  # CANCEL-005
    "refused-cancel-marks-canceled",  # CANCEL-008
    "refill-status-misspelt",  # REFILL-001
    "refill-unknown-order-queued",  # REFILL-004
    "status-lookup-ignores-owner",  # ISO-001
    "refill-ignores-owner",  # ISO-004
    "referral-credit-to-others",  # ISO-005
    "refill-status-ignores-owner",  # ISO-006
    "unknown-key-falls-back",  # AUTH-004
    "dripfeed-add-without-id",  # ADD-001
    "missing-quantity-defaults-to-min",  # ADD-006
    "completed-keeps-remains",  # LIFE-002
    "partial-remains-zeroed",  # LIFE-003
    "partial-remains-updated-late",  # LIFE-004
    "remains-counts-drops",  # STATUS-004
    "below-min-refusal-keeps-debit",  # MONEY-004
    "funds-check-in-cents",  # MONEY-006
    "cancel-refund-twice",  # MONEY-010
    "partial-refund-step-short",  # MONEY-011
    "bad-dripfeed-placed-plain",  # ROBUST-009
})
"""The deliberate defects the books know (``flaws.py``, ``flawed_ledger.py``): each name breaks
one rule, at the one place marked with it; the clause each breaks is noted beside it."""
ROUNDINGS = (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN)
_DIGITS = re.compile(r"[0-9]+")
# What PHP's is_numeric() accepts (leading whitespace, a sign, a fraction, an exponent).
_PHP_NUMERIC = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")
_HTTP_LINK = re.compile(r"https?://[^\s/?#]+\S*", re.IGNORECASE)
_COUNT_LIMIT = 10**12  # far beyond any max; keeps a huge drip-feed total from meaning anything


class Kind(StrEnum):
    """Why a request is refused; the wire picks each family's HTTP status from it."""

    BAD_REQUEST = "bad-request"
    AUTH = "auth"
    FUNDS = "funds"
    NOT_FOUND = "not-found"


class Refused(Exception):
    """A refusal: nothing was changed. ``message`` is what the panel says to the customer."""

    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class Conflict(ValueError):
    """A control request for a move the order or refill can no longer make (it is final)."""


class Status(StrEnum):
    """Order and refill statuses, spelled as PerfectPanel spells them."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"
    REJECTED = "Rejected"


FINAL = frozenset({Status.COMPLETED, Status.PARTIAL, Status.CANCELED, Status.REJECTED})


class IdStyle(StrEnum):
    """How order and refill ids look: PerfectPanel's counter, or seed 000's ``K7M2X9``."""

    NUMERIC = "numeric"
    ALNUM = "alnum"


class QuantitySyntax(StrEnum):
    """How ``quantity`` is read."""

    DIGITS = "digits"  # only a whole number in digits (ctype_digit, Laravel's integer rule)
    PHP_NUMERIC = "php-numeric"  # is_numeric() then (int): "1e3" is 1000, "150.7" is 150


@dataclass(frozen=True, slots=True)
class Service:
    """One catalogue entry; every service here is of type Default (per-1000 pricing)."""

    id: int
    name: str
    category: str
    rate: Decimal  # per 1000 units, in the wallet currency
    min: int
    max: int
    dripfeed: bool
    refill: bool
    cancel: bool


# Rates carry five decimals (seed 003 prints charges such as "0.27819"), so that most charges
# need rounding at two, four or five places and many at seven: the panels' rounding shows.
CATALOGUE: tuple[Service, ...] = (
    Service(101, "Instagram Followers [Refill 30D]", "Instagram", Decimal("0.91373"), 50,
            10_000, dripfeed=True, refill=True, cancel=True),
    Service(102, "Instagram Likes [No refill]", "Instagram", Decimal("0.05731"), 100,
            100_000, dripfeed=True, refill=False, cancel=True),
    Service(103, "YouTube Views [Non-cancellable]", "YouTube", Decimal("1.24937"), 20, 5_000,
            dripfeed=False, refill=False, cancel=False),
    Service(104, "TikTok Followers [Refill 365D]", "TikTok", Decimal("2.77813"), 10, 20_000,
            dripfeed=False, refill=True, cancel=False),
)


@dataclass(frozen=True, slots=True)
class Rules:
    """The business rules real panel families choose differently. All of them are correct."""

    places: int = 5
    """Decimals money is kept to (PerfectPanel prints five: "100.84292")."""
    rounding: str = ROUND_HALF_UP
    """How a charge or a refund is brought to ``places`` (PHP round(): half-up)."""
    currency: str = "USD"
    pending_seconds: float = 1.0
    """How long a new order waits for the provider to accept it (cancellable meanwhile)."""
    progress_seconds: float = 1.0
    """How long delivery takes once started."""
    cancellable: frozenset[Status] = frozenset({Status.PENDING, Status.IN_PROGRESS})
    """The statuses a cancel is accepted in (nothing is delivered before the end here)."""
    refill_days: float = 30.0
    """A refill is accepted up to this many days after completion (the warranty window)."""
    refill_cooldown: float = 0.0
    """Seconds after completion before a refill is accepted (LAR-BRL: 24 hours)."""
    refill_seconds: float = 1.0
    """How long each phase of a refill (Pending, In progress) lasts."""
    drip_total_checked: bool = True
    """min/max bound runs * quantity (SmartPanel, TR); False: they bound each run."""
    interval_min: int = 1
    """The smallest drip-feed interval in minutes (SmartPanel's list starts at 0)."""
    quantity_syntax: QuantitySyntax = QuantitySyntax.DIGITS
    link_needs_http: bool = True
    """True: a link must be an http(s) URL (seed 000); False: only an empty link is refused
    (SmartPanel's "Bad Link" check)."""
    ids: IdStyle = IdStyle.NUMERIC
    first_order_id: int = 23_501
    partial_every: int = 0
    """When > 0, every n-th order of a tenant ends Partial (the provider could not finish it),
    two fifths of its units undelivered; 0: every order that runs to its end completes."""
    one_active_per_link: bool = False
    """A second order on a link while one is still running is refused (LAR-BRL, TR, LAR-VND:
    what keeps a retried add from charging twice)."""
    flaws: frozenset[str] = frozenset()
    """Deliberate defects (``flaws.py``): names from :data:`LEDGER_FLAWS`; a correct panel
    has none."""

    def __post_init__(self) -> None:
        if self.rounding not in ROUNDINGS or self.places < 0:
            raise ValueError(f"unsupported money rule: {self.places} places, {self.rounding}")

    def money(self, amount: Decimal) -> Decimal:
        """``amount`` at the panel's precision, rounded its way."""
        return amount.quantize(Decimal(1).scaleb(-self.places), self.rounding)


class Clock:
    """Seconds since the panel started: real time (plus what was advanced), or manual time
    that only the control API moves (so that a controlled run decides when orders finish)."""

    def __init__(self, *, manual: bool) -> None:
        self._manual = manual
        self._origin = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        return self._offset + (0.0 if self._manual else time.monotonic() - self._origin)

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError("seconds must be a number >= 0")
        self._offset += seconds


@dataclass(slots=True)
class Tenant:
    id: str
    balance: Decimal
    currency: str
    placed: int = 0  # orders placed so far (for ``partial_every``)


@dataclass(slots=True, eq=False)  # an order is itself, whatever its fields say
class Order:
    id: str
    tenant: str
    service: Service
    link: str
    quantity: int
    runs: int | None
    interval: int | None
    charge: Decimal
    created: float
    start_count: int
    partial: bool  # the provider will not finish it (``partial_every``)
    status: Status = Status.PENDING
    remains: int = 0
    finished: float | None = None
    forced: bool = False  # the control API took it over: its timer no longer applies

    @property
    def units(self) -> int:
        """Units ordered: quantity, times runs for a drip-feed order."""
        return self.quantity * (self.runs or 1)


@dataclass(slots=True, eq=False)
class Refill:
    id: str
    tenant: str
    order: str
    created: float
    status: Status = Status.PENDING


class Books:
    """All state of one panel, behind one lock: every public method either completes or raises
    :class:`Refused` having changed nothing."""

    def __init__(self, rules: Rules, clock: Clock,
                 catalogue: tuple[Service, ...] = CATALOGUE) -> None:
        self.rules, self.clock, self.catalogue = rules, clock, catalogue
        self._tenants: dict[str, Tenant] = {}  # by API key
        self._orders: dict[str, Order] = {}
        self._refills: dict[str, Refill] = {}
        self._open: list[Order] = []  # orders whose timer still runs
        self._open_refills: list[Refill] = []  # refills whose timer still runs
        self._order_count = 0
        self._refill_count = 0
        self._lock = threading.Lock()
        # Only the flaws use these (a correct panel leaves them empty).
        self._last_tenant: Tenant | None = None  # "unknown-key-falls-back"
        self._late_reports: list[Order] = []  # "partial-remains-updated-late"

    # -- tenants -----------------------------------------------------------------------------

    def open_tenant(
        self, balance: Decimal, *, key: str | None = None, currency: str | None = None
    ) -> tuple[str, str]:
        """A new account holding ``balance``; returns (key, tenant id)."""
        if not balance.is_finite() or balance < 0:
            raise ValueError("an opening balance is a decimal >= 0")
        with self._lock:
            key = key if key is not None else secrets.token_hex(16)
            if not key.strip() or key in self._tenants:
                raise ValueError("that key is empty or already in use")
            tenant = Tenant(f"t{len(self._tenants) + 1}", self.rules.money(balance),
                            currency or self.rules.currency)
            self._tenants[key] = tenant
            return key, tenant.id

    def tenant(self, key: str | None) -> Tenant:
        """The account of ``key``; a missing, blank or unknown key is refused."""
        found = self._tenants.get(key) if key and key.strip() else None
        if "unknown-key-falls-back" in self.rules.flaws and key and key.strip():
            # Flaw: a long-running worker keeps the last authenticated account in a global,
            # and a request whose key matches no account is served as that account.
            found = self._last_tenant = found or self._last_tenant
        if found is None:
            raise Refused(Kind.AUTH, "Invalid API key")
        return found

    def balance(self, tenant: Tenant) -> Decimal:
        with self._lock:
            self._settle()
            return tenant.balance

    # -- orders ------------------------------------------------------------------------------

    def place(self, tenant: Tenant, params: Mapping[str, str]) -> Order:
        """An ``add`` of a Default service (drip-feed when runs and interval are given)."""
        service = self._service(params.get("service", ""))
        link = params.get("link", "").strip()
        if not link or (self.rules.link_needs_http and not _HTTP_LINK.fullmatch(link)):
            raise Refused(Kind.BAD_REQUEST, "Bad link")
        quantity_text = params.get("quantity", "")
        if "missing-quantity-defaults-to-min" in self.rules.flaws and not quantity_text.strip():
            quantity_text = str(service.min)  # Flaw: no quantity is read as the service's min
        quantity = self._quantity(quantity_text)
        runs, interval = self._dripfeed(service, params)
        units = quantity * (runs or 1)
        bounded = units if self.rules.drip_total_checked else quantity
        if bounded < service.min:
            if "below-min-refusal-keeps-debit" in self.rules.flaws:
                # Flaw: the order is debited before it is validated, and this refusal's path
                # forgets to give the money back.
                with self._lock:
                    taken = self.rules.money(service.rate * units / 1000)
                    if taken <= tenant.balance:
                        tenant.balance -= taken
            raise Refused(Kind.BAD_REQUEST, f"Quantity less than minimal {service.min}")
        if bounded > service.max or units > _COUNT_LIMIT:
            raise Refused(Kind.BAD_REQUEST, f"Quantity more than maximum {service.max}")
        charge = self.rules.money(service.rate * units / 1000)
        with self._lock:
            self._settle()
            if self.rules.one_active_per_link and any(
                o.tenant == tenant.id and o.link == link and o.status not in FINAL
                for o in self._orders.values()
            ):
                raise Refused(Kind.BAD_REQUEST, "You have active order with this link. Please "
                              "wait until order being completed.")
            covered = charge
            if "funds-check-in-cents" in self.rules.flaws:
                # Flaw: the funds check was written for a 2-decimal wallet: it compares the
                # balance with the charge cut to cents, so a balance short by less than a cent
                # pays anyway and goes below zero.
                covered = charge.quantize(Decimal("0.01"), ROUND_DOWN)
            if covered > tenant.balance:
                raise Refused(Kind.FUNDS, "Not enough funds on balance")
            tenant.balance -= charge
            if "referral-credit-to-others" in self.rules.flaws:
                # Flaw: a 5% referral commission whose referrer lookup lost its condition is
                # credited to every other account.
                for other in self._tenants.values():
                    if other is not tenant:
                        other.balance += self.rules.money(charge / 20)
            tenant.placed += 1
            every = self.rules.partial_every
            self._order_count += 1
            order = Order(
                id=self._new_id(self._order_count, self.rules.first_order_id, ""),
                tenant=tenant.id, service=service, link=link, quantity=quantity, runs=runs,
                interval=interval, charge=charge, created=self.clock.now(),
                # The provider's count of followers/views when delivery starts.
                start_count=1_000 + (self._order_count * 7_919) % 90_000,
                partial=every > 0 and tenant.placed % every == 0,
            )
            order.remains = order.units
            self._orders[order.id] = order
            self._open.append(order)
            if runs is not None and "dripfeed-add-without-id" in self.rules.flaws:
                # Flaw: a drip-feed order is filed under its first run, which has no id yet:
                # the add answers an empty order id.
                return replace(order, id="")
            return order

    def order(self, tenant: Tenant, order_id: str) -> Order:
        """An own order, settled to now; another key's id reads as never issued."""
        with self._lock:
            self._settle()
            if "status-lookup-ignores-owner" in self.rules.flaws:
                # Flaw: the status lookup finds the order by id alone, whoever placed it.
                found = self._orders.get(order_id.strip())
                if found is not None:
                    return found
            if "status-miss-billed" in self.rules.flaws and order_id.strip() not in self._orders:
                # Flaw: an id the panel does not hold is looked up at the upstream provider,
                # whose per-lookup fee (one money step) is billed to the customer.
                step = Decimal(1).scaleb(-self.rules.places)
                if tenant.balance >= step:
                    tenant.balance -= step
            return self._own(tenant, order_id)

    def cancel(self, tenant: Tenant, order_id: str) -> Order:
        """Cancel an own order while the rules allow it: a full refund, once."""
        with self._lock:
            self._settle()
            if ("cancel-unknown-acknowledged" in self.rules.flaws
                    and order_id.strip() not in self._orders):
                # Flaw: the cancel is an UPDATE whose affected rows are never counted: an id
                # the panel never issued is answered as cancelled (nothing is refunded).
                return _phantom(tenant, order_id.strip(), self.catalogue[0], self.clock.now())
            order = self._own(tenant, order_id)
            if not order.service.cancel:
                if "refused-cancel-marks-canceled" in self.rules.flaws:
                    # Flaw: the order is marked Canceled before the provider is asked; the
                    # provider refuses, the error is answered, the mark stays (no refund).
                    order.status, order.finished = Status.CANCELED, self.clock.now()
                    if order in self._open:
                        self._open.remove(order)
                raise Refused(Kind.BAD_REQUEST, "Cancel is not available for this service")
            if order.status not in self.rules.cancellable:
                raise Refused(Kind.BAD_REQUEST, "Cannot cancel")
            self._finish(order, Status.CANCELED, order.units, self.clock.now())
            if "cancel-refund-twice" in self.rules.flaws:
                # Flaw: the refund is credited by the cancel and again by the provider's
                # cancellation callback.
                tenant.balance += order.charge
            return order

    # -- refills -----------------------------------------------------------------------------

    def refill(self, tenant: Tenant, order_id: str) -> Refill:
        """A free refill of an own Completed order of a refill service, within the window."""
        with self._lock:
            now = self._settle()
            if ("refill-unknown-order-queued" in self.rules.flaws
                    and order_id.strip() not in self._orders):
                # Flaw: a refill request is queued for the provider without looking the order
                # up: a never-issued id gets a refill id.
                return self._new_refill(tenant, order_id.strip(), now)
            if "refill-ignores-owner" in self.rules.flaws and order_id.strip() in self._orders:
                order = self._orders[order_id.strip()]  # Flaw: found by id alone, any owner
            else:
                order = self._own(tenant, order_id)
            if not order.service.refill:
                raise Refused(Kind.BAD_REQUEST, "Refill is disabled for this service")
            if "refill-status-misspelt" in self.rules.flaws:
                # Flaw: the check compares the status with "Complete", which no order has.
                raise Refused(Kind.BAD_REQUEST, "The order is not completed")
            if order.status is not Status.COMPLETED or order.finished is None:
                raise Refused(Kind.BAD_REQUEST, "The order is not completed")
            if now < order.finished + self.rules.refill_cooldown:
                raise Refused(Kind.BAD_REQUEST, "The order was completed less than 24 hours ago")
            if now > order.finished + self.rules.refill_days * DAY:
                raise Refused(Kind.BAD_REQUEST, "Refill period has expired")
            if any(r.order == order.id and r.status not in FINAL for r in self._refills.values()):
                raise Refused(Kind.BAD_REQUEST, "Refill already requested")
            return self._new_refill(tenant, order.id, now)

    def refill_status(self, tenant: Tenant, refill_id: str) -> Refill:
        with self._lock:
            self._settle()
            found = self._refills.get(refill_id.strip())
            if "refill-status-ignores-owner" in self.rules.flaws and found is not None:
                return found  # Flaw: the refill is found by id alone, whoever asked for it
            if found is None or found.tenant != tenant.id:
                raise Refused(Kind.NOT_FOUND, "Refill not found")
            return found

    # -- the control API (a sandbox's levers) ------------------------------------------------

    def advance(self, seconds: float) -> float:
        with self._lock:
            self.clock.advance(seconds)
            return self._settle()

    def set_outcome(
        self, order_id: str, status: Status, remains: int | None = None,
        start_count: int | None = None,
    ) -> Order:
        """Finish (or start) an order as its provider would, with the refund that implies.
        ``KeyError``: unknown id; ``ValueError``: a move the order cannot make."""
        with self._lock:
            now = self._settle()
            order = self._orders[order_id]
            if order.status in FINAL:
                raise Conflict(f"order {order_id} is already {order.status.value}")
            units = order.units
            if status is Status.PARTIAL:
                left = max(1, units // 2) if remains is None else remains
                if not 0 < left <= units:
                    raise ValueError(f"a Partial order's remains is 1..{units}")
            elif status in (Status.COMPLETED, Status.CANCELED, Status.IN_PROGRESS):
                left = {Status.COMPLETED: 0, Status.CANCELED: units}.get(status, units)
                if remains is not None and status is Status.IN_PROGRESS:
                    if not 0 <= remains <= units:
                        raise ValueError(f"remains is 0..{units}")
                    left = remains
            else:
                raise ValueError(f"an order outcome cannot be {status.value}")
            if start_count is not None:
                order.start_count = start_count
            order.forced = True
            if status is Status.IN_PROGRESS:
                order.status, order.remains = status, left
            else:
                self._finish(order, status, left, now)
            return order

    def set_refill_outcome(self, refill_id: str, status: Status) -> Refill:
        with self._lock:
            self._settle()
            found = self._refills[refill_id]
            if status not in (Status.COMPLETED, Status.REJECTED):
                raise ValueError("a refill outcome is Completed or Rejected")
            if found.status in FINAL:
                raise Conflict(f"refill {refill_id} is already {found.status.value}")
            found.status = status
            if found in self._open_refills:
                self._open_refills.remove(found)
            return found

    # -- internals ---------------------------------------------------------------------------

    def _service(self, text: str) -> Service:
        text = text.strip()
        if not text:
            raise Refused(Kind.BAD_REQUEST, "Incorrect request: service is required")
        found = next((s for s in self.catalogue if _DIGITS.fullmatch(text)
                      and len(text) < 20 and s.id == int(text)), None)
        if found is None:
            raise Refused(Kind.NOT_FOUND, "Incorrect service ID")
        return found

    def _quantity(self, text: str) -> int:
        text = text.strip()
        if not text:
            raise Refused(Kind.BAD_REQUEST, "Incorrect request: quantity is required")
        if self.rules.quantity_syntax is QuantitySyntax.PHP_NUMERIC:
            if not _PHP_NUMERIC.fullmatch(text):
                raise Refused(Kind.BAD_REQUEST, "Incorrect quantity")
            value = Decimal(text)
            # (int) truncates toward zero; a value beyond 64 bits is no quantity at all.
            if value >= 2**63 or value <= -(2**63):
                raise Refused(Kind.BAD_REQUEST, "Incorrect quantity")
            quantity = int(value)
        else:
            if not _DIGITS.fullmatch(text) or len(text) > 18:
                raise Refused(Kind.BAD_REQUEST, "Incorrect quantity")
            quantity = int(text)
        if quantity <= 0:
            raise Refused(Kind.BAD_REQUEST, "Incorrect quantity")
        return quantity

    def _dripfeed(self, service: Service, params: Mapping[str, str]) -> tuple[int | None,
                                                                               int | None]:
        runs_text = params.get("runs", "").strip()
        interval_text = params.get("interval", "").strip()
        if not runs_text and not interval_text:
            return None, None
        if not runs_text or not interval_text:
            raise Refused(Kind.BAD_REQUEST, "Runs and interval are required together")
        if not service.dripfeed:
            raise Refused(Kind.BAD_REQUEST, "This service does not support drip-feed")
        if "bad-dripfeed-placed-plain" in self.rules.flaws and not (
            _DIGITS.fullmatch(runs_text) and _DIGITS.fullmatch(interval_text)
        ):
            return None, None  # Flaw: unreadable runs or interval dropped: a plain order
        if not _DIGITS.fullmatch(runs_text) or len(runs_text) > 6 or int(runs_text) < 1:
            raise Refused(Kind.BAD_REQUEST, "Incorrect runs")
        if (not _DIGITS.fullmatch(interval_text) or len(interval_text) > 6
                or int(interval_text) < self.rules.interval_min):
            raise Refused(Kind.BAD_REQUEST, "Incorrect interval")
        return int(runs_text), int(interval_text)

    def any_order(self, order_id: str) -> Order:
        """An order by id alone, whoever placed it (only a flawed wire asks this way)."""
        with self._lock:
            self._settle()
            found = self._orders.get(order_id.strip())
            if found is None:
                raise Refused(Kind.NOT_FOUND, "Incorrect order ID")
            return found

    def _own(self, tenant: Tenant, order_id: str) -> Order:
        found = self._orders.get(order_id.strip())
        if found is None or found.tenant != tenant.id:
            raise Refused(Kind.NOT_FOUND, "Incorrect order ID")
        return found

    def _new_refill(self, tenant: Tenant, order_id: str, now: float) -> Refill:
        self._refill_count += 1
        made = Refill(self._new_id(self._refill_count, 1, "R"), tenant.id, order_id, now)
        self._refills[made.id] = made
        self._open_refills.append(made)
        return made

    def _new_id(self, number: int, first: int, prefix: str) -> str:
        """The ``number``-th id: a counter from ``first``, or six letters and digits like seed
        000's order K7M2X9 and refill R88421 (``prefix`` takes the first place)."""
        if self.rules.ids is IdStyle.NUMERIC:
            return str(first + number - 1)
        # The counter scrambled by a bijection of 0..36**n-1 (48271 is prime to 36): ids are
        # unique and do not reveal how many orders the panel holds.
        places = 6 - len(prefix)
        return prefix + _base36((number * 48_271 + 12_345) % 36**places).rjust(places, "0")

    def _tenant_by_id(self, tenant_id: str) -> Tenant:
        return next(t for t in self._tenants.values() if t.id == tenant_id)

    def _finish(self, order: Order, status: Status, remains: int, now: float) -> None:
        """End ``order``; a cancel refunds the whole charge, a Partial its undelivered share,
        rounded the panel's way. Called once per order: a final status never changes."""
        refund = Decimal(0)
        if status is Status.PARTIAL and "partial-remains-zeroed" in self.rules.flaws:
            remains = 0  # Flaw: remains is copied from the wrong field of the provider (0)
        if status is Status.COMPLETED and "completed-keeps-remains" in self.rules.flaws:
            remains = order.remains  # Flaw: remains keeps the last count the provider sent
        if status is Status.CANCELED:
            refund = order.charge
        elif status is Status.PARTIAL:
            refund = self.rules.money(order.charge * remains / order.units)
            if "partial-refund-step-short" in self.rules.flaws and refund > 0:
                refund -= Decimal(1).scaleb(-self.rules.places)  # Flaw: one money step short
        order.status, order.remains, order.finished = status, remains, now
        if status is Status.PARTIAL and "partial-remains-updated-late" in self.rules.flaws:
            self._late_reports.append(order)  # Flaw: a late report rewrites it (_settle)
        self._tenant_by_id(order.tenant).balance += refund
        if order in self._open:
            self._open.remove(order)

    def _settle(self) -> float:
        """Apply every timed transition that is due; returns now."""
        now = self.clock.now()
        pending, delivery = self.rules.pending_seconds, self.rules.progress_seconds
        for order in list(self._open):
            if order.forced:
                self._open.remove(order)
                continue
            ends = order.created + pending + delivery
            if now >= ends:
                left = max(1, order.units * 2 // 5) if order.partial else 0
                self._finish(order, Status.PARTIAL if order.partial else Status.COMPLETED,
                             left, ends)
            elif now >= order.created + pending:
                order.status = Status.IN_PROGRESS
                if "remains-counts-drops" in self.rules.flaws:
                    # Flaw: remains is start_count + quantity - the provider's live count, and
                    # the count fell below its start (unfollows): more remains than ordered.
                    order.remains = order.units + max(order.units // 10, 1)
        for order in list(self._late_reports):  # "partial-remains-updated-late"
            assert order.finished is not None
            if now >= order.finished + 3_600:
                # The provider's late report, an hour on, lowers a Partial order's remains;
                # the status stays Partial and the refund already made is not adjusted.
                order.remains = max(order.remains // 2, 1)
                self._late_reports.remove(order)
        phase = self.rules.refill_seconds
        for refill in list(self._open_refills):
            if now >= refill.created + 2 * phase:
                refill.status = Status.COMPLETED
                self._open_refills.remove(refill)
            elif now >= refill.created + phase:
                refill.status = Status.IN_PROGRESS
        return now


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def _phantom(tenant: Tenant, order_id: str, service: Service, now: float) -> Order:
    """What the flaw "cancel-unknown-acknowledged" answers for an id it never issued: an order
    that is nowhere in the books."""
    return Order(id=order_id, tenant=tenant.id, service=service, link="", quantity=0, runs=None,
                 interval=None, charge=Decimal(0), created=now, start_count=0, partial=False,
                 status=Status.CANCELED)
