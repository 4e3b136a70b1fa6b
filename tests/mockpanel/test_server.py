"""``mockpanel.server``: the app on a real socket, in a thread (sync callers) or as a coroutine."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import aiohttp
import pytest

from mockpanel.config import MockConfig
from mockpanel.server import RunningPanel, run_panel, serve_forever, start_panel
from mockpanel.state import PanelState
from tests.fixtures.plain_http import post

KEY = "server-test-key"
TOKEN = "server-test-token"


def _panel_threads() -> set[threading.Thread]:
    # Other tests' session panels may be running too (xdist workers share nothing else).
    return {t for t in threading.enumerate() if t.name.startswith("mockpanel-")}


def test_port_zero_binds_a_free_port_and_serves_the_api() -> None:
    config = MockConfig(keys=((KEY, Decimal("7.5")),))
    before = _panel_threads()
    with run_panel(config) as panel:
        assert len(_panel_threads() - before) == 1
        assert panel.port > 0
        assert panel.url == f"http://127.0.0.1:{panel.port}/api/v2"
        assert panel.running
        assert post(panel.url, key=KEY, action="balance") == (
            200,
            {"balance": "7.50000", "currency": "USD"},
        )
    assert not panel.running
    assert _panel_threads() == before
    with pytest.raises(urllib.error.URLError):
        post(panel.url, key=KEY, action="balance")


def test_two_panels_run_side_by_side_with_separate_state() -> None:
    with (
        run_panel(MockConfig(keys=((KEY, Decimal(1)),))) as first,
        run_panel(MockConfig(profile="smmpremium", keys=((KEY, Decimal(2)),))) as second,
    ):
        assert first.port != second.port
        assert post(first.url, key=KEY, action="balance")[1]["balance"] == "1.00000"
        assert post(second.url, key=KEY, action="balance")[1] == {
            "balance": "2.00",
            "currency": "INR",
        }


def test_control_url_only_with_a_token() -> None:
    with run_panel(MockConfig()) as plain:
        assert plain.control_url is None
    with run_panel(MockConfig(control_token=TOKEN)) as controlled:
        assert controlled.control_url == f"{controlled.base_url}/_mock"
        assert TOKEN not in repr(controlled)


def test_a_busy_port_raises_oserror_and_leaves_no_thread() -> None:
    before = _panel_threads()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=r"(?i)address already in use"):
            start_panel(MockConfig(), port=port)
    assert _panel_threads() == before


def test_stop_is_idempotent() -> None:
    panel = start_panel(MockConfig())
    panel.stop()
    panel.stop()
    assert not panel.running


def test_a_mock_bug_is_recorded_as_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: PanelState, tenant: object) -> Decimal:
        raise RuntimeError("ledger exploded")

    with run_panel(MockConfig(keys=((KEY, Decimal(1)),))) as panel:
        assert panel.failures == ()
        monkeypatch.setattr(PanelState, "balance", broken)
        status, body = post(panel.url, key=KEY, action="balance")
        assert status == 500
        assert "mock panel bug" in body["error"]
        (failure,) = panel.failures
        assert isinstance(failure, RuntimeError)
        assert str(failure) == "ledger exploded"


def test_keys_in_a_query_string_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    # smartpanel accepts GET; an access log would print the request line, key included.
    caplog.set_level(logging.DEBUG)
    with run_panel(MockConfig(profile="smartpanel", keys=((KEY, Decimal(1)),))) as panel:
        query = urllib.parse.urlencode({"key": KEY, "action": "balance"})
        with urllib.request.urlopen(f"{panel.url}?{query}", timeout=30) as response:
            assert json.loads(response.read())["balance"] == "1.00000"
    assert KEY not in caplog.text


async def test_serve_forever_reports_its_url_and_stops_on_the_event() -> None:
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    config = MockConfig(keys=((KEY, Decimal(3)),))
    task = asyncio.create_task(serve_forever(config, port=0, stop=stop, ready=ready.set_result))
    base_url = await ready
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/api/v2", data={"key": KEY, "action": "balance"}) as response,
    ):
        assert await response.json() == {"balance": "3.00000", "currency": "USD"}
    stop.set()
    await task
    port = int(base_url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_repr_names_the_profile_not_the_token() -> None:
    panel: RunningPanel
    with run_panel(MockConfig(profile="smmhub", control_token=TOKEN)) as panel:
        assert "smmhub" in repr(panel)
        assert "running" in repr(panel)
        assert TOKEN not in repr(panel)
        assert TOKEN not in str(panel)
    assert "stopped" in repr(panel)
    assert TOKEN not in repr(panel)
