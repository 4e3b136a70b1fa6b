"""The body decoders on their own: exact text in, one flat dict out, or BAD_REQUEST.

Two shortcuts live here, each beside its reference twin (``MOCKPANEL_NO_SHORTCUTS``): the form
decoder (split by hand, escapes decoded in C; twin: ``parse_qsl``) and the body taken from
aiohttp's buffer at once (``read_params_now``; twin: the awaited ``read_params``). The tests of
what they decode run on both, and :class:`TestShortcutMatchesReference` holds them to each
other.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockpanel.config import MockConfig
from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Encoding
from mockpanel.wire import create_app
from mockpanel.wire.decoding import (
    decode_json,
    decode_urlencoded_reference,
    decode_urlencoded_shortcut,
    read_params,
    read_params_now,
)

Decode = Callable[[bytes | str, str], dict[str, str]]
DECODERS = pytest.mark.parametrize(
    "decode_urlencoded",
    [decode_urlencoded_reference, decode_urlencoded_shortcut],
    ids=["reference", "shortcut"],
)
FORM = "application/x-www-form-urlencoded"


@DECODERS
def test_urlencoded_keeps_text_exactly(decode_urlencoded: Decode) -> None:
    assert decode_urlencoded("a=1+2&b=%E2%82%AC&c=&d", "form body") == {
        "a": "1 2", "b": "€", "c": "", "d": ""
    }
    assert decode_urlencoded(b"", "form body") == {}
    assert decode_urlencoded(b"k=https%3A%2F%2Fx.test%2Fb&q=%5Cx41", "form body") == {
        "k": "https://x.test/b", "q": "\\x41"
    }


@DECODERS
@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"a=1&a=2", "repeated"),
        (b"a=1&%61=2", "repeated"),  # a repeat only once the names are unquoted
        (b"a=\xff", "not valid UTF-8"),
        ("a=%C3%28", "not valid UTF-8"),
        ("a=%C3%28&a=1", "not valid UTF-8"),  # an undecodable part wins over a repeat
        ("a=\ud800", "invalid unicode escape"),  # a lone surrogate in a query string
        ("\ud800=1", "invalid unicode escape"),
    ],
)
def test_urlencoded_refusals_say_why(
    decode_urlencoded: Decode, raw: bytes | str, detail: str
) -> None:
    with pytest.raises(DomainError) as raised:
        decode_urlencoded(raw, "form body")
    assert raised.value.code is ErrorCode.BAD_REQUEST
    assert detail in raised.value.params["detail"]


_FORM_PIECES = st.lists(
    st.lists(st.sampled_from([*"ab=+%0Fe9\u00e9", "%C3%A9", "%ff", "%2", "%3D"]), max_size=8)
    .map("".join),
    max_size=6,
)


@DECODERS
@given(pieces=_FORM_PIECES)
@settings(max_examples=200)
@example(pieces=["a=1", "%61=2"])  # a repeat only once the names are unquoted
@example(pieces=["k=https%3A%2F%2Fx.test%2Fb", "q=1"])  # the usual add: escapes in a value only
@example(pieces=["a=%C3%28", "b=1"])  # an undecodable value
@example(pieces=["a=%C3%28", "%62=1"])  # ... and with an escaped name after it
@example(pieces=["a+b=1", "c=%41"])  # an escaped name first
@example(pieces=["a=1", "", "b=2"])  # an empty piece
@example(pieces=["a=1", "b"])  # a piece without "="
def test_a_form_decodes_exactly_as_parse_qsl_does(
    decode_urlencoded: Decode, pieces: list[str]
) -> None:
    # Empty pieces, pieces without "=", several "=", "+" as a space, valid, invalid and
    # truncated escapes, and repeats: as parse_qsl reads them, a repeat refused.
    text = "&".join(pieces)
    try:
        expected = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        with pytest.raises(DomainError) as undecodable:
            decode_urlencoded(text.encode("utf-8"), "form body")
        assert undecodable.value.params["detail"] == "the form body is not valid UTF-8"
        return
    names = [name for name, _ in expected]
    if len(set(names)) < len(names):
        with pytest.raises(DomainError) as refused:
            decode_urlencoded(text.encode("utf-8"), "form body")
        assert refused.value.code is ErrorCode.BAD_REQUEST
    else:
        assert list(decode_urlencoded(text.encode("utf-8"), "form body").items()) == expected


def _outcome(decode: Decode, raw: bytes | str) -> list[tuple[str, str]] | tuple[ErrorCode, Any]:
    try:
        return list(decode(raw, "query string").items())
    except DomainError as refused:
        return refused.code, refused.params


# Escapes that are not %XX, codec look-alikes (a backslash, "\x41"), lone surrogates.
_PARTS = st.lists(
    st.sampled_from(
        ["%", "%4", "%41", "%4a", "%zz", "%C3%A9", "%C3", "%A9", "%E2%82%AC", "%F0%9F%98%80",
         "%FF", "%00", "%5C", "%25", "+", "\\", "\\x41", "\\\\", "\\N{DASH}", "\\u0041", "x",
         "é", "€", "\ud800", "=", "&", "A", "0"]
    ),
    max_size=10,
).map("".join)


class TestShortcutMatchesReference:
    """The hand-split form decoder and the buffered body read give exactly what their
    reference twins give: the same fields, or the same refusal with the same words."""

    @given(text=_PARTS, name=_PARTS)
    @example(text="%5Cx41", name="a")  # an escaped backslash before "x41" stays a backslash
    @example(text="https%3A%2F%2Fexample.test%2Fb", name="link")
    @example(text="a=%C3%28&%62=1", name="")
    def test_any_text(self, text: str, name: str) -> None:
        for raw in (text, f"{name}={text}", f"{text}={name}&{name}"):
            assert _outcome(decode_urlencoded_shortcut, raw) == _outcome(
                decode_urlencoded_reference, raw
            )
            if "\ud800" not in raw:  # as bytes (a body), where no lone surrogate can be
                body = raw.encode("utf-8")
                assert _outcome(decode_urlencoded_shortcut, body) == _outcome(
                    decode_urlencoded_reference, body
                )

    @pytest.mark.parametrize(
        "body",
        [
            {"key": "k", "action": "add", "link": "https://x.test/?a=1&b=é", "quantity": "10"},
            {"key": "k", "action": "balance"},
            {"key": "k", "key2": "a=b&c", "x": "+%2B"},
        ],
    )
    async def test_a_received_body_reads_the_same_at_once_and_awaited(
        self, aiohttp_client: Any, body: dict[str, str]
    ) -> None:
        accepted = frozenset({Encoding.FORM})

        async def at_once(request: web.Request) -> web.Response:
            return web.json_response(read_params_now(request, accepted, 1024))

        async def awaited(request: web.Request) -> web.Response:
            return web.json_response(await read_params(request, accepted, 1024))

        app = web.Application()
        app.router.add_post("/now", at_once)
        app.router.add_post("/awaited", awaited)
        client = await aiohttp_client(app)
        now = await (await client.post("/now", data=body)).json()
        assert now == await (await client.post("/awaited", data=body)).json() == body


def test_json_keeps_number_literals_and_drops_nulls() -> None:
    assert decode_json(b'{"quantity": 1000, "rate": 1.50, "big": 1' + b"0" * 5000 + b', '
                       b'"runs": null, "link": "x"}') == {
        "quantity": "1000", "rate": "1.50", "big": "1" + "0" * 5000, "link": "x"
    }


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"a": 1, "a": 2}', "repeated"),
        (b'{"a": [1]}', "an array"),
        (b'{"a": {}}', "an object"),
        (b'{"a": false}', "a boolean"),
        (b'"text"', "must be an object"),
        (b"{", "not valid JSON"),
        (b'{"a": Infinity}', "not JSON"),
        (b'{"a": "\\udfff"}', "invalid unicode"),
        (b'{"\\ud800": "x"}', "invalid unicode"),
        (b'{"a": "\xff"}', "not valid UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_json_refusals_say_why(raw: bytes, detail: str) -> None:
    with pytest.raises(DomainError) as raised:
        decode_json(raw)
    assert raised.value.code is ErrorCode.BAD_REQUEST
    assert detail in raised.value.params["detail"]


KEY = "k-read-at-once"


async def test_a_body_a_middleware_read_first_still_reaches_the_view(aiohttp_client: Any) -> None:
    # aiohttp keeps what a middleware's request.read() took: the view must not find the
    # buffer empty and answer as if no body had come.
    seen: list[bytes] = []

    @web.middleware
    async def reads_first(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append(await request.read())
        return await handler(request)

    app = create_app(MockConfig(keys=((KEY, Decimal("10")),), clock="manual"))
    app.middlewares.append(reads_first)
    client = await aiohttp_client(app)
    response = await client.post("/api/v2", data={"key": KEY, "action": "balance"})
    assert response.status == 200
    assert Decimal((await response.json())["balance"]) == 10
    assert seen == [f"key={KEY}&action=balance".encode()]


async def test_a_body_not_in_the_buffer_is_left_to_the_awaited_read(aiohttp_client: Any) -> None:
    async def view(request: web.Request) -> web.Response:
        return web.json_response(read_params_now(request, frozenset({Encoding.FORM}), 1024))

    app = web.Application()
    app.router.add_post("/", view)
    client = await aiohttp_client(app)
    empty = await client.post("/", data=b"", headers={"Content-Type": FORM})
    assert await empty.json() is None  # nothing buffered: left to read_params, which waits
