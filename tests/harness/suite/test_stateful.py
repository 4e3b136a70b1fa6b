"""The stateful ledger suite (``harness/suite/test_14_stateful.py``) run as a vendor would.

It passes the unbroken mock, controlled and black-box, and fails panels with one rule broken
under the clause the model ledger holds them to: a cancel refunded twice (CANCEL-004), a status
that goes backwards (STATUS-008), a multi-status that disagrees with single status
(MSTATUS-003). The broken panels run controlled (manual clock) in a thread and the harness in
a fresh interpreter, so each run is the same sequence every time for its seed.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

import pytest
from aiohttp import web

from harness.plugin import SUITE_DIR
from mockpanel.wire.actions import Call
from mockpanel.wire.jsontext import Json
from mockpanel.wire.keys import ACTIONS, STATE
from mockpanel.wire.render import Reply
from tests.conformance.broken_panels import (
    UNBROKEN,
    BrokenPanel,
    Mode,
    by_name,
    config_for,
)
from tests.conformance.harness_runs import (
    Keys,
    Verdicts,
    read_verdicts,
    run_harness,
    serve_broken,
    serve_profile,
)

SUITE_FILE = SUITE_DIR / "test_14_stateful.py"
TEST = "test_14_stateful.py::test_the_ledger_holds_through_random_sequences"
SEED = "--panel-seed=5"
# The mock's budget, black-box too (a live panel's default is a smoke test of one example):
# these tests prove what the machine catches, not what the default budget buys.
EXAMPLES = "--panel-examples=20"
BALANCES = (Decimal("500.00"), Decimal("1.00"))
CITED = ("MONEY-010", "ADD-008", "STATUS-008", "MSTATUS-003")
_STARTUP_SECONDS = 30



def _always_pending(call: Call, reply: Reply) -> Reply:
    """Multi-status reports every order Pending (a cache never refreshed); single status
    tells the truth."""
    if not call.params.get("orders", "").strip() or not isinstance(reply.body, dict):
        return reply
    body: dict[str, Json] = {
        order_id: {**item, "status": "Pending"} if isinstance(item, dict) and "status" in item
        else item
        for order_id, item in reply.body.items()
    }
    return reply._replace(body=body)


def _stale_multi_status(app: web.Application) -> None:
    """Multi-status reports every order Pending, whatever single status says."""
    table = dict(app[ACTIONS])
    inner = table["status"]
    table["status"] = lambda call: _always_pending(call, inner(call))
    app[ACTIONS] = MappingProxyType(table)


STALE_MULTI = BrokenPanel("stale-multi-status", "multi-status disagreeing with status",
                          ("MSTATUS-003",), (TEST,), rewire=_stale_multi_status)


def _time_moves_on_every_read(app: web.Application) -> None:
    """Every single-status read lets 0.5 s pass on the panel's clock first: orders move
    between any two reads the harness makes, as on a busy live panel. Nothing is broken."""
    table = dict(app[ACTIONS])
    inner = table["status"]

    def status(call: Call) -> Reply:
        if not call.params.get("orders", "").strip():
            app[STATE].advance_clock(0.5)
        return inner(call)

    table["status"] = status
    app[ACTIONS] = MappingProxyType(table)


MOVING = BrokenPanel("time-moves-on-reads", "nothing (orders move between reads)",
                     ("MSTATUS-003",), (TEST,), rewire=_time_moves_on_every_read)


@contextmanager
def serve_controlled(panel: BrokenPanel, keys: Keys) -> Iterator[str]:
    """``panel`` on a manual clock with the control API, served from a thread; yields its
    API URL."""
    config = config_for(replace(panel, mode=Mode.CONTROLLED),
                        ((keys.main, BALANCES[0]), (keys.second, BALANCES[1])), keys.token)
    app = panel.app(config)
    started: Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            done = asyncio.Event()
            started.set_result(
                (f"http://{host}:{port}/api/v2", asyncio.get_running_loop(), done)
            )
            await done.wait()
        finally:
            await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    url, loop, done = started.result(timeout=_STARTUP_SECONDS)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(timeout=_STARTUP_SECONDS)


def _run(pytester: pytest.Pytester, url: str, keys: Keys, *, controlled: bool,
         max_spend: str = "100") -> tuple[pytest.RunResult, Verdicts]:
    # In a fresh interpreter, so that the seed alone decides the random sequences (see
    # run_harness): each test below relies on them reaching the clause it names.
    result = run_harness(pytester, url, keys, max_spend=max_spend, controlled=controlled,
                         extra=[str(SUITE_FILE), SEED, EXAMPLES], fresh_process=True)
    output = "\n".join(result.outlines + result.errlines)
    for secret in keys.all():
        assert secret not in output
    return result, read_verdicts(result.outlines)


def _fails_under(pytester: pytest.Pytester, panel: BrokenPanel, clause: str) -> None:
    keys = Keys()
    with serve_controlled(panel, keys) as url:
        result, verdicts = _run(pytester, url, keys, controlled=True)
    summary = "\n".join(result.outlines[-40:])
    assert result.ret == pytest.ExitCode.TESTS_FAILED, summary
    assert verdicts.verdict(clause) == "FAIL", summary
    assert any(test.endswith(TEST) for test in verdicts.evidence.get(clause, ())), summary


def test_the_unbroken_mock_passes_controlled(pytester: pytest.Pytester) -> None:
    keys = Keys()
    with serve_profile("reference", keys, BALANCES[0]) as url:
        result, verdicts = _run(pytester, url, keys, controlled=True)
    summary = "\n".join(result.outlines[-40:])
    assert result.ret == pytest.ExitCode.OK, summary
    assert verdicts.failed() == set(), summary
    assert {clause: verdicts.verdict(clause) for clause in CITED} == dict.fromkeys(
        CITED, "PASS"), summary


def test_the_unbroken_mock_passes_black_box(pytester: pytest.Pytester) -> None:
    keys = Keys()
    with serve_broken(UNBROKEN.name, keys, BALANCES) as url:
        result, verdicts = _run(pytester, url, keys, controlled=False)
    summary = "\n".join(result.outlines[-40:])
    assert result.ret == pytest.ExitCode.OK, summary
    assert verdicts.failed() == set(), summary
    assert [verdicts.verdict(c) for c in ("MONEY-010", "ADD-008", "STATUS-008")] == [
        "PASS"] * 3, summary
    # Black-box orders are paid from the main key, under the cap.
    assert re.search(r"; [1-9][0-9]* spending request\(s\), 0 refused", summary), summary


def test_nothing_is_ordered_without_a_spend_cap(pytester: pytest.Pytester) -> None:
    keys = Keys()
    with serve_broken(UNBROKEN.name, keys, BALANCES) as url:
        result, verdicts = _run(pytester, url, keys, controlled=False, max_spend="0")
    summary = "\n".join(result.outlines[-40:])
    assert result.ret == pytest.ExitCode.OK, summary
    assert verdicts.rows["MONEY-010"][1:] == ("N/A", "not allowed by the spend cap: the "
                                               "stateful run places orders"), summary
    assert "0 spending request(s)" in summary, summary


def test_a_cancel_refunded_twice_fails_cancel_004(pytester: pytest.Pytester) -> None:
    _fails_under(pytester, by_name("cancel-refunds-twice"), "CANCEL-004")


def test_a_status_going_backwards_fails_status_008(pytester: pytest.Pytester) -> None:
    _fails_under(pytester, by_name("status-goes-backwards"), "STATUS-008")


def test_a_disagreeing_multi_status_fails_mstatus_003(pytester: pytest.Pytester) -> None:
    _fails_under(pytester, STALE_MULTI, "MSTATUS-003")



def test_orders_moving_between_reads_are_no_failure(pytester: pytest.Pytester) -> None:
    """A multi-status is taken between the single reads around it, in time order: an order
    that moves on between them (its status, its remains falling) is no step back: taken out of
    order, the earlier read looked like remains growing (STATUS-009) or a status going back."""
    keys = Keys()
    with serve_controlled(MOVING, keys) as url:
        result, verdicts = _run(pytester, url, keys, controlled=True)
    summary = "\n".join(result.outlines[-40:])
    assert result.ret == pytest.ExitCode.OK, summary
    assert verdicts.failed() == set(), summary
    assert [verdicts.verdict(c) for c in ("STATUS-008", "STATUS-009")] == ["PASS"] * 2, summary
    assert verdicts.verdict("MSTATUS-003") == "PASS", summary
