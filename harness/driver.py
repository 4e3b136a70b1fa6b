"""The suite's vocabulary over the client: the catalogue, wallets, and one method per action.

Everything the conformance tests (and the YAML scenarios) do to a panel goes through
:class:`Panel`: it knows the dialect it has detected (which action answers multi-status, which
optional actions exist), the money precision it has seen, which wallets may spend, and it
measures every balance around a request that can spend. It raises
:class:`~harness.checks.CheckFailure` for what it observes and
:class:`~harness.judge.NotApplicable` for what the run may not or cannot do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from harness import contract, values
from harness.budget import Reservation, SpendRefused, Wallet
from harness.checks import (
    Applies,
    CheckFailure,
    ErrorKind,
    Facts,
    Grade,
    answer_kind,
    expect_success,
    fail,
    require,
)
from harness.client import Call, Encoding, Exchange
from harness.control import ControlClient
from harness.judge import Judge, NotApplicable
from harness.redaction import Secret
from harness.verdicts import NaReason

if TYPE_CHECKING:
    from harness.session import HarnessRun

__all__ = [
    "Attempt",
    "Catalog",
    "OrderSpec",
    "Panel",
    "PlacedOrder",
    "Service",
    "charge_matches",
    "roundings",
    "visible_units",
]

FLAT_TYPES = frozenset({"Package", "Custom Comments Package"})
MULTI_STATUS_ALIASES = ("orders", "multiStatus")
SANDBOX_BALANCE = Decimal("100")
_LINK_BASE = "https://example.com/smm-conformance"


def _flag(value: object) -> bool | None:
    if value in (True, 1, "1"):
        return True
    if value in (False, 0, "0"):
        return False
    return None


@dataclass(frozen=True, slots=True)
class Service:
    """One catalogue entry, read leniently."""

    id: str
    name: str
    type: str
    rate: Decimal
    min: int
    max: int
    refill: bool | None = None
    cancel: bool | None = None
    dripfeed: bool | None = None

    @property
    def flat(self) -> bool:
        """Package types charge the rate once, whatever the quantity."""
        return self.type in FLAT_TYPES

    def price(self, units: int) -> Decimal:
        """The exact (unrounded) charge for ``units``."""
        return self.rate if self.flat else self.rate * units / 1000

    @classmethod
    def parse(cls, item: object) -> Service | None:
        if not isinstance(item, dict):
            return None
        service_id = values.id_text(item.get("service"))
        rate = values.money(item.get("rate"))
        low, high = values.count(item.get("min")), values.count(item.get("max"))
        kind = item.get("type")
        if service_id is None or rate is None or not low or not high or low > high:
            return None
        if not isinstance(kind, str):
            return None
        return cls(
            id=service_id,
            name=str(item.get("name", "")),
            type=_canonical_type(kind),
            rate=rate,
            min=low,
            max=high,
            refill=_flag(item.get("refill")),
            cancel=_flag(item.get("cancel")),
            dripfeed=_flag(item.get("dripfeed")),
        )


def _canonical_type(kind: str) -> str:
    """``custom_comments`` (SmartPanel) and ``default`` read as ``Custom Comments``, ``Default``."""
    by_snake = {name: label for label, name in contract.service_types().items()}
    return by_snake.get(kind, by_snake.get(kind.lower(), kind))


class Catalog:
    """The services a panel offers, with the choices the suite makes among them."""

    def __init__(self, services: Iterable[Service]) -> None:
        self.services = tuple(services)

    @classmethod
    def parse(cls, body: object) -> Catalog:
        items = body if isinstance(body, list) else []
        return cls(s for s in (Service.parse(item) for item in items) if s is not None)

    def of_type(self, *types: str) -> list[Service]:
        return [s for s in self.services if s.type in types]

    def unknown_id(self) -> str:
        """A service id the catalogue does not hold."""
        numeric = [int(s.id) for s in self.services if s.id.isdigit()]
        return str(max(numeric, default=0) + 900_000_001)

    def most_expensive(self, units: int) -> Decimal:
        return max((s.price(units) for s in self.services), default=Decimal(0))


def visible_units(service: Service, places: int) -> int:
    """The smallest valid quantity whose charge shows at ``places`` decimals (else ``min``)."""
    if service.flat or service.rate == 0:
        return service.min
    smallest = Decimal(1).scaleb(-places)
    needed = int((smallest * 1000 / service.rate).to_integral_value(ROUND_CEILING))
    return min(max(service.min, needed), service.max)


def roundings(amount: Decimal, places: int) -> set[Decimal]:
    """``amount`` as a panel may round it to ``places`` decimals (half-up, half-even) or exact."""
    step = Decimal(1).scaleb(-places)
    return {amount, amount.quantize(step, ROUND_HALF_UP), amount.quantize(step, ROUND_HALF_EVEN)}


def charge_matches(actual: Decimal, exact: Decimal, places: int) -> bool:
    """Whether ``actual`` is ``exact`` at the panel's precision (rate * quantity / 1000 may
    need rounding; the rounding mode is the panel's choice between half-up and half-even)."""
    return actual in roundings(exact, places)


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An ``add`` to send: its service, parameters, units ordered and exact price."""

    service: Service
    params: tuple[tuple[str, str], ...]
    units: int | None
    price: Decimal

    def form(self) -> dict[str, str]:
        return {"action": "add", "service": self.service.id, **dict(self.params)}


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An accepted order and the balance around its ``add``."""

    id: str
    spec: OrderSpec
    exchange: Exchange
    before: Decimal
    after: Decimal
    wallet: Wallet

    @property
    def debit(self) -> Decimal:
        return self.before - self.after


@dataclass(frozen=True, slots=True)
class Attempt:
    """A request sent to be refused, and the balance around it."""

    exchange: Exchange
    before: Decimal
    after: Decimal


class Panel:
    """The panel under test, as the suite sees it."""

    def __init__(self, run: HarnessRun) -> None:
        self.run = run
        self.client = run.client
        self.guard = run.guard
        self.rng = random.Random(run.config.seed)
        self.places = 0
        self._places_known = False
        self._catalog: Catalog | None = None
        self._main: Secret | None = run.config.key
        self._currency: dict[str, str] = {}
        self._offered: dict[str, bool] = {}
        self._multi_action: str | None = None
        self._placed: list[tuple[Wallet, str]] = []
        self._released = 0
        self._links = 0

    # -- context ---------------------------------------------------------------------------

    @property
    def judge(self) -> Judge:
        judge = self.run.judge
        if judge is None:
            raise RuntimeError("no test is running: the driver is used inside tests only")
        return judge

    @property
    def control(self) -> ControlClient:
        if self.run.control is None:
            raise NotApplicable(NaReason.NO_CONTROL)
        return self.run.control

    @property
    def controlled(self) -> bool:
        return self.run.control is not None

    def never_issued(self) -> str:
        """An id no panel can have issued (13 digits starting with 9, seeded)."""
        return f"9{self.rng.randrange(10**11, 10**12)}"

    def link(self, *, outcome: str | None = None, remains: int | None = None) -> str:
        """A fresh target link; ``outcome`` adds the magic-link query the mock honours."""
        self._links += 1
        url = f"{_LINK_BASE}/{self.run.config.seed}-{self._links}"
        if outcome is not None:
            url += f"?mock_outcome={outcome}"
            if remains is not None:
                url += f"&mock_remains={remains}"
        return url

    # -- raw actions -----------------------------------------------------------------------

    def call(
        self,
        form: str | None,
        params: Mapping[str, str],
        key: Secret | None,
        *,
        reservation: Reservation | None = None,
        encoding: Encoding = Encoding.FORM,
        honour_429: bool | None = None,
        polite: bool = True,
    ) -> Exchange:
        return self.client.call(
            params, key=key, form=form, encoding=encoding, reservation=reservation,
            honour_429=honour_429, polite=polite,
        )

    def balance(self, key: Secret | None) -> Exchange:
        return self.call("balance", {"action": "balance"}, key)

    def status(self, key: Secret, order_id: str) -> Exchange:
        return self.call("status", {"action": "status", "order": order_id}, key)

    def cancel(self, key: Secret, ids: Sequence[str]) -> Exchange:
        return self.call("cancel", {"action": "cancel", "orders": ",".join(ids)}, key)

    def refill(self, key: Secret, order_id: str) -> Exchange:
        return self.call("refill", {"action": "refill", "order": order_id}, key)

    def refill_status(self, key: Secret, refill_id: str) -> Exchange:
        return self.call("refill_status", {"action": "refill_status", "refill": refill_id}, key)

    # -- keys and wallets ------------------------------------------------------------------

    def main_key(self) -> Secret:
        """The key of the account under test (minted once when only a control API is given)."""
        if self._main is None:
            self._main = self.control.mint_tenant(SANDBOX_BALANCE)
        return self._main

    def spending_wallet(self, budget: Decimal) -> Wallet:
        """A wallet that may spend ``budget``: a fresh sandbox tenant when a control API is
        there, else the main key, within the cap and its balance."""
        if self.controlled:
            # Whole units, so the opening balance suits any money precision of the panel.
            opening = max((budget * 2).to_integral_value(ROUND_CEILING), SANDBOX_BALANCE)
            return Wallet(self.control.mint_tenant(opening), sandbox=True)
        wallet = Wallet(self.main_key())
        return self._real_wallet(wallet, budget)

    def second_wallet(self, balance: Decimal | None = None) -> Wallet:
        """Another account of the same panel (minted, or ``--panel-second-key``)."""
        if self.controlled:
            return Wallet(self.control.mint_tenant(balance or SANDBOX_BALANCE), sandbox=True)
        key = self.run.config.second_key
        if key is None:
            raise NotApplicable(NaReason.NO_SECOND_KEY)
        return Wallet(key)

    def poor_wallet(self, balance: Decimal) -> Wallet:
        """A sandbox tenant holding exactly ``balance`` (controlled mode only)."""
        return Wallet(self.control.mint_tenant(balance), sandbox=True)

    def _real_wallet(self, wallet: Wallet, budget: Decimal) -> Wallet:
        self._may_spend(wallet)
        if budget > self.guard.remaining:
            raise NotApplicable(NaReason.SPEND_CAP, f"needs up to {budget}")
        balance = self.read_balance(wallet.key)
        if balance < budget:
            raise NotApplicable(NaReason.LOW_BALANCE, f"{wallet.label} holds {balance}")
        return wallet

    # -- reading ---------------------------------------------------------------------------

    def read_balance(self, key: Secret) -> Decimal:
        """The balance of ``key``; an unreadable or negative balance is a failure."""
        exchange = self.balance(key)
        body = expect_success(exchange, "BAL-001", "the balance is readable")
        raw = body.get("balance") if isinstance(body, dict) else None
        amount = values.signed_money(raw)
        if amount is None:
            fail("BAL-001", "the balance is readable", f"balance {raw!r}", [exchange])
        if amount < 0:
            fail("MONEY-006", "the balance never goes below zero", f"balance {raw}", [exchange])
        self.places = max(self.places, values.decimal_places(raw))
        self._places_known = True
        currency = body.get("currency") if isinstance(body, dict) else None
        if isinstance(currency, str):
            seen = self._currency.setdefault(key.label, currency)
            require(seen == currency, "BAL-004", "the currency is stable",
                    f"{seen} earlier, {currency} now", [exchange])
        return amount

    def currency(self, key: Secret) -> str | None:
        return self._currency.get(key.label)

    def catalog(self) -> Catalog:
        """The services (read once per run with the main key)."""
        if self._catalog is None:
            exchange = self.call("services", {"action": "services"}, self.main_key())
            body = expect_success(exchange, "SVC-001", "the catalogue is readable")
            self._catalog = Catalog.parse(body)
        return self._catalog

    def worst_case(self, price: Decimal) -> Decimal:
        """What an order of ``price`` can take at most at the panel's precision."""
        return price.quantize(Decimal(1).scaleb(-self.places), ROUND_CEILING)

    # -- orders ----------------------------------------------------------------------------

    def default_order(
        self,
        service: Service,
        quantity: int,
        *,
        link: str | None = None,
        runs: int | None = None,
        interval: int | None = None,
    ) -> OrderSpec:
        params = [("link", link or self.link()), ("quantity", str(quantity))]
        units = quantity
        if runs is not None:
            params.append(("runs", str(runs)))
            units = quantity * runs
        if interval is not None:
            params.append(("interval", str(interval)))
        return OrderSpec(service, tuple(params), units, service.price(units))

    def package_order(self, service: Service) -> OrderSpec:
        return OrderSpec(service, (("link", self.link()),), None, service.rate)

    def comments_order(self, service: Service, comments: str) -> OrderSpec:
        lines = [line for line in comments.splitlines() if line.strip()]
        return OrderSpec(
            service, (("link", self.link()), ("comments", comments)), len(lines),
            service.price(len(lines)),
        )

    def cheapest_default(
        self, *, need: str | None = None, telling: bool = False
    ) -> tuple[Service, int]:
        """The Default service (with flag ``need`` true, if given) and the smallest quantity
        whose charge is visible, minimising that charge: the cheapest valid order. ``telling``
        asks for a charge large enough to tell a wrong price from rounding."""
        defaults = self.catalog().of_type("Default")
        candidates = [s for s in defaults if need is None or getattr(s, need) is True]
        if not candidates and need == "cancel":
            # A catalogue without cancel flags (seed 004) may still cancel: try and see.
            candidates = [s for s in defaults if s.cancel is None]
        if not candidates:
            detail = "no Default service" + (f" with {need}" if need else "")
            raise NotApplicable(NaReason.NOT_OFFERED, detail)
        size = self.telling_units if telling else self.units
        service = min(candidates, key=lambda s: (s.price(size(s)), s.id))
        return service, size(service)

    def telling_units(self, service: Service) -> int:
        """The smallest valid quantity whose charge is at least 100 steps of the money
        precision, so that a price off by 1% or more cannot hide in the rounding (else max)."""
        if not self._places_known:
            self.read_balance(self.main_key())
        if service.flat or service.rate == 0:
            return service.min
        floor = Decimal(100).scaleb(-self.places)
        needed = int((floor * 1000 / service.rate).to_integral_value(ROUND_CEILING))
        return min(max(service.min, needed), service.max)

    def units(self, service: Service) -> int:
        """The smallest valid quantity of ``service`` whose charge shows in the balance: a
        zero charge proves nothing, and some panels refuse orders that would cost nothing."""
        if not self._places_known:
            self.read_balance(self.main_key())  # the balance tells the money precision
        return visible_units(service, self.places)

    def _may_spend(self, wallet: Wallet) -> None:
        if not self.guard.can_spend(wallet):
            raise NotApplicable(NaReason.SPEND_CAP, f"nothing left for {wallet.label}")

    def place(self, wallet: Wallet, spec: OrderSpec, *, clause: str = "ADD-001") -> PlacedOrder:
        """Send a valid ``add`` within the cap and measure its debit."""
        self._may_spend(wallet)
        before = self.read_balance(wallet.key)
        self.guard.open(wallet, before)
        try:
            reservation = self.guard.reserve(wallet, self.worst_case(spec.price))
        except SpendRefused as refused:
            raise NotApplicable(NaReason.SPEND_CAP, str(refused.needed)) from None
        exchange = self.call("add", spec.form(), wallet.key, reservation=reservation)
        after = self.read_balance(wallet.key)
        self.guard.settle(reservation, before - after, accepted=True)
        body = expect_success(exchange, clause, "a valid order is accepted")
        order_id = values.id_text(body.get("order")) if isinstance(body, dict) else None
        if order_id is None:
            fail(clause, "a valid order is accepted", "the answer carries no order id", [exchange])
        self._placed.append((wallet, order_id))
        return PlacedOrder(order_id, spec, exchange, before, after, wallet)

    def attempt(
        self,
        wallet: Wallet,
        params: Mapping[str, str],
        worst_case: Decimal,
        *,
        key: Secret | None = None,
    ) -> Attempt:
        """Send an ``add`` that should be refused, reserving its worst case in case it is not,
        and measure ``wallet``'s balance around it. ``key`` sends it with another key."""
        self._may_spend(wallet)
        before = self.read_balance(wallet.key)
        self.guard.open(wallet, before)
        try:
            reservation = self.guard.reserve(wallet, self.worst_case(worst_case))
        except SpendRefused as refused:
            raise NotApplicable(NaReason.SPEND_CAP, str(refused.needed)) from None
        exchange = self.call(
            "add", {"action": "add", **params}, key or wallet.key, reservation=reservation
        )
        after = self.read_balance(wallet.key)
        accepted = answer_kind(exchange) is not Applies.ERROR
        self.guard.settle(reservation, max(before - after, Decimal(0)), accepted=accepted)
        self._remember(wallet, exchange)
        return Attempt(exchange, before, after)

    def _remember(self, wallet: Wallet, exchange: Exchange) -> None:
        """Note an order an ``add`` created, so the end of the run can cancel it."""
        if answer_kind(exchange) is Applies.SUCCESS and isinstance(exchange.json, dict):
            order_id = values.id_text(exchange.json.get("order"))
            if order_id is not None:
                self._placed.append((wallet, order_id))

    def expect_refused(
        self, attempt: Attempt, clause: str, what: str, kind: ErrorKind | None = None
    ) -> None:
        """``attempt`` must be refused with nothing charged (``clause`` and MONEY-004)."""
        charged = attempt.before != attempt.after
        if charged:
            self.judge.record_failure(
                CheckFailure("MONEY-004", "nothing is charged for a rejected request",
                             f"balance {attempt.before} -> {attempt.after}", Grade.FAIL,
                             [attempt.exchange])
            )
        self.judge.expect_error(attempt.exchange, clause, what, kind)
        require(not charged, clause, what,
                f"refused, yet the balance moved {attempt.before} -> {attempt.after}",
                [attempt.exchange])
        self.judge.passed("MONEY-004")

    def concurrently(self, wallet: Wallet, specs: Sequence[OrderSpec]) -> list[Exchange]:
        """Send several ``add``s at once, each reserved (the overdraw test)."""
        self._may_spend(wallet)
        self.guard.open(wallet, self.read_balance(wallet.key))
        calls = []
        for spec in specs:
            try:
                reservation = self.guard.reserve(wallet, self.worst_case(spec.price))
            except SpendRefused as refused:
                raise NotApplicable(NaReason.SPEND_CAP, str(refused.needed)) from None
            calls.append(Call(spec.form(), wallet.key, "add", reservation))
        answers = self.client.call_concurrently(calls)
        for exchange in answers:
            self._remember(wallet, exchange)
        return answers

    # -- status ----------------------------------------------------------------------------

    def read_status(
        self, key: Secret, order: PlacedOrder, previous: Exchange | None = None
    ) -> tuple[Exchange, dict[str, object]]:
        """The status of an own order, judged with its quantity and the previous answer."""
        exchange = self.status(key, order.id)
        self.judge.apply_facts(exchange, Facts(quantity=order.spec.units, previous=previous))
        body = expect_success(exchange, "STATUS-001", "an own order's status is readable")
        if not isinstance(body, dict):
            fail("STATUS-001", "an own order's status is readable", "not an object", [exchange])
        return exchange, body

    def follow(
        self, key: Secret, order: PlacedOrder, *, timeout: float | None = None
    ) -> list[tuple[Exchange, dict[str, object]]]:
        """Poll an order until it is terminal: the control clock is advanced when there is
        one, otherwise real time passes up to ``--panel-order-timeout``."""
        seen: list[tuple[Exchange, dict[str, object]]] = []
        limit = self.run.config.order_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        steps = iter((1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400))
        while True:
            previous = seen[-1][0] if seen else None
            seen.append(self.read_status(key, order, previous))
            status = values.order_status(seen[-1][1].get("status"))
            if status is not None and status.terminal:
                return seen
            if self.controlled:
                step = next(steps, None)
                if step is None:
                    raise NotApplicable(NaReason.TIMEOUT, "not terminal after 30 simulated days")
                self.control.advance_clock(step)
            else:
                if time.monotonic() >= deadline:
                    raise NotApplicable(NaReason.TIMEOUT, f"{limit:g}s")
                time.sleep(min(max(limit / 20, 0.5), 10.0, max(deadline - time.monotonic(), 0)))

    def multi_status_action(self) -> str | None:
        """The action answering ``orders=`` lists: ``status`` (canonical), an alias, or None.

        ``status`` is judged as multi-status from the first probe; an alias only counts when
        its answer has the multi-status shape (a panel may answer an action it does not know
        with something else entirely, which is ERR-005's business, not this form's).
        """
        if "status-multi" not in self._offered:
            probe = self.never_issued()
            canonical = self.call(
                "status-multi", {"action": "status", "orders": probe}, self.main_key()
            )
            if answer_kind(canonical) is Applies.SUCCESS:
                self._multi_action = "status"
            for action in () if self._multi_action else MULTI_STATUS_ALIASES:
                exchange = self.call(None, {"action": action, "orders": probe}, self.main_key())
                if answer_kind(exchange) is Applies.SUCCESS and not contract.validate(
                    "status-multi", "response", exchange.json
                ):
                    self._multi_action = action
                    break
            self._offered["status-multi"] = self._multi_action is not None
        return self._multi_action

    def multi_status(self, key: Secret, ids: Sequence[str]) -> Exchange:
        action = self.multi_status_action()
        if action is None:
            raise NotApplicable(NaReason.NOT_OFFERED, "no action answers status with orders=")
        if action != "status":
            self.judge.record_failure(CheckFailure(
                "MSTATUS-001", "status with orders answers per id",
                f"multi-status only through action={action} (a dialect variant)",
                Grade.NON_STRICT))
        return self.call("status-multi", {"action": action, "orders": ",".join(ids)}, key)

    # -- optional actions ------------------------------------------------------------------

    def offers(self, action: str, params: Mapping[str, str]) -> bool:
        """Whether the panel knows ``action``: its refusal of a harmless request must not read
        like its refusal of an action that does not exist."""
        if action not in self._offered:
            unknown = f"no_such_action_{self.rng.randrange(10**6)}"
            baseline = self.call(None, {"action": unknown}, self.main_key())
            probe = self.call(_FORMS.get(action), {"action": action, **params}, self.main_key())
            self._offered[action] = not (
                answer_kind(probe) is Applies.ERROR
                and _normalised(probe.error_message, action)
                == _normalised(baseline.error_message, unknown)
            )
        return self._offered[action]

    def require_offered(self, action: str, params: Mapping[str, str]) -> None:
        if not self.offers(action, params):
            raise NotApplicable(NaReason.NOT_OFFERED, f"action={action} is unknown to the panel")

    def cancel_outcomes(self, exchange: Exchange) -> dict[str, bool]:
        """Per order id: True when the cancel was accepted, False when refused."""
        body = exchange.json
        items = body if isinstance(body, list) else [body]
        outcomes: dict[str, bool] = {}
        for item in items:
            if not isinstance(item, dict):
                continue
            order_id = values.id_text(item.get("order"))
            if order_id is None:
                continue
            result = item.get("cancel")
            refused = "error" in item or (isinstance(result, dict) and "error" in result)
            outcomes[order_id] = not refused and result is not None
        return outcomes

    # -- the end of the run ----------------------------------------------------------------

    def release(self) -> None:
        """Ask to cancel the orders placed from real wallets since the last release (sandbox
        money needs no care): called after every test, so real money comes back early."""
        fresh, self._released = self._placed[self._released :], len(self._placed)
        by_key: dict[str, tuple[Secret, list[str]]] = {}
        for wallet, order_id in fresh:
            if not wallet.sandbox:
                by_key.setdefault(wallet.label, (wallet.key, []))[1].append(order_id)
        if not by_key or self._offered.get("cancel") is False:
            return
        for key, ids in by_key.values():
            for start in range(0, len(ids), 100):
                self.cancel(key, ids[start : start + 100])


_FORMS = {"cancel": "cancel", "refill": "refill", "refill_status": "refill_status"}


def _normalised(message: str | None, action: str) -> str | None:
    return None if message is None else message.replace(action, "<action>")

