"""Pre-flight: before any test, is the panel there, does it answer JSON, does it take the key?

A wrong URL, a panel that is down, a wrong key or a login page in front of the API are the
user's setup, not the panel's conformance: judged clause by clause they would read as dozens of
MUST failures ("GEN-001 FAIL HTTP None" for a refused connection). So the plugin calls
:func:`check` once, before dialect detection and before any test (in the controller alone under
pytest-xdist), and a failure stops the run with one paragraph (:meth:`PreflightFailed.
paragraph`): what was sent (the key redacted), what came back (status, content type, first
bytes), the likely cause and what to try, and the exit status :data:`EXIT_STATUS`.

It sends a handful of requests that cannot cost money, through the run's client (so the
politeness limit and the redaction apply) and with no test running (so nothing is judged):

1. with a control API: ``POST <control>/clock/advance {"seconds": 0}`` with the token, a lever
   every run pulls and that changes nothing (the clock moves by nothing): is there a control
   API, does it take the token? Then, with no ``--panel-key``, the main key is minted through
   it, as the run would anyway;
2. ``balance`` with the main key. Any JSON answer that is not an error envelope passes: its
   shape is the suite's business (extra fields, strings for numbers, JSON served as text/html
   with leading whitespace, a BOM, a PHP notice printed before the JSON all pass here);
3. only when that answer is an error envelope or a 404: ``services`` with the key (a panel may
   refuse ``balance`` and still take the key: then the suite judges BAL-001), and ``balance``
   with a made-up key: when the panel answers the given key exactly as it answers a made-up
   one, the key is wrong;
4. with ``--panel-second-key`` in a black-box run (a controlled run mints its second accounts):
   the action that worked for the main key, with the second key.

A 429 is not the user's mistake and proves the panel is there: pre-flight lets the run go on,
unless the panel keeps the key throttled for longer than ``--panel-max-retry-after`` allows
(then no test could run either).

Nothing here judges a clause: a panel that answers errors with HTTP 4xx, sits on ``/api/v1`` or
pads its JSON is a panel the suite must judge, never one pre-flight turns away.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harness.base.errors import ControlError, HarnessError, Throttled, TransportError
from harness.base.exchange import Exchange
from harness.base.redaction import REDACTED, Secret
from harness.wire.client import RawResponse

if TYPE_CHECKING:
    from harness.run.session import HarnessRun

__all__ = ["EXIT_STATUS", "Preflight", "PreflightFailed", "check"]

#: The exit status of a run stopped by pre-flight: none of pytest's own (0 passed, 1 tests
#: failed, 2 interrupted, 3 internal error, 4 usage error, 5 no tests collected).
EXIT_STATUS = 6

_SHOWN = 160  # characters of an answer the paragraph quotes
_WIDTH = 100
_DECODER = json.JSONDecoder(parse_float=Decimal)


class PreflightFailed(HarnessError):
    """The panel cannot be certified as configured: why, and what to try."""

    def __init__(self, problem: str, sent: str, got: str, cause: str, advice: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.sent = sent
        self.got = got
        self.cause = cause
        self.advice = advice

    def paragraph(self, scrub: Callable[[str], str] = str, width: int = _WIDTH) -> str:
        """One paragraph, wrapped to ``width`` (a URL is never split)."""
        text = (
            f"smm-harness pre-flight failed: {self.problem}. Sent {self.sent}; got {self.got}. "
            f"Likely cause: {self.cause}. Try: {self.advice}. Nothing was tested and no clause "
            f"was judged (exit status {EXIT_STATUS})."
        )
        return textwrap.fill(scrub(text), width=width, break_long_words=False,
                             break_on_hyphens=False)


@dataclass(frozen=True, slots=True)
class Preflight:
    """What a passed pre-flight saw, for the report header."""

    requests: int
    findings: tuple[str, ...]

    def line(self) -> str:
        counted = f"{self.requests} request{'' if self.requests == 1 else 's'}"
        return f"smm-harness: pre-flight ({counted}): {'; '.join(self.findings)}"


class _Kind(Enum):
    """What an answer is, as far as the setup goes."""

    OK = "ok"  # JSON and not an error envelope
    ERROR = "error"  # a JSON error envelope
    UNREACHABLE = "unreachable"  # no HTTP answer
    THROTTLED = "throttled"  # HTTP 429
    NOT_FOUND = "not found"  # HTTP 404 / 410, whatever the body
    REDIRECT = "redirect"  # HTTP 3xx (the client does not follow redirects)
    NOT_JSON = "not JSON"  # any other answer that is not JSON


def lenient_json(text: str) -> tuple[bool, object]:
    """Whether ``text`` holds one JSON document, read as a lenient client would: around
    whitespace and a byte-order mark, and after a prefix such as a PHP notice. GEN-002 judges
    such answers; pre-flight only asks whether the API is there."""
    stripped = text.lstrip("\ufeff").strip()
    for start in (0, *(i for i in (stripped.find("{"), stripped.find("[")) if i > 0)):
        try:
            value, end = _DECODER.raw_decode(stripped, start)
        except (ValueError, RecursionError):
            continue
        if not stripped[end:].strip():
            return True, value
    return False, None


def _error_of(value: object) -> str | None:
    """The message of an error envelope; an answer that also carries a balance is no error."""
    if isinstance(value, dict) and "balance" not in value:
        message = value.get("error")
        if isinstance(message, str) and message.strip():
            return message.strip()
    return None


def _kind(exchange: Exchange) -> tuple[_Kind, str | None]:
    """The kind of ``exchange`` and, for an error envelope, its message."""
    if exchange.transport_error is not None or exchange.status is None:
        return _Kind.UNREACHABLE, None
    if exchange.status == 429:
        return _Kind.THROTTLED, None
    if exchange.status in (404, 410):
        return _Kind.NOT_FOUND, None
    if 300 <= exchange.status < 400:
        return _Kind.REDIRECT, None
    is_json, value = lenient_json(exchange.text)
    if not is_json:
        return _Kind.NOT_JSON, None
    message = _error_of(value)
    return (_Kind.OK, None) if message is None else (_Kind.ERROR, message)


# ---------------------------------------------------------------------------------------------
# describing what was sent and what came back


def _sent(exchange: Exchange) -> str:
    request = exchange.request
    shown = request.body or "&".join(f"{name}={value}" for name, value in request.params)
    return f"{request.method} {exchange.url} ({request.content_type or 'no body'}: {shown})"


def _first(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN else flat[:_SHOWN] + "..."


def _answer(status: int, content_type: str | None, text: str) -> str:
    ctype = content_type or "no Content-Type"
    return f"HTTP {status} {ctype}, {len(text)} characters: {_first(text)!r}"


def _got(exchange: Exchange) -> str:
    if exchange.transport_error is not None or exchange.status is None:
        return f"no HTTP answer ({exchange.transport_error})"
    return _answer(exchange.status, exchange.header("Content-Type"), exchange.text)


def _title(text: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split())[:80] if match else None


def _host(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _unreachable(error: str, url: str, what: str) -> tuple[str, str]:
    """(likely cause, what to try) for a request that got no HTTP answer."""
    host = _host(url)
    lowered = error.lower()
    if "refused" in lowered:
        return (f"nothing accepts connections at {host}: the panel is not running there, the "
                f"port is wrong, or a firewall rejects the connection",
                f"check the host and port of {what} and that the panel is up")
    if "gaierror" in lowered or "name or service" in lowered or "nodename" in lowered \
            or "name resolution" in lowered:
        return (f"the host name of {what} does not resolve (a typo, or a DNS name this machine "
                f"cannot see)", f"check the host name of {what}")
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return (f"the TLS handshake with {host} failed: its certificate is not trusted, has "
                f"expired or names another host, or the port speaks plain HTTP",
                "check the certificate, or use http:// if the port is not TLS")
    if "timed out" in lowered or "timeout" in lowered:
        return (f"{host} did not answer in time: a firewall drops the packets, the address is "
                f"wrong, or the panel is overloaded",
                f"check that {host} is reachable from this machine (curl it)")
    return (f"the connection to {host} ended without an HTTP answer (a proxy, a firewall, or "
            f"https spoken to a plain-HTTP port or the reverse)",
            f"check the scheme, host and port of {what}")


def _refusal(exchange: Exchange, kind: _Kind, what: str) -> PreflightFailed:
    """The failure for an answer that shows the URL is not the API (or not reachable)."""
    url, got, sent = exchange.url, _got(exchange), _sent(exchange)
    if kind is _Kind.UNREACHABLE:
        cause, advice = _unreachable(exchange.transport_error or "", url, what)
        return PreflightFailed(f"the panel at {url} could not be reached", sent, got, cause,
                               advice)
    status = exchange.status or 0
    if kind is _Kind.NOT_FOUND:
        return PreflightFailed(
            f"{url} answered HTTP {status}", sent, got,
            "the URL's path is wrong (no API there), or the panel answers a refused key with "
            f"{status}",
            "use the API URL from the panel's API page (usually https://<panel>/api/v2; some "
            "panels use /api/v1 or /api)")
    if kind is _Kind.REDIRECT:
        location = exchange.header("Location") or "(no Location header)"
        return PreflightFailed(
            f"{url} answered with a redirect to {location}", sent, got,
            "the API lives at another URL (http to https, a trailing slash, another host); a "
            "POST is not followed through a redirect",
            f"give the final URL as {what}")
    title = _title(exchange.text)
    page = f"an HTML page titled {title!r}" if title else "a page that is not JSON"
    if 200 <= status < 300:
        cause = (f"{page} answers instead of the API: the URL is the panel's website or its "
                 "login page, or a bot protection (such as a 'Just a moment...' challenge) "
                 "stands in front of the API")
        advice = (f"use the API URL from the panel's API page as {what}, and ask the panel to "
                  "let API clients through its bot protection")
    elif status in (401, 403):
        cause = (f"{page} refuses access before the API: a firewall, an IP allow-list or a bot "
                 "protection blocks this machine")
        advice = "allow this machine's IP address for the API, or run from an allowed host"
    elif status >= 500:
        cause = f"the server failed with {page}: the panel or its proxy is down or broken"
        advice = "check the panel's server, then run again"
    else:
        cause = f"{page} answers instead of the API: the URL is probably not the API endpoint"
        advice = f"check {what} against the panel's API page"
    return PreflightFailed(f"{url} does not answer like an SMM panel API", sent, got, cause,
                           advice)


# ---------------------------------------------------------------------------------------------
# the checks


class _Check:
    def __init__(self, run: HarnessRun) -> None:
        self.run = run
        self.requests = 0
        self.findings: list[str] = []

    def call(self, action: str, key: Secret) -> Exchange:
        self.requests += 1
        try:
            return self.run.client.call({"action": action}, key=key, form=action)
        except Throttled as error:
            # Throttled past the wait the user allows: no test could run either.
            raise PreflightFailed(
                f"the panel keeps the {key.label} throttled",
                f"POST {self.run.client.display_url} (action={action}, "
                f"key={REDACTED}:{key.label})",
                f"HTTP 429 again and again ({self.run.secrets.scrub(str(error))})",
                "the key's request budget is used up (another run, or another client sharing "
                "the key), or the panel asks for longer waits than the harness may make",
                "wait until the key's budget refills, or raise --panel-max-retry-after"
            ) from None

    def control(self) -> None:
        """The control API answers, as JSON, and takes the token."""
        config = self.run.config
        assert config.control_url is not None
        assert config.control_token is not None
        url = config.control_url.rstrip("/") + "/clock/advance"
        body = b'{"seconds": 0}'
        headers = {"Authorization": f"Bearer {config.control_token.reveal()}",
                   "Accept": "application/json", "Content-Type": "application/json",
                   "Connection": "close"}
        sent = (f"POST {url} {body.decode()} (Authorization: Bearer {REDACTED}:"
                f"{config.control_token.label})")
        what = "--panel-control-url"
        self.requests += 1
        try:
            raw: RawResponse = self.run.client.transport.send("POST", url, headers, body)
        except TransportError as error:
            cause, advice = _unreachable(str(error), url, what)
            raise PreflightFailed(f"the control API at {url} could not be reached", sent,
                                  f"no HTTP answer ({self.run.secrets.scrub(str(error))})",
                                  cause, advice) from None
        text = self.run.secrets.scrub(raw.body.decode("utf-8", "replace"))
        ctype = next((v for k, v in raw.headers if k.lower() == "content-type"), None)
        got = _answer(raw.status, ctype, text)
        is_json, _ = lenient_json(text)
        if 200 <= raw.status < 300 and is_json:
            self.findings.append("control API takes the token")
            return
        if raw.status in (401, 403):
            raise PreflightFailed(
                "the control API refuses the token", sent, got,
                "--panel-control-token is not the token the control API was started with",
                "give the control token of this panel (the mock's --control-token)")
        raise PreflightFailed(
            f"no control API answers at {config.control_url}", sent, got,
            "--panel-control-url does not point at a control API (the mock serves it at "
            "<base>/_mock, beside /api/v2), or it was started without a control token",
            "give the control API root, e.g. http://127.0.0.1:8080/_mock, or leave out "
            "--panel-control-url and --panel-control-token for a black-box run")

    def main_key(self) -> Secret:
        """The given key, or one minted through the control API (as the run would)."""
        try:
            return self.run.panel.main_key()
        except ControlError as error:
            config = self.run.config
            raise PreflightFailed(
                "the control API could not mint an account for the main key",
                f"POST {config.control_url}/tenants", self.run.secrets.scrub(str(error)),
                "the control API refuses new tenants (or speaks another API than the mock's)",
                "give --panel-key, or check the control API") from None

    def key(self, key: Secret) -> str:
        """The main key is taken; returns the action that proved it."""
        balance = self.call("balance", key)
        kind, message = _kind(balance)
        if kind is _Kind.OK:
            self.findings.append("the API answers JSON and takes the main key")
            return "balance"
        if kind is _Kind.THROTTLED:
            self.findings.append("the panel throttled the check (HTTP 429): main key not "
                                 "confirmed")
            return "balance"
        if kind not in (_Kind.ERROR, _Kind.NOT_FOUND):
            raise _refusal(balance, kind, "--panel-url")
        # The panel may refuse balance itself and still take the key: services decides.
        services = self.call("services", key)
        if _kind(services)[0] is _Kind.OK:
            self.findings.append(f"the API takes the main key (services; balance answered "
                                 f"{_first(balance.text)!r})")
            return "services"
        if kind is _Kind.NOT_FOUND:
            raise _refusal(balance, kind, "--panel-url")
        assert message is not None
        wrong = self.call("balance", self._made_up_key())
        if _kind(wrong) == (_Kind.ERROR, message):
            raise PreflightFailed(
                "the panel refuses the main key", _sent(balance), _got(balance),
                "the key is wrong: the panel answers it exactly as it answers a made-up key "
                f"({_got(wrong)})",
                "copy the API key again from the panel's account page (--panel-key or "
                "PANEL_KEY), for the panel at this URL")
        raise PreflightFailed(
            "the panel answers the main key with an error", _sent(balance), _got(balance),
            f"balance and services both answer an error for this key, though not the one a "
            f"made-up key gets ({_got(wrong)}): a disabled key, a suspended account, an IP "
            "allow-list, an account without API access, or a broken API",
            "check the account behind the key on the panel, and that services answers with it")

    def second_key(self, key: Secret, action: str) -> None:
        exchange = self.call(action, key)
        kind, message = _kind(exchange)
        if kind in (_Kind.OK, _Kind.THROTTLED):
            self.findings.append("second key taken" if kind is _Kind.OK
                                 else "second key not confirmed (HTTP 429)")
            return
        if kind is _Kind.ERROR:
            raise PreflightFailed(
                "the panel refuses the second key", _sent(exchange), _got(exchange),
                f"the main key works for {action} but the second key is refused: "
                f"{message!r} (a wrong or disabled key)",
                "copy the second account's API key again (--panel-second-key or "
                "PANEL_SECOND_KEY), or leave it out: its clauses are then N/A")
        raise _refusal(exchange, kind, "--panel-url")

    def _made_up_key(self) -> Secret:
        rng = random.Random(self.run.config.seed)
        made_up = Secret(f"smm-preflight-{rng.randrange(10**15, 10**16)}", "made-up key")
        self.run.secrets.add(made_up)
        return made_up


def check(run: HarnessRun) -> Preflight:
    """Check the setup of ``run`` before any test; raises :class:`PreflightFailed`."""
    probe = _Check(run)
    if run.control is not None:
        probe.control()
    action = probe.key(probe.main_key())
    if run.config.second_key is not None:
        if run.control is None:
            probe.second_key(run.config.second_key, action)
        else:
            probe.findings.append("second key unused (a controlled run mints its accounts)")
    return Preflight(probe.requests, tuple(probe.findings))
