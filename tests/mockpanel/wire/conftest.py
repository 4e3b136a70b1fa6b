"""In-process wire fixtures: an aiohttp test client on ``create_app`` with a manual clock."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from mockpanel.config import MockConfig
from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Profile, get_profile
from mockpanel.wire import create_app
from mockpanel.wire.keys import FAILURES
from mockpanel.wire.render import error_reply

TOKEN = "control-token-for-tests"
DEFAULT_SERVICE = "1"  # Default type, in every profile's catalogue: rate 0.90, min 50, refill
LINK = "https://example.test/post/1"


def loads(text: str) -> Any:
    """JSON with exact numbers, so money the mock sends as a number stays exact here too."""
    return json.loads(text, parse_float=Decimal)


class Panel:
    """A mock panel in-process: its profile, the API through the profile's first path, and the
    control API."""

    decode = staticmethod(loads)

    def __init__(
        self, client: TestClient[Any, Any], profile: Profile, token: str | None
    ) -> None:
        self.client = client
        self.profile = profile
        self.token = token
        self.path = profile.wire.paths[0]

    async def read(self, response: ClientResponse) -> Any:
        return loads(await response.text())

    async def api(self, **fields: str) -> tuple[int, Any]:
        """POST ``fields`` form-encoded; the HTTP status and the decoded JSON answer."""
        response = await self.client.post(self.path, data=fields)
        return response.status, loads(await response.text())

    async def control(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None if body is None else json.dumps(body)
        response = await self.client.request(method, "/_mock" + path, data=data, headers=headers)
        return response.status, loads(await response.text())

    async def tenant(self, balance: str = "1000") -> str:
        status, body = await self.control("POST", "/tenants", {"balance": balance})
        assert status == 201, body
        return str(body["key"])

    async def balance(self, key: str) -> Decimal:
        status, body = await self.api(key=key, action="balance")
        assert status == 200, body
        return Decimal(str(body["balance"]))

    async def place(self, key: str, quantity: int = 1000, service: str = DEFAULT_SERVICE) -> str:
        """A new order's id, as text."""
        status, body = await self.api(
            key=key, action="add", service=service, link=LINK, quantity=str(quantity)
        )
        assert status == self.profile.wire.create_status, body
        return str(body["order"])

    async def force(self, order_id: str, status: str, **numbers: int) -> dict[str, Any]:
        code, body = await self.control(
            "POST", f"/orders/{order_id}/outcome", {"status": status, **numbers}
        )
        assert code == 200, body
        return dict(body)

    async def refill_of(self, key: str, order_id: str) -> str:
        """A refill id for ``order_id``, which is completed first."""
        await self.force(order_id, "Completed")
        status, body = await self.api(key=key, action="refill", order=order_id)
        assert status == self.profile.wire.create_status, body
        return str(body["refill"])

    def expected_error(self, code: ErrorCode, **params: Any) -> tuple[int, Any]:
        """The status and body the profile must answer for ``code``."""
        reply = error_reply(self.profile, DomainError(code, **params))
        return reply.status, reply.body

    def failures(self) -> list[BaseException]:
        return self.client.app[FAILURES] if self.client.app is not None else []


MakePanel = Callable[..., Awaitable[Panel]]


@pytest.fixture
def make_panel(aiohttp_client: Any) -> Iterator[MakePanel]:
    """``await make_panel("smmhub", max_body_bytes=...)``: a fresh panel with a manual clock.

    After the test, every panel made must have hit no unexpected exception (no JSON 500).
    """
    made: list[Panel] = []

    async def make(profile: str = "reference", **config: Any) -> Panel:
        config.setdefault("control_token", TOKEN)
        config.setdefault("clock", "manual")
        app = create_app(MockConfig(profile=profile, **config))
        panel = Panel(await aiohttp_client(app), get_profile(profile), config["control_token"])
        made.append(panel)
        return panel

    yield make
    for panel in made:
        assert panel.failures() == [], f"the mock hit a bug: {panel.failures()!r}"
