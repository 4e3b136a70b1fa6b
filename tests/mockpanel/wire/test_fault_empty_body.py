"""The ``empty_body`` fault (``PUT /_mock/faults``): a complete HTTP 200 answer with the
profile's JSON content type and no body at all. Before the action nothing moves; with ``after``
the order exists and the client heard nothing; the journal names the fault; a rule for it is
validated like every other kind's."""

from __future__ import annotations

from decimal import Decimal

from tests.fixtures.constants import LINK
from tests.fixtures.inprocess import MakePanel


async def test_an_empty_200_with_the_json_content_type(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, tenant = await panel.open_tenant("100")
    await panel.faults({"fault": "empty_body", "action": "balance", "times": 1})
    response = await panel.post(key=key, action="balance")
    assert (response.status, response.content_type) == (200, "application/json")
    assert response.headers["Content-Length"] == "0"  # a whole answer, not a dropped one
    assert await response.read() == b""
    again = await panel.post(key=key, action="balance")  # times: 1, then gone
    assert await again.json() == {"balance": "100.00000", "currency": "USD"}
    entry = (await panel.journal())[0]
    assert (entry["action"], entry["status"], entry["response"], entry["tenant"]) == (
        "balance", 200, None, tenant
    )
    assert entry["faults"] == [{"rule": 1, "fault": "empty_body", "after": False}]


async def test_the_profiles_content_type_is_kept(make_panel: MakePanel) -> None:
    panel = await make_panel("smartpanel")  # PHP: JSON served as text/html
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "empty_body"})
    response = await panel.client.post("/api/v1", data={"key": key, "action": "balance"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert await response.read() == b""


async def test_before_the_action_no_money_moves(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "empty_body", "action": "add"})
    response = await panel.post(key=key, action="add", service="1", link=LINK, quantity="1000")
    assert await response.read() == b""
    assert await panel.balance(key) == Decimal("100")
    assert await panel.orders() == []


async def test_after_the_action_the_order_exists_and_the_client_heard_nothing(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "empty_body", "action": "add", "after": True, "times": 1})
    response = await panel.post(key=key, action="add", service="1", link=LINK, quantity="1000")
    assert (response.status, await response.read()) == (200, b"")
    assert await panel.balance(key) == Decimal("99.10000")
    (order,) = await panel.orders()
    entry = (await panel.journal())[0]
    assert entry["status"] == 200
    assert entry["response"] == {"order": int(order["id"])}  # what the panel meant to say
    assert entry["faults"] == [{"rule": 1, "fault": "empty_body", "after": True}]


async def test_a_rule_is_listed_and_strictly_validated(make_panel: MakePanel) -> None:
    panel = await make_panel()
    status, body = await panel.faults({"fault": "empty_body", "after": True, "times": 2})
    assert status == 200
    (rule,) = body["rules"]
    assert (rule["fault"], rule["after"], rule["left"]) == ("empty_body", True, 2)
    assert "status" not in rule
    assert "seconds" not in rule
    status, body = await panel.faults({"fault": "empty_body", "status": 200})
    assert (status, body["field"]) == (400, "rules[0].status")
    status, body = await panel.faults({"fault": "empty"})
    assert (status, body["field"]) == (400, "rules[0].fault")
    assert "empty_body" in body["error"]  # the refusal lists the kinds
    assert (await panel.control("GET", "/faults"))[1]["rules"] == [rule]  # nothing changed
