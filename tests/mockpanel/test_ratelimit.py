"""Rate limits: each profile's published budget on the panel's clock, per key or per client
address, answered 429 with a numeric ``Retry-After`` in the profile's words; the window passes
when the clock does; other keys and the control API are never affected; runs may override."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mockpanel.cli import build_parser, parse_rate_limit
from mockpanel.config import MockConfig
from mockpanel.profiles import RateLimit
from mockpanel.server import run_panel
from mockpanel.state import ManualClock
from mockpanel.wire.keys import LIMITER
from mockpanel.wire.ratelimit import RateLimiter
from tests.fixtures.inprocess import InProcessPanel, MakePanel
from tests.fixtures.plain_http import exchange, form_request, post


async def _balance(panel: InProcessPanel, key: str) -> tuple[int, Any, str | None]:
    """A balance call's status, decoded answer and ``Retry-After``."""
    response = await panel.post(key=key, action="balance")
    return response.status, await panel.read(response), response.headers.get("Retry-After")


async def _burn(panel: InProcessPanel, key: str, count: int) -> None:
    """``count`` balance calls, each answered."""
    for _ in range(count):
        status, body, _ = await _balance(panel, key)
        assert status == 200, body


@pytest.mark.parametrize(("profile", "limit"), [("smmpremium", 100), ("smmhub", 60)])
async def test_a_key_gets_its_profiles_budget_then_429(
    make_panel: MakePanel, profile: str, limit: int
) -> None:
    panel = await make_panel(profile)
    (key, tenant), (other, _) = await panel.open_tenant(), await panel.open_tenant()
    await _burn(panel, key, limit)
    status, body, retry_after = await _balance(panel, key)
    assert (status, body) == (429, {"error": "Rate limit exceeded"})
    assert retry_after == "60"  # the manual clock stood still: the first slot frees in 60 s
    await _burn(panel, other, 3)  # another key is unaffected
    assert (await panel.post(key="not-a-key", action="balance")).status != 429
    journal = await panel.journal(tenant)
    assert [entry["status"] for entry in journal[-2:]] == [200, 429]
    assert journal[-1]["action"] == "balance"


async def test_the_window_slides_with_the_panels_clock(make_panel: MakePanel) -> None:
    panel = await make_panel(rate_limit=RateLimit(4, "key"))
    key, _ = await panel.open_tenant()
    await _burn(panel, key, 2)  # t = 0
    await panel.advance(30)
    await _burn(panel, key, 2)  # t = 30
    assert (await _balance(panel, key))[0::2] == (429, "30")
    await panel.advance(29.5)
    assert (await _balance(panel, key))[0::2] == (429, "1")  # 0.5 s left, rounded up
    await panel.advance(0.5)  # t = 60: the two from t = 0 expire
    await _burn(panel, key, 2)
    assert (await _balance(panel, key))[0::2] == (429, "30")
    await panel.advance(30)
    await _burn(panel, key, 2)


async def test_refused_requests_take_no_slot_and_waiting_retry_after_is_enough(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel(rate_limit=RateLimit(3, "key"))
    key, _ = await panel.open_tenant()
    await _burn(panel, key, 3)
    for _ in range(20):
        status, _, retry_after = await _balance(panel, key)
        assert status == 429
    assert retry_after is not None
    await panel.advance(int(retry_after))
    await _burn(panel, key, 3)


async def test_per_address_budget_counts_every_request_whatever_the_key(
    make_panel: MakePanel,
) -> None:
    """extended: 1000/min per IP; keys do not matter, nor whether the request is well formed."""
    panel = await make_panel("extended")
    (first, _), (second, _) = await panel.open_tenant(), await panel.open_tenant()
    for n in range(998):
        response = await panel.post(key=first if n % 2 else second, action="balance")
        assert response.status == 200
    assert (await panel.client.post("/api/v2", data=b"\xff", headers={
        "Content-Type": "application/json"})).status == 400
    assert (await panel.post(key="wrong", action="balance")).status == 401
    response = await panel.post(key=first, action="balance")
    assert response.status == 429
    assert response.headers["Retry-After"] == "60"
    assert await response.json() == {"error": "Rate limit exceeded"}
    assert (await panel.client.post("/api/v2", data=b"junk")).status == 429  # not even read
    # the control API is never throttled
    for _ in range(5):
        assert (await panel.control("GET", "/state"))[0] == 200
    await panel.advance(60)
    assert (await panel.post(key=second, action="balance")).status == 200


async def test_overrides_switch_the_budget_off_or_change_it(make_panel: MakePanel) -> None:
    free = await make_panel("smmhub", rate_limit="off")
    key, _ = await free.open_tenant()
    await _burn(free, key, 80)
    strict = await make_panel("reference", rate_limit=RateLimit(2, "ip"))
    key, _ = await strict.open_tenant()
    await _burn(strict, key, 2)
    status, body, retry_after = await _balance(strict, key)
    assert (status, body, retry_after) == (429, {"error": "Rate limit exceeded"}, "60")


async def test_a_panel_reset_forgets_the_windows(make_panel: MakePanel) -> None:
    panel = await make_panel(rate_limit=RateLimit(1, "ip"))
    key, _ = await panel.open_tenant()
    await _burn(panel, key, 1)
    assert (await _balance(panel, key))[0] == 429
    assert (await panel.control("POST", "/reset"))[0] == 200
    key, _ = await panel.open_tenant()
    await _burn(panel, key, 1)


async def test_the_limiter_keeps_tenant_ids_never_keys(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpremium")
    key, tenant = await panel.open_tenant()
    await _burn(panel, key, 5)
    limiter = panel.app[LIMITER]
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


def test_over_a_real_socket() -> None:
    config = MockConfig(profile="smmpremium", keys=(("k1", Decimal("5.00")),
                                                     ("k2", Decimal("5.00"))),
                        rate_limit=RateLimit(2, "key"))
    with run_panel(config) as panel:
        for _ in range(2):
            assert post(panel.url, key="k1", action="balance")[0] == 200
        status, body, headers = exchange(form_request(panel.url, key="k1", action="balance"))
        assert (status, body) == (429, {"error": "Rate limit exceeded"})
        retry_after = headers.get("Retry-After")
        assert retry_after is not None
        assert retry_after.isdigit()
        assert int(retry_after) >= 1
        assert post(panel.url, key="k2", action="balance")[0] == 200
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
