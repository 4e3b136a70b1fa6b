"""The control API: Bearer auth, tenants, clock, forced outcomes, journal, state and reset."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from mockpanel.errors import ErrorCode

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel


ROUTES = [
    ("POST", "/tenants"),
    ("POST", "/clock/advance"),
    ("POST", "/orders/1/outcome"),
    ("POST", "/refills/1/outcome"),
    ("GET", "/journal"),
    ("GET", "/state"),
    ("POST", "/reset"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_the_bearer_token(
    make_panel: MakePanel, method: str, path: str
) -> None:
    panel = await make_panel()
    url = "/_mock" + path
    for headers in ({}, {"Authorization": "Basic " + panel.token}, {"Authorization": "Bearer "}):
        response = await panel.client.request(method, url, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await response.json()
    response = await panel.client.request(
        method, url, headers={"Authorization": "Bearer wrong-" + panel.token}
    )
    assert response.status == 403
    assert await response.json() == {"error": "wrong control token"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_no_control_api_without_a_token(
    make_panel: MakePanel, method: str, path: str
) -> None:
    panel = await make_panel(control_token=None)
    response = await panel.client.request(
        method, "/_mock" + path, headers={"Authorization": "Bearer some-token"}
    )
    assert response.status in (404, 405)
    assert response.content_type == "application/json"
    assert "error" in await response.json()


async def test_tenants_mint_isolated_keys(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpremium")
    status, body = await panel.control("POST", "/tenants", {"balance": "100.00"})
    assert status == 201
    assert body["balance"] == "100.00"
    assert body["currency"] == "INR"
    assert body["tenant"].startswith("t")
    other = await panel.tenant("5")
    assert body["key"] != other
    assert await panel.balance(body["key"]) == Decimal("100.00")
    status, body = await panel.control(
        "POST", "/tenants", {"balance": 7, "currency": "USD", "key": "my-fixed-key"}
    )
    assert (status, body["balance"], body["currency"]) == (201, "7.00", "USD")
    assert (await panel.api(key="my-fixed-key", action="balance"))[1] == {
        "balance": "7.00",
        "currency": "USD",
    }


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [1, 2],
        {},
        {"balance": "-1"},
        {"balance": "1e3"},
        {"balance": "1.123456"},  # more places than the profile's 5
        {"balance": True},
        {"balance": "10", "currency": "usd"},
        {"balance": "10", "key": "has space"},
        {"balance": "10", "colour": "blue"},
        {"balance": "NaN"},
    ],
)
async def test_malformed_tenant_requests_are_400(make_panel: MakePanel, body: Any) -> None:
    panel = await make_panel()
    raw = body if isinstance(body, str) else json.dumps(body)
    response = await panel.client.post(
        "/_mock/tenants", data=raw, headers={"Authorization": f"Bearer {panel.token}"}
    )
    assert response.status == 400
    answer = await response.json()
    # Only an unknown field is named (in "field"); the other refusals say why in "error".
    expected = {"error", "field"} if "colour" in body else {"error"}
    assert set(answer) == expected
    assert answer.get("field", "colour") == "colour"
    assert (await panel.control("GET", "/state"))[1]["tenants"] == []


async def test_a_repeated_key_is_refused_without_echoing_it(make_panel: MakePanel) -> None:
    panel = await make_panel()
    secret = "secret-key-123"
    assert (await panel.control("POST", "/tenants", {"balance": "1", "key": secret}))[0] == 201
    status, body = await panel.control("POST", "/tenants", {"balance": "1", "key": secret})
    assert status == 400
    assert secret not in json.dumps(body)


async def test_clock_advance_drives_the_lifecycle(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key = await panel.tenant()
    order = await panel.place(key)
    assert (await panel.api(key=key, action="status", order=order))[1]["status"] == "Pending"
    status, body = await panel.control("POST", "/clock/advance", {"seconds": 2})
    assert status == 200
    assert body == {"now": 2.0}
    assert (await panel.api(key=key, action="status", order=order))[1]["status"] == "In progress"
    await panel.control("POST", "/clock/advance", {"seconds": 8.5})
    body = (await panel.api(key=key, action="status", order=order))[1]
    assert (body["status"], body["remains"]) == ("Completed", "0")


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True},
                                  {"seconds": 1e400}, {"minutes": 1}])
async def test_bad_clock_advance_is_400(make_panel: MakePanel, body: Any) -> None:
    panel = await make_panel()
    status, answer = await panel.control("POST", "/clock/advance", body)
    assert status == 400
    assert "error" in answer
    assert (await panel.control("GET", "/state"))[1]["now"] == 0.0


async def test_order_outcome_errors(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key = await panel.tenant()
    order = await panel.place(key)
    unknown = await panel.control("POST", "/orders/424242/outcome", {"status": "Completed"})
    assert unknown[0] == 404
    for bad in ({"status": "Pending"}, {"status": "Done"}, {"status": "Partial", "remains": -1},
                {"status": "Partial", "remains": 1001}, {"status": "Partial", "remains": "5"},
                {"status": "Completed", "remains": 3}):
        status, body = await panel.control("POST", f"/orders/{order}/outcome", bad)
        assert status == 400, bad
        assert "error" in body
    balance = await panel.balance(key)
    assert balance == Decimal("999.10000")
    body = await panel.force(order, "Completed", start_count=10)
    assert (body["status"], body["remains"], body["start_count"]) == ("Completed", 0, 10)
    status, body = await panel.control("POST", f"/orders/{order}/outcome", {"status": "Partial"})
    assert status == 409
    assert "error" in body
    assert await panel.balance(key) == balance


async def test_refill_outcome(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key = await panel.tenant()
    refill = await panel.refill_of(key, await panel.place(key))
    path = f"/refills/{refill}/outcome"
    assert (await panel.control("POST", "/refills/R0/outcome", {"status": "Completed"}))[0] == 404
    assert (await panel.control("POST", path, {"status": "Pending"}))[0] == 400
    status, body = await panel.control("POST", f"/refills/{refill}/outcome", {"status": "Rejected"})
    assert (status, body["status"], body["id"]) == (200, "Rejected", refill)
    assert (await panel.api(key=key, action="refill_status", refill=refill))[1] == {
        "status": "Rejected"
    }
    status, _ = await panel.control("POST", f"/refills/{refill}/outcome", {"status": "Completed"})
    assert status == 409


async def test_journal_redacts_keys_and_filters_by_tenant(make_panel: MakePanel) -> None:
    panel = await make_panel()
    alice = (await panel.control("POST", "/tenants", {"balance": "10"}))[1]
    bob = (await panel.control("POST", "/tenants", {"balance": "10"}))[1]
    await panel.api(key=alice["key"], action="balance")
    await panel.api(key=bob["key"], action="services")
    await panel.api(key="wrong-key-xyz", action="balance")

    status, journal = await panel.control("GET", "/journal")
    assert status == 200
    entries = journal["exchanges"]
    assert [(e["tenant"], e["action"], e["status"]) for e in entries] == [
        (alice["tenant"], "balance", 200),
        (bob["tenant"], "services", 200),
        (None, "balance", 200),
    ]
    assert entries[0]["params"] == {"key": "[redacted]", "action": "balance"}
    assert entries[0]["response"] == {"balance": "10.00000", "currency": "USD"}
    assert entries[2]["response"] == {"error": "Invalid API key"}
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    text = json.dumps(journal, default=str)
    for secret in (alice["key"], bob["key"], "wrong-key-xyz", panel.token):
        assert secret not in text

    only_bob = (await panel.control("GET", f"/journal?tenant={bob['tenant']}"))[1]
    assert [e["action"] for e in only_bob["exchanges"]] == ["services"]


async def test_journal_is_bounded(make_panel: MakePanel) -> None:
    panel = await make_panel(journal_size=3)
    key = await panel.tenant()
    for _ in range(5):
        await panel.api(key=key, action="balance")
    entries = (await panel.control("GET", "/journal"))[1]["exchanges"]
    assert [e["seq"] for e in entries] == [3, 4, 5]


async def test_state_snapshot_never_holds_keys(make_panel: MakePanel) -> None:
    panel = await make_panel(keys=(("configured-key", Decimal("5")),))
    key = await panel.tenant("20")
    order = await panel.place(key)
    status, snapshot = await panel.control("GET", "/state")
    assert status == 200
    assert [t["balance"] for t in snapshot["tenants"]] == ["5.00000", "19.10000"]
    assert [o["id"] for o in snapshot["orders"]] == [order]
    text = json.dumps(snapshot, default=str)
    assert key not in text
    assert "configured-key" not in text


async def test_reset_keeps_only_the_configured_tenants(make_panel: MakePanel) -> None:
    panel = await make_panel(keys=(("configured-key", Decimal("5")),))
    key = await panel.tenant("20")
    await panel.place(key)
    await panel.api(key="configured-key", action="add", service="1",
                    link="https://x.test/a", quantity="1000")
    status, body = await panel.control("POST", "/reset")
    assert (status, body) == (200, {"reset": True})
    assert await panel.api(key=key, action="balance") == panel.expected_error(
        ErrorCode.INVALID_KEY
    )
    assert await panel.balance("configured-key") == Decimal("5")
    snapshot = (await panel.control("GET", "/state"))[1]
    assert snapshot["orders"] == []
    assert len(snapshot["tenants"]) == 1
    journal = (await panel.control("GET", "/journal"))[1]["exchanges"]
    # Only the two balance requests made after the reset; the add before it is forgotten.
    assert [(e["action"], e["status"]) for e in journal] == [("balance", 200), ("balance", 200)]


async def test_unknown_control_path_is_a_json_404(make_panel: MakePanel) -> None:
    panel = await make_panel()
    status, body = await panel.control("GET", "/nothing-here")
    assert status == 404
    assert body == {"error": "Not Found"}
