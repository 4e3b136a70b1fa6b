"""The per-route safety net (no middleware): routing errors, control bugs, the catch-all."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from mockpanel.config import MockConfig
from mockpanel.state import PanelState
from mockpanel.wire import create_app
from mockpanel.wire.keys import FAILURES, JOURNAL, STATE

AUTH = {"Authorization": "Bearer tok"}


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/_mock", 404, None),  # the bare prefix is no route
        ("GET", "/_mock/", 404, None),
        ("GET", "/_mock/nothing/deeper", 404, None),
        ("DELETE", "/_mock/tenants", 405, "POST"),  # a control path, another method
        ("PATCH", "/_mock/faults", 405, "DELETE,GET,HEAD,PUT"),
        ("PUT", "/api/v2/", 405, "GET,HEAD,POST"),  # the trailing-slash twin of the API
        ("POST", "/api/v2/x", 404, None),
    ],
)
async def test_every_unrouted_request_is_a_json_404_or_a_405_naming_the_methods(
    aiohttp_client: Any, method: str, path: str, status: int, allow: str | None
) -> None:
    app = create_app(MockConfig(control_token="tok"))
    client = await aiohttp_client(app)
    response = await client.request(method, path, headers=AUTH)
    assert response.status == status
    assert response.content_type == "application/json"
    assert response.headers.get("Allow") == allow
    assert "error" in await response.json()
    assert app[FAILURES] == []


async def test_a_405_names_only_the_methods_the_profile_routes(aiohttp_client: Any) -> None:
    # perfectpanel takes no query string, so its API path has no GET route.
    client = await aiohttp_client(create_app(MockConfig(profile="perfectpanel")))
    response = await client.request("PUT", "/api/v2")
    assert (response.status, response.headers["Allow"]) == (405, "POST")


async def test_a_bug_behind_a_control_route_is_a_recorded_json_500(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(MockConfig(keys=(("the-key", Decimal(5)),), control_token="tok"))

    def broken_snapshot(self: PanelState) -> object:
        raise RuntimeError("snapshot boom")

    monkeypatch.setattr(type(app[STATE]), "snapshot", broken_snapshot)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.ERROR, logger="mockpanel"):
        response = await client.get("/_mock/state", headers=AUTH)
    assert response.status == 500
    assert await response.json() == {"error": "mock panel bug: RuntimeError; see the mock's log"}
    assert [type(e) for e in app[FAILURES]] == [RuntimeError]
    (entry,) = app[JOURNAL].entries()
    assert entry.status == 500
    assert "snapshot boom" in caplog.text


async def test_the_token_is_checked_before_the_route_runs(aiohttp_client: Any) -> None:
    app = create_app(MockConfig(keys=(("the-key", Decimal(5)),), control_token="tok"))
    client = await aiohttp_client(app)
    refused = await client.post("/_mock/reset", headers={"Authorization": "Bearer nope"})
    assert refused.status == 403
    assert app[STATE].authenticate("the-key") is not None  # the reset did not run
    missing = await client.post("/_mock/reset")
    assert (missing.status, missing.headers["WWW-Authenticate"]) == (
        401, 'Bearer realm="mockpanel control"'
    )
