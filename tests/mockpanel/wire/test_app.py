"""The app's safety nets: a mock bug is a recorded JSON 500, never HTML and never silent."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from mockpanel.config import MockConfig
from mockpanel.wire import create_app
from mockpanel.wire.actions import Call
from mockpanel.wire.keys import ACTIONS, FAILURES, JOURNAL
from mockpanel.wire.render import Reply


def _broken(call: Call) -> Reply:
    raise RuntimeError("boom")


async def test_an_unexpected_exception_is_a_journaled_json_500(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(MockConfig(keys=(("the-key", Decimal(5)),), clock="manual"))
    app[ACTIONS] = {"boom": _broken}
    client = await aiohttp_client(app)
    with caplog.at_level(logging.ERROR, logger="mockpanel"):
        response = await client.post("/api/v2", data={"key": "the-key", "action": "boom"})
    assert response.status == 500
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "mock panel bug: RuntimeError; see the mock's log"}
    assert [type(e) for e in app[FAILURES]] == [RuntimeError]
    (entry,) = app[JOURNAL].entries()
    assert (entry.status, entry.response) == (500, await response.json())
    assert "boom" in caplog.text
    assert "the-key" not in caplog.text


async def test_a_control_body_over_the_limit_is_a_json_413(aiohttp_client: Any) -> None:
    app = create_app(MockConfig(control_token="tok", max_body_bytes=100))
    client = await aiohttp_client(app)
    response = await client.post(
        "/_mock/tenants", data=b'{"balance": "1", "pad": "' + b"x" * 200 + b'"}',
        headers={"Authorization": "Bearer tok"},
    )
    assert response.status == 413
    assert response.content_type == "application/json"
    assert "error" in await response.json()


async def test_configured_keys_open_tenants_in_the_profile_currency(aiohttp_client: Any) -> None:
    app = create_app(MockConfig(profile="laravel", keys=(("k1", Decimal("10.5")),)))
    client = await aiohttp_client(app)
    response = await client.post("/api/v2", data={"key": "k1", "action": "balance"})
    assert await response.json() == {"balance": "10.50", "currency": "BRL"}


async def test_catalogue_follows_the_profiles_service_types(aiohttp_client: Any) -> None:
    hub = await aiohttp_client(create_app(MockConfig(profile="smmhub", keys=(("k", Decimal(1)),))))
    services = await (await hub.post("/api/v2", data={"key": "k", "action": "services"})).json()
    assert {s["type"] for s in services} == {"Default", "Package", "Custom Comments"}
    smart = await aiohttp_client(
        create_app(MockConfig(profile="smartpanel", keys=(("k", Decimal(1)),)))
    )
    text = await (await smart.post("/api/v1", data={"key": "k", "action": "services"})).text()
    assert '"type": "custom_comments_package"' in text
    assert '"dripfeed": 1' in text
