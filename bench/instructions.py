"""Instructions per request, mock against bare, counted by cachegrind: a figure noise cannot move.

The wall-clock ratios of ``throughput`` move by about 0.1 from run to run on a shared 2-core
machine, more than most single optimisations are worth. Valgrind's cachegrind counts the
instructions a process executes (``I refs``), the same on every run. Each side (the mock as
``mockpanel serve`` builds it, journal and control API on; the bare app of ``bench/bare.py``)
is driven through aiohttp's whole server stack in-process: HTTP parser, protocol, router,
handler, response writer, with a fake transport instead of a socket. Two runs with different
request counts cancel start-up and imports: per request = (I(n2) - I(n1)) / (n2 - n1).

Instructions are not time (the kernel's socket work is left out, and a cache miss costs more
than an instruction), but both servers run the same interpreter on the same aiohttp, so the
ratio bare / mock follows the throughput ratio, without its noise.

With ``--cache-sim`` cachegrind also simulates the caches and the branch predictor and the
table adds a cycle estimate, KCachegrind's ``CEst = Ir + 10 (I1 misses + D1 misses + branch
mispredicts) + 100 LL misses`` per request: the mock's extra code runs colder than aiohttp's,
so its share of the time is larger than its share of the instructions, and this estimate
follows the wall-clock ratio more closely (still without its noise; about twice as slow).

Run ``python -m bench.instructions [--loads balance status add] [--requests 100 600]
[--cache-sim]`` (needs valgrind: ``apt-get install -y valgrind``; about a minute per load and
server). ``add`` keeps every order, so the garbage collector's passes land unevenly between
two short runs: give it more requests (``--requests 200 1400``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bench.bare import create_bare_app
from bench.settings import REPO

__all__ = [
    "LOADS",
    "FakeTransport",
    "drive",
    "main",
    "measured",
    "parse_answer",
    "parse_refs",
    "per_request",
    "raw_post",
    "serving",
]

LOADS = ("balance", "status", "add")
SERVERS = ("mock", "bare")
_WARMUP = 200
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
# The summary lines cachegrind prints with --cache-sim=yes --branch-sim=yes.
_COUNTERS = {
    "Ir": re.compile(r"I\s+refs:\s+([\d,]+)"),
    "I1m": re.compile(r"I1\s+misses:\s+([\d,]+)"),
    "D1m": re.compile(r"D1\s+misses:\s+([\d,]+)"),
    "LLm": re.compile(r"LL misses:\s+([\d,]+)"),
    "Bm": re.compile(r"Mispredicts:\s+([\d,]+)"),
}


class FakeTransport(asyncio.Transport):
    """What aiohttp's protocol writes to, kept in memory; ``answered`` fires on each write."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.answered: asyncio.Future[None] | None = None
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data
        if self.answered is not None and not self.answered.done():
            self.answered.set_result(None)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def abort(self) -> None:
        self._closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True


def raw_post(fields: dict[str, str], path: str = "/api/v2") -> bytes:
    """One keep-alive form POST as it arrives on the wire."""
    body = urlencode(fields).encode("ascii")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class _Connection:
    """One keep-alive connection into an app's server protocol."""

    def __init__(self, runner: web.AppRunner) -> None:
        assert runner.server is not None
        self.protocol = runner.server()
        self.transport = FakeTransport()
        self.protocol.connection_made(self.transport)

    async def exchange(self, request: bytes) -> bytes:
        """Send ``request``; the raw answer once all of it is written. Kept to a few byte
        searches: whatever the driver does per request is counted on both sides."""
        loop = asyncio.get_running_loop()
        transport = self.transport
        written = transport.written
        written.clear()
        data = request
        while True:
            transport.answered = loop.create_future()
            self.protocol.data_received(data)
            data = b""
            await transport.answered
            end = written.find(b"\r\n\r\n")
            if end < 0:
                continue
            start = written.find(b"Content-Length: ", 0, end)
            if start < 0:
                raise RuntimeError(f"an answer without Content-Length: {bytes(written)!r}")
            start += len(b"Content-Length: ")
            length = int(written[start : written.find(b"\r\n", start)])
            if len(written) - end - 4 >= length:
                return bytes(written)


def parse_answer(raw: bytes) -> tuple[int, Any]:
    """The status and JSON body of a raw answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[_Connection]:
    """A keep-alive connection into ``app``, started and cleaned up as a server would be."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        yield _Connection(runner)
    finally:
        await runner.cleanup()


async def drive(connection: _Connection, request: bytes, count: int) -> tuple[int, Any]:
    """Serve ``request`` ``count`` times on ``connection``; the last answer, parsed."""
    raw = b""
    for _ in range(count):
        raw = await connection.exchange(request)
    return parse_answer(raw)


def _mock_app(key: str) -> web.Application:
    from mockpanel.config import MockConfig
    from mockpanel.wire import create_app

    return create_app(
        MockConfig(
            keys=((key, Decimal("1000000000.00")),),
            control_token=secrets.token_hex(16),
            clock="manual",
        )
    )


async def _requests(connection: _Connection, key: str) -> dict[str, bytes]:
    """Each load's request, as ``throughput`` sends it: ``add`` is the cheapest Default
    service at its minimum, ``status`` asks for an order placed here first."""
    _, services = await drive(connection, raw_post({"key": key, "action": "services"}), 1)
    _, service, quantity = min(
        (Decimal(str(item["rate"])) * int(item["min"]), str(item["service"]), str(item["min"]))
        for item in services
        if item.get("type") == "Default"
    )
    add = {"key": key, "action": "add", "service": service, "link": "https://example.test/b",
           "quantity": quantity}
    _, placed = await drive(connection, raw_post(add), 1)
    return {
        "balance": raw_post({"key": key, "action": "balance"}),
        "status": raw_post({"key": key, "action": "status", "order": str(placed["order"])}),
        "add": raw_post(add),
    }


async def measured(server: str, load: str, count: int) -> tuple[int, Any]:
    """``count`` requests of ``load`` (after a warm-up) to ``server``; the last answer. The
    mock's answers are checked: a count of refusals would not be a figure."""
    key = secrets.token_hex(16)  # never printed: the mock knows it, the output does not
    async with serving(_mock_app(key)) as mock:
        requests = await _requests(mock, key)
        if server == "mock":
            await drive(mock, requests[load], _WARMUP)
            gc.collect()  # both runs start counting from the same collector state
            status, body = await drive(mock, requests[load], count)
            expected = {"balance": "balance", "status": "status", "add": "order"}[load]
            if status != 200 or not isinstance(body, dict) or expected not in body:
                raise RuntimeError(f"the mock answered {load} wrongly: {status} {body}")
            return status, body
    async with serving(create_bare_app()) as bare:
        await drive(bare, requests[load], _WARMUP)
        gc.collect()
        return await drive(bare, requests[load], count)


def parse_refs(valgrind_output: str) -> int:
    """The ``I refs`` total of a cachegrind run's summary."""
    found = _REFS.search(valgrind_output)
    if found is None:
        raise ValueError("no 'I refs' line in the valgrind output")
    return int(found.group(1).replace(",", ""))


def parse_counters(valgrind_output: str) -> dict[str, int]:
    """Instructions, cache misses and branch mispredicts of a cache-simulating run."""
    counters = {}
    for name, pattern in _COUNTERS.items():
        found = pattern.search(valgrind_output)
        if found is None:
            raise ValueError(f"no {name} line in the valgrind output (was --cache-sim on?)")
        counters[name] = int(found.group(1).replace(",", ""))
    return counters


def cycle_estimate(counters: dict[str, float]) -> float:
    """KCachegrind's cycle estimate: an L1 miss or a mispredict ~10 cycles, an LL miss ~100."""
    return (
        counters["Ir"]
        + 10 * (counters["I1m"] + counters["D1m"] + counters["Bm"])
        + 100 * counters["LLm"]
    )


def per_request(small: tuple[int, int], large: tuple[int, int]) -> float:
    """Instructions per request from two ``(requests, instructions)`` runs."""
    (n_small, i_small), (n_large, i_large) = small, large
    if n_large <= n_small:
        raise ValueError("the second run must serve more requests than the first")
    return (i_large - i_small) / (n_large - n_small)


def _valgrind(valgrind: str, server: str, load: str, requests: int, cache_sim: bool) -> str:
    simulate = ["--cache-sim=yes", "--branch-sim=yes"] if cache_sim else ["--cache-sim=no"]
    result = subprocess.run(
        [valgrind, "--tool=cachegrind", *simulate, "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "bench.instructions", "--child", server, load, str(requests)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{server} {load} failed: {result.stderr[-2000:]}")
    return result.stderr


def _count(valgrind: str, server: str, load: str, requests: int) -> int:
    return parse_refs(_valgrind(valgrind, server, load, requests, cache_sim=False))


def _counters(valgrind: str, server: str, load: str, sizes: tuple[int, int]) -> dict[str, float]:
    """Per-request counters (and ``CEst``) of ``server`` from two cache-simulating runs."""
    small, large = (
        parse_counters(_valgrind(valgrind, server, load, n, cache_sim=True)) for n in sizes
    )
    per = {
        name: per_request((sizes[0], small[name]), (sizes[1], large[name])) for name in small
    }
    per["CEst"] = cycle_estimate(per)
    return per


def _cache_table(valgrind: str, loads: Sequence[str], sizes: tuple[int, int]) -> None:
    print(f"{'load':8s}  {'mock Ir':>9s}  {'bare Ir':>9s}  {'Ir ratio':>8s}  "
          f"{'mock CEst':>9s}  {'bare CEst':>9s}  CEst ratio  (bare / mock)")
    for load in loads:
        mock, bare = (_counters(valgrind, server, load, sizes) for server in SERVERS)
        print(f"{load:8s}  {mock['Ir']:9.0f}  {bare['Ir']:9.0f}  {bare['Ir'] / mock['Ir']:8.3f}  "
              f"{mock['CEst']:9.0f}  {bare['CEst']:9.0f}  {bare['CEst'] / mock['CEst']:.3f}",
              flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", nargs="+", choices=LOADS, default=list(LOADS))
    parser.add_argument("--requests", nargs=2, type=int, default=[100, 600],
                        metavar=("N1", "N2"), help="requests of the two runs (100 600)")
    parser.add_argument("--cache-sim", action="store_true",
                        help="simulate caches and branches; add the cycle estimate CEst")
    parser.add_argument("--child", nargs=3, metavar=("SERVER", "LOAD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        server, load, count = args.child
        asyncio.run(measured(server, load, int(count)))
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("bench.instructions: valgrind is missing (apt-get install -y valgrind)")
        return 2
    n_small, n_large = args.requests
    if args.cache_sim:
        _cache_table(valgrind, args.loads, (n_small, n_large))
        return 0
    print(f"{'load':8s}  {'mock Ir/request':>15s}  {'bare Ir/request':>15s}  bare / mock")
    for load in args.loads:
        counts = {
            server: per_request(
                (n_small, _count(valgrind, server, load, n_small)),
                (n_large, _count(valgrind, server, load, n_large)),
            )
            for server in SERVERS
        }
        print(f"{load:8s}  {counts['mock']:15.0f}  {counts['bare']:15.0f}  "
              f"{counts['bare'] / counts['mock']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
