"""The harness's HTTP client: posts to the panel, records every exchange with keys redacted.

Layers, outermost first::

    PanelClient.call / send_raw     build the request, enforce the spend gate, redact, record
      Pacer (harness.wire.pacing)        the pace that fits the panel (advertised or learned), over
        Limiter                     the harness's own politeness limit (--panel-request-rate):
                                    a TokenBucket, or harness.run.xdist's SharedBucket under xdist
      429 retry loop                waits out Retry-After up to --panel-max-retry-after and
                                    sends again; switchable off for the rate-limit tests
        Transport.send              bytes over the wire (http.client; replaceable in tests)

The key is inserted into the body by :meth:`PanelClient._encode` and nowhere else; an
:class:`Exchange` is built from the redacted description of the request, so redaction does not
depend on remembering to scrub. Response text is additionally scrubbed of every known secret.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from harness.base.budget import Reservation
from harness.base.errors import SpendGateError, TransportError
from harness.base.exchange import (
    KEY_SLOT,
    Encoding,
    Exchange,
    SentRequest,
    is_spending_action,
    parse_json,
)
from harness.base.progress import Progress
from harness.base.redaction import REDACTED, Secret, SecretBook, display_url
from harness.base.version import __version__
from harness.wire.limiter import Limiter
from harness.wire.pacing import Pacer, RetryPolicy, retry_after_seconds

__all__ = [
    "BASE_HEADERS",
    "Call",
    "HttpTransport",
    "PanelClient",
    "RawResponse",
    "RetryPolicy",
    "Transport",
    "retry_after_seconds",
]

_USER_AGENT = f"smm-conformance-harness/{__version__}"
#: The headers every request carries (plus its Content-Type); recordings list them too.
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("User-Agent", _USER_AGENT), ("Accept", "application/json"), ("Connection", "close"),
)
_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_PREVIEW_CHARS = 4000


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


# ---------------------------------------------------------------------------------------------
# Pieces


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse: ...


class HttpTransport:
    """One connection per request with ``http.client``; errors become :class:`TransportError`."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> RawResponse:
        parts = urlsplit(url)
        host = parts.hostname or ""
        conn_type = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_type(host, parts.port, timeout=self.timeout)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            # A server may answer (413) and close before reading a large body: its answer is
            # still waiting in the socket, so read it before calling the request dropped.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request(method, target, body=body, headers=dict(headers))
            response = conn.getresponse()
            data = response.read(_MAX_RESPONSE_BYTES + 1)
            return RawResponse(response.status, tuple(response.getheaders()), data)
        except (OSError, http.client.HTTPException) as exc:
            # Only the exception type and text: the request (with its key) stays out of it.
            raise TransportError(f"{type(exc).__name__}: {exc}") from None
        finally:
            conn.close()


# ---------------------------------------------------------------------------------------------
# The client


@dataclass(frozen=True, slots=True)
class Call:
    """One API call, for :meth:`PanelClient.call_concurrently`."""

    params: Mapping[str, str]
    key: Secret | None
    form: str | None = None
    reservation: Reservation | None = None


@dataclass(slots=True)
class _Counter:
    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> int:
        with self.lock:
            self.value += 1
            return self.value


class PanelClient:
    """Synchronous API client of one panel endpoint; every answer comes back as an Exchange.

    ``pacer`` paces polite requests and times 429 retries; without one, a :class:`Pacer` over
    ``limiter`` and ``retry`` that learns from the panel is made. ``sleep`` lets a throttled
    request's wait pass (a control API's clock may stand in for real time); ``progress`` shows
    long waits.
    """

    def __init__(
        self,
        url: str,
        *,
        transport: Transport,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        progress: Progress | None = None,
        secrets: SecretBook | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.display_url = display_url(url)
        self.transport = transport
        self.pacer = pacer or Pacer(
            limiter=limiter, policy=retry, clock=clock, sleep=sleep, progress=progress
        )
        self.progress = progress
        self.secrets = secrets or SecretBook()
        self._sleep = sleep
        self._clock = clock
        self._seq = _Counter()
        self.observers: list[Callable[[Exchange], None]] = []
        # Told when an exchange recorded earlier (before the first test) is taken as the
        # answer of the running test: a report attaches it, a request count does not count
        # it a second time.
        self.replay_observers: list[Callable[[Exchange], None]] = []

    @property
    def limiter(self) -> Limiter | None:
        return self.pacer.limiter

    @property
    def retry(self) -> RetryPolicy:
        return self.pacer.policy

    # -- public API ---------------------------------------------------------------------------

    def call(
        self,
        params: Mapping[str, str],
        *,
        key: Secret | None,
        form: str | None = None,
        encoding: Encoding = Encoding.FORM,
        reservation: Reservation | None = None,
        honour_429: bool | None = None,
        polite: bool = True,
    ) -> Exchange:
        """Send ``params`` (plus ``key``) and return the recorded exchange.

        ``params`` may carry ``key`` only as an empty string (the empty-key test); a real key is
        always a :class:`Secret` so that it cannot leak into the record.
        """
        if params.get("key", "") != "":
            raise ValueError("pass keys as a Secret through key=, never inside params")
        if is_spending_action(params.get("action")):
            self._gate(reservation)
        return self._send_params(params, key, form, encoding, honour_429, polite)

    def send_raw(
        self,
        body: bytes,
        *,
        content_type: str | None,
        key: Secret | None = None,
        form: str | None = None,
        method: str = "POST",
        reservation: Reservation | None = None,
        extra_headers: Mapping[str, str] | None = None,
        probe: bool = True,
    ) -> Exchange:
        """Send a hand-made body (robustness tests). :data:`KEY_SLOT` in it becomes the key.

        Any body that mentions ``add`` is treated as spending: a lenient panel might read it
        as an order, so it needs a reservation like a real ``add``. A hand-made body is a
        probe (see :attr:`SentRequest.probe`) unless ``probe=False`` says it is a protocol
        request written by hand.
        """
        if b"add" in body.lower():
            self._gate(reservation)
        shown = body.replace(KEY_SLOT, f"{REDACTED}:{key.label}".encode() if key else b"")
        if key is not None:
            sent = body.replace(KEY_SLOT, _form_quote(key.reveal()))
        elif KEY_SLOT in body:
            raise ValueError("the body has a key slot but no key was given")
        else:
            sent = body
        preview = shown.decode("utf-8", "backslashreplace")
        if len(preview) > _PREVIEW_CHARS:
            preview = preview[:_PREVIEW_CHARS] + f"...({len(shown)} bytes)"
        request = SentRequest(
            method=method,
            action=None,
            form=form,
            params=(),
            key=key.label if key is not None else None,
            content_type=content_type,
            body=preview,
            probe=probe,
        )
        return self._exchange(
            request, method, self.url, content_type, sent, None, True, extra_headers
        )

    def replayed(self, exchange: Exchange) -> None:
        """``exchange``, recorded earlier, is now the answer of the running test."""
        for observer in self.replay_observers:
            observer(exchange)

    def call_concurrently(self, calls: Sequence[Call]) -> list[Exchange]:
        """Fire ``calls`` at once from separate threads (the overdraw test), answers in order.

        Their places in the pace are taken up front so that the requests really leave together.
        """
        for call in calls:
            if is_spending_action(call.params.get("action")):
                self._gate(call.reservation)
        for _ in calls:
            self.pacer.before()
        barrier = threading.Barrier(len(calls))

        def fire(call: Call) -> Exchange:
            barrier.wait()
            return self._call_prechecked(call)

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(fire, calls))

    # -- internals ----------------------------------------------------------------------------

    def _call_prechecked(self, call: Call) -> Exchange:
        return self._send_params(call.params, call.key, call.form, Encoding.FORM, None, False)

    def _send_params(
        self,
        params: Mapping[str, str],
        key: Secret | None,
        form: str | None,
        encoding: Encoding,
        honour_429: bool | None,
        polite: bool,
    ) -> Exchange:
        method, body, ctype, target = self._encode(params, key, encoding)
        shown = tuple(params.items())
        if key is not None:
            shown = (("key", f"{REDACTED}:{key.label}"), *shown)
        request = SentRequest(
            method=method,
            action=params.get("action"),
            form=form,
            params=shown,
            key=key.label if key is not None else None,
            content_type=ctype,
            body=json.dumps(dict(shown)) if encoding is Encoding.JSON else "",
        )
        return self._exchange(request, method, target, ctype, body, honour_429, polite)

    @staticmethod
    def _gate(reservation: Reservation | None) -> None:
        if reservation is None:
            raise SpendGateError("a request that can spend needs a reservation from the guard")
        try:
            reservation.consume()
        except RuntimeError as exc:
            raise SpendGateError(str(exc)) from None

    def _encode(
        self, params: Mapping[str, str], key: Secret | None, encoding: Encoding
    ) -> tuple[str, bytes | None, str | None, str]:
        """The only place a key is revealed: straight into the outgoing bytes."""
        pairs = list(params.items())
        if key is not None:
            pairs.insert(0, ("key", key.reveal()))
        if encoding is Encoding.FORM:
            return "POST", urlencode(pairs).encode(), "application/x-www-form-urlencoded", self.url
        if encoding is Encoding.JSON:
            return "POST", json.dumps(dict(pairs)).encode(), "application/json", self.url
        joiner = "&" if urlsplit(self.url).query else "?"
        return "GET", None, None, self.url + joiner + urlencode(pairs)

    def _exchange(
        self,
        request: SentRequest,
        method: str,
        target: str,
        ctype: str | None,
        body: bytes | None,
        honour_429: bool | None,
        polite: bool,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        headers = dict(BASE_HEADERS)
        if ctype is not None:
            headers["Content-Type"] = ctype
        if extra_headers:
            headers.update(extra_headers)
        honour = self.retry.honour_429 if honour_429 is None else honour_429
        retries = named = 0
        waited = 0.0
        throttled_since: float | None = None
        while True:
            if polite:
                self.pacer.before(retry=retries > 0)
            started = self._clock()
            sent_at = time.time()  # for recordings: when, on the calendar, it left
            try:
                raw = self.transport.send(method, target, headers, body)
            except TransportError as exc:
                return self._record(request, None, self._clock() - started, str(exc), retries,
                                    sent_at)
            elapsed = self._clock() - started
            self.pacer.after(raw.status, raw.headers, honoured=honour, paced=polite,
                             first=retries == 0, subject=request.key)
            if raw.status == 429 and honour:
                # Only the answer to the last send is recorded (and judged): a 429 the harness
                # waited out is the harness's pace, not the panel's answer to this request.
                what = f"action={request.action}" if request.action else "a hand-made request"
                decided = self.pacer.retry_wait(
                    raw.headers, retries=retries, waited=waited, named_retries=named, what=what
                )
                if decided is not None:
                    wait, told = decided
                    if throttled_since is None:
                        throttled_since = self._clock()
                    self._pause(
                        wait, f"the panel's rate limit (HTTP 429 to {what}, "
                        + (f"Retry-After {wait:g}s)" if told else f"backing off {wait:g}s)"),
                        since=throttled_since, deadline=throttled_since + self.retry.max_wait,
                    )
                    waited += wait
                    retries += 1
                    named += 1 if told else 0
                    continue
            return self._record(request, raw, elapsed, None, retries, sent_at)

    def _pause(self, seconds: float, what: str, *, since: float, deadline: float) -> None:
        if self.progress is None:
            self._sleep(seconds)
        else:
            self.progress.sleep(seconds, self._sleep, what=what, since=since, deadline=deadline)

    def _record(
        self,
        request: SentRequest,
        raw: RawResponse | None,
        elapsed: float,
        transport_error: str | None,
        retries: int,
        sent_at: float | None = None,
    ) -> Exchange:
        if raw is None:
            exchange = Exchange(
                self._seq.next(), self.display_url, request, None, (), "", None,
                "no response", self.secrets.scrub(transport_error or ""), elapsed, retries,
                sent_at,
            )
        else:
            text = self.secrets.scrub(_decode(raw))
            value, error = parse_json(text)
            if len(raw.body) > _MAX_RESPONSE_BYTES:
                value, error = None, f"response larger than {_MAX_RESPONSE_BYTES} bytes"
            headers = tuple((k, self.secrets.scrub(v)) for k, v in raw.headers)
            exchange = Exchange(
                self._seq.next(), self.display_url, request, raw.status, headers, text, value,
                error, None, elapsed, retries, sent_at,
            )
        for observer in self.observers:
            observer(exchange)
        return exchange


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers if k.lower() == wanted), None)


def _decode(raw: RawResponse) -> str:
    """Body text in the declared charset (UTF-8 when none); undecodable bytes are replaced."""
    ctype = _header(raw.headers, "Content-Type") or ""
    charset = "utf-8"
    for part in ctype.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return raw.body[:_MAX_RESPONSE_BYTES].decode(charset, "replace")
    except LookupError:
        return raw.body[:_MAX_RESPONSE_BYTES].decode("utf-8", "replace")


def _form_quote(value: str) -> bytes:
    return urlencode({"": value})[1:].encode()
