"""Suite tests that must fail their own clause, not only a generic one, on a fake panel with
one defect: a new order whose first status read is refused is LIFE-001's failure, and a 5xx
for an out-of-range id is ROBUST-007's (the clause says "not 5xx")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from harness.plugin import SUITE_DIR
from tests.fixtures.fakepanel import KEY, SECOND_KEY, FakePanel, serve


@dataclass
class _FirstStatusReadMisses(FakePanel):
    """Status reads a cache that add does not fill: an order's first read is refused."""

    read: set[str] = field(default_factory=set)

    def status(self, key: str, order_id: str) -> web.Response:
        if order_id in self.orders and order_id not in self.read:
            self.read.add(order_id)
            return self.error("Incorrect order ID")
        return super().status(key, order_id)


@dataclass
class _HugeRefillIdCrashes(FakePanel):
    """refill_status with an id beyond 64 bits crashes: HTTP 500 with a JSON body."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(parse_qsl((await request.read()).decode("utf-8", "replace")))
        refill = params.get("refill", "")
        if params.get("action") == "refill_status" and refill.isdigit() and int(refill) >= 2**63:
            return web.json_response({"error": "SQLSTATE[22003]: out of range"}, status=500)
        return await super().handle(request)


@dataclass
class _RefillStatusCrashes(FakePanel):
    """refill_status crashes on any id: HTTP 500."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(parse_qsl((await request.read()).decode("utf-8", "replace")))
        if params.get("action") == "refill_status":
            return web.json_response({"error": "Internal Server Error"}, status=500)
        return await super().handle(request)


def _run(pytester: pytest.Pytester, panel: FakePanel, clause: str) -> pytest.RunResult:
    with serve(panel) as url:
        return pytester.runpytest_inprocess(
            str(SUITE_DIR), f"--panel-url={url}", f"--panel-key={KEY}",
            f"--panel-second-key={SECOND_KEY}", "--panel-request-rate=1000",
            "--panel-max-spend=5", f"--panel-clause={clause}")


def _verdict(result: pytest.RunResult, clause: str) -> str:
    for line in result.outlines:
        match = re.match(rf"^{clause}\s+(?:MUST|SHOULD|MAY)\s+(\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError(f"{clause} is not in the verdict table")


def test_a_new_order_refused_by_status_fails_life_001(clean: pytest.Pytester) -> None:
    result = _run(clean, _FirstStatusReadMisses(), "LIFE-001")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _verdict(result, "LIFE-001") == "FAIL"
    assert _verdict(result, "STATUS-001") != "FAIL"
    result.stdout.fnmatch_lines(["--- LIFE-001 *",
                                 "*test_valid_order_debits_rate_times_quantity*"])


def test_a_visible_new_order_passes_life_001(clean: pytest.Pytester) -> None:
    result = _run(clean, FakePanel(), "LIFE-001")
    assert _verdict(result, "LIFE-001") == "PASS"


def test_a_5xx_for_an_out_of_range_id_fails_robust_007(clean: pytest.Pytester) -> None:
    result = _run(clean, _HugeRefillIdCrashes(), "ROBUST-007")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _verdict(result, "ROBUST-007") == "FAIL"
    assert _verdict(result, "ROBUST-001") != "FAIL"  # a probe: its own clause judges it
    result.stdout.fnmatch_lines(["--- ROBUST-007 *", "*refill_status-refill-18446744073709551617*",
                                 "*HTTP 500*"])


def test_refused_out_of_range_ids_pass_robust_007(clean: pytest.Pytester) -> None:
    result = _run(clean, FakePanel(), "ROBUST-007")
    assert result.ret == pytest.ExitCode.OK
    assert _verdict(result, "ROBUST-007") == "PASS"


def test_an_action_that_always_crashes_is_robust_001s_alone(clean: pytest.Pytester) -> None:
    # One defect, one failure: refill_status crashing on every id is not ROBUST-007's too.
    result = _run(clean, _RefillStatusCrashes(), "ROBUST-00[17]")
    assert _verdict(result, "ROBUST-001") == "FAIL"
    assert _verdict(result, "ROBUST-007") == "PASS"
