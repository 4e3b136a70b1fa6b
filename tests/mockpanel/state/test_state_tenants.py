"""Tenants: keys, isolation, ids unique across tenants, reset, and a key-free snapshot."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import ManualClock, OrderStatus, PanelState, StateConfig, Tenant

LINK = "https://instagram.com/p/abc"
MakeTenant = Callable[..., Tenant]


def test_keys_authenticate_their_tenant_only(panel: PanelState) -> None:
    a, key_a = panel.create_tenant(Decimal("1"))
    b, key_b = panel.create_tenant(Decimal("2"), "INR")
    assert re.fullmatch(r"[0-9a-f]{32}", key_a)
    assert key_a != key_b
    assert panel.authenticate(key_a) == a
    assert panel.authenticate(key_b) == b
    assert (a.id, b.id, b.currency) == ("t1", "t2", "INR")
    for wrong in ("", key_a.upper(), key_a[:-1], key_a + " ", "\ud800", "x" * 10_000):
        assert panel.authenticate(wrong) is None


def test_chosen_keys_and_duplicates(panel: PanelState) -> None:
    tenant, key = panel.create_tenant(Decimal("1"), key="sdk-test-key")
    assert key == "sdk-test-key"
    assert panel.authenticate("sdk-test-key") == tenant
    before = panel.snapshot()
    with pytest.raises(ValueError, match="already in use") as caught:
        panel.create_tenant(Decimal("1"), key="sdk-test-key")
    assert "sdk-test-key" not in str(caught.value)
    assert panel.snapshot() == before
    assert panel.create_tenant(Decimal("1"))[0].id == "t2"


@pytest.mark.parametrize(
    ("balance", "currency", "key"),
    [
        (Decimal("-1"), None, None),
        (Decimal("NaN"), None, None),
        (Decimal("0.000001"), None, None),
        (Decimal("1e20"), None, None),
        (1.5, None, None),
        (Decimal("1"), "usd", None),
        (Decimal("1"), "DOLLARS", None),
        (Decimal("1"), None, ""),
        (Decimal("1"), None, "has space"),
    ],
)
def test_bad_tenants_are_refused_and_nothing_is_created(
    panel: PanelState, balance: object, currency: str | None, key: str | None
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each case has its own message
        panel.create_tenant(balance, currency, key)  # type: ignore[arg-type]
    assert panel.snapshot()["tenants"] == []
    assert panel.create_tenant(Decimal(1))[0].id == "t1"


def test_orders_carry_the_tenant_currency(panel: PanelState, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("1000", "INR")
    order = panel.place_order(tenant, "1", {"link": LINK, "quantity": "1000"})
    assert order.currency == "INR"


def test_another_tenants_ids_answer_like_unknown_ids(
    panel: PanelState, make_tenant: MakeTenant
) -> None:
    alice, bob = make_tenant(), make_tenant()
    order = panel.place_order(alice, "1", {"link": LINK, "quantity": "1000"})
    panel.advance_clock(10)
    refill = panel.refill(alice, order.id)
    never = "99999999"
    for action in (panel.order, panel.cancel, panel.refill):
        errors = []
        for order_id in (order.id, never):
            with pytest.raises(DomainError) as caught:
                action(bob, order_id)
            errors.append(caught.value)
        assert [e.code for e in errors] == [ErrorCode.UNKNOWN_ORDER] * 2
        assert [e.params for e in errors] == [{"order": order.id}, {"order": never}]
    with pytest.raises(DomainError) as caught:
        panel.refill_status(bob, refill.id)
    assert (caught.value.code, caught.value.params) == (
        ErrorCode.UNKNOWN_REFILL, {"refill": refill.id}
    )
    assert panel.order(alice, order.id).status is OrderStatus.COMPLETED
    assert panel.orders(bob) == ()
    assert panel.balance(bob) == Decimal("100")


def test_ids_are_unique_across_tenants(panel: PanelState, make_tenant: MakeTenant) -> None:
    tenants = [make_tenant() for _ in range(3)]
    ids = [
        panel.place_order(tenants[i % 3], "2", {"link": LINK, "quantity": "10"}).id
        for i in range(30)
    ]
    assert len(set(ids)) == 30
    assert [o.id for o in panel.orders(tenants[1])] == ids[1::3]


def test_a_forged_or_stale_tenant_is_refused(panel: PanelState, tenant: Tenant) -> None:
    with pytest.raises(DomainError) as caught:
        panel.balance(Tenant(tenant.id, "EUR"))
    assert caught.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(DomainError):
        panel.balance(Tenant("t999", "USD"))


def test_reset_forgets_everything_but_keeps_counting(panel: PanelState) -> None:
    old, old_key = panel.create_tenant(Decimal("5"))
    old_order = panel.place_order(old, "2", {"link": LINK, "quantity": "10"})
    heard: list[str] = []
    panel.subscribe(lambda view: heard.append(view.id))
    panel.reset()
    assert panel.snapshot()["tenants"] == panel.snapshot()["orders"] == []
    assert panel.snapshot()["scheduled_events"] == 0
    assert panel.authenticate(old_key) is None
    with pytest.raises(DomainError) as caught:
        panel.order(old, old_order.id)
    assert caught.value.code is ErrorCode.INVALID_KEY
    new, _ = panel.create_tenant(Decimal("5"))
    assert new.id != old.id
    new_order = panel.place_order(new, "2", {"link": LINK, "quantity": "10"})
    assert new_order.id != old_order.id
    with pytest.raises(DomainError) as caught:
        panel.order(new, old_order.id)
    assert caught.value.code is ErrorCode.UNKNOWN_ORDER
    panel.advance_clock(10)
    assert heard == [new_order.id, new_order.id]  # listeners survive a reset


def test_snapshot_is_json_ready_and_has_no_keys(panel: PanelState) -> None:
    tenant, key = panel.create_tenant(Decimal("3"), key="super-secret-key-123")
    _, generated = panel.create_tenant(Decimal("1"))
    order = panel.place_order(tenant, "1", {"link": LINK, "quantity": "1000"})
    panel.advance_clock(10)
    panel.refill(tenant, order.id)
    text = json.dumps(panel.snapshot())
    assert key not in text
    assert generated not in text
    data = json.loads(text)
    assert data["tenants"][0] == {
        "id": "t1",
        "currency": "USD",
        "suspended": False,
        "balance": "2.10000",
        "opening_balance": "3.00000",
        "debited": "0.90000",
        "credited": "0.00000",
        "orders": [order.id],
        "refills": [data["refills"][0]["id"]],
    }
    assert data["orders"][0]["charge"] == "0.90000"
    assert data["orders"][0]["status"] == "Completed"
    assert data["refills"][0]["status"] == "Pending"


def test_services_are_the_configured_catalogue() -> None:
    config = StateConfig()
    assert PanelState(config, ManualClock()).services() == config.catalog
