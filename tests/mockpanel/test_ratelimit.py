"""Rate limits: each profile's published budget on the panel's clock, per key or per client
address, answered 429 with a numeric ``Retry-After`` in the profile's words; the window passes
when the clock does; other keys and the control API are never affected; runs may override."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from mockpanel.cli import build_parser, parse_rate_limit
from mockpanel.config import MockConfig
from mockpanel.profiles import RateLimit
from mockpanel.server import run_panel
from mockpanel.state import ManualClock
from mockpanel.wire import create_app
from mockpanel.wire.keys import FAILURES, LIMITER
from mockpanel.wire.ratelimit import RateLimiter

TOKEN = "rate-test-token"


class Mock:
    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    async def api(self, **fields: str) -> aiohttp.ClientResponse:
        return await self.client.post("/api/v2", data=fields)

    async def balance(self, key: str) -> tuple[int, Any, str | None]:
        response = await self.api(key=key, action="balance")
        body = json.loads(await response.text())
        return response.status, body, response.headers.get("Retry-After")

    async def control(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        response = await self.client.request(
            method, "/_mock" + path, data=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        return response.status, await response.json()

    async def tenant(self) -> tuple[str, str]:
        status, body = await self.control("POST", "/tenants", {"balance": "10"})
        assert status == 201
        return body["key"], body["tenant"]

    async def advance(self, seconds: float) -> None:
        assert (await self.control("POST", "/clock/advance", {"seconds": seconds}))[0] == 200

    async def burn(self, key: str, count: int) -> None:
        for _ in range(count):
            status, body, _ = await self.balance(key)
            assert status == 200, body


MakeMock = Callable[..., Awaitable[Mock]]


@pytest.fixture
def make_mock(aiohttp_client: Any) -> Any:
    made: list[Mock] = []

    async def make(profile: str = "reference", **config: Any) -> Mock:
        app = create_app(
            MockConfig(profile=profile, control_token=TOKEN, clock="manual", **config)
        )
        mock = Mock(await aiohttp_client(app))
        made.append(mock)
        return mock

    yield make
    for mock in made:
        assert mock.client.app is not None
        assert mock.client.app[FAILURES] == []


@pytest.mark.parametrize(("profile", "limit"), [("smmpremium", 100), ("smmhub", 60)])
async def test_a_key_gets_its_profiles_budget_then_429(
    make_mock: MakeMock, profile: str, limit: int
) -> None:
    mock = await make_mock(profile)
    (key, tenant), (other, _) = await mock.tenant(), await mock.tenant()
    await mock.burn(key, limit)
    status, body, retry_after = await mock.balance(key)
    assert (status, body) == (429, {"error": "Rate limit exceeded"})
    assert retry_after == "60"  # the manual clock stood still: the first slot frees in 60 s
    await mock.burn(other, 3)  # another key is unaffected
    assert (await mock.api(key="not-a-key", action="balance")).status != 429
    journal = (await mock.control("GET", f"/journal?tenant={tenant}"))[1]["exchanges"]
    assert [entry["status"] for entry in journal[-2:]] == [200, 429]
    assert journal[-1]["action"] == "balance"


async def test_the_window_slides_with_the_panels_clock(make_mock: MakeMock) -> None:
    mock = await make_mock(rate_limit=RateLimit(4, "key"))
    key, _ = await mock.tenant()
    await mock.burn(key, 2)  # t = 0
    await mock.advance(30)
    await mock.burn(key, 2)  # t = 30
    assert (await mock.balance(key))[0::2] == (429, "30")
    await mock.advance(29.5)
    assert (await mock.balance(key))[0::2] == (429, "1")  # 0.5 s left, rounded up
    await mock.advance(0.5)  # t = 60: the two from t = 0 expire
    await mock.burn(key, 2)
    assert (await mock.balance(key))[0::2] == (429, "30")
    await mock.advance(30)
    await mock.burn(key, 2)


async def test_refused_requests_take_no_slot_and_waiting_retry_after_is_enough(
    make_mock: MakeMock,
) -> None:
    mock = await make_mock(rate_limit=RateLimit(3, "key"))
    key, _ = await mock.tenant()
    await mock.burn(key, 3)
    for _ in range(20):
        status, _, retry_after = await mock.balance(key)
        assert status == 429
    assert retry_after is not None
    await mock.advance(int(retry_after))
    await mock.burn(key, 3)


async def test_per_address_budget_counts_every_request_whatever_the_key(
    make_mock: MakeMock,
) -> None:
    """extended: 1000/min per IP; keys do not matter, nor whether the request is well formed."""
    mock = await make_mock("extended")
    (first, _), (second, _) = await mock.tenant(), await mock.tenant()
    for n in range(998):
        response = await mock.api(key=first if n % 2 else second, action="balance")
        assert response.status == 200
    assert (await mock.client.post("/api/v2", data=b"\xff", headers={
        "Content-Type": "application/json"})).status == 400
    assert (await mock.api(key="wrong", action="balance")).status == 401
    response = await mock.api(key=first, action="balance")
    assert response.status == 429
    assert response.headers["Retry-After"] == "60"
    assert await response.json() == {"error": "Rate limit exceeded"}
    assert (await mock.client.post("/api/v2", data=b"junk")).status == 429  # not even read
    # the control API is never throttled
    for _ in range(5):
        assert (await mock.control("GET", "/state"))[0] == 200
    await mock.advance(60)
    assert (await mock.api(key=second, action="balance")).status == 200


async def test_overrides_switch_the_budget_off_or_change_it(make_mock: MakeMock) -> None:
    free = await make_mock("smmhub", rate_limit="off")
    key, _ = await free.tenant()
    await free.burn(key, 80)
    strict = await make_mock("reference", rate_limit=RateLimit(2, "ip"))
    key, _ = await strict.tenant()
    await strict.burn(key, 2)
    status, body, retry_after = await strict.balance(key)
    assert (status, body, retry_after) == (429, {"error": "Rate limit exceeded"}, "60")


async def test_a_panel_reset_forgets_the_windows(make_mock: MakeMock) -> None:
    mock = await make_mock(rate_limit=RateLimit(1, "ip"))
    key, _ = await mock.tenant()
    await mock.burn(key, 1)
    assert (await mock.balance(key))[0] == 429
    assert (await mock.control("POST", "/reset"))[0] == 200
    key, _ = await mock.tenant()
    await mock.burn(key, 1)


async def test_the_limiter_keeps_tenant_ids_never_keys(make_mock: MakeMock) -> None:
    mock = await make_mock("smmpremium")
    key, tenant = await mock.tenant()
    await mock.burn(key, 5)
    app = mock.client.app
    assert app is not None
    limiter = app[LIMITER]
    assert limiter is not None
    assert limiter.used(tenant) == 5
    assert limiter.used(key) == 0


def test_idle_subjects_are_forgotten_so_memory_stays_bounded() -> None:
    clock = ManualClock()
    limiter = RateLimiter(RateLimit(5, "ip"), clock)
    for n in range(5000):
        assert limiter.admit(f"10.0.{n // 256}.{n % 256}") is None
        clock.advance(1.0)
    assert len(limiter._windows) <= 2048  # private on purpose: the bound is the point
    assert limiter.admit("10.0.0.0") is None  # expired long ago: a fresh window


@pytest.mark.parametrize(
    ("text", "limit"),
    [("60/min", RateLimit(60, "key")), ("5/min:key", RateLimit(5, "key")),
     ("1000/min:ip", RateLimit(1000, "ip"))],
)
def test_cli_rate_limit_values(text: str, limit: RateLimit) -> None:
    assert parse_rate_limit(text) == limit
    args = build_parser().parse_args(["serve", "--rate-limit", text])
    assert args.rate_limit == limit


@pytest.mark.parametrize("text", ["60", "0/min", "60/s", "60/min:user", "-1/min", "x/min"])
def test_cli_refuses_a_malformed_rate_limit(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--rate-limit", text])
    assert "N/min[:key|ip]" in capsys.readouterr().err


def test_cli_defaults_to_the_profile_and_can_switch_it_off() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).rate_limit is None  # the profile's budget
    assert parser.parse_args(["serve", "--no-rate-limit"]).rate_limit == "off"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--no-rate-limit", "--rate-limit", "5/min"])


@pytest.mark.parametrize(
    "value", ["none", RateLimit(0, "key"), RateLimit(5, "user"), 60]  # type: ignore[arg-type]
)
def test_config_refuses_a_bad_override(value: Any) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        MockConfig(rate_limit=value)


def _post(url: str, fields: dict[str, str]) -> tuple[int, dict[str, Any], str | None]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), error.headers.get("Retry-After")


def test_over_a_real_socket() -> None:
    config = MockConfig(profile="smmpremium", keys=(("k1", Decimal("5.00")),
                                                     ("k2", Decimal("5.00"))),
                        rate_limit=RateLimit(2, "key"))
    with run_panel(config) as panel:
        for _ in range(2):
            assert _post(panel.url, {"key": "k1", "action": "balance"})[0] == 200
        status, body, retry_after = _post(panel.url, {"key": "k1", "action": "balance"})
        assert (status, body) == (429, {"error": "Rate limit exceeded"})
        assert retry_after is not None
        assert retry_after.isdigit()
        assert int(retry_after) >= 1
        assert _post(panel.url, {"key": "k2", "action": "balance"})[0] == 200
        assert panel.failures == ()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], "profile"), (["--no-rate-limit"], "off"), (["--rate-limit", "5/min:ip"],
                                                      RateLimit(5, "ip"))],
)
def test_cli_flags_reach_the_config(argv: list[str], expected: object) -> None:
    from mockpanel.cli import _config  # the one place flags become a MockConfig

    config, _ = _config(build_parser().parse_args(["serve", *argv]))
    assert config.rate_limit == expected
