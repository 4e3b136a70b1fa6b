"""Exact money through the wire: debits, full refunds on cancel, partial refunds via control."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel



@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_add_debits_exactly_the_rate_per_thousand(make_panel: MakePanel, name: str) -> None:
    panel = await make_panel(name)
    key = await panel.tenant("100")
    await panel.place(key, quantity=1000)  # service 1: 0.90 per 1000
    await panel.place(key, quantity=50)  # 0.045, i.e. 0.05 at two places (half up)
    places = panel.profile.money_places
    small = Decimal("0.045").quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
    assert await panel.balance(key) == Decimal("100") - Decimal("0.90") - small


async def test_reference_balance_charge_cancel_and_partial_refund(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("100")
    canceled = await panel.place(key, quantity=1000)
    partial = await panel.place(key, quantity=1000)
    assert (await panel.api(key=key, action="balance"))[1] == {
        "balance": "98.20000",
        "currency": "USD",
    }

    _, body = await panel.api(key=key, action="cancel", orders=canceled)
    assert body == [{"order": int(canceled), "cancel": 1}]
    assert await panel.balance(key) == Decimal("99.10000")
    status = (await panel.api(key=key, action="status", order=canceled))[1]
    assert (status["status"], status["charge"]) == ("Canceled", "0.00000")
    assert status["remains"] == "1000"

    # Partial with 157 of 1000 undelivered refunds 0.90 * 157 / 1000 = 0.1413.
    await panel.force(partial, "Partial", remains=157, start_count=3572)
    assert await panel.balance(key) == Decimal("99.24130")
    status = (await panel.api(key=key, action="status", order=partial))[1]
    assert status == {
        "charge": "0.75870",
        "start_count": "3572",
        "status": "Partial",
        "remains": "157",
        "currency": "USD",
    }

    # A second cancel of the same order moves nothing: the refund happens once.
    _, body = await panel.api(key=key, action="cancel", orders=canceled)
    assert body[0]["cancel"] == {"error": "The order cannot be canceled"}
    assert await panel.balance(key) == Decimal("99.24130")


async def test_smmpremium_rupees_at_two_places(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpremium")
    key = await panel.tenant("250.00")
    order = await panel.place(key, quantity=1500)  # 0.90 * 1.5 = 1.35
    assert (await panel.api(key=key, action="balance"))[1] == {
        "balance": "248.65",
        "currency": "INR",
    }
    status, body = await panel.api(key=key, action="cancel", orders=order)
    assert (status, body) == (200, {"order": order, "cancel": {"status": "success"}})
    assert await panel.balance(key) == Decimal("250.00")


async def test_smmpro_add_reports_the_charge_as_an_exact_number(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpro")
    key = await panel.tenant("10")
    response = await panel.client.post(
        "/api/v2",
        data={"key": key, "action": "add", "service": "1", "link": "https://x.test/p",
              "quantity": "1000"},
    )
    text = await response.text()
    assert '"charge":0.90,' in text  # written from the Decimal, never through a float
    assert await panel.balance(key) == Decimal("9.10")


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_insufficient_funds_changes_nothing(make_panel: MakePanel, name: str) -> None:
    panel = await make_panel(name)
    key = await panel.tenant("0.5")
    status, body = await panel.api(
        key=key, action="add", service="1", link="https://x.test/p", quantity="1000"
    )
    assert (status, body) == panel.expected_error(
        ErrorCode.INSUFFICIENT_FUNDS, needed=Decimal("0.9"), balance=Decimal("0.5")
    )
    assert await panel.balance(key) == Decimal("0.5")
    assert (await panel.control("GET", "/state"))[1]["orders"] == []


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_every_advertised_minimum_of_a_per_1000_service_is_accepted_and_charged(
    make_panel: MakePanel, name: str
) -> None:
    """What ``services`` advertises is what ``add`` takes: a two-decimal panel raises the
    minimum of a very cheap service rather than refusing its own advertised minimum."""
    panel = await make_panel(name)
    key = await panel.tenant("1000000")
    _, catalogue = await panel.api(key=key, action="services")
    tried = 0
    for row in catalogue:
        if row.get("type") not in ("Default", "default"):
            continue
        before = await panel.balance(key)
        order = await panel.place(key, quantity=int(row["min"]), service=str(row["service"]))
        tried += 1
        assert order
        assert await panel.balance(key) < before, f"service {row['service']} charged nothing"
    assert tried >= 1
