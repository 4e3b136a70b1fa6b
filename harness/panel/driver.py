"""The suite's vocabulary over the client: the catalogue, wallets, and one method per action.

Everything the conformance tests (and the YAML scenarios) do to a panel goes through
:class:`Panel`: it knows the dialect it has detected (which action answers multi-status, which
optional actions exist), the money precision it has seen, which wallets may spend, and it
measures every balance around a request that can spend. It raises
:class:`~harness.judging.checks.CheckFailure` for what it observes and
:class:`~harness.judging.judge.NotApplicable` for what the run may not or cannot do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal

from harness import contract
from harness.base import values
from harness.base.budget import Reservation, SpendGuard, Wallet
from harness.base.errors import SpendRefused
from harness.base.exchange import Encoding, Exchange
from harness.base.progress import Progress
from harness.base.redaction import Secret
from harness.judging.checks import (
    Applies,
    CheckFailure,
    ErrorKind,
    Facts,
    Grade,
    answer_kind,
    expect_success,
    fail,
    require,
    unusable_by,
)
from harness.judging.judge import Judge, JudgeSlot, NotApplicable
from harness.judging.verdicts import NaReason
from harness.panel.catalog import (
    Catalog,
    OrderSpec,
    Service,
    is_never_issued,
    never_issued,
    visible_units,
    worst_case,
)
from harness.panel.polling import Waiting
from harness.panel.probes import UNKNOWN_ACTION, multi_status_aliases, same_refusal
from harness.wire.client import Call, PanelClient
from harness.wire.control import ControlClient

__all__ = [
    "Attempt",
    "Panel",
    "PanelSettings",
    "PlacedOrder",
]

SANDBOX_BALANCE = Decimal("100")
_REFILL_COOLDOWN_SECONDS = 86_400 + 60
"""A day and a minute: the longest refill cooldown seen after completion (LAR-BRL's 24 h)."""
QUIET_SECONDS = 1.0
"""How long a balance read may stand for the balance now (:meth:`Panel.quiet_balance`): the
reads it replaces follow it back to back, with no request and no pause in between."""
_LINK_BASE = "https://example.com/smm-conformance"
_FORM_TYPE = "application/x-www-form-urlencoded"
# The forms whose answers before the first test the suite reuses (Panel.asked_before): each
# form's action, and its parameters after the key.
_EARLY_FORMS = {"services": ("services", ("action",)), "balance": ("balance", ("action",)),
                "status": ("status", ("action", "order")),
                "status-multi": ("status", ("action", "orders")),
                "refill_status": ("refill_status", ("action", "refill"))}


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


@dataclass(frozen=True, slots=True)
class PanelSettings:
    """What the run allows the driver, read once from the run's configuration."""

    key: Secret | None
    """The main key (``None``: the run has none, and only key-less tests run)."""
    second_key: Secret | None = None
    seed: int = 0
    order_timeout: float = 120.0
    """Black-box, how long an order may take to finish before a test stops waiting."""
    examples: int = 20
    """Generated examples per property-based test."""
    rate_limit: int | None = None
    """The panel's advertised requests per minute (``--panel-rate-limit``), when given."""
    parallel: bool = False
    """Under pytest-xdist: another worker's requests never pass through this client."""


class Panel:
    """The panel under test, as the suite sees it.

    Built by the run (:class:`harness.run.session.HarnessRun`), which hands it its
    collaborators: the client, the control client when there is one, the spend guard, the
    progress display, a way to let time pass, and the slot holding the running test's judge.
    """

    def __init__(
        self,
        client: PanelClient,
        settings: PanelSettings,
        *,
        guard: SpendGuard,
        judges: JudgeSlot,
        control: ControlClient | None = None,
        progress: Progress | None = None,
        wait: Callable[[float, str | None], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.guard = guard
        self._judges = judges
        self._control = control
        self.progress = progress or Progress()
        self._wait = wait
        self.rng = random.Random(settings.seed)
        self.places = 0
        self._places_known = False
        self._catalog: Catalog | None = None
        self._main: Secret | None = settings.key
        self._currency: dict[str, str] = {}
        self._offered: dict[str, bool] = {}
        self._blocked: dict[str, str] = {}  # action -> the clause its unusable answer failed
        self._unknown_baseline: tuple[str, Exchange] | None = None
        self._multi_action: str | None = None
        self._placed: list[tuple[Wallet, str]] = []
        self._finished: set[str] = set()  # orders seen in a terminal status: nothing to cancel
        self._released = 0
        self._links = 0
        # The last balance read of each key (see quiet_balance), and the sequence number of
        # the latest exchange that could have moved money.
        self._quiet: dict[str, tuple[Decimal, int, float]] = {}  # label -> amount, seq, time
        self._latest = 0  # the last exchange that was not a plain balance read
        # Answers heard before the first test (pre-flight, the dialect fingerprint) to a
        # request the suite sends too (see asked_before).
        # (action, parameter names after the key, key label) -> answer
        self._early: dict[tuple[str, tuple[str, ...], str], Exchange] = {}
        self._testing = False
        self._services: Exchange | None = None  # the run's catalogue answer ...
        self._services_judge: Judge | None = None  # ... and the test that judged it
        self.client.observers.append(self._heard)

    def _heard(self, exchange: Exchange) -> None:
        if not _plain_balance(exchange):
            self._latest = max(self._latest, exchange.seq)
        elif exchange.request.key is not None and answer_kind(exchange) is Applies.SUCCESS:
            body = exchange.json
            amount = values.signed_money(body.get("balance") if isinstance(body, dict) else None)
            if amount is not None and amount >= 0:  # any balance read: quiet_balance reuses it
                self._quiet[exchange.request.key] = (amount, exchange.seq, time.monotonic())
        self._testing = self._testing or self._judges.current is not None
        request = exchange.request
        if self._testing or request.key is None or request.probe:
            return
        names = tuple(name for name, _ in request.params[1:])  # the key comes first
        # Only questions whose answer cannot change during the run (no parameter, or ids no
        # panel issued), and only real answers: a dropped connection or a 429 says nothing
        # of the question, so the test asks again.
        if (request.action is not None and names[:1] == ("action",)
                and all(is_never_issued(value) for _, value in request.params[2:])
                and request.method == "POST" and request.content_type == _FORM_TYPE
                and exchange.status is not None and exchange.status != 429):
            self._early.setdefault((request.action, names, request.key), exchange)

    def asked_before(self, form: str, key: Secret) -> Exchange | None:
        """The answer to a request of ``form`` with ``key`` (and a never-issued id, for the
        forms that take one) that the panel gave before the first test, to pre-flight or the
        dialect fingerprint, if any: used instead of asking the same again (once per run),
        and judged now by the running test, as the answer to its own request would have
        been. A panel's answers to these do not change while it is certified (a catalogue,
        a balance read, a refusal of an id it never issued); the answer is a real one to the
        very request the test would send, only sent earlier."""
        action, names = _EARLY_FORMS[form]
        early = (action, names, key.label)
        exchange = self._early.get(early)
        if exchange is None or exchange.form != form:
            return None
        return self._reuse(early, exchange)

    def probed_before(self, action: str, params: Mapping[str, str]) -> Exchange | None:
        """The answer, before the first test, to the probe ``action`` with ``params`` (no
        parameter, or never-issued ids) and the main key: what the dialect fingerprint asked
        the panel (an unknown action, the multi-status aliases, an optional action refusing
        an id it never issued), taken once per run instead of asking again, and judged now
        by the running test as this driver judges its own probes (by the generic checks
        only, whatever form the fingerprint sent it as)."""
        if not all(is_never_issued(value) for value in params.values()):
            return None
        early = (action, ("action", *params), self.main_key().label)
        exchange = self._early.get(early)
        if exchange is None:
            return None
        if exchange.form is not None:
            exchange = replace(exchange, request=replace(exchange.request, form=None))
        return self._reuse(early, exchange)

    def _reuse(self, early: tuple[str, tuple[str, ...], str], exchange: Exchange) -> Exchange:
        """Take the answer heard before the tests under ``early`` (once) as ``exchange``, the
        running test's own: judged by it, and handed to the client's replay observers (the
        Allure report attaches it to the test)."""
        del self._early[early]
        self.judge.observe(exchange)
        self.client.replayed(exchange)
        return exchange

    # -- context ---------------------------------------------------------------------------

    @property
    def judge(self) -> Judge:
        judge = self._judges.current
        if judge is None:
            raise RuntimeError("no test is running: the driver is used inside tests only")
        return judge

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            raise NotApplicable(NaReason.NO_CONTROL)
        return self._control

    def wait(self, seconds: float, what: str | None = None) -> None:
        """Let ``seconds`` pass for the panel: on its clock through the control API when there
        is one, else in real time (shown as waiting for ``what`` when it lasts)."""
        if self._wait is not None:
            self._wait(seconds, what)
        elif self._control is not None:
            self._control.advance_clock(seconds)
        else:
            self.progress.sleep(seconds, time.sleep, what=what or f"a {seconds:g}s pause")

    @property
    def controlled(self) -> bool:
        return self._control is not None

    def never_issued(self) -> str:
        """An id no panel can have issued (:func:`~harness.panel.catalog.never_issued`)."""
        return never_issued(self.rng)

    def link(self, *, outcome: str | None = None, remains: int | None = None) -> str:
        """A fresh target link; ``outcome`` adds the magic-link query the mock honours."""
        self._links += 1
        url = f"{_LINK_BASE}/{self.settings.seed}-{self._links}"
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

    def refill_completed(self, key: Secret, order_id: str) -> tuple[Exchange, str]:
        """Refill an order that has just completed; its answer and the refill id.

        Panels may hold a refill back for a while after completion (LAR-BRL: "less than 24
        hours ago") as well as close it after a window: with a control API the clock is
        moved a day on and the refill asked once more; black-box, a refusal right after
        completion cannot be told from a cooldown, so the clauses are not judged."""
        exchange = self.refill(key, order_id)
        if answer_kind(exchange) is Applies.ERROR and unusable_by(exchange) is None:
            if not self.controlled:
                raise NotApplicable(
                    NaReason.NO_CONTROL,
                    f"refused right after completion ({exchange.error_message!r}): a refill "
                    "cooldown cannot be waited out",
                )
            self.control.advance_clock(_REFILL_COOLDOWN_SECONDS)
            exchange = self.refill(key, order_id)
        body = expect_success(exchange, "REFILL-001", "a completed order can be refilled")
        refill_id = values.id_text(body.get("refill")) if isinstance(body, dict) else None
        if refill_id is None:
            fail("REFILL-001", "a completed order can be refilled",
                 f"the answer carries no refill id: {body!r}", [exchange])
        return exchange, refill_id

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
        key = self.settings.second_key
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
        balance = self.quiet_balance(wallet.key)
        if balance < budget:
            raise NotApplicable(NaReason.LOW_BALANCE, f"{wallet.label} holds {balance}")
        return wallet

    # -- reading ---------------------------------------------------------------------------

    def read_balance(self, key: Secret) -> Decimal:
        """The balance of ``key``, read now; an unreadable or negative balance is a failure."""
        return self.balance_in(self.balance(key), key)

    def balance_in(self, exchange: Exchange, key: Secret) -> Decimal:
        """The balance an answer to ``balance`` with ``key`` carries, judged as
        :meth:`read_balance` judges it (for a test that sent the request itself)."""
        body = expect_success(exchange, "BAL-001", "the balance is readable")
        raw = body.get("balance") if isinstance(body, dict) else None
        amount = values.signed_money(raw)
        if amount is None:
            fail("BAL-001", "the balance is readable", f"balance {raw!r}", [exchange])
        if amount < 0:
            fail("MONEY-006", "the balance never goes below zero", f"balance {raw}", [exchange])
        self.learn_places(raw)
        currency = body.get("currency") if isinstance(body, dict) else None
        if isinstance(currency, str):
            seen = self._currency.setdefault(key.label, currency)
            require(seen == currency, "BAL-004", "the currency is stable",
                    f"{seen} earlier, {currency} now", [exchange])
        return amount

    def quiet_balance(self, key: Secret) -> Decimal:
        """The balance of ``key`` as last read, when the panel has heard nothing since but
        balance reads; else :meth:`read_balance`.

        A balance moves on a request (an order, a cancel, a defect answering any request
        with a debit, whatever key or no key it names) or by itself, when an order the panel
        holds is refunded (cancelled or partial). Requests are ruled out by the sequence
        number: no exchange since the read but plain balance reads (of this or another key),
        which move no money (GEN-004; a panel whose reads did would fail the reads' own
        tests). A refund by itself is ruled out when the run has no order of that wallet
        that may still be refunded (none placed, or every one seen finished); otherwise a
        read is reused only within the test that made it, which every before/after pair of
        the suite already assumes quiet (a refund landing between the two reads of a pair
        would fail it just the same): :meth:`release`, at the end of the test, forgets it,
        because between tests the run's orders are being cancelled and their refunds may
        land at any moment. A read stands for :data:`QUIET_SECONDS` at most, so that a pause
        (a scenario's sleep step) is never bridged. With a control API nothing is reused:
        its calls (a clock advance, an outcome set) move orders and money without a request
        the client sees; nor under pytest-xdist, where the other worker's requests (on the
        same keys, black-box) never pass through this process's client. The reads a test
        makes on purpose twice (did a refund happen once? does the panel still serve?) call
        :meth:`read_balance`, which always asks the panel."""
        quiet = self._quiet.get(key.label)
        if (quiet is not None and not self.controlled and not self.settings.parallel
                and quiet[1] > self._latest and time.monotonic() - quiet[2] <= QUIET_SECONDS):
            return quiet[0]
        return self.read_balance(key)

    def learn_places(self, raw: object) -> None:
        """The panel's money precision is the most decimals any of its amounts (balances,
        charges) was written with: a PHP panel printing floats drops trailing zeros, so one
        amount can show fewer places than the panel keeps, never more."""
        if raw is None or values.money(raw) is None:
            return
        self.places = max(self.places, values.decimal_places(raw))
        self._places_known = True

    def currency(self, key: Secret) -> str | None:
        return self._currency.get(key.label)

    def catalog(self) -> Catalog:
        """The services (read once per run with the main key)."""
        if self._catalog is None:
            exchange = self.catalogue_answer()
            body = expect_success(exchange, "SVC-001", "the catalogue is readable")
            self._catalog = Catalog.parse(body)
        return self._catalog

    def catalogue_answer(self, *, judged_here: bool = False) -> Exchange:
        """The panel's answer to ``services`` with the main key, asked once per run (a panel's
        catalogue does not change while it is certified): the dialect fingerprint's answer
        when it asked first. An answer that is not a catalogue is not kept, so that the next
        use asks again (a 429 or a timeout is no catalogue). ``judged_here``: the running test
        judges the answer (its checks run in this test) if another test or no test did."""
        exchange = self._services
        if exchange is None:
            exchange = self.asked_before("services", self.main_key()) or self.call(
                "services", {"action": "services"}, self.main_key())
            self._services_judge = self.judge
            if answer_kind(exchange) is Applies.SUCCESS:
                self._services = exchange
        elif judged_here and self._services_judge is not self.judge:
            self.judge.observe(exchange)
            self._services_judge = self.judge
        return exchange

    def worst_case(self, price: Decimal) -> Decimal:
        """What an order of ``price`` can take at most at the panel's precision."""
        return worst_case(price, self.places)

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
        before = self.quiet_balance(wallet.key)
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
        before = self.quiet_balance(wallet.key)
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
        """``attempt`` must be refused with nothing charged (``clause`` and MONEY-004).

        MONEY-004 is about refusals: it is blamed only when the panel refused the request and
        money moved all the same. An accepted request that should have been refused is
        ``clause``'s failure alone (its debit is an order's, whatever the order's merit)."""
        charged = attempt.before != attempt.after
        self.judge.expect_error(attempt.exchange, clause, what, kind)
        if charged:
            self.judge.record_failure(
                CheckFailure("MONEY-004", "nothing is charged for a rejected request",
                             f"refused, yet the balance moved {attempt.before} -> "
                             f"{attempt.after}", Grade.FAIL, [attempt.exchange])
            )
            return
        self.judge.passed("MONEY-004")

    def concurrently(self, wallet: Wallet, specs: Sequence[OrderSpec]) -> list[Exchange]:
        """Send several ``add``s at once, each reserved (the overdraw test)."""
        self._may_spend(wallet)
        self.guard.open(wallet, self.quiet_balance(wallet.key))
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
        self.learn_places(body.get("charge"))
        status = values.order_status(body.get("status"))
        if status is not None and status.terminal:
            self._finished.add(order.id)
        return exchange, body

    def follow(
        self, key: Secret, order: PlacedOrder, *, timeout: float | None = None
    ) -> list[tuple[Exchange, dict[str, object]]]:
        """Poll an order until it is terminal: the control clock is advanced when there is
        one, otherwise real time passes up to ``--panel-order-timeout``."""
        seen: list[tuple[Exchange, dict[str, object]]] = []
        limit = self.settings.order_timeout if timeout is None else timeout
        waiting = Waiting(self._control, limit, self.progress)
        while True:
            previous = seen[-1][0] if seen else None
            seen.append(self.read_status(key, order, previous))
            word = seen[-1][1].get("status")
            status = values.order_status(word)
            if status is None:
                # STATUS-002 has failed on this answer already (a registered check): a word
                # the harness cannot read can never read as terminal, so waiting for one
                # would only wait out the timeout. The test's other clauses are blocked.
                raise NotApplicable(
                    NaReason.BLOCKED, f"status {word!r} is no status word",
                    blocked_by="STATUS-002",
                )
            if status.terminal:
                return seen
            waiting.pause(f"order {order.id} to finish (status {word})")

    def multi_status_action(self) -> str | None:
        """The action answering ``orders=`` lists: ``status`` (canonical), an alias, or None.

        ``status`` is judged as multi-status from the first probe; an alias only counts when
        its answer has the multi-status shape (a panel may answer an action it does not know
        with something else entirely, which is ERR-005's business, not this form's).
        """
        if "status-multi" not in self._offered:
            probe = self.never_issued()
            canonical = self.asked_before("status-multi", self.main_key()) or self.call(
                "status-multi", {"action": "status", "orders": probe}, self.main_key()
            )
            if answer_kind(canonical) is Applies.SUCCESS:
                self._multi_action = "status"
            for action in () if self._multi_action else multi_status_aliases():
                exchange = self.probed_before(action, {"orders": probe}) or self.call(
                    None, {"action": action, "orders": probe}, self.main_key())
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
        """Whether the panel offers ``action``: its refusal of a harmless request must not read
        like its refusal of an action that does not exist, and an answer nobody can use
        (``null``, a crash page) does not offer it either. The latter fails one clause, once:
        :meth:`require_offered` then blocks every test that needs the action by that clause."""
        if action not in self._offered:
            unknown, baseline = self._unknown_action_answer()
            # No form: this probe's answer is judged here, not by the action's schema check.
            probe = self.probed_before(action, params) or self.call(
                None, {"action": action, **params}, self.main_key())
            # Two refusals without a message (a stock 404 page for both) read alike too.
            messages = (probe.error_message, baseline.error_message)
            not_offered = answer_kind(probe) is Applies.ERROR and (
                messages == (None, None)
                or bool(same_refusal(messages[0], action, messages[1], unknown)))
            blocker = None if not_offered else self._unusable(action, probe, baseline)
            self._offered[action] = not not_offered and blocker is None
            if blocker is not None:
                self._blocked[action] = blocker
        return self._offered[action]

    def _unknown_action_answer(self) -> tuple[str, Exchange]:
        """An action name no panel knows and the panel's answer to it (asked once per run:
        the baseline every optional action's probe is compared with)."""
        if self._unknown_baseline is None:
            self._unknown_baseline = (UNKNOWN_ACTION, self.probed_before(UNKNOWN_ACTION, {})
                                      or self.call(None, {"action": UNKNOWN_ACTION},
                                                   self.main_key()))
        return self._unknown_baseline

    def _unusable(self, action: str, probe: Exchange, baseline: Exchange) -> str | None:
        """The clause an unusable answer to a well-formed ``action`` fails, else ``None``."""
        generic = unusable_by(probe)
        if generic is not None:
            return generic  # already failed by the registered checks
        if answer_kind(probe) is not Applies.SUCCESS or isinstance(probe.json, dict | list):
            return None
        if baseline.is_json and baseline.json == probe.json:
            # The panel answers every action it does not know this way: ERR-005's failure,
            # judged by its own test.
            return "ERR-005"
        clause = ACTION_CLAUSES[action]
        self.judge.record_failure(CheckFailure(
            clause, f"{action} answers a well-formed request",
            f"action={action} is answered with {probe.text[:80]!r}: neither a result nor the "
            "error envelope", Grade.FAIL, [probe]))
        return clause

    def require_offered(self, action: str, params: Mapping[str, str]) -> None:
        if not self.offers(action, params):
            blocker = self._blocked.get(action)
            if blocker is not None:
                raise NotApplicable(NaReason.BLOCKED, f"action={action} is unusable",
                                    blocked_by=blocker)
            raise NotApplicable(NaReason.NOT_OFFERED, f"action={action} is unknown to the panel")

    def _in_flight(self, label: str) -> bool:
        """Whether an order placed from the wallet of the key labelled ``label`` in this run
        may still be refunded."""
        return any(wallet.key.label == label and order_id not in self._finished
                   for wallet, order_id in self._placed)

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
        money needs no care): called after every test, so real money comes back early. An
        order the test saw finished (Completed, Partial, Canceled) is left alone: a finished
        order cannot be cancelled (CANCEL-006), so asking would only cost a request."""
        for label in list(self._quiet):
            if self._in_flight(label):
                del self._quiet[label]  # a refund may land between tests (quiet_balance)
        fresh, self._released = self._placed[self._released :], len(self._placed)
        by_key: dict[str, tuple[Secret, list[str]]] = {}
        for wallet, order_id in fresh:
            if not wallet.sandbox and order_id not in self._finished:
                by_key.setdefault(wallet.label, (wallet.key, []))[1].append(order_id)
        if not by_key or self._offered.get("cancel") is False:
            return
        for key, ids in by_key.values():
            for start in range(0, len(ids), 100):
                self.cancel(key, ids[start : start + 100])


ACTION_CLAUSES = {"cancel": "CANCEL-001", "refill": "REFILL-001",
                  "refill_status": "RSTATUS-001"}
"""The clause that an optional action's answer to a well-formed request is judged under."""


def _plain_balance(exchange: Exchange) -> bool:
    """A ``balance`` request of the protocol's own shape (any key): it reads, it moves no
    money (GEN-004), so it leaves every other key's last balance read standing."""
    request = exchange.request
    return (request.form == "balance" and request.method == "POST"
            and request.content_type == _FORM_TYPE and not request.probe
            and [name for name, _ in request.params] in (["key", "action"], ["action"]))

