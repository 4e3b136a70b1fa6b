"""Faults on demand (``PUT /_mock/faults``): strict rules, every kind doing what it says, faults
before the action never moving money, ``after`` faults leaving the order without an answer,
and the journal naming the fault that hit each request."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from mockpanel.config import MockConfig
from mockpanel.wire import create_app
from mockpanel.wire.keys import FAILURES, SLEEP

TOKEN = "fault-test-token"
LINK = "https://example.test/post/1"


class Mock:
    """One in-process panel (manual clock) and its control API."""

    def __init__(self, client: TestClient[Any, Any], slept: list[float]) -> None:
        self.client = client
        self.slept = slept

    @property
    def app(self) -> Any:
        return self.client.app

    async def api(self, **fields: str) -> aiohttp.ClientResponse:
        return await self.client.post("/api/v2", data=fields)

    async def control(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        response = await self.client.request(
            method,
            "/_mock" + path,
            data=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        return response.status, json.loads(await response.text(), parse_float=Decimal)

    async def tenant(self, balance: str = "100") -> tuple[str, str]:
        status, body = await self.control("POST", "/tenants", {"balance": balance})
        assert status == 201, body
        return str(body["key"]), str(body["tenant"])

    async def faults(self, *rules: dict[str, Any]) -> tuple[int, Any]:
        return await self.control("PUT", "/faults", {"rules": list(rules)})

    async def balance(self, key: str) -> Decimal:
        response = await self.api(key=key, action="balance")
        return Decimal(json.loads(await response.text())["balance"])

    async def journal(self) -> list[dict[str, Any]]:
        exchanges: list[dict[str, Any]] = (await self.control("GET", "/journal"))[1]["exchanges"]
        return exchanges

    async def orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = (await self.control("GET", "/state"))[1]["orders"]
        return orders


MakeMock = Callable[..., Awaitable[Mock]]


@pytest.fixture
def make_mock(aiohttp_client: Any) -> Any:
    made: list[Mock] = []

    async def make(profile: str = "reference", *, real_sleep: bool = False, **config: Any) -> Mock:
        app = create_app(
            MockConfig(profile=profile, control_token=TOKEN, clock="manual", **config)
        )
        slept: list[float] = []

        async def record(seconds: float) -> None:
            slept.append(seconds)

        if not real_sleep:
            app[SLEEP] = record  # delays are recorded, not waited for
        mock = Mock(await aiohttp_client(app), slept)
        made.append(mock)
        return mock

    yield make
    for mock in made:
        assert mock.app[FAILURES] == [], "the mock hit a bug"


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
    make_mock: MakeMock, rules: list[Any], field: str
) -> None:
    mock = await make_mock()
    assert (await mock.faults({"fault": "html", "action": "services"}))[0] == 200
    before = (await mock.control("GET", "/faults"))[1]
    status, body = await mock.faults(*rules)
    assert status == 400, body
    assert body["field"] == field
    assert body["error"].startswith(field + ": ")
    assert "not-a-key-of-anyone" not in body["error"]
    assert (await mock.control("GET", "/faults"))[1] == before


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
    make_mock: MakeMock, document: Any, field: str | None
) -> None:
    mock = await make_mock()
    status, body = await mock.control("PUT", "/faults", document)
    assert status == 400
    assert body.get("field") == field


async def test_key_and_tenant_are_exclusive_and_the_key_is_never_kept(
    make_mock: MakeMock,
) -> None:
    mock = await make_mock()
    key, tenant = await mock.tenant()
    status, body = await mock.faults({"fault": "html", "key": key, "tenant": tenant})
    assert (status, body["field"]) == (400, "rules[0].key")
    status, body = await mock.faults(
        {"fault": "http_error", "status": 503, "key": key, "action": "balance", "times": 2},
        {"fault": "delay", "seconds": 1.5, "tenant": tenant},
    )
    assert status == 200
    listed = (await mock.control("GET", "/faults"))[1]
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
    assert await mock.control("DELETE", "/faults") == (200, {"rules": []})
    assert await mock.control("GET", "/faults") == (200, {"rules": []})


# ------------------------------------------------------------------------- behaviour


async def test_http_error_fires_times_then_is_gone_and_is_journaled(make_mock: MakeMock) -> None:
    mock = await make_mock()
    key, tenant = await mock.tenant()
    await mock.faults({"action": "balance", "fault": "http_error", "status": 502, "times": 1})
    services = await mock.api(key=key, action="services")
    assert services.status == 200  # another action: untouched
    response = await mock.api(key=key, action="balance")
    assert response.status == 502
    assert await response.json() == {"error": "502 Bad Gateway"}
    again = await mock.api(key=key, action="balance")
    assert (again.status, await again.json()) == (200, {"balance": "100.00000", "currency": "USD"})
    assert (await mock.control("GET", "/faults"))[1] == {"rules": []}
    journal = await mock.journal()
    assert [(e["action"], e["status"], e["faults"]) for e in journal] == [
        ("services", 200, []),
        ("balance", 502, [{"rule": 1, "fault": "http_error", "after": False}]),
        ("balance", 200, []),
    ]
    assert journal[1]["tenant"] == tenant
    assert journal[1]["response"] is None  # the action never ran


async def test_html_page_with_status_200(make_mock: MakeMock) -> None:
    mock = await make_mock()
    key, _ = await mock.tenant()
    await mock.faults({"fault": "html"})
    response = await mock.api(key=key, action="balance")
    assert response.status == 200
    assert response.content_type == "text/html"
    text = await response.text()
    assert text.lstrip().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(text)


async def test_malformed_json_keeps_the_json_content_type(make_mock: MakeMock) -> None:
    mock = await make_mock("smartpanel")  # text/html, like the PHP script it emulates
    key, _ = await mock.tenant()
    await mock.faults({"fault": "malformed_json", "after": True})
    response = await mock.client.post("/api/v1", data={"key": key, "action": "balance"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    text = await response.text()
    assert text.startswith("<br />\n<b>Warning</b>")
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(text)
    assert json.loads(text[text.index("{"):]) == {
        "status": "success", "balance": "100.00000", "currency": "USD"
    }


async def test_truncate_sends_a_partial_json_body(make_mock: MakeMock) -> None:
    mock = await make_mock()
    key, _ = await mock.tenant()
    whole = await (await mock.api(key=key, action="balance")).text()
    await mock.faults({"fault": "truncate", "after": True})
    response = await mock.api(key=key, action="balance")
    assert (response.status, response.content_type) == (200, "application/json")
    part = await response.text()
    assert whole.startswith(part)
    assert 0 < len(part) < len(whole)
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(part)
    await mock.faults({"fault": "truncate"})  # before the action: a stand-in answer is cut
    part = await (await mock.api(key=key, action="balance")).text()
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(part)


async def test_rate_limit_fault_is_a_429_in_the_profiles_words(make_mock: MakeMock) -> None:
    mock = await make_mock("smmhub")
    key, _ = await mock.tenant()
    await mock.faults({"fault": "rate_limit", "retry_after": 7, "action": "status"})
    response = await mock.api(key=key, action="status", order="1")
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    assert await response.json() == {"error": "Rate limit exceeded"}


async def test_reset_drops_the_connection_and_no_money_moves(make_mock: MakeMock) -> None:
    mock = await make_mock()
    key, tenant = await mock.tenant("100")
    await mock.faults({"fault": "reset", "action": "add", "times": 1})
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await mock.api(key=key, action="add", service="1", link=LINK, quantity="1000")
    assert await mock.balance(key) == Decimal("100")
    assert await mock.orders() == []
    (dropped, _) = await mock.journal()
    assert (dropped["status"], dropped["response"], dropped["tenant"]) == (None, None, tenant)
    assert dropped["faults"] == [{"rule": 1, "fault": "reset", "after": False}]


async def test_reset_after_an_add_leaves_an_order_the_client_never_heard_of(
    make_mock: MakeMock,
) -> None:
    """What real life does: the panel placed and charged the order, the answer was lost."""
    mock = await make_mock()
    key, _ = await mock.tenant("100")
    await mock.faults({"fault": "reset", "action": "add", "after": True, "times": 1})
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await mock.api(key=key, action="add", service="1", link=LINK, quantity="1000")
    assert await mock.balance(key) == Decimal("99.10000")
    (order,) = await mock.orders()
    entry = (await mock.journal())[0]
    assert entry["status"] is None
    assert entry["response"] == {"order": int(order["id"])}
    assert entry["faults"] == [{"rule": 1, "fault": "reset", "after": True}]


@pytest.mark.parametrize("kind", ["http_error", "html", "malformed_json", "truncate"])
async def test_a_fault_before_the_action_never_moves_money(
    make_mock: MakeMock, kind: str
) -> None:
    mock = await make_mock()
    key, _ = await mock.tenant("100")
    rule: dict[str, Any] = {"fault": kind, "action": "add"}
    if kind == "http_error":
        rule["status"] = 504
    await mock.faults(rule)
    response = await mock.api(key=key, action="add", service="1", link=LINK, quantity="1000")
    await response.read()
    assert await mock.balance(key) == Decimal("100")
    assert await mock.orders() == []
    await mock.faults({**rule, "after": True})
    response = await mock.api(key=key, action="add", service="1", link=LINK, quantity="1000")
    await response.read()
    assert await mock.balance(key) == Decimal("99.10000")
    assert len(await mock.orders()) == 1


async def test_delays_add_up_and_compose_with_the_answering_fault(make_mock: MakeMock) -> None:
    mock = await make_mock()
    key, _ = await mock.tenant()
    await mock.faults(
        {"fault": "delay", "seconds": 2.5},
        {"fault": "delay", "seconds": 0.5, "after": True},
        {"fault": "http_error", "status": 503, "times": 1},
        {"fault": "html", "times": 1},  # not consulted while the 503 fires first
    )
    response = await mock.api(key=key, action="balance")
    assert response.status == 503
    assert mock.slept == [2.5]  # the answer replaced the action: no "after" delay
    listed = {rule["fault"]: rule for rule in (await mock.control("GET", "/faults"))[1]["rules"]}
    assert set(listed) == {"delay", "html"}  # the 503 is spent
    assert listed["html"]["left"] == 1
    response = await mock.api(key=key, action="balance")
    assert (response.status, response.content_type) == (200, "text/html")
    response = await mock.api(key=key, action="balance")
    assert response.status == 200
    assert await response.json() == {"balance": "100.00000", "currency": "USD"}
    assert mock.slept == [2.5, 2.5, 2.5, 0.5]
    faults = [[f["fault"] for f in e["faults"]] for e in await mock.journal()]
    assert faults == [["delay", "delay", "http_error"], ["delay", "delay", "html"],
                      ["delay", "delay"]]


async def test_a_real_delay_is_slept_on_the_event_loop(make_mock: MakeMock) -> None:
    mock = await make_mock(real_sleep=True)
    key, _ = await mock.tenant()
    await mock.faults({"fault": "delay", "seconds": 0.01, "times": 1})
    response = await mock.api(key=key, action="balance")
    assert (response.status, await response.json()) == (
        200, {"balance": "100.00000", "currency": "USD"}
    )
    assert mock.slept == []
    assert (await mock.journal())[0]["faults"] == [{"rule": 1, "fault": "delay", "after": False}]


async def test_a_tenant_rule_leaves_other_tenants_alone(make_mock: MakeMock) -> None:
    mock = await make_mock()
    (key, _), (other, _) = await mock.tenant(), await mock.tenant()
    await mock.faults({"fault": "http_error", "status": 500, "key": key})
    assert (await mock.api(key=key, action="balance")).status == 500
    assert (await mock.api(key=other, action="balance")).status == 200
    assert (await mock.api(key="wrong", action="balance")).status == 200  # unknown key: no tenant


def _pattern(statuses: list[int]) -> str:
    return "".join("x" if status == 502 else "." for status in statuses)


async def test_probability_with_a_seed_is_reproducible(make_mock: MakeMock) -> None:
    patterns = []
    for seed in (7, 7, 8):
        mock = await make_mock()
        key, _ = await mock.tenant()
        await mock.faults(
            {"fault": "http_error", "status": 502, "probability": 0.5, "seed": seed}
        )
        statuses = [(await mock.api(key=key, action="balance")).status for _ in range(40)]
        patterns.append(_pattern(statuses))
    assert patterns[0] == patterns[1]
    assert patterns[0] != patterns[2]
    assert 5 < patterns[0].count("x") < 35  # really a coin, neither never nor always


async def test_reset_of_the_panel_clears_the_rules(make_mock: MakeMock) -> None:
    mock = await make_mock()
    await mock.faults({"fault": "html"})
    assert (await mock.control("POST", "/reset"))[0] == 200
    assert await mock.control("GET", "/faults") == (200, {"rules": []})


async def test_a_refused_request_is_not_faulted(make_mock: MakeMock) -> None:
    """Faults are consulted once the body is decoded: a malformed one gets its own error."""
    mock = await make_mock()
    key, _ = await mock.tenant()
    await mock.faults({"fault": "http_error", "status": 502})
    response = await mock.client.post(
        "/api/v2", data=f"key={key}&action=balance&action=add",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    assert "repeated" in (await response.json())["error"]
    assert (await mock.journal())[0]["faults"] == []
