"""The pieces behind single figures: memory, startup, the panel helpers, profiles, the suite."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bench import memory
from bench.conformance import summary_line
from bench.memory import measure, rss_bytes
from bench.panel import Secrets, cheapest_add, place_orders
from bench.procs import ServerError, free_port
from bench.profiling import parse_collapsed, render_hotspots, summarise
from bench.settings import Pinning, Settings
from bench.startup import is_balance_reply, request_bytes, time_to_first_answer
from mockpanel.config import MockConfig
from mockpanel.server import run_panel

# ------------------------------------------------------------------------------- memory


def test_tracemalloc_sees_every_order_kept_alive() -> None:
    result = measure(500, "tracemalloc")
    assert result["orders"] == 500
    assert result["per_order"] == (result["after"] - result["before"]) / 500
    # An order keeps at least its link text and its record: far more than 100 bytes each.
    assert result["per_order"] > 100


def test_memory_figures_come_from_fresh_interpreters() -> None:
    figures = memory.run(Settings(orders=5000, pinning=Pinning(None, None)))
    assert [f.id for f in figures] == ["memory.tracemalloc", "memory.rss"]
    for figure in figures:
        assert figure.value is not None
        assert figure.value > 100
        assert figure.target is not None
        assert figure.target.bound == 1024
        assert "5000 orders" in figure.detail


def test_memory_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        measure(1, "guess")
    with pytest.raises(ValueError, match="breakdown"):
        measure(1, "rss", breakdown=3)


def test_breakdown_names_the_sites_that_hold_an_order() -> None:
    result = measure(400, "tracemalloc", breakdown=5)
    sites = result["sites"]
    assert len(sites) == 5
    assert [size for size, _ in sites] == sorted((size for size, _ in sites), reverse=True)
    assert all(size > 0 for size, _ in sites)
    # The order record itself is created in PanelState.place_order.
    assert any(where.startswith("mockpanel/state/") for _, where in sites)


def test_rss_is_read_from_vmrss(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmRSS:\t   2048 kB\nThreads:\t1\n", encoding="ascii")
    assert rss_bytes(status) == 2048 * 1024
    status.write_text("Name:\tpython\n", encoding="ascii")
    with pytest.raises(RuntimeError, match="VmRSS"):
        rss_bytes(status)


# ------------------------------------------------------------------------------ startup


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        (b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{"balance": "1.00"}', True),
        (b'HTTP/1.1 200 OK\r\n\r\n{"error": "Invalid API key"}', False),
        (b'HTTP/1.1 500 Internal\r\n\r\n{"balance": "1.00"}', False),
        (b"HTTP/1.1 200 OK\r\n\r\n<html>", False),
        (b"HTTP/1.1 200 OK", False),
        (b"", False),
    ],
)
def test_only_a_200_balance_counts_as_an_answer(raw: bytes, valid: bool) -> None:
    assert is_balance_reply(raw) is valid


def test_request_is_a_complete_form_post() -> None:
    raw = request_bytes("127.0.0.1", 8080, "key=k&action=balance")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v2 HTTP/1.1\r\n")
    assert b"Content-Length: 20" in head
    assert body == b"key=k&action=balance"


def test_startup_is_timed_to_a_real_first_answer() -> None:
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare", "--port", str(port)]
    assert time_to_first_answer(argv, port, "key=k&action=balance") > 0


def test_a_server_that_exits_before_answering_is_an_error() -> None:
    port = free_port()
    with pytest.raises(ServerError, match="exited"):
        time_to_first_answer([sys.executable, "-c", "raise SystemExit(3)"], port, "a=1")


# --------------------------------------------------------------------------- panel helpers


def test_cheapest_add_picks_the_least_costly_default_service() -> None:
    config = MockConfig(keys=(("bench-key", Decimal("50.00")),), clock="manual")
    with run_panel(config) as panel:
        fields = cheapest_add(panel.url, "bench-key")
        # The reference catalogue's cheapest: TikTok Views at 0.001 per 1000, minimum 10.
        assert (fields["service"], fields["quantity"]) == ("2", "10")
        ids = place_orders(panel.url, fields, 3)
    assert len(set(ids)) == 3


def test_secrets_never_show_in_a_repr() -> None:
    keys = Secrets.fresh()
    assert keys.key != keys.token
    assert keys.key not in repr(keys)
    assert keys.token not in repr(keys)


# ----------------------------------------------------------------------------- settings


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="reps"):
        Settings(reps=0, pinning=Pinning(None, None))
    with pytest.raises(ValueError, match="warmup"):
        Settings(warmup=-1, pinning=Pinning(None, None))


def test_pinning_prefixes_and_the_unpinned_fallback() -> None:
    pinned = Pinning(0, 1)
    assert pinned.server() == ["taskset", "-c", "0"]
    assert pinned.client() == ["taskset", "-c", "1"]
    assert pinned.anywhere()[:2] == ["taskset", "-c"]
    assert pinned.anywhere()[2].startswith("0-")
    assert Pinning(None, None).server() == []
    assert Pinning(None, None).anywhere() == []
    assert Pinning.detect(0, 0) == Pinning(None, None)  # one core cannot separate the two


# ----------------------------------------------------------------------------- profiles

_ENTRY = "<module> (mockpanel/__main__.py:1);run (asyncio/runners.py:160)"
STACKS = "\n".join(
    [
        f"{_ENTRY};_api (mockpanel/wire/app.py:60);place_order (mockpanel/state/panel.py:230) 6",
        f"{_ENTRY};_api (mockpanel/wire/app.py:60) 2",
        f"{_ENTRY};write (asyncio/selector_events.py:1040) 2",
        "not a stack line",
    ]
)


def test_hotspots_split_self_and_inclusive_time() -> None:
    stacks = parse_collapsed(STACKS)
    assert len(stacks) == 3
    spots = summarise("add", stacks)
    assert spots.samples == 10
    assert dict(spots.self_functions) == {
        "place_order (mockpanel/state/panel.py)": 0.6,
        "_api (mockpanel/wire/app.py)": 0.2,
        "write (asyncio/selector_events.py)": 0.2,
    }
    assert dict(spots.self_packages) == {"mockpanel": 0.8, "asyncio": 0.2}
    # The entry module is everywhere and does no request work: it is left out.
    assert dict(spots.mock_inclusive) == {
        "_api (mockpanel/wire/app.py)": 0.8,
        "place_order (mockpanel/state/panel.py)": 0.6,
    }
    text = render_hotspots(spots)
    assert text.startswith("add: 10 samples")
    assert " 60.0%  place_order (mockpanel/state/panel.py)" in text


def test_an_empty_profile_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarise("status", parse_collapsed(""))


# ------------------------------------------------------------------------ conformance


def test_summary_line_prefers_pytest_result_line() -> None:
    output = "collected 3 items\n...\nCERTIFIED: no MUST clause failed\n=== 3 passed in 1.50s ===\n"
    assert summary_line(output) == "3 passed in 1.50s"
    # Not merely the last line: noise printed after the result line (a plugin's footer, a
    # warning) must not hide it.
    noisy = output + "smm-harness: report written to /tmp/x\nwarning: something\n"
    assert summary_line(noisy) == "3 passed in 1.50s"


def test_summary_line_falls_back_to_the_error() -> None:
    output = "ERROR: --panel-url: the harness runs in one process; drop -n\n\n"
    assert summary_line(output).startswith("ERROR: --panel-url")
    assert summary_line("") == "(no output)"
