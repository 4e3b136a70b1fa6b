"""Pre-flight: a setup mistake (nothing listening, a wrong path, a login page, a wrong key, a
bad control token, a wrong second key) stops the run before any test with one paragraph and
exit status 6, no clause judged and no key shown; a correct panel that merely differs (JSON as
text/html with padding, errors as HTTP 4xx, /api/v1, extra balance fields, balance refused but
the key taken) passes it."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from harness.base.redaction import Secret
from harness.run.config import PanelConfig
from harness.run.preflight import EXIT_STATUS, PreflightFailed, check, lenient_json
from harness.run.session import HarnessRun
from tests.fixtures.fakepanel import KEY, SECOND_KEY, FakePanel, Handler, serve, serve_routes

TOKEN = "preflight-control-token-7Qw"
LOGIN_PAGE = ("<!DOCTYPE html><html><head><title>Sign in - Best SMM Panel</title></head><body>"
              "<form method=post><input name=username><input name=password></form></body></html>")
NOT_FOUND_PAGE = "<html><head><title>404 Not Found</title></head><body>nginx</body></html>"


class Recorder:
    """A panel answering every request with one fixed page, counting what it got."""

    def __init__(self, status: int, body: str, content_type: str) -> None:
        self.status, self.body, self.content_type = status, body, content_type
        self.requests: list[bytes] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.read())
        return web.Response(status=self.status, text=self.body, content_type=self.content_type)


class Variant:
    """A correct panel whose answers differ from the canonical ones in one way."""

    def __init__(self, *, content_type: str = "application/json", padding: str = "",
                 error_status: int = 200, balance: Mapping[str, object] | None = None,
                 balance_refused: bool = False) -> None:
        self.content_type = content_type
        self.padding = padding
        self.error_status = error_status
        self.balance = balance or {"balance": "10.00", "currency": "USD"}
        self.balance_refused = balance_refused
        self.actions: list[str] = []

    def answer(self, value: object, status: int = 200) -> web.Response:
        text = self.padding + json.dumps(value)
        return web.Response(status=status, text=text, content_type=self.content_type.split(";")[0])

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        action = params.get("action", "")
        self.actions.append(action)
        if params.get("key") not in (KEY, SECOND_KEY):
            return self.answer({"error": "Invalid API key"}, self.error_status)
        if action == "balance" and not self.balance_refused:
            return self.answer(self.balance)
        if action == "services":
            return self.answer([{"service": 1, "name": "Followers", "type": "Default",
                                 "rate": "0.90", "min": "50", "max": "10000"}])
        return self.answer({"error": "Incorrect request"}, self.error_status)


def control_app(calls: list[str]) -> Handler:
    """A control API that takes :data:`TOKEN` only (401 without one, 403 for another)."""

    async def advance(request: web.Request) -> web.StreamResponse:
        calls.append(f"{request.method} {request.path} {(await request.read()).decode()}")
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sent:
            return web.json_response({"error": "token needed"}, status=401)
        if sent != TOKEN:
            return web.json_response({"error": "wrong control token"}, status=403)
        return web.json_response({"now": 0})

    return advance


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def harness(pytester: pytest.Pytester, url: str, *args: str,
            key: str = KEY) -> pytest.RunResult:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester.runpytest_inprocess(
        f"--panel-url={url}", f"--panel-key={key}", "--panel-request-rate=1000",
        "-p", "no:cacheprovider", *args)


def stopped(result: pytest.RunResult, *secrets: str) -> str:
    """Assert ``result`` is a pre-flight stop: exit status 6, one paragraph, no test, no
    verdict table, no secret; returns the paragraph."""
    output = "\n".join(result.outlines + result.errlines)
    assert result.ret == EXIT_STATUS, output
    assert output.count("smm-harness pre-flight failed:") == 1
    assert "Nothing was tested and no clause was judged (exit status 6)." in " ".join(
        output.split())
    assert "SMM panel API v2 conformance" not in output  # no verdict table
    assert "CERTIFIED" not in output
    assert "MUST" not in output
    assert not re.search(r"\d+ (passed|failed|skipped|errors?|deselected)\b|collected \d+",
                         output)  # pytest collected nothing and ran nothing
    for secret in secrets:
        assert secret not in output
    start = result.outlines.index(next(line for line in result.outlines
                                       if line.startswith("smm-harness pre-flight failed:")))
    paragraph = []
    for line in result.outlines[start:]:
        if not line.strip() or line.startswith("!!!"):
            break
        paragraph.append(line)
    return " ".join(" ".join(paragraph).split())


# ---------------------------------------------------------------------------------------------
# each setup mistake, through the plugin


def test_a_refused_connection_stops_the_run(clean: pytest.Pytester) -> None:
    port = closed_port()
    result = harness(clean, f"http://127.0.0.1:{port}/api/v2")
    text = stopped(result, KEY)
    assert f"the panel at http://127.0.0.1:{port}/api/v2 could not be reached" in text
    assert "key=<redacted>:main key&action=balance" in text
    assert "no HTTP answer (ConnectionRefusedError" in text
    assert f"nothing accepts connections at 127.0.0.1:{port}" in text


def test_a_wrong_path_answering_a_404_page_stops_the_run(clean: pytest.Pytester) -> None:
    page = Recorder(404, NOT_FOUND_PAGE, "text/html")
    with serve_routes({"/{tail:.*}": page.handle}) as base:
        result = harness(clean, f"{base}/api/v3")
    text = stopped(result, KEY)
    assert f"{base}/api/v3 answered HTTP 404" in text
    assert "got HTTP 404 text/html; charset=utf-8" in text
    assert "<title>404 Not Found</title>" in text  # the first bytes of the answer
    assert "the URL's path is wrong" in text
    assert len(page.requests) == 2  # balance, then services with the key: no test ran


def test_a_login_page_answering_200_stops_the_run(clean: pytest.Pytester) -> None:
    page = Recorder(200, LOGIN_PAGE, "text/html")
    with serve_routes({"/{tail:.*}": page.handle}) as base:
        result = harness(clean, f"{base}/")
    text = stopped(result, KEY)
    assert "does not answer like an SMM panel API" in text
    assert "HTTP 200 text/html" in text
    assert "an HTML page titled 'Sign in - Best SMM Panel'" in text
    assert "login page" in text
    assert len(page.requests) == 1
    assert KEY.encode() in page.requests[0]  # the key was sent, and shown nowhere


def test_a_wrong_key_stops_the_run_without_showing_it(clean: pytest.Pytester) -> None:
    panel = FakePanel()
    wrong = "not-the-key-Hq72x0"
    with serve(panel) as url:
        result = harness(clean, url, key=wrong)
    text = stopped(result, wrong, "Hq72x0")
    assert "the panel refuses the main key" in text
    assert "'{\"error\": \"Invalid API key\"}'" in text
    assert "the key is wrong: the panel answers it exactly as it answers a made-up key" in text
    assert panel.actions == ["balance", "services", "balance"]  # and nothing else: no test


def test_a_bad_control_token_stops_the_run(clean: pytest.Pytester) -> None:
    calls: list[str] = []
    panel = FakePanel()
    with serve(panel) as url, serve_routes({"/_mock/clock/advance": control_app(calls)}) as base:
        result = harness(clean, url, f"--panel-control-url={base}/_mock",
                         "--panel-control-token=wrong-token-value-1")
    text = stopped(result, KEY, "wrong-token-value-1")
    assert "the control API refuses the token" in text
    assert "Authorization: Bearer <redacted>:control token" in text
    assert "HTTP 403 application/json; charset=utf-8" in text
    assert calls == ['POST /_mock/clock/advance {"seconds": 0}']  # it moves the clock by 0
    assert panel.actions == []  # the panel itself was not even asked


def test_a_wrong_second_key_stops_the_run(clean: pytest.Pytester) -> None:
    panel = FakePanel()
    with serve(panel) as url:
        result = harness(clean, url, "--panel-second-key=second-but-wrong-77")
    text = stopped(result, KEY, "second-but-wrong-77")
    assert "the panel refuses the second key" in text
    assert "key=<redacted>:second key&action=balance" in text
    assert panel.actions == ["balance", "balance"]


def test_under_xdist_the_controller_alone_runs_it(clean: pytest.Pytester) -> None:
    """Once, in the controller: the second key is sent by pre-flight only (the selected test
    uses the main key), so a worker running pre-flight too would show up here."""
    panel = FakePanel()
    with serve(panel) as url:
        result = harness(clean, url, f"--panel-second-key={SECOND_KEY}",
                         "--panel-clause=GEN-001", "-n", "2")
    assert result.ret == 0, "\n".join(result.outlines)
    second = [body for body in panel.bodies if SECOND_KEY.encode() in body]
    assert len(second) == 1
    assert sum(line.startswith("smm-harness: pre-flight") for line in result.outlines) == 1
    failing = FakePanel()
    with serve(failing) as url:
        stopped_run = harness(clean, url, "--panel-second-key=second-but-wrong-77", "-n", "2")
    stopped(stopped_run, KEY)
    assert failing.actions == ["balance", "balance"]  # no worker started, no test ran


# ---------------------------------------------------------------------------------------------
# correct panels that differ: pre-flight lets them through


VARIANTS = {
    "json-as-text-html-with-leading-whitespace":
        lambda: Variant(content_type="text/html; charset=utf-8", padding="\n\n   "),
    "json-after-a-byte-order-mark": lambda: Variant(padding="\ufeff"),
    "errors-as-http-4xx": lambda: Variant(error_status=401),
    "balance-with-extra-fields": lambda: Variant(
        balance={"balance": "10.00", "currency": "USD", "status": "success", "bonus": 0}),
    "balance-refused-but-the-key-taken": lambda: Variant(balance_refused=True),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_correct_but_different_panel_passes(clean: pytest.Pytester, name: str) -> None:
    panel = VARIANTS[name]()
    with serve_routes({"/api/v1": panel.handle}) as base:
        result = harness(clean, f"{base}/api/v1", f"--panel-second-key={SECOND_KEY}", "--co")
    output = "\n".join(result.outlines + result.errlines)
    assert result.ret == 0, output
    assert "pre-flight failed" not in output
    header = next(line for line in result.outlines if line.startswith("smm-harness: pre-flight"))
    assert "second key taken" in header
    assert ("services" in header) is (name == "balance-refused-but-the-key-taken")


def test_a_429_is_not_the_users_mistake() -> None:
    async def throttle(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "Too many requests"}, status=429,
                                 headers={"Retry-After": "0"})

    with serve_routes({"/api/v2": throttle}) as base:
        found = check(make_run(f"{base}/api/v2"))
    assert "the panel throttled the check (HTTP 429)" in found.line()


# ---------------------------------------------------------------------------------------------
# the module on its own


def make_run(url: str, **changes: object) -> HarnessRun:
    config = PanelConfig(url=url, key=Secret(KEY, "main key"), request_rate=1000.0, **changes)  # type: ignore[arg-type]
    return HarnessRun(config)


def test_a_good_panel_costs_one_request_and_a_second_key_one_more() -> None:
    panel = FakePanel()
    with serve(panel) as url:
        found = check(make_run(url))
        both = check(make_run(url, second_key=Secret(SECOND_KEY, "second key")))
    assert found.requests == 1
    assert both.requests == 2
    assert panel.actions == ["balance", "balance", "balance"]  # nothing that could spend
    assert "takes the main key" in found.line()


def test_a_login_page_is_told_apart_from_a_firewall_and_a_crash() -> None:
    cases = {
        (200, LOGIN_PAGE): "login page",
        (403, "<html><title>Attention Required! | Cloudflare</title></html>"): "IP allow-list",
        (502, "<html><title>502 Bad Gateway</title></html>"): "down or broken",
        (301, ""): "redirect",
    }
    for (status, body), expected in cases.items():
        page = Recorder(status, body, "text/html")
        with serve_routes({"/api/v2": page.handle}) as base, \
                pytest.raises(PreflightFailed) as info:
            check(make_run(f"{base}/api/v2"))
        failure = info.value
        assert expected in f"{failure.problem} {failure.cause}", (status, failure.paragraph())
        assert KEY not in failure.paragraph()


def test_an_echoed_key_is_redacted_in_the_paragraph() -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        params = dict(parse_qsl((await request.read()).decode()))
        return web.Response(text=f"<html>no access for key {params.get('key')}</html>",
                            content_type="text/html")

    with serve_routes({"/api/v2": echo}) as base, pytest.raises(PreflightFailed) as info:
        check(make_run(f"{base}/api/v2"))
    paragraph = info.value.paragraph()
    assert "no access for key <redacted>" in " ".join(paragraph.split())
    assert KEY not in paragraph


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('\n  {"balance": 1.50}\n', (True, {"balance": Decimal("1.50")})),
        ('\ufeff[1, 2]', (True, [1, 2])),
        ('<br />\n<b>Notice</b>: Undefined index in x.php<br />\n{"a": 1}', (True, {"a": 1})),
        ("<html><body>{not json}</body></html>", (False, None)),
        ('<script>var a = {"a": 1};</script>', (False, None)),
        ("", (False, None)),
    ],
)
def test_lenient_json(text: str, expected: tuple[bool, object]) -> None:
    assert lenient_json(text) == expected


def test_a_key_throttled_past_the_allowed_wait_stops_the_run() -> None:
    async def spent(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "Rate limit exceeded"}, status=429,
                                 headers={"Retry-After": "600"})

    with serve_routes({"/api/v2": spent}) as base, pytest.raises(PreflightFailed) as info:
        check(make_run(f"{base}/api/v2", max_retry_after=5.0))
    paragraph = " ".join(info.value.paragraph().split())
    assert "the panel keeps the main key throttled" in paragraph
    assert "--panel-max-retry-after" in paragraph
    assert KEY not in paragraph


def test_a_control_api_that_takes_the_token_passes_and_a_wrong_url_does_not() -> None:
    calls: list[str] = []
    panel = FakePanel()
    with serve(panel) as url, serve_routes({"/_mock/clock/advance": control_app(calls)}) as base:
        token = Secret(TOKEN, "control token")
        found = check(make_run(url, control_url=f"{base}/_mock", control_token=token))
        with pytest.raises(PreflightFailed) as info:
            check(make_run(url, control_url=f"{base}/mock", control_token=token))
    assert "control API takes the token" in found.line()
    assert found.requests == 2
    assert calls == ['POST /_mock/clock/advance {"seconds": 0}']
    assert info.value.problem == f"no control API answers at {base}/mock"
    assert TOKEN not in info.value.paragraph()
