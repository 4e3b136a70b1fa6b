"""Bad input, every profile: a JSON error in the profile's wording and status, never a 5xx,
and never any money moved. Each request below would place an order if it were misread."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from mockpanel.config import MockConfig
from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES, Encoding, Profile
from mockpanel.wire import create_app
from mockpanel.wire.keys import BODY_TIMEOUT, STATE

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel, Panel


FORM = "application/x-www-form-urlencoded"
ORDER = "action=add&service=1&link=https%3A%2F%2Fx.test%2Fp&quantity=1000"


@dataclass(frozen=True)
class Case:
    """A raw request (``{key}`` stands for a valid key) and the code it must be refused with.

    ``code`` may depend on the profile (a JSON body is BAD_REQUEST where JSON is accepted and
    UNSUPPORTED_ENCODING elsewhere).
    """

    body: bytes | str
    content_type: str | None = FORM
    code: ErrorCode | Callable[[Profile], ErrorCode] = ErrorCode.BAD_REQUEST


def _json_or_unsupported(profile: Profile) -> ErrorCode:
    if Encoding.JSON in profile.wire.encodings:
        return ErrorCode.BAD_REQUEST
    return ErrorCode.UNSUPPORTED_ENCODING


def _json(document: str) -> Case:
    return Case(document, "application/json", _json_or_unsupported)


CASES: dict[str, Case] = {
    "invalid-utf8-body": Case(b"key={key}&" + ORDER.encode() + b"&x=\xff\xfe"),
    "invalid-utf8-escape": Case("key={key}&" + ORDER + "&comments=%ff%fe"),
    "repeated-field": Case("key={key}&" + ORDER + "&quantity=2000"),
    "repeated-key": Case("key={key}&key={key}&" + ORDER),
    "text-plain": Case("key={key}&" + ORDER, "text/plain", ErrorCode.UNSUPPORTED_ENCODING),
    "octet-stream": Case("key={key}&" + ORDER, None, ErrorCode.UNSUPPORTED_ENCODING),
    "multipart": Case(
        '--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n{key}\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
        ErrorCode.UNSUPPORTED_ENCODING,
    ),
    "latin1-charset": Case(
        "key={key}&" + ORDER, FORM + "; charset=ISO-8859-1", ErrorCode.UNSUPPORTED_ENCODING
    ),
    "json-nested": _json('{"key": "{key}", "action": "add", "service": {"id": 1}}'),
    "json-array-value": _json('{"key": "{key}", "action": "add", "orders": [1, 2]}'),
    "json-boolean": _json('{"key": "{key}", "action": "add", "service": true}'),
    "json-top-level-array": _json('[{"key": "{key}", "action": "balance"}]'),
    "json-top-level-number": _json("12"),
    "json-invalid": _json('{"key": "{key}", "action": "add",'),
    "json-nan": _json('{"key": "{key}", "action": "add", "quantity": NaN}'),
    "json-duplicate-field": _json('{"key": "{key}", "action": "add", "action": "balance"}'),
    "json-lone-surrogate": _json('{"key": "{key}", "action": "add", "link": "\\ud800"}'),
    "json-deep-nesting": _json("[" * 60_000),
    "json-bom": Case(
        b'\xef\xbb\xbf{"key": "{key}", "action": "balance"}', "application/json",
        _json_or_unsupported,
    ),
    "oversized": Case("key={key}&" + ORDER + "&pad=" + "x" * 70_000, code=ErrorCode.BODY_TOO_LARGE),
    "empty-body": Case(b"", code=ErrorCode.MISSING_KEY),
    "no-key": Case(ORDER, code=ErrorCode.MISSING_KEY),
    "empty-key": Case("key=&" + ORDER, code=ErrorCode.MISSING_KEY),
    "wrong-key": Case("key=wrong&" + ORDER, code=ErrorCode.INVALID_KEY),
    "non-ascii-key": Case("key=%D0%BA%D0%BB%D1%8E%D1%87&" + ORDER, code=ErrorCode.INVALID_KEY),
    "nul-in-key": Case("key=%00{key}&" + ORDER, code=ErrorCode.INVALID_KEY),
    "huge-key": Case("key=" + "k" * 60_000 + "&" + ORDER, code=ErrorCode.INVALID_KEY),
    "no-action": Case("key={key}&service=1", code=ErrorCode.MISSING_ACTION),
    "unknown-action": Case("key={key}&action=addd&service=1", code=ErrorCode.UNKNOWN_ACTION),
    "action-case": Case("key={key}&action=ADD&service=1", code=ErrorCode.UNKNOWN_ACTION),
    "unknown-action-far": Case("key={key}&action=zzzzzz", code=ErrorCode.UNKNOWN_ACTION),
    "no-service": Case("key={key}&action=add&link=https%3A%2F%2Fx.test&quantity=100",
                       code=ErrorCode.MISSING_PARAM),
    "unknown-service": Case("key={key}&action=add&service=999&link=https%3A%2F%2Fx.test"
                            "&quantity=100", code=ErrorCode.UNKNOWN_SERVICE),
    "service-not-a-number": Case("key={key}&action=add&service=1abc&link=https%3A%2F%2Fx.test"
                                 "&quantity=100", code=ErrorCode.UNKNOWN_SERVICE),
    "quantity-not-a-number": Case("key={key}&action=add&service=1&link=https%3A%2F%2Fx.test"
                                  "&quantity=1e3", code=ErrorCode.INVALID_PARAM),
    "quantity-negative": Case("key={key}&action=add&service=1&link=https%3A%2F%2Fx.test"
                              "&quantity=-1000", code=ErrorCode.INVALID_PARAM),
    "quantity-huge": Case("key={key}&action=add&service=1&link=https%3A%2F%2Fx.test"
                          "&quantity=" + "9" * 5000, code=ErrorCode.INVALID_PARAM),
    "quantity-below-min": Case("key={key}&action=add&service=1&link=https%3A%2F%2Fx.test"
                               "&quantity=49", code=ErrorCode.QUANTITY_TOO_LOW),
    "quantity-above-max": Case("key={key}&action=add&service=1&link=https%3A%2F%2Fx.test"
                               "&quantity=10001", code=ErrorCode.QUANTITY_TOO_HIGH),
    "link-not-a-url": Case("key={key}&action=add&service=1&link=instagram.com%2Fx&quantity=100",
                           code=ErrorCode.INVALID_LINK),
    "status-without-order": Case("key={key}&action=status", code=ErrorCode.MISSING_PARAM),
    "status-unknown-order": Case("key={key}&action=status&order=99999999",
                                 code=ErrorCode.UNKNOWN_ORDER),
}


def _error_pattern(template: str) -> re.Pattern[str]:
    escaped = re.escape(template)
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", escaped), re.DOTALL)


# Only these refusals carry the mock's hint (tests/mockpanel/wire/test_hints.py checks the words).
HINTED = frozenset({ErrorCode.UNKNOWN_ACTION, ErrorCode.UNSUPPORTED_ENCODING})


def assert_refused(
    profile: Profile, code: ErrorCode, status: int, body: Any, hint: str | None = None
) -> None:
    """``body`` is the profile's ``code`` error; ``hint`` (the X-Mock-Hint header) must then be
    the parenthesised end of its message, and is present exactly for the hinted codes."""
    spec = profile.errors[code]
    assert status == spec.status, (code, body)
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str), body
    message = body["error"]
    if hint is not None:
        assert code in HINTED, (code, hint)
        assert message.endswith(f" ({hint})"), (message, hint)
        message = message[: -len(hint) - 3]
    assert _error_pattern(spec.message).fullmatch(message), (code, body)
    assert {k: v for k, v in body.items() if k != "error"} == dict(spec.fields)


async def _send(panel: Panel, case: Case, key: str) -> tuple[int, Any, str | None]:
    raw = case.body.encode() if isinstance(case.body, str) else case.body
    headers = {} if case.content_type is None else {"Content-Type": case.content_type}
    response = await panel.client.post(
        panel.path, data=raw.replace(b"{key}", key.encode()), headers=headers
    )
    text = await response.text()
    assert response.status < 500, text
    return response.status, panel.decode(text), response.headers.get("X-Mock-Hint")


@pytest.mark.parametrize("case_id", sorted(CASES))
@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_bad_input_is_refused_in_the_profiles_words(
    make_panel: MakePanel, name: str, case_id: str
) -> None:
    panel = await make_panel(name)
    key = await panel.tenant("100")
    case = CASES[case_id]
    status, body, hint = await _send(panel, case, key)
    code = case.code if isinstance(case.code, ErrorCode) else case.code(panel.profile)
    assert_refused(panel.profile, code, status, body, hint)
    assert (hint is not None) == (code in HINTED and case_id != "unknown-action-far"), hint
    assert await panel.balance(key) == Decimal("100")
    assert (await panel.control("GET", "/state"))[1]["orders"] == []


async def test_a_chunked_body_over_the_limit_is_the_profiles_error(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpremium", max_body_bytes=1024)
    key = await panel.tenant("100")

    async def chunks() -> AsyncIterator[bytes]:
        yield f"key={key}&{ORDER}&pad=".encode()
        for _ in range(10):
            yield b"x" * 512

    response = await panel.client.post("/api/v2", data=chunks(), headers={"Content-Type": FORM})
    assert "Content-Length" not in response.request_info.headers
    body = await panel.read(response)
    assert_refused(panel.profile, ErrorCode.BODY_TOO_LARGE, response.status, body)
    assert body == {"error": "Incorrect request: the body is larger than 1024 bytes"}
    assert await panel.balance(key) == Decimal("100")


async def test_query_and_body_may_not_both_carry_a_field(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("100")
    response = await panel.client.post(
        f"/api/v2?key={key}&quantity=5", data={"action": "add", "service": "1",
                                               "link": "https://x.test/p", "quantity": "1000"}
    )
    body = await panel.read(response)
    assert_refused(panel.profile, ErrorCode.BAD_REQUEST, response.status, body)
    assert "quantity" in body["error"]
    # Without the clash the two halves combine, as PHP's $_REQUEST does.
    response = await panel.client.post(f"/api/v2?key={key}", data={"action": "balance"})
    assert await panel.read(response) == {"balance": "100.00000", "currency": "USD"}


async def test_a_profile_without_query_support_ignores_the_query(make_panel: MakePanel) -> None:
    panel = await make_panel("perfectpanel")
    key = await panel.tenant("100")
    response = await panel.client.post(f"/api/v2?key={key}", data={"action": "balance"})
    assert await panel.read(response) == {"error": "Invalid API key"}


async def test_json_bodies_carry_numbers_as_their_literal_text(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("100")
    document = {"key": key, "action": "add", "service": 1, "link": "https://x.test/p",
                "quantity": 1000, "runs": None}
    response = await panel.client.post("/api/v2", data=json.dumps(document),
                                       headers={"Content-Type": "application/json"})
    assert response.status == 200
    order = str((await panel.read(response))["order"])
    assert await panel.balance(key) == Decimal("99.10000")
    # a float literal is not silently truncated into a count
    document["quantity"] = 1000.0
    response = await panel.client.post("/api/v2", data=json.dumps(document),
                                       headers={"Content-Type": "application/json"})
    assert_refused(panel.profile, ErrorCode.INVALID_PARAM, response.status,
                   await panel.read(response))
    snapshot = (await panel.control("GET", "/state"))[1]
    assert [o["id"] for o in snapshot["orders"]] == [order]


async def test_routing_errors_are_json_never_html(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    for method, path, status in (("GET", "/", 404), ("POST", "/api/v3", 404),
                                 ("DELETE", "/api/v2", 405), ("GET", "/api/v2/extra", 404)):
        response = await panel.client.request(method, path)
        assert response.status == status
        assert response.content_type == "application/json"
        assert "error" in await panel.read(response)


async def test_a_body_whose_encoding_breaks_is_refused_and_the_connection_closed(
    make_panel: MakePanel,
) -> None:
    """``Expect: 100-continue`` holds the body back until the mock reads it, so the broken
    gzip stream is met by the mock (sent at once, aiohttp's own parser may refuse it first)."""
    panel = await make_panel("smmhub")
    key = await panel.tenant("100")
    response = await panel.client.post(
        panel.path, data=f"key={key}&{ORDER}".encode(), expect100=True,
        headers={"Content-Type": FORM, "Content-Encoding": "gzip"},
    )
    body = await panel.read(response)
    assert_refused(panel.profile, ErrorCode.BAD_REQUEST, response.status, body)
    assert "Content-Encoding" in body["error"]
    assert response.headers["Connection"] == "close"
    assert await panel.balance(key) == Decimal("100")  # a new connection serves on
    # an unrouted request's broken body is read and refused the same way
    response = await panel.client.post(
        "/nowhere", data=b"\x00garbage", expect100=True, headers={"Content-Encoding": "gzip"}
    )
    assert (response.status, response.headers["Connection"]) == (404, "close")
    assert "error" in await panel.read(response)


async def _raw_exchange(port: int, head: str, body: bytes) -> tuple[str, bytes]:
    """Send a request by hand (a body shorter than its Content-Length); the answer's head
    and body, read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("ascii") + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # EOF: it closed the connection
    finally:
        writer.close()
    head_text, _, rest = answer.partition(b"\r\n\r\n")
    return head_text.decode("latin-1"), rest


@pytest.mark.parametrize("path", ["/api/v2", "/_mock/tenants"])
async def test_a_body_that_stops_arriving_is_refused_after_the_body_timeout(
    aiohttp_client: Any, path: str
) -> None:
    app = create_app(MockConfig(profile="smmpremium", control_token="tok", clock="manual",
                                keys=(("k1", Decimal("10.00")),)))
    app[BODY_TIMEOUT] = 0.05  # the stall is permanent: any bound ends it the same way
    client = await aiohttp_client(app)
    assert client.port is not None
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
        f"Content-Type: {FORM}\r\nContent-Length: 500\r\n\r\n"
    )
    status_line, body = await _raw_exchange(client.port, head, b"key=k1&action=balance&pad=")
    assert status_line.startswith("HTTP/1.1 400"), status_line
    assert "Connection: close" in status_line
    assert "did not arrive in full" in json.loads(body)["error"]
    state = app[STATE].snapshot()
    assert state["tenants"][0]["balance"] == "10.00"


def _api_paths() -> list[tuple[str, str]]:
    return [
        (name, route)
        for name, profile in sorted(PROFILES.items())
        for path in profile.wire.paths
        for route in (path, path + "/")
    ]


@pytest.mark.parametrize(("name", "route"), _api_paths())
async def test_every_api_path_enforces_the_body_limit(
    make_panel: MakePanel, name: str, route: str
) -> None:
    panel = await make_panel(name, max_body_bytes=2048)
    key = await panel.tenant("100")
    big = f"key={key}&{ORDER}&pad=" + "x" * 3000
    for data in (big.encode(), _chunked(big.encode())):
        response = await panel.client.post(route, data=data, headers={"Content-Type": FORM})
        assert_refused(panel.profile, ErrorCode.BODY_TOO_LARGE, response.status,
                       await panel.read(response))
    assert await panel.balance(key) == Decimal("100")
    assert (await panel.control("GET", "/state"))[1]["orders"] == []


async def _chunked(raw: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), 500):
        yield raw[start:start + 500]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/tenants"), ("POST", "/clock/advance"), ("POST", "/orders/1/outcome"),
     ("POST", "/refills/1/outcome"), ("POST", "/reset"), ("PUT", "/faults"),
     ("PUT", "/tenants/t1/webhook")],
)
async def test_every_control_path_enforces_the_body_limit(
    make_panel: MakePanel, method: str, path: str
) -> None:
    panel = await make_panel("extended", max_body_bytes=2048)
    await panel.tenant("100")
    big = json.dumps({"pad": "x" * 3000})
    response = await panel.client.request(
        method, "/_mock" + path, data=big, headers={"Authorization": f"Bearer {panel.token}"}
    )
    assert response.status == 413
    assert response.content_type == "application/json"
    assert "error" in await panel.read(response)
    assert (await panel.control("GET", "/faults"))[1] == {"rules": []}
