"""Run the mock panel on a real socket: forever for the CLI, or in a background thread for tests.

Both paths share :func:`serve_forever`, so the server a test drives is byte for byte the one
``mockpanel serve`` runs. The thread variant (:func:`run_panel`) owns a private event loop, which
is what lets plain synchronous tests talk to the mock without any asyncio of their own.

aiohttp's access log is switched off on purpose: a ``GET /api/v2?key=...`` request line would
otherwise write an API key into the log. The journal (``GET /_mock/journal``) is the record of
traffic, with keys replaced by tenant ids.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import Any

from aiohttp import web

from mockpanel.config import MockConfig
from mockpanel.wire.app import create_app
from mockpanel.wire.keys import FAILURES

__all__ = ["API_PATH", "CONTROL_PATH", "RunningPanel", "run_panel", "serve_forever", "start_panel"]

API_PATH = "/api/v2"
CONTROL_PATH = "/_mock"

# How long a stopping server waits for in-flight requests. A mock answers in microseconds, so a
# request still running after this is stuck, and waiting longer would only hang the caller.
_SHUTDOWN_GRACE_SECONDS = 5.0


def _base_url(address: Any) -> str:
    """``http://host:port`` for a bound socket address (IPv4 pair or IPv6 quadruple)."""
    host, port = address[0], address[1]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


async def serve_forever(
    config: MockConfig,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``config``'s app until ``stop`` is set (forever without one).

    ``ready`` is called with the base URL (``http://host:port``, the real port when ``port`` is
    0) once the socket accepts connections. Binding errors (``OSError``) propagate before
    ``ready`` is called; the server is always cleaned up on the way out.
    """
    await _serve_app(create_app(config), host, port, stop or asyncio.Event(), ready)


async def _serve_app(
    app: web.Application,
    host: str,
    port: int,
    stop: asyncio.Event,
    ready: Callable[[str], None] | None,
) -> None:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_GRACE_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        if ready is not None:
            ready(_base_url(runner.addresses[0]))
        await stop.wait()
    finally:
        await runner.cleanup()


class RunningPanel:
    """A mock panel serving in a background thread; :meth:`stop` shuts it down and joins."""

    def __init__(
        self,
        base_url: str,
        config: MockConfig,
        app: web.Application,
        loop: asyncio.AbstractEventLoop,
        stop_event: asyncio.Event,
        thread: threading.Thread,
        finished: Future[None],
    ) -> None:
        self.base_url = base_url
        self.config = config
        self._app = app
        self._loop = loop
        self._stop_event = stop_event
        self._thread = thread
        self._finished = finished

    @property
    def url(self) -> str:
        """The API endpoint, ``http://host:port/api/v2``."""
        return self.base_url + API_PATH

    @property
    def control_token(self) -> str | None:
        return self.config.control_token

    @property
    def control_url(self) -> str | None:
        """The control API root, or ``None`` when no control token was configured."""
        return None if self.control_token is None else self.base_url + CONTROL_PATH

    @property
    def port(self) -> int:
        """The bound TCP port (the real one when the panel was started on port 0)."""
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def failures(self) -> tuple[BaseException, ...]:
        """Unexpected exceptions the mock hit while answering (each was answered as a 500).

        A non-empty tuple means a bug in the mock, never vendor behaviour; fixtures re-raise it.
        """
        recorded: list[BaseException] = self._app[FAILURES]
        # A snapshot copy: the server thread may append while we read, and list() is atomic.
        return tuple(list(recorded))

    def stop(self) -> None:
        """Stop serving and join the thread; idempotent.

        Re-raises anything that went wrong inside the server thread, so a broken mock shows up
        as an error in the caller rather than as a silently dead socket.
        """
        if self._thread.is_alive():
            # The loop may close between the check and the call; then there is nothing to stop.
            with suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join()
        self._finished.result()

    def __repr__(self) -> str:
        # Never show the control token: reprs end up in logs and assertion messages.
        state = "running" if self.running else "stopped"
        return f"RunningPanel(url={self.url!r}, profile={self.config.profile_name!r}, {state})"


_Started = tuple[str, asyncio.AbstractEventLoop, asyncio.Event]


def _serve_in_thread(
    app: web.Application,
    host: str,
    port: int,
    started: Future[_Started],
    finished: Future[None],
) -> None:
    """Thread body: serve ``app`` on a private loop, reporting through the two futures."""

    async def main() -> None:
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        await _serve_app(
            app, host, port, stop_event, lambda url: started.set_result((url, loop, stop_event))
        )

    try:
        asyncio.run(main())
    except BaseException as exc:  # handed to the caller through the futures, never lost
        if not started.done():
            started.set_exception(exc)
        finished.set_exception(exc)
    else:
        finished.set_result(None)


def start_panel(config: MockConfig, host: str = "127.0.0.1", port: int = 0) -> RunningPanel:
    """Start a panel in a daemon thread and return once it accepts connections.

    Prefer :func:`run_panel`, which also stops it. Binding errors are raised here.
    """
    app = create_app(config)
    started: Future[_Started] = Future()
    finished: Future[None] = Future()
    thread = threading.Thread(
        target=_serve_in_thread,
        args=(app, host, port, started, finished),
        name=f"mockpanel-{config.profile_name}",
        daemon=True,  # a forgotten panel must not keep the interpreter alive
    )
    thread.start()
    try:
        base_url, loop, stop_event = started.result()
    except BaseException:
        thread.join()
        raise
    return RunningPanel(base_url, config, app, loop, stop_event, thread, finished)


@contextmanager
def run_panel(config: MockConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningPanel]:
    """Serve ``config`` on ``host:port`` (0 picks a free port) for the ``with`` block."""
    panel = start_panel(config, host, port)
    try:
        yield panel
    finally:
        panel.stop()
