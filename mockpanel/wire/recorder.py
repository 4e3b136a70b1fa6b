"""``mockpanel serve --record FILE``: what clients sent the mock and what it answered, as HAR 1.2.

For an SDK author debugging their client: the file opens in browsers' developer tools and in
API tools, and shows each request as it arrived (method, URL, headers, the body's bytes as
text) beside the answer (status, headers, body) and how long the mock took. The journal
(``GET /_mock/journal``) keeps decoded fields only and forgets old entries; this keeps the wire.

Secrets never reach the file. The API key is taken out of every request wherever it travels:
the ``key`` field of the query string and of a form or JSON body names it, and each of its
spellings (raw, URL-encoded, JSON-escaped) is replaced by ``[redacted]`` as a whole token in the
URL, the headers, the body and the answer; so are the keys the server was started with and the
control token, and ``Authorization`` and ``Cookie`` headers are redacted whole. The control API
(``/_mock``) is not recorded at all: it is the test's setup, not the client under debugging,
and its answers carry minted keys.

When the file is written: at shutdown, and while serving at most once a second after a new
entry (the whole log, atomically: a temporary file renamed over it). HAR is one JSON document,
so it cannot be appended to and stay readable; a rewrite that is always complete means a server
killed at any moment (SIGKILL, a crashed CI job) leaves a valid file missing at most the last
second, and a busy client costs one write a second rather than one per request.

The body is read before the API view when it has arrived in full (the view then takes it from
aiohttp's cache, its documented fallback: ``read_params_now``); a body still arriving is left to
the view, with its timeout and size checks, and taken from what the view read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from mockpanel import __version__
from mockpanel.wire.control import CONTROL_PREFIX
from mockpanel.wire.journal import REDACTED
from smmhar import Body, entry, har_log, write_atomic

__all__ = ["FLUSH_SECONDS", "TrafficRecorder", "empty_recording"]

#: The longest a recorded exchange waits before it is in the file.
FLUSH_SECONDS = 1.0
_KEY_FIELD = "key"  # the API key: the only secret a request carries (as in the journal)
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_CREATOR = "mockpanel"
_log = logging.getLogger("mockpanel")

def empty_recording() -> dict[str, object]:
    """The file before any request: a valid HAR log without entries."""
    return har_log([], creator=_CREATOR, version=__version__)


def _spellings(values: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret can appear in recorded text, longest first."""
    forms = {
        form
        for value in values
        if value
        for form in (value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1])
    }
    return tuple(sorted(forms, key=len, reverse=True))


def _scrub(text: str, spellings: tuple[str, ...]) -> str:
    """``text`` with each whole-token spelling replaced: not inside a longer word, so a short
    key never cuts a word of an answer in two; punctuation ends a token by itself."""
    if not spellings or not any(s in text for s in spellings):
        return text
    parts = []
    for spelling in spellings:
        before = r"(?<![^\W_])" if spelling[0].isalnum() else ""
        after = r"(?![^\W_])" if spelling[-1].isalnum() else ""
        parts.append(f"{before}{re.escape(spelling)}{after}")
    return re.sub("|".join(f"(?:{p})" for p in parts), REDACTED, text)


def _sent_keys(query: str, body: str) -> set[str]:
    """The values of every ``key`` field the request carries, in the query string or in a form
    or JSON body, well-formed or not (a wrong key is still somebody's key)."""
    found = {v for n, v in parse_qsl(query, keep_blank_values=True) if n == _KEY_FIELD}
    found |= {v for n, v in parse_qsl(body, keep_blank_values=True) if n == _KEY_FIELD}
    if body.lstrip().startswith("{"):
        with contextlib.suppress(ValueError, RecursionError):
            value = json.loads(body)
            if isinstance(value, dict) and value.get(_KEY_FIELD) not in (None, ""):
                sent = value[_KEY_FIELD]
                found.add(sent if isinstance(sent, str) else json.dumps(sent))
    return {v for v in found if v}


class TrafficRecorder:
    """The middleware that records each exchange, and the task that keeps the file current."""

    def __init__(
        self,
        path: Path,
        *,
        secrets: Iterable[str] = (),
        max_body_bytes: int,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.path = path
        self._known = tuple(s for s in secrets if s)
        self._max_bytes = max_body_bytes
        self._flush_seconds = flush_seconds
        self._entries: list[dict[str, object]] = []
        self._dirty = False
        self._stop = asyncio.Event()

    # -- the middleware -----------------------------------------------------------------------

    def middleware(self) -> Middleware:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path.startswith(CONTROL_PREFIX):
                return await handler(request)
            started, clock = time.time(), time.perf_counter()
            body = await self._arrived_body(request)
            try:
                response = await handler(request)
            except web.HTTPException as refused:  # aiohttp's own answers (a Response too)
                self._add(request, body, started, time.perf_counter() - clock, refused)
                raise
            self._add(request, body, started, time.perf_counter() - clock, response)
            return response

        return record

    async def _arrived_body(self, request: web.Request) -> bytes | None:
        """The body when it is already here in full and within the size limit, else ``None``
        (the view reads it, with its own timeout and limits)."""
        if request.method in ("GET", "HEAD") or not request.body_exists:
            return b""
        content, declared = request.content, request.content_length
        if (declared is None or declared > self._max_bytes or not content.is_eof()
                or content.exception() is not None):
            return None
        try:
            return await request.read()
        except (web.HTTPException, web.RequestPayloadError):
            return None

    def _add(
        self,
        request: web.Request,
        early: bytes | None,
        started: float,
        seconds: float,
        response: web.StreamResponse,
    ) -> None:
        raw = early if early is not None else getattr(request, "_read_bytes", None)
        body_text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        query = request.rel_url.raw_query_string
        spellings = _spellings((*_sent_keys(query, body_text), *self._known))

        def clean(text: str) -> str:
            return _scrub(text, spellings)

        def headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
            return [(name, REDACTED if name.lower() in _SECRET_HEADERS else clean(value))
                    for name, value in pairs]

        transport = request.transport
        dropped = transport is None or transport.is_closing()
        answer = response.body if isinstance(response, web.Response) else None
        answer_text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else ""
        extra: dict[str, object] = {}
        if dropped:
            extra["_error"] = "the mock dropped the connection (a fault rule) or the client left"
        if raw is None and request.body_exists:
            extra["_bodyNotRead"] = True  # refused before it was read (too large, stalled)
        self._entries.append(entry(
            started=started,
            seconds=seconds,
            method=request.method,
            url=clean(str(request.url)),
            http_version=f"HTTP/{request.version.major}.{request.version.minor}",
            request_headers=headers(request.headers.items()),
            request_body=(None if request.method in ("GET", "HEAD") and not body_text
                          else Body(clean(request.headers.get("Content-Type", "")),
                                    clean(body_text))),
            status=0 if dropped else response.status,
            status_text="" if dropped else response.reason,
            response_headers=[] if dropped else headers(response.headers.items()),
            response_body=Body(clean(response.headers.get("Content-Type", "")),
                               "" if dropped else clean(answer_text)),
            extra=extra,
        ))
        self._dirty = True

    # -- the file -----------------------------------------------------------------------------

    def document(self) -> dict[str, object]:
        return har_log(list(self._entries), creator=_CREATOR, version=__version__)

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """A cleanup context: the file exists (empty) from the start, is rewritten at most once
        a second while new entries come, and written a last time at shutdown."""
        write_atomic(self.path, self.document())
        flusher = asyncio.create_task(self._flush_while_serving())
        try:
            yield
        finally:
            self._stop.set()
            await flusher  # a write in progress ends first, so it cannot land after the last
            self._write()

    async def _flush_while_serving(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._flush_seconds)
            if self._dirty and not self._stop.is_set():
                self._dirty = False
                document = self.document()  # the snapshot is taken here, in the loop
                try:
                    await asyncio.to_thread(write_atomic, self.path, document)
                except OSError as error:
                    _log.warning("--record: %s not written: %s", self.path, error.strerror)

    def _write(self) -> None:
        try:
            write_atomic(self.path, self.document())
        except OSError as error:
            _log.warning("--record: %s not written: %s", self.path, error.strerror)
