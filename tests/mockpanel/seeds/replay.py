"""Replaying one transcribed example against an in-process mock panel.

:class:`Replay` builds the state the example needs through the mock's public API (a tenant's
orders are placed with ``add``) and its control API (tenants, forced outcomes, the clock,
suspension), remembering which id it created for each id the page shows; then it sends the
page's request with the key and ids replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockpanel.state.config import LifecycleTimings
from tests.fixtures.constants import LINK
from tests.fixtures.inprocess import InProcessPanel
from tests.mockpanel.seeds.transcripts import Example, OrderSetup, ServiceChoice

__all__ = ["Answer", "Replay"]

KEY_PLACEHOLDER = "YOUR_API_KEY"
# Ids no panel here ever issues (numeric ids start in the tens of thousands and count up by
# one; alphanumeric ones are six characters).
NEVER_ISSUED = "999999999"
UNKNOWN_SERVICE = "999999"
_ID_FIELDS = {"order": "order", "orders": "order", "refill": "refill", "refills": "refill"}
_LIMIT = re.compile(r"^\{(min|max)([+-]1)?\}$")
_FLAG_WORDS = {"1": True, "0": False, "true": True, "false": False}
# A Pending order of a refill service, for a refill to be asked of.
_REFILLABLE = OrderSetup(service=ServiceChoice("Default", {"refill": True}))


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return _FLAG_WORDS.get(str(value).lower())


class Replay:
    """One example on one panel: :meth:`prepare`, then :meth:`send`."""

    def __init__(self, panel: InProcessPanel, example: Example) -> None:
        self.panel = panel
        self.example = example
        self.key = ""
        self.tenant = ""
        self.catalogue: list[dict[str, Any]] = []
        self.services: dict[str, str] = {}  # the page's service id -> the catalogue's
        self.ids: dict[str, dict[str, str]] = {"order": {}, "refill": {}}
        self._other_key: str | None = None

    # ------------------------------------------------------------------ the state

    async def prepare(self) -> None:
        setup = self.example.setup
        self.key, self.tenant = await self.panel.open_tenant(setup.balance)
        if setup.services or setup.orders or setup.refills:
            # Read only when needed: a rate-limit example's budget must be untouched.
            status, body = await self.panel.api(key=self.key, action="services")
            assert status == 200, body
            assert isinstance(body, list), body
            self.catalogue = body
        for seed_id, choice in setup.services.items():
            self.services[seed_id] = self._service(choice, self.example.form.get("quantity"))
        # Refills first: moving a refill to In progress advances the clock, which would carry
        # a Pending order placed before it on to In progress.
        advance = False
        for seed_id, refill in setup.refills.items():
            if refill.unknown is not None:
                self.ids["refill"][seed_id] = await self._unknown_refill(refill.unknown)
                continue
            # refill_of completes the order, then asks for its refill.
            order = await self._order(self.key, _REFILLABLE)
            created = await self.panel.refill_of(self.key, order)
            if refill.status in ("Completed", "Rejected"):
                code, body = await self.panel.control(
                    "POST", f"/refills/{created}/outcome", {"status": refill.status}
                )
                assert code == 200, body
            elif refill.status == "In progress":
                advance = True
            else:
                assert refill.status == "Pending", refill
            self.ids["refill"][seed_id] = created
        if advance:
            await self.panel.advance(LifecycleTimings().refill_pending)
        for seed_id, wanted in setup.orders.items():
            if wanted.unknown == "never-issued":
                self.ids["order"][seed_id] = NEVER_ISSUED
            elif wanted.unknown == "other-tenant":
                self.ids["order"][seed_id] = await self._order(await self._other(), wanted)
            else:
                assert wanted.unknown is None, wanted
                self.ids["order"][seed_id] = await self._order(self.key, wanted)
        if setup.suspend:
            code, body = await self.panel.control("POST", f"/tenants/{self.tenant}/suspend")
            assert code == 200, f"suspending the tenant: HTTP {code} {body!r}"

    def _service(self, choice: ServiceChoice, quantity: str | None = None) -> str:
        """The id of the first catalogue service of the chosen type and flags (flags the
        profile does not show are not asked for) that can take ``quantity``."""
        if choice.unknown:
            return UNKNOWN_SERVICE
        for item in self.catalogue:
            if choice.type is not None and item.get("type") != choice.type:
                continue
            if any(name in item and _flag(item[name]) is not wanted
                   for name, wanted in choice.flags.items()):
                continue
            if quantity is not None and quantity.isdigit() and not (
                int(item["min"]) <= int(quantity) <= int(item["max"])
            ):
                continue
            return str(item["service"])
        raise AssertionError(f"{self.example.profile} lists no service like {choice}")

    def _limits(self, service: str) -> tuple[int, int]:
        item = next(item for item in self.catalogue if str(item["service"]) == service)
        return int(item["min"]), int(item["max"])

    async def _order(self, key: str, order: OrderSetup) -> str:
        """A new order of ``key``'s tenant, brought to ``order.status``."""
        service = self._service(order.service)
        low, high = self._limits(service)
        quantity = min(max(1000, low), high)
        status, body = await self.panel.api(
            key=key, action="add", service=service, link=LINK, quantity=str(quantity)
        )
        assert 200 <= status < 300, body
        assert "order" in body, body
        created = str(body["order"])
        if order.status not in (None, "Pending"):
            numbers = {} if order.remains is None else {"remains": order.remains}
            code, answer = await self.panel.control(
                "POST", f"/orders/{created}/outcome", {"status": order.status, **numbers}
            )
            assert code == 200, f"forcing {order.status}: HTTP {code} {answer!r}"
        return created

    async def _other(self) -> str:
        if self._other_key is None:
            self._other_key = await self.panel.tenant()
        return self._other_key

    async def _unknown_refill(self, how: str) -> str:
        if how == "never-issued":
            return NEVER_ISSUED
        assert how == "other-tenant", how
        other = await self._other()
        return await self.panel.refill_of(other, await self._order(other, _REFILLABLE))

    # ------------------------------------------------------------------ the request

    def form(self) -> dict[str, str]:
        """The page's request with this tenant's key and the created ids."""
        sent: dict[str, str] = {}
        for name, value in self.example.form.items():
            if name == "key" and value == KEY_PLACEHOLDER:
                value = self.key
            elif name == "service":
                value = self.services.get(value, value)
            elif name in _ID_FIELDS:
                created = self.ids[_ID_FIELDS[name]]
                value = ",".join(created.get(part, part) for part in value.split(","))
            sent[name] = value
        for name, value in sent.items():
            limit = _LIMIT.match(value)
            if limit:
                low, high = self._limits(sent["service"])
                bound, step = limit.groups()
                sent[name] = str((low if bound == "min" else high) + int(step or 0))
        return sent

    async def send(self) -> tuple[Answer, list[Answer]]:
        """The answer to the request (to its last copy, with ``repeat``) and those before."""
        form = self.form()
        answers: list[Answer] = []
        for _ in range(self.example.repeat):
            response = await self.panel.post(**form)
            answers.append(
                Answer(response.status, dict(response.headers),
                       self.panel.decode(await response.text()))
            )
        return answers[-1], answers[:-1]
