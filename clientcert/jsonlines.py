"""The language-neutral adapter: the standard operations as JSON lines over a subprocess's
stdin and stdout, so an SDK in PHP, Node, Go or Ruby is certified with a short shim.

The conversation, one JSON object per line:

- first ``{"op": "init", "url": ..., "key": ..., "timeout": seconds}``, answered
  ``{"ok": null}`` once the shim has built its library's client;
- then ``{"op": OPERATION, "args": {...}}`` per call (``balance`` and ``services``: no args;
  ``add``: ``service, link, quantity, type, extras``; ``status``, ``refill``: ``order``;
  ``multi_status``, ``cancel``: ``orders``; ``refill_status``: ``refill``), answered with
  ``{"ok": VALUE}`` (what the library returned, as JSON), ``{"error": {"type": T, "message":
  M}}`` (what it raised), or ``{"unsupported": true}`` (no such operation: N/A).

Numbers come back as JSON numbers exactly as the shim wrote them and are decoded to Python
``float``/``int``: a library that read ``"100.84292"`` into a binary double is judged as
having read money as a float, which it did. Whatever the shim writes to stderr is kept and
searched for the key like a log. An answer that does not come within a generous bound (the
library's timeout plus 15 s) ends the call with :class:`SubprocessAdapterError`, so a wedged
shim never hangs the suite.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Sequence
from typing import IO, Any

from clientcert.protocol import AdapterFactory, AdapterSettings, ClientAdapter, OrderRequest

__all__ = ["LibraryError", "SubprocessAdapter", "SubprocessAdapterError", "command_factory"]

_SLACK = 15.0


class LibraryError(Exception):
    """What the library in the subprocess raised: its type name and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class SubprocessAdapterError(RuntimeError):
    """The shim broke the conversation (no answer, not JSON, exited)."""


def _pump(stream: IO[str], sink: queue.Queue[str | None]) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


class SubprocessAdapter:
    """One shim process speaking the JSON-lines conversation."""

    def __init__(self, command: Sequence[str], settings: AdapterSettings) -> None:
        self._timeout = settings.timeout
        self._process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._errors: queue.Queue[str | None] = queue.Queue()
        for stream, sink in ((self._process.stdout, self._lines),
                             (self._process.stderr, self._errors)):
            threading.Thread(target=_pump, args=(stream, sink), daemon=True).start()
        self._stderr: list[str] = []
        self._ask({"op": "init", "url": settings.url, "key": settings.key,
                   "timeout": settings.timeout})

    def _ask(self, request: dict[str, Any]) -> Any:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        except OSError as error:
            raise SubprocessAdapterError(f"the shim is gone: {error}") from None
        try:
            line = self._lines.get(timeout=self._timeout + _SLACK)
        except queue.Empty:
            raise SubprocessAdapterError(
                f"{request['op']}: no answer within {self._timeout + _SLACK:g} s") from None
        if line is None:
            raise SubprocessAdapterError(f"{request['op']}: the shim exited")
        try:
            answer = json.loads(line)
        except ValueError:
            raise SubprocessAdapterError(f"{request['op']}: not a JSON line: {line[:200]!r}"
                                         ) from None
        if not isinstance(answer, dict):
            raise SubprocessAdapterError(f"{request['op']}: not a JSON object: {line[:200]!r}")
        if answer.get("unsupported"):
            raise NotImplementedError(request["op"])
        if "error" in answer:
            raised = answer["error"] if isinstance(answer["error"], dict) else {}
            raise LibraryError(str(raised.get("type", "Error")), str(raised.get("message", "")))
        return answer.get("ok")

    def captured_output(self) -> str:
        """What the shim wrote to stderr since the last look (searched for the key)."""
        while True:
            try:
                line = self._errors.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self._stderr.append(line)
        text = "".join(self._stderr)
        self._stderr.clear()
        return text

    def balance(self) -> object:
        return self._ask({"op": "balance", "args": {}})

    def services(self) -> object:
        return self._ask({"op": "services", "args": {}})

    def add(self, order: OrderRequest) -> object:
        return self._ask({"op": "add", "args": {
            "service": order.service, "link": order.link, "quantity": order.quantity,
            "type": order.type, "extras": dict(order.extras)}})

    def status(self, order: Any) -> object:
        return self._ask({"op": "status", "args": {"order": order}})

    def multi_status(self, orders: Sequence[Any]) -> object:
        return self._ask({"op": "multi_status", "args": {"orders": list(orders)}})

    def cancel(self, orders: Sequence[Any]) -> object:
        return self._ask({"op": "cancel", "args": {"orders": list(orders)}})

    def refill(self, order: Any) -> object:
        return self._ask({"op": "refill", "args": {"order": order}})

    def refill_status(self, refill: Any) -> object:
        return self._ask({"op": "refill_status", "args": {"refill": refill}})

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def command_factory(command: Sequence[str]) -> AdapterFactory:
    """A factory for ``--client-adapter``: each trial starts ``command`` afresh."""
    fixed = tuple(command)

    def make(settings: AdapterSettings) -> ClientAdapter:
        return SubprocessAdapter(fixed, settings)

    return make
