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

Run ``python -m bench.instructions [--loads balance status add] [--requests 100 600]``
(needs valgrind: ``apt-get install -y valgrind``; about a minute per load and server).
"""

from __future__ import annotations

import argparse
import asyncio
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
            status, body = await drive(mock, requests[load], _WARMUP + count)
            expected = {"balance": "balance", "status": "status", "add": "order"}[load]
            if status != 200 or not isinstance(body, dict) or expected not in body:
                raise RuntimeError(f"the mock answered {load} wrongly: {status} {body}")
            return status, body
    async with serving(create_bare_app()) as bare:
        return await drive(bare, requests[load], _WARMUP + count)


def parse_refs(valgrind_output: str) -> int:
    """The ``I refs`` total of a cachegrind run's summary."""
    found = _REFS.search(valgrind_output)
    if found is None:
        raise ValueError("no 'I refs' line in the valgrind output")
    return int(found.group(1).replace(",", ""))


def per_request(small: tuple[int, int], large: tuple[int, int]) -> float:
    """Instructions per request from two ``(requests, instructions)`` runs."""
    (n_small, i_small), (n_large, i_large) = small, large
    if n_large <= n_small:
        raise ValueError("the second run must serve more requests than the first")
    return (i_large - i_small) / (n_large - n_small)


def _count(valgrind: str, server: str, load: str, requests: int) -> int:
    result = subprocess.run(
        [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "bench.instructions", "--child", server, load, str(requests)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{server} {load} failed: {result.stderr[-2000:]}")
    return parse_refs(result.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", nargs="+", choices=LOADS, default=list(LOADS))
    parser.add_argument("--requests", nargs=2, type=int, default=[100, 600],
                        metavar=("N1", "N2"), help="requests of the two runs (100 600)")
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
