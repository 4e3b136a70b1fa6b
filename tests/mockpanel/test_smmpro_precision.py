"""smmpro's money precision (seed 001): kept and printed at 2 places, the one precision the
vendor wrote its own figures in -- the balance ``{ "balance": "100.84", "currency": "USD" }``
and its add answer's ``"charge": 4.20`` for rate ``"0.420"`` x 10000 -- rather than the
5-place ``"0.27819"`` of the stock PerfectPanel status sample it copied (see the comment on
``mockpanel/profiles/builtin/smmpro.yaml``).

What must hold whatever the precision: the ledger is exact, every debit shows in the balance
(the charge in status equals what the balance lost), and the printed balance never claims more
than the account holds.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mockpanel.profiles import SMMPRO
from mockpanel.state import ManualClock, PanelState, ServiceType, StateConfig
from mockpanel.state.catalog import Service
from mockpanel.wire import render
from mockpanel.wire.jsontext import dumps

if TYPE_CHECKING:
    from tests.fixtures.inprocess import MakePanel

LINK = "https://instagram.com/yourhandle"
_TWO_PLACES = re.compile(r"[0-9]+\.[0-9]{2}")


def _two_places(value: Any) -> bool:
    """Whether a money value (a JSON string, or a number read as Decimal) has two decimals."""
    text = format(value, "f") if isinstance(value, Decimal) else value
    return _TWO_PLACES.fullmatch(text) is not None


def test_the_seeds_add_example_prints_its_charge_as_4_20() -> None:
    """Seed 001's "Quick example": service 1247 at rate "0.420", quantity 10000 ->
    { "order": 98421, "status": "In progress", "charge": 4.20, ... }."""
    service = Service(1247, "Instagram Followers [HQ] [Instant] [R30]", ServiceType.DEFAULT,
                      "Instagram Followers", Decimal("0.420"), 100, 500_000, refill=True,
                      cancel=True, refill_days=30)
    state = PanelState(
        StateConfig(catalog=(service,), money_places=SMMPRO.money_places), ManualClock()
    )
    tenant, _ = state.create_tenant(Decimal("100.84"))
    view = state.place_order(tenant, "1247", {"link": LINK, "quantity": "10000"})
    text = dumps(render.added(SMMPRO, view).body)
    assert '"charge":4.20,' in text  # a number, with the seed's two decimals
    assert state.balance(tenant) == Decimal("96.64")


async def test_balance_and_charges_are_two_places_and_every_debit_shows(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel("smmpro")
    key, tenant = await panel.open_tenant("100.84")  # the seed's balance
    status, body = await panel.api(key=key, action="balance")
    assert (status, body) == (200, {"balance": "100.84", "currency": "USD"})

    # 0.90 * 1234 / 1000 = 1.1106: charged 1.11, rounded half up once, when priced
    status, added = await panel.api(
        key=key, action="add", service="1", link=LINK, quantity="1234"
    )
    assert status == 200
    assert added["charge"] == Decimal("1.11")
    assert _two_places(added["charge"])
    order = str(added["order"])
    _, balance = await panel.api(key=key, action="balance")
    assert balance["balance"] == "99.73"  # exactly 100.84 - 1.11: the debit shows in full
    _, single = await panel.api(key=key, action="status", order=order)
    _, multi = await panel.api(key=key, action="status", orders=order)
    assert single["charge"] == multi[order]["charge"] == "1.11"  # the debit, to the cent

    # A Partial refunds 1.11 * 617 / 1234 = 0.555 -> 0.56; the order then costs 0.55.
    await panel.force(order, "Partial", remains=617)
    _, single = await panel.api(key=key, action="status", order=order)
    _, balance = await panel.api(key=key, action="balance")
    assert single["charge"] == "0.55"
    assert balance["balance"] == "100.29"  # 100.84 - 0.55: no cent created or lost

    _, state = await panel.control("GET", "/state")
    (row,) = [t for t in state["tenants"] if t["id"] == tenant]
    assert state["money_places"] == 2
    held = Decimal(row["opening_balance"]) - Decimal(row["debited"]) + Decimal(row["credited"])
    assert Decimal(row["balance"]) == held == Decimal(balance["balance"])


async def test_a_balance_never_shows_more_than_the_account_holds(make_panel: MakePanel) -> None:
    """Cheap orders whose exact price is below a cent: each is charged a whole cent or is
    refused as below the advertised minimum; no run of them lets the printed balance drift
    above what was paid in minus what was charged."""
    panel = await make_panel("smmpro")
    key, _ = await panel.open_tenant("1.00")
    spent = Decimal(0)
    for quantity in ("3000", "3001", "4999", "5000", "5001"):  # 0.001 * q / 1000: 0.003..0.005
        status, body = await panel.api(
            key=key, action="add", service="2", link=LINK, quantity=quantity
        )
        assert status == 200, body  # charged, or refused in an HTTP 200 envelope
        if "charge" in body:
            spent += Decimal(str(body["charge"]))
            assert _two_places(body["charge"])
    _, balance = await panel.api(key=key, action="balance")
    assert _two_places(balance["balance"])
    assert Decimal(balance["balance"]) == Decimal("1.00") - spent
