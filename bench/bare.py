"""The baseline: a bare aiohttp handler that parses the same form body and answers a constant.

Every throughput and startup figure of the mock is reported as a ratio against this app,
measured in the same run on the same core, so the figures say what the mock's own work costs
and not how fast this particular machine is. Run it as ``python -m bench.bare --port 0``; it
prints ``bare: <url>`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from contextlib import suppress

from aiohttp import web

__all__ = ["BODY", "PATH", "create_bare_app", "main", "serve"]

PATH = "/api/v2"
# A balance answer of the canonical shape: what the cheapest real action returns.
BODY = b'{"balance":"100.84292","currency":"USD"}'


async def _answer(request: web.Request) -> web.Response:
    await request.post()  # the same form parsing every mock request pays for
    return web.Response(body=BODY, content_type="application/json")


def create_bare_app() -> web.Application:
    app = web.Application()
    app.router.add_post(PATH, _answer)
    return app


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    """Serve the bare app until ``stop`` is set; print its URL once it is listening.

    Same runner settings as ``mockpanel serve`` (no access log), so only the handler differs.
    """
    runner = web.AppRunner(create_bare_app(), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        print(f"bare: http://{bound_host}:{bound_port}{PATH}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


async def _serve_until_signalled(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(host, port, stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    with suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
