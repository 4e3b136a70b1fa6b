"""The body decoders on their own: exact text in, one flat dict out, or BAD_REQUEST."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.wire.params import _unquoted, decode_json, decode_urlencoded


def test_urlencoded_keeps_text_exactly() -> None:
    assert decode_urlencoded("a=1+2&b=%E2%82%AC&c=&d", "form body") == {
        "a": "1 2", "b": "€", "c": "", "d": ""
    }
    assert decode_urlencoded(b"", "form body") == {}


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


@pytest.mark.parametrize(
    ("raw", "detail"),
    [(b"a=1&a=2", "repeated"), (b"a=\xff", "not valid UTF-8"), ("a=%C3%28", "not valid UTF-8")],
)
def test_urlencoded_refusals_say_why(raw: bytes | str, detail: str) -> None:
    with pytest.raises(DomainError) as raised:
        decode_urlencoded(raw, "form body")
    assert raised.value.code is ErrorCode.BAD_REQUEST
    assert detail in raised.value.params["detail"]


_FORM_PIECES = st.lists(
    st.lists(st.sampled_from([*"ab=+%0Fe9\u00e9", "%C3%A9", "%ff", "%2", "%3D"]), max_size=8)
    .map("".join),
    max_size=6,
)


@given(_FORM_PIECES)
@settings(max_examples=400)
@example(["a=1", "%61=2"])  # a repeat only once the names are unquoted
@example(["k=https%3A%2F%2Fx.test%2Fb", "q=1"])  # the usual add: escapes in a value only
@example(["a=%C3%28", "b=1"])  # an undecodable value
@example(["a=%C3%28", "%62=1"])  # ... and with an escaped name after it
@example(["a+b=1", "c=%41"])  # an escaped name first
@example(["a=1", "", "b=2"])  # an empty piece
@example(["a=1", "b"])  # a piece without "="
def test_a_form_decodes_exactly_as_parse_qsl_does(pieces: list[str]) -> None:
    # The own splitter must agree with parse_qsl on empty pieces, pieces without "=", several
    # "=", "+" as a space, valid, invalid and truncated escapes, and repeats.
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


_PART_PIECES = st.lists(
    st.sampled_from(
        ["%", "%4", "%41", "%4a", "%zz", "%C3%A9", "%C3", "%A9", "%E2%82%AC", "%F0%9F%98%80",
         "%FF", "%00", "%5C", "%25", "+", "\\", "\\x41", "\\\\", "\\N{DASH}", "\\u0041", "x",
         "é", "€", "\ud800", "=", "&", "A", "0"]
    ),
    max_size=10,
)


@given(_PART_PIECES.map("".join))
@example("%5Cx41")  # an escaped backslash before "x41" stays a backslash
@example("https%3A%2F%2Fexample.test%2Fb")
def test_a_part_unquotes_exactly_as_urllib_does(part: str) -> None:
    # The codec trick in _unquoted must accept, refuse and decode exactly what urllib's strict
    # unquote does, escapes that are not %XX and lone surrogates included.
    try:
        expected: str | type[UnicodeError] = unquote(
            part.replace("+", " "), encoding="utf-8", errors="strict"
        )
    except UnicodeError:
        expected = UnicodeError
    try:
        got: str | type[UnicodeError] = _unquoted(part)
    except UnicodeError:
        got = UnicodeError
    assert got == expected
