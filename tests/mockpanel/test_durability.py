"""``mockpanel serve --state FILE`` survives ``kill -9`` in the middle of concurrent orders.

The panel runs as a user runs it (``python -m mockpanel serve`` in a subprocess) and is driven
over loopback with nothing but urllib. Every order the panel acknowledged must still exist after
the restart, with its charge, and the balance must be the opening balance minus the charges of
exactly the orders that exist: no acknowledged order lost, no money moved without its order.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockpanel.config import MockConfig
from mockpanel.state import ManualClock, PanelState, StateConfig, StateFileError
from mockpanel.wire import create_app
from tests.fixtures.served import Served, served

KEY = "durability-key"
TOKEN = "durability-control-token"
OPENING = Decimal("100000.00000")
RATE = Decimal("0.90")  # service 1, per 1000
LINK = "https://example.test/post"
THREADS = 8
KILL_AFTER_ACKS = 50  # acknowledged orders before the kill: enough concurrent commits to lose
# Safety nets only: a wedged subprocess or loop must not hang the suite. They are far beyond
# what a slow machine needs (50 committed orders take well under a second here), so the test
# does not depend on the machine's speed, only on the panel answering at all.
_STARTUP_LIMIT = 30.0
_LOAD_LIMIT = 120.0
_REQUEST_TIMEOUT = 10.0


def charge_of(quantity: int) -> Decimal:
    return (RATE * quantity / 1000).quantize(Decimal("0.00001"))


def exchange(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            status, text = error.code, error.read().decode()
    return status, json.loads(text, parse_float=Decimal)


def api(base_url: str, **fields: object) -> tuple[int, Any]:
    body = urllib.parse.urlencode({"key": KEY, **{k: str(v) for k, v in fields.items()}})
    return exchange(
        urllib.request.Request(
            f"{base_url}/api/v2",
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
    )


def state_of(base_url: str) -> Any:
    status, body = exchange(
        urllib.request.Request(
            f"{base_url}/_mock/state", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    )
    assert status == 200, body
    return body


class Load:
    """Threads placing orders as fast as the panel answers; every acknowledgement recorded."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.acked: dict[str, Decimal] = {}  # order id -> the charge its quantity implies
        self.failures = 0  # requests that got no answer: the panel was killed under them
        self.unexpected: list[Any] = []  # answers that were neither an order nor a cut-off
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(THREADS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, worker: int) -> None:
        deadline = time.monotonic() + _LOAD_LIMIT
        n = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            n += 1
            quantity = 50 + (worker * 997 + n * 37) % 9000  # varied, so charges differ
            try:
                status, body = api(
                    self.base_url, action="add", service=1, link=LINK, quantity=quantity
                )
            except (OSError, ValueError, http.client.HTTPException):  # refused, reset, cut short
                with self._lock:
                    self.failures += 1
                return
            with self._lock:
                if status == 200 and isinstance(body, dict) and "order" in body:
                    self.acked[str(body["order"])] = charge_of(quantity)
                else:
                    self.unexpected.append((status, body))
                    return

    def count(self) -> int:
        with self._lock:
            return len(self.acked)


def test_kill_9_under_concurrent_orders_loses_nothing(tmp_path: Path) -> None:
    state_file = tmp_path / "panel.db"
    command = (
        "--state", str(state_file), "--key", f"{KEY}={OPENING}", "--control-token", TOKEN,
    )  # fmt: skip
    first = Served(command)
    first.wait_ready()
    base_url = first.base_url
    with Load(base_url) as load:
        deadline = time.monotonic() + _LOAD_LIMIT
        while load.count() < KILL_AFTER_ACKS and time.monotonic() < deadline:
            time.sleep(0.01)
        first.kill()  # SIGKILL while the threads are still sending
    acked = dict(load.acked)
    assert load.unexpected == []
    assert len(acked) >= KILL_AFTER_ACKS
    assert load.failures > 0  # the kill really landed in the middle of requests

    with served(*command) as server:  # the same --key: must not reset the balance
        base_url = server.base_url
        snapshot = state_of(base_url)
        orders = {o["id"]: o for o in snapshot["orders"]}
        for order_id, charge in acked.items():
            assert order_id in orders, f"acknowledged order {order_id} was lost"
            assert Decimal(orders[order_id]["charge"]) == charge
        # At most one order per thread was committed but never acknowledged.
        assert len(orders) - len(acked) <= THREADS
        assert all(Decimal(o["refunded"]) == 0 for o in orders.values())
        (tenant,) = snapshot["tenants"]
        spent = sum((Decimal(o["charge"]) for o in orders.values()), Decimal(0))
        assert Decimal(tenant["opening_balance"]) == OPENING
        assert Decimal(tenant["debited"]) == spent
        assert Decimal(tenant["balance"]) == OPENING - spent  # no money moved without its order
        _, balance = api(base_url, action="balance")
        assert Decimal(str(balance["balance"])) == OPENING - spent
        assert sorted(tenant["orders"]) == sorted(orders)

        status, body = api(base_url, action="add", service=1, link=LINK, quantity=1000)
        assert status == 200, body
        fresh = str(body["order"])
        assert fresh not in orders
        assert int(fresh) > max(int(order_id) for order_id in orders)
        _, balance = api(base_url, action="balance")
        assert Decimal(str(balance["balance"])) == OPENING - spent - charge_of(1000)


def test_a_restart_keeps_orders_money_and_a_manual_clock(tmp_path: Path) -> None:
    state_file = str(tmp_path / "panel.db")
    command = ("--state", state_file, "--key", f"{KEY}=10", "--control-token", TOKEN,
               "--clock", "manual")  # fmt: skip
    with served(*command) as server:
        base_url = server.base_url
        assert f"  state:       {state_file}" in server.lines
        _, placed = api(
            base_url,
            action="add",
            service=1,
            link=LINK + "?mock_outcome=partial&mock_remains=250",
            quantity=1000,
        )
        exchange(
            urllib.request.Request(
                f"{base_url}/_mock/clock/advance",
                data=json.dumps({"seconds": 4.5}).encode(),
                headers={"Authorization": f"Bearer {TOKEN}"},
                method="POST",
            )
        )
        before = state_of(base_url)
    with served(*command) as server:  # stopped with SIGTERM this time
        base_url = server.base_url
        after = state_of(base_url)
        assert after == before
        assert after["now"] == 4.5
        _, status = api(base_url, action="status", order=placed["order"])
        assert status["status"] == "In progress"


def test_an_unusable_state_file_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    state_file = tmp_path / "panel.db"
    state_file.write_bytes(b"definitely not an SQLite database " * 64)
    result = subprocess.run(
        [sys.executable, "-m", "mockpanel", "serve", "--port", "0", "--state", str(state_file),
         "--key", f"{KEY}=10"],
        capture_output=True,
        text=True,
        timeout=_STARTUP_LIMIT,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "not a mockpanel state file" in result.stderr
    assert str(state_file) in result.stderr
    assert "Traceback" not in result.stderr
    assert KEY not in result.stderr + result.stdout


async def test_the_app_releases_its_state_file_on_cleanup(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    state_file = tmp_path / "panel.db"
    config = MockConfig(keys=((KEY, Decimal(5)),), clock="manual", state_file=str(state_file))
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    response = await client.post(
        "/api/v2", data={"key": KEY, "action": "add", "service": "1", "link": LINK,
                         "quantity": "1000"}
    )  # fmt: skip
    assert response.status == 200
    with pytest.raises(StateFileError, match="in use"):
        PanelState.open(state_file, StateConfig(), ManualClock())
    await client.close()  # runs the app's cleanup, which closes the file
    panel = PanelState.open(state_file, StateConfig(), ManualClock())
    tenant = panel.authenticate(KEY)
    assert tenant is not None
    assert panel.balance(tenant) == Decimal("4.10000")
    panel.close()


def test_a_state_file_must_be_a_path() -> None:
    with pytest.raises(ValueError, match="state_file must be a non-empty path"):
        MockConfig(state_file="  ")
