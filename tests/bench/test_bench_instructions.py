"""bench.instructions: the in-process driver serves real answers; the arithmetic is exact."""

from __future__ import annotations

import asyncio

import pytest

from bench.bare import BODY
from bench.instructions import measured, parse_refs, per_request, raw_post


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
