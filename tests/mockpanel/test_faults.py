"""Faults on demand (``PUT /_mock/faults``): strict rules, every kind doing what it says, faults
before the action never moving money, ``after`` faults leaving the order without an answer,
and the journal naming the fault that hit each request."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from tests.fixtures.constants import LINK
from tests.fixtures.inprocess import MakePanel

# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{"fault": "explode"}], "rules[0].fault"),
        ([{"action": "status"}], "rules[0].fault"),
        ([{"fault": "http_error", "statuss": 502}], "rules[0].statuss"),
        ([{"fault": "http_error"}], "rules[0].status"),
        ([{"fault": "http_error", "status": 302}], "rules[0].status"),
        ([{"fault": "http_error", "status": 600}], "rules[0].status"),
        ([{"fault": "http_error", "status": "502"}], "rules[0].status"),
        ([{"fault": "http_error", "status": 502, "seconds": 1}], "rules[0].seconds"),
        ([{"fault": "delay"}], "rules[0].seconds"),
        ([{"fault": "delay", "seconds": 0}], "rules[0].seconds"),
        ([{"fault": "delay", "seconds": 31}], "rules[0].seconds"),
        ([{"fault": "html", "probability": 0}], "rules[0].probability"),
        ([{"fault": "html", "probability": 1.5}], "rules[0].probability"),
        ([{"fault": "html", "probability": "0.5"}], "rules[0].probability"),
        ([{"fault": "html", "seed": 1.5}], "rules[0].seed"),
        ([{"fault": "html", "times": 0}], "rules[0].times"),
        ([{"fault": "html", "times": True}], "rules[0].times"),
        ([{"fault": "html", "after": "yes"}], "rules[0].after"),
        ([{"fault": "html", "action": "stats"}], "rules[0].action"),
        ([{"fault": "html", "action": "orders"}], "rules[0].action"),  # smmpremium's, not ours
        ([{"fault": "rate_limit", "after": True}], "rules[0].after"),
        ([{"fault": "rate_limit", "retry_after": 0}], "rules[0].retry_after"),
        ([{"fault": "reset", "tenant": "t999"}], "rules[0].tenant"),
        ([{"fault": "reset", "key": "not-a-key-of-anyone"}], "rules[0].key"),
        ([{"fault": "html"}, "html"], "rules[1]"),
        ([{"fault": "html"}] * 101, "rules"),
    ],
)
async def test_a_bad_rule_is_a_400_naming_its_field_and_changes_nothing(
    make_panel: MakePanel, rules: list[Any], field: str
) -> None:
    panel = await make_panel()
    assert (await panel.faults({"fault": "html", "action": "services"}))[0] == 200
    before = (await panel.control("GET", "/faults"))[1]
    status, body = await panel.faults(*rules)
    assert status == 400, body
    assert body["field"] == field
    assert body["error"].startswith(field + ": ")
    assert "not-a-key-of-anyone" not in body["error"]
    assert (await panel.control("GET", "/faults"))[1] == before


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "rules"),
        ({"rules": {"fault": "html"}}, "rules"),
        ({"rules": [], "extra": 1}, "extra"),
        ([{"fault": "html"}], None),
    ],
)
async def test_a_bad_document_is_a_400(
    make_panel: MakePanel, document: Any, field: str | None
) -> None:
    panel = await make_panel()
    status, body = await panel.control("PUT", "/faults", document)
    assert status == 400
    assert body.get("field") == field


async def test_key_and_tenant_are_exclusive_and_the_key_is_never_kept(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel()
    key, tenant = await panel.open_tenant("100")
    status, body = await panel.faults({"fault": "html", "key": key, "tenant": tenant})
    assert (status, body["field"]) == (400, "rules[0].key")
    status, body = await panel.faults(
        {"fault": "http_error", "status": 503, "key": key, "action": "balance", "times": 2},
        {"fault": "delay", "seconds": 1.5, "tenant": tenant},
    )
    assert status == 200
    listed = (await panel.control("GET", "/faults"))[1]
    assert listed == body
    assert key not in json.dumps(listed, default=str)
    first, second = listed["rules"]
    assert first == {
        "id": first["id"], "fault": "http_error", "action": "balance", "tenant": tenant,
        "times": 2, "probability": 1.0, "seed": 0, "after": False, "status": 503, "left": 2,
        "hits": 0,
    }
    assert (second["fault"], second["seconds"], second["tenant"]) == ("delay", 1.5, tenant)
    assert second["id"] > first["id"]
    assert await panel.control("DELETE", "/faults") == (200, {"rules": []})
    assert await panel.control("GET", "/faults") == (200, {"rules": []})


# ------------------------------------------------------------------------- behaviour


async def test_http_error_fires_times_then_is_gone_and_is_journaled(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, tenant = await panel.open_tenant("100")
    await panel.faults({"action": "balance", "fault": "http_error", "status": 502, "times": 1})
    services = await panel.post(key=key, action="services")
    assert services.status == 200  # another action: untouched
    response = await panel.post(key=key, action="balance")
    assert response.status == 502
    assert await response.json() == {"error": "502 Bad Gateway"}
    again = await panel.post(key=key, action="balance")
    assert (again.status, await again.json()) == (200, {"balance": "100.00000", "currency": "USD"})
    assert (await panel.control("GET", "/faults"))[1] == {"rules": []}
    journal = await panel.journal()
    assert [(e["action"], e["status"], e["faults"]) for e in journal] == [
        ("services", 200, []),
        ("balance", 502, [{"rule": 1, "fault": "http_error", "after": False}]),
        ("balance", 200, []),
    ]
    assert journal[1]["tenant"] == tenant
    assert journal[1]["response"] is None  # the action never ran


async def test_html_page_with_status_200(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "html"})
    response = await panel.post(key=key, action="balance")
    assert response.status == 200
    assert response.content_type == "text/html"
    text = await response.text()
    assert text.lstrip().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(text)


async def test_malformed_json_keeps_the_json_content_type(make_panel: MakePanel) -> None:
    panel = await make_panel("smartpanel")  # text/html, like the PHP script it emulates
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "malformed_json", "after": True})
    response = await panel.client.post("/api/v1", data={"key": key, "action": "balance"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    text = await response.text()
    assert text.startswith("<br />\n<b>Warning</b>")
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(text)
    assert json.loads(text[text.index("{"):]) == {
        "status": "success", "balance": "100.00000", "currency": "USD"
    }


async def test_truncate_sends_a_partial_json_body(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    whole = await (await panel.post(key=key, action="balance")).text()
    await panel.faults({"fault": "truncate", "after": True})
    response = await panel.post(key=key, action="balance")
    assert (response.status, response.content_type) == (200, "application/json")
    part = await response.text()
    assert whole.startswith(part)
    assert 0 < len(part) < len(whole)
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(part)
    await panel.faults({"fault": "truncate"})  # before the action: a stand-in answer is cut
    part = await (await panel.post(key=key, action="balance")).text()
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(part)


async def test_rate_limit_fault_is_a_429_in_the_profiles_words(make_panel: MakePanel) -> None:
    panel = await make_panel("smmhub")
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "rate_limit", "retry_after": 7, "action": "status"})
    response = await panel.post(key=key, action="status", order="1")
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    assert await response.json() == {"error": "Rate limit exceeded"}


async def test_reset_drops_the_connection_and_no_money_moves(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, tenant = await panel.open_tenant("100")
    await panel.faults({"fault": "reset", "action": "add", "times": 1})
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await panel.post(key=key, action="add", service="1", link=LINK, quantity="1000")
    assert await panel.balance(key) == Decimal("100")
    assert await panel.orders() == []
    (dropped, _) = await panel.journal()
    assert (dropped["status"], dropped["response"], dropped["tenant"]) == (None, None, tenant)
    assert dropped["faults"] == [{"rule": 1, "fault": "reset", "after": False}]


async def test_reset_after_an_add_leaves_an_order_the_client_never_heard_of(
    make_panel: MakePanel,
) -> None:
    """What real life does: the panel placed and charged the order, the answer was lost."""
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "reset", "action": "add", "after": True, "times": 1})
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await panel.post(key=key, action="add", service="1", link=LINK, quantity="1000")
    assert await panel.balance(key) == Decimal("99.10000")
    (order,) = await panel.orders()
    entry = (await panel.journal())[0]
    assert entry["status"] is None
    assert entry["response"] == {"order": int(order["id"])}
    assert entry["faults"] == [{"rule": 1, "fault": "reset", "after": True}]


@pytest.mark.parametrize("kind", ["http_error", "html", "malformed_json", "truncate"])
async def test_a_fault_before_the_action_never_moves_money(
    make_panel: MakePanel, kind: str
) -> None:
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    rule: dict[str, Any] = {"fault": kind, "action": "add"}
    if kind == "http_error":
        rule["status"] = 504
    await panel.faults(rule)
    response = await panel.post(key=key, action="add", service="1", link=LINK, quantity="1000")
    await response.read()
    assert await panel.balance(key) == Decimal("100")
    assert await panel.orders() == []
    await panel.faults({**rule, "after": True})
    response = await panel.post(key=key, action="add", service="1", link=LINK, quantity="1000")
    await response.read()
    assert await panel.balance(key) == Decimal("99.10000")
    assert len(await panel.orders()) == 1


async def test_delays_add_up_and_compose_with_the_answering_fault(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    await panel.faults(
        {"fault": "delay", "seconds": 2.5},
        {"fault": "delay", "seconds": 0.5, "after": True},
        {"fault": "http_error", "status": 503, "times": 1},
        {"fault": "html", "times": 1},  # not consulted while the 503 fires first
    )
    response = await panel.post(key=key, action="balance")
    assert response.status == 503
    assert panel.slept == [2.5]  # the answer replaced the action: no "after" delay
    listed = {rule["fault"]: rule for rule in (await panel.control("GET", "/faults"))[1]["rules"]}
    assert set(listed) == {"delay", "html"}  # the 503 is spent
    assert listed["html"]["left"] == 1
    response = await panel.post(key=key, action="balance")
    assert (response.status, response.content_type) == (200, "text/html")
    response = await panel.post(key=key, action="balance")
    assert response.status == 200
    assert await response.json() == {"balance": "100.00000", "currency": "USD"}
    assert panel.slept == [2.5, 2.5, 2.5, 0.5]
    faults = [[f["fault"] for f in e["faults"]] for e in await panel.journal()]
    assert faults == [["delay", "delay", "http_error"], ["delay", "delay", "html"],
                      ["delay", "delay"]]


async def test_a_real_delay_is_slept_on_the_event_loop(make_panel: MakePanel) -> None:
    panel = await make_panel(real_sleep=True)
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "delay", "seconds": 0.01, "times": 1})
    response = await panel.post(key=key, action="balance")
    assert (response.status, await response.json()) == (
        200, {"balance": "100.00000", "currency": "USD"}
    )
    assert panel.slept == []
    assert (await panel.journal())[0]["faults"] == [{"rule": 1, "fault": "delay", "after": False}]


async def test_a_tenant_rule_leaves_other_tenants_alone(make_panel: MakePanel) -> None:
    panel = await make_panel()
    (key, _), (other, _) = await panel.open_tenant("100"), await panel.open_tenant("100")
    await panel.faults({"fault": "http_error", "status": 500, "key": key})
    assert (await panel.post(key=key, action="balance")).status == 500
    assert (await panel.post(key=other, action="balance")).status == 200
    assert (await panel.post(key="wrong", action="balance")).status == 200  # unknown key: no tenant


def _pattern(statuses: list[int]) -> str:
    return "".join("x" if status == 502 else "." for status in statuses)


async def test_probability_with_a_seed_is_reproducible(make_panel: MakePanel) -> None:
    patterns = []
    for seed in (7, 7, 8):
        panel = await make_panel()
        key, _ = await panel.open_tenant("100")
        await panel.faults(
            {"fault": "http_error", "status": 502, "probability": 0.5, "seed": seed}
        )
        statuses = [(await panel.post(key=key, action="balance")).status for _ in range(40)]
        patterns.append(_pattern(statuses))
    assert patterns[0] == patterns[1]
    assert patterns[0] != patterns[2]
    assert 5 < patterns[0].count("x") < 35  # really a coin, neither never nor always


async def test_reset_of_the_panel_clears_the_rules(make_panel: MakePanel) -> None:
    panel = await make_panel()
    await panel.faults({"fault": "html"})
    assert (await panel.control("POST", "/reset"))[0] == 200
    assert await panel.control("GET", "/faults") == (200, {"rules": []})


async def test_a_refused_request_is_not_faulted(make_panel: MakePanel) -> None:
    """Faults are consulted once the body is decoded: a malformed one gets its own error."""
    panel = await make_panel()
    key, _ = await panel.open_tenant("100")
    await panel.faults({"fault": "http_error", "status": 502})
    response = await panel.client.post(
        "/api/v2", data=f"key={key}&action=balance&action=add",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    assert "repeated" in (await response.json())["error"]
    assert (await panel.journal())[0]["faults"] == []
