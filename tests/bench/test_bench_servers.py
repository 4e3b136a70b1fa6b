"""The bare baseline, the filled mock, and starting/stopping server processes."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest

from bench.bare import BODY, PATH, create_bare_app
from bench.client import post_form
from bench.filled import build_app, fill
from bench.procs import ServerError, serve
from bench.settings import REPO
from mockpanel.wire.keys import STATE

KEY = "bench-test-key"


async def test_bare_parses_the_form_and_answers_a_constant(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_bare_app())
    for body in ({"key": "a", "action": "balance"}, {"key": "b", "action": "add", "x": "1"}):
        response = await client.post(PATH, data=body)
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.read() == BODY
    assert (await client.get(PATH)).status == 405


async def test_filled_app_holds_the_orders_and_serves_them(aiohttp_client: Any) -> None:
    app = build_app(KEY, Decimal("100.00"), "token", 7)
    state = app[STATE]
    tenant = state.authenticate(KEY)
    assert tenant is not None
    orders = state.orders(tenant)
    assert len(orders) == 7
    assert len({order.link for order in orders}) == 7  # each order has its own link
    client = await aiohttp_client(app)
    response = await client.post(
        "/api/v2", data={"key": KEY, "action": "status", "order": orders[-1].id}
    )
    assert (await response.json())["status"] == "Pending"
    spent = sum((order.charge for order in orders), Decimal(0))
    balance = await (await client.post("/api/v2", data={"key": KEY, "action": "balance"})).json()
    assert Decimal(balance["balance"]) == Decimal("100.00") - spent


def test_filling_nothing_places_nothing() -> None:
    app = build_app(KEY, Decimal("1.00"), "token", 0)
    tenant = app[STATE].authenticate(KEY)
    assert tenant is not None
    assert fill(app[STATE], tenant, 0) is None
    assert app[STATE].orders(tenant) == ()


def test_serve_reads_the_url_and_stops_the_process() -> None:
    with serve([sys.executable, "-m", "bench.bare", "--port", "0"]) as bare:
        status, answer = post_form(bare.api_url, {"key": "k", "action": "balance"})
        assert status == 200
        assert "balance" in answer
        process = bare.process
    assert process.poll() is not None


def test_a_server_that_dies_reports_its_error_output() -> None:
    argv = [sys.executable, "-c", "import sys; sys.exit('cannot bind: boom')"]
    with pytest.raises(ServerError, match="boom"), serve(argv):
        pass


def test_a_server_that_never_prints_a_url_is_given_up() -> None:
    argv = [sys.executable, "-c", "import time; print('starting', flush=True); time.sleep(60)"]
    with pytest.raises(ServerError, match="no URL"), serve(argv, timeout=0.5):
        pass


def test_filled_script_refuses_to_run_without_its_secrets() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.filled", "--orders", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert "BENCH_KEY" in done.stderr
