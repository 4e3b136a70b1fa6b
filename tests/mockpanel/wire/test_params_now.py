"""The API view takes a fully received body straight from aiohttp's buffer; whatever read the
body first (a middleware's ``request.read()``, which aiohttp keeps for later readers) must not
leave the view with an empty body."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from mockpanel.config import MockConfig
from mockpanel.profiles import Encoding
from mockpanel.wire import create_app
from mockpanel.wire.params import read_params_now

KEY = "k-params-now"
FORM = "application/x-www-form-urlencoded"


async def test_a_body_a_middleware_read_first_still_reaches_the_view(aiohttp_client: Any) -> None:
    seen: list[bytes] = []

    @web.middleware
    async def reads_first(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append(await request.read())
        return await handler(request)

    app = create_app(MockConfig(keys=((KEY, Decimal("10")),), clock="manual"))
    app.middlewares.append(reads_first)
    client = await aiohttp_client(app)
    response = await client.post("/api/v2", data={"key": KEY, "action": "balance"})
    assert response.status == 200
    assert Decimal((await response.json())["balance"]) == 10
    assert seen == [f"key={KEY}&action=balance".encode()]


async def test_a_received_body_is_decoded_without_waiting(aiohttp_client: Any) -> None:
    async def view(request: web.Request) -> web.Response:
        return web.json_response(read_params_now(request, frozenset({Encoding.FORM}), 1024))

    app = web.Application()
    app.router.add_post("/", view)
    client = await aiohttp_client(app)
    response = await client.post("/", data={"key": "k", "link": "https://x.test/?a=1&b=é"})
    assert await response.json() == {"key": "k", "link": "https://x.test/?a=1&b=é"}
    empty = await client.post("/", data=b"", headers={"Content-Type": FORM})
    assert await empty.json() is None  # nothing buffered: left to read_params, which waits
