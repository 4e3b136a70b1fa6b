"""What the Schemathesis hooks know of the panel: its catalogue, its money precision, the cap.

:meth:`PanelSession.open` is the pre-flight of an ``st run``: it reads ``services`` and
``balance`` with the key, once, and stops the run with one clear sentence when the URL, the
answer or the key is wrong (nothing useful can be tested then: every request would meet the
same refusal). From the catalogue it draws real orders (:meth:`PanelSession.orders`, the
harness's own :func:`harness.panel.strategies.orders`) and prices every ``add`` about to be sent
(:meth:`PanelSession.reserve`), so that ``PANEL_MAX_SPEND`` holds as it does for the harness:
with the default cap of 0 no ``add`` that could cost money reaches the panel.
"""

from __future__ import annotations

import functools
import json
import re
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import urlencode

from hypothesis import strategies as st

from harness.base import values
from harness.base.budget import Reservation, SpendGuard, Wallet
from harness.base.errors import HarnessError
from harness.base.redaction import Secret, scrub
from harness.panel.catalog import Catalog, Service, worst_case
from harness.panel.strategies import order_examples, order_shape, orders

__all__ = [
    "EXAMPLES_SHARE",
    "KEY_VARIABLE",
    "ORDER_SHARE",
    "SPEND_VARIABLE",
    "PanelSession",
    "PanelUnusable",
    "Post",
    "lenient_int",
    "post_form",
    "poster",
    "settings",
    "units_at_risk",
]

KEY_VARIABLE: Final = "PANEL_KEY"
SPEND_VARIABLE: Final = "PANEL_MAX_SPEND"
"""The harness's own variables (``--panel-key``, ``--panel-max-spend``), with the same meaning."""
ORDER_SHARE: Final = Decimal("0.1")
"""The part of what is left under the cap one drawn order may cost: a run of any length keeps
drawing real orders, each smaller than the last."""
EXAMPLES_SHARE: Final = Decimal("0.5")
"""The part of the cap the explicit examples (one order per service type) may cost together;
the rest is for the orders the fuzzing phase draws."""
TIMEOUT: Final = 30.0
_LEADING_INT: Final = re.compile(r"\s*([+-]?)(\d+)")
_LINES_FIELDS: Final = ("comments", "usernames", "keywords", "groups")

Post = Callable[[str, Mapping[str, str]], tuple[int, bytes]]
"""Sends a form to a URL and returns the HTTP status and the body."""


class PanelUnusable(HarnessError):
    """The pre-flight failed: the run would only ever meet the same refusal."""


def settings(environ: Mapping[str, str]) -> tuple[Secret, Decimal]:
    """The key and the spend cap (default 0) from the environment, or :class:`PanelUnusable`."""
    raw_key = environ.get(KEY_VARIABLE, "")
    if not raw_key.strip():
        raise PanelUnusable(
            f"{KEY_VARIABLE} is not set: export the API key of the account to test "
            f"(the protocol sends it as the form field `key`)"
        )
    raw_cap = environ.get(SPEND_VARIABLE, "").strip() or "0"
    try:
        cap = Decimal(raw_cap)
    except InvalidOperation:
        cap = Decimal(-1)
    if not cap.is_finite() or cap < 0:
        raise PanelUnusable(f"{SPEND_VARIABLE}={raw_cap!r}: expected an amount such as 1.50")
    return Secret(raw_key, KEY_VARIABLE), cap


def post_form(url: str, form: Mapping[str, str], *,
              verify: bool | str | None = True) -> tuple[int, bytes]:
    """POST ``form`` as ``application/x-www-form-urlencoded``; an HTTP error status is an
    answer, not an exception. ``verify`` is Schemathesis' ``--tls-verify``: ``False`` for a
    staging panel's self-signed certificate, or the path of a CA bundle."""
    request = urllib.request.Request(url, data=urlencode(form).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("Accept", "application/json")
    context = None
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def poster(verify: bool | str | None) -> Post:
    """:func:`post_form` with the run's TLS setting."""
    return functools.partial(post_form, verify=verify)


def lenient_int(value: object) -> int | None:
    """The integer a lenient panel reads from a form value, as PHP's ``(int)`` does: leading
    blanks, a sign and digits, whatever follows (``"12abc"`` -> 12); ``None`` when there are no
    leading digits."""
    if not isinstance(value, str):
        return None
    match = _LEADING_INT.match(value)
    if match is None:
        return None
    number = int(match.group(2))
    return -number if match.group(1) == "-" else number


def units_at_risk(service: Service, params: Mapping[str, str]) -> int:
    """The most units a panel could charge ``params`` for on ``service``, reading it leniently:
    the quantity (or the lines of a lines-counted type) times the drip-feed runs, or the
    service's max when the request names no usable quantity (a buggy panel may pick any)."""
    shape = order_shape(service.type)
    quantity = lenient_int(params.get("quantity")) or 0
    if shape is not None and shape.lines_param is not None:
        text = params.get(shape.lines_param, "")
        quantity = max(quantity, sum(1 for line in text.splitlines() if line.strip()))
    if service.per_post:  # seed 004's Custom Comments Package form orders posts * max
        posts = max(lenient_int(params.get("posts")) or 1, 1)
        quantity = max(quantity, (lenient_int(params.get("max")) or 0) * posts)
    runs = max(lenient_int(params.get("runs")) or 1, 1)
    return (quantity if quantity > 0 else service.max) * runs


class PanelSession:
    """The panel as the hooks of one ``st run`` see it."""

    def __init__(self, *, url: str, key: Secret, catalog: Catalog, places: int,
                 balance: Decimal, cap: Decimal, post: Post = post_form) -> None:
        self.url = url
        self.post = post
        self.key = key
        self.cap = cap
        self.opening = balance
        self.orders_accepted = 0
        self.catalog = catalog
        self.places = places
        self.wallet = Wallet(key)
        self.guard = SpendGuard(cap)
        self.guard.open(self.wallet, balance)
        self._lock = threading.Lock()
        self._by_id = {int(s.id): s for s in catalog.services if s.id.isdigit()}
        self.neutralised = 0

    @classmethod
    def open(cls, url: str, key: Secret, cap: Decimal, post: Post = post_form) -> PanelSession:
        """Read the catalogue and the balance; :class:`PanelUnusable` says why it cannot."""
        services = _read(url, key, "services", post)
        catalog = Catalog.parse(services)
        if not catalog.services:
            raise PanelUnusable(
                f"{url}: action=services answered no service the hooks can read (a list of "
                f"objects with service, type, rate, min and max); nothing can be ordered"
            )
        answer = _read(url, key, "balance", post)
        raw = answer.get("balance") if isinstance(answer, dict) else None
        balance = values.signed_money(raw)
        if balance is None:
            raise PanelUnusable(f"{url}: action=balance answered no balance amount")
        return cls(url=url, key=key, catalog=catalog, places=values.decimal_places(raw),
                   balance=balance, cap=cap, post=post)

    def service(self, params: Mapping[str, str]) -> Service | None:
        """The catalogue service a lenient panel reads from ``params["service"]``, if any."""
        number = lenient_int(params.get("service"))
        return None if number is None else self._by_id.get(number)

    def orders(self) -> st.SearchStrategy[dict[str, str]] | None:
        """Valid orders of the catalogue's orderable types, each within :data:`ORDER_SHARE` of
        what is left under the cap (``None`` when nothing fits)."""
        with self._lock:
            budget = self.guard.remaining * ORDER_SHARE
        try:
            found = orders(self.catalog, budget=budget, places=self.places)
        except ValueError:
            return None
        return found.map(lambda spec: spec.form())

    def order_examples(self) -> list[dict[str, str]]:
        """The simplest order of each orderable service type (its cheapest service at its
        smallest visible quantity), cheapest first, as many as fit together in
        :data:`EXAMPLES_SHARE` of what is left under the cap: explicit examples, so that every
        run orders every type it can afford."""
        with self._lock:
            budget = self.guard.remaining * EXAMPLES_SHARE
        specs = order_examples(self.catalog, budget=budget, places=self.places)
        chosen: list[dict[str, str]] = []
        total = Decimal(0)
        for spec in sorted(specs, key=lambda spec: spec.price):
            cost = worst_case(spec.price, self.places)
            if total + cost > budget:
                break
            total += cost
            chosen.append(spec.form())
        return chosen

    def reserve(self, params: Mapping[str, str]) -> Reservation | None:
        """Reserve the worst case of an ``add`` about to be sent: ``None`` when it names no
        catalogue service (it can cost nothing); :class:`SpendRefused` when it does not fit."""
        service = self.service(params)
        if service is None:
            return None
        price = service.price(units_at_risk(service, params))  # the dearest pricing's
        with self._lock:
            return self.guard.reserve(self.wallet, worst_case(price, self.places))

    def settle(self, reservation: Reservation, *, refused: bool | None) -> None:
        """Settle an ``add`` by its answer: a refusal frees its worst case (MONEY-004: a
        refusal charges nothing); an acceptance, or an answer nobody can read (a 5xx), keeps
        it under the cap."""
        with self._lock:
            self.orders_accepted += refused is False
            self.guard.settle(reservation, Decimal(0), accepted=refused is not True)

    def summary(self, post: Post | None = None) -> str:
        """What the run did with money, measured from the balance as the harness measures it
        (the charges a panel claims are not evidence)."""
        try:
            answer = _read(self.url, self.key, "balance", post or self.post)
        except PanelUnusable:
            answer = None
        raw = answer.get("balance") if isinstance(answer, dict) else None
        closing = values.signed_money(raw)
        spent = ("spent unknown (the closing balance could not be read)" if closing is None
                 else f"spent {self.opening - closing} (balance {self.opening} -> {closing})")
        line = f"{self.orders_accepted} order(s) accepted, {spent}, cap {self.cap}"
        if self.neutralised:
            line += f"; {self.neutralised} add(s) over the cap sent naming an unknown service"
        return line

    def neutral_service(self) -> str:
        """A service id the catalogue does not hold: an ``add`` naming it can cost nothing."""
        with self._lock:
            self.neutralised += 1
        return self.catalog.unknown_id()


def _read(url: str, key: Secret, action: str, post: Post) -> object:
    """One pre-flight request, its JSON answer, or :class:`PanelUnusable` with the cause."""
    try:
        status, body = post(url, {"key": key.reveal(), "action": action})
    except (OSError, ValueError) as error:
        raise PanelUnusable(f"{url}: action={action} could not be sent: {error}") from None
    text = scrub(body.decode("utf-8", "replace"), [key])
    try:
        answer: object = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise PanelUnusable(
            f"{url}: action={action} answered HTTP {status} with no JSON ({text[:120]!r}); "
            f"is --url the panel's origin (the API is at <url>/api/v2), not a login page?"
        ) from None
    if isinstance(answer, dict) and answer.get("error") is not None:
        raise PanelUnusable(
            f"{url}: action={action} was refused (HTTP {status}, {text[:200]}); is PANEL_KEY "
            f"this panel's API key?"
        )
    return answer

