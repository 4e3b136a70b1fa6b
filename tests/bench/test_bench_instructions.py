"""bench.instructions: the in-process driver serves real answers; the arithmetic is exact."""

from __future__ import annotations

import asyncio

import pytest

from bench.bare import BODY
from bench.instructions import (
    cycle_estimate,
    measured,
    parse_counters,
    parse_refs,
    per_request,
    raw_post,
)


@pytest.mark.parametrize(
    ("load", "field"), [("balance", "balance"), ("status", "status"), ("add", "order")]
)
def test_the_mock_is_driven_through_the_whole_server_and_answers(load: str, field: str) -> None:
    status, body = asyncio.run(measured("mock", load, 2))
    assert status == 200
    assert field in body
    if load == "status":
        assert body["status"] == "Pending"  # the order placed by the set-up, on a manual clock


def test_the_bare_side_gets_the_same_request_and_its_constant_answer() -> None:
    import json

    assert asyncio.run(measured("bare", "add", 2)) == (200, json.loads(BODY))


def test_a_post_is_framed_by_its_content_length() -> None:
    raw = raw_post({"key": "k", "action": "balance", "link": "https://x.test/?a=1&b=2"})
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v2 HTTP/1.1\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"link=https%3A%2F%2Fx.test%2F%3Fa%3D1%26b%3D2" in body


def test_the_instruction_total_is_read_from_the_summary() -> None:
    output = "==7== Command: python\n==7== \n==7== I   refs:      1,418,740,726\n"
    assert parse_refs(output) == 1_418_740_726
    with pytest.raises(ValueError, match="I refs"):
        parse_refs("==7== ERROR SUMMARY: 0 errors")


def test_per_request_cancels_what_both_runs_share() -> None:
    # start-up 1000 instructions, 50 per request
    assert per_request((100, 1000 + 100 * 50), (600, 1000 + 600 * 50)) == 50.0
    with pytest.raises(ValueError, match="more requests"):
        per_request((600, 1), (100, 2))


_SIMULATED = """==9== I   refs:      1,000,000
==9== I1  misses:         2,000
==9== LLi misses:           300
==9== D   refs:        500,000  (400,000 rd   + 100,000 wr)
==9== D1  misses:         4,000  (  3,000 rd   +   1,000 wr)
==9== LL refs:            6,000  (  5,000 rd   +   1,000 wr)
==9== LL misses:            500  (    400 rd   +     100 wr)
==9== Branches:        200,000  (180,000 cond +  20,000 ind)
==9== Mispredicts:       8,000  (  6,000 cond +   2,000 ind)
"""


def test_the_simulated_counters_are_read_from_the_summary() -> None:
    # "LL misses" is the total line, not "LLi misses"; "D1 misses" its total, not a part.
    assert parse_counters(_SIMULATED) == {
        "Ir": 1_000_000, "I1m": 2_000, "D1m": 4_000, "LLm": 500, "Bm": 8_000,
    }  # fmt: skip
    with pytest.raises(ValueError, match="cache-sim"):
        parse_counters("==9== I   refs:      1,000,000\n")


def test_the_cycle_estimate_weighs_misses_as_kcachegrind_does() -> None:
    counters = {"Ir": 1000.0, "I1m": 1.0, "D1m": 2.0, "Bm": 3.0, "LLm": 4.0}
    assert cycle_estimate(counters) == 1000 + 10 * (1 + 2 + 3) + 100 * 4
