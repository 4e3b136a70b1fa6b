"""Request decoding: a form body, a JSON object or a query string into one ``dict[str, str]``.

Every way a request can be malformed ends here as a :class:`DomainError` (rendered later in the
profile's wording and status), before any state is looked at: repeated fields, invalid UTF-8,
lone surrogates, nested or non-scalar JSON, content types the profile does not accept, bodies
whose Content-Encoding does not decode, bodies that stall and bodies over the size limit. Values
keep their text exactly as sent; judging them is the state's job.
"""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import Iterable
from types import MappingProxyType
from typing import Any, Final, NoReturn
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import ENCODING_FORM, ENCODING_QUERY, Encoding
from mockpanel.shortcuts import NO_SHORTCUTS

__all__ = [
    "READ_TIMEOUT",
    "abandon_body",
    "body_abandoned",
    "decode_json",
    "decode_urlencoded",
    "decode_urlencoded_reference",
    "decode_urlencoded_shortcut",
    "read_params",
    "read_params_now",
]

# Seconds a body may take to arrive in full. aiohttp waits forever for a body shorter than its
# Content-Length (or a deflate stream it cannot finish); the mock gives up and says so.
READ_TIMEOUT: Final = 10.0

_MEDIA_TYPES: Final = MappingProxyType(
    {Encoding.FORM: "application/x-www-form-urlencoded", Encoding.JSON: "application/json"}
)
_FORM_MEDIA: Final = _MEDIA_TYPES[Encoding.FORM]
_UTF8_CHARSETS: Final = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def _problem(detail: str) -> DomainError:
    return DomainError(ErrorCode.BAD_REQUEST, detail=detail)


def _bad(detail: str) -> NoReturn:
    raise _problem(detail)


def _encodable(text: str) -> bool:
    # JSON escapes can smuggle lone surrogates ("\ud800") into a str; they cannot be encoded
    # back to UTF-8, so any later echo or key comparison would crash. Refuse them up front.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked_text(text: str, what: str) -> str:
    if not _encodable(text):
        _bad(f"{what} contains an invalid unicode escape")
    return text


def _unique(pairs: Iterable[tuple[str, str]], where: str) -> dict[str, str]:
    """``pairs`` as a dict, refusing repeats and texts that cannot be encoded back."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            _bad(f"field {name!r} is repeated in the {where}")
        fields[_checked_text(name, "a field name")] = _checked_text(value, f"field {name!r}")
    return fields


def _text(raw: bytes | str, where: str) -> str:
    try:
        return raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeError:
        _bad(f"the {where} is not valid UTF-8")


def decode_urlencoded_reference(raw: bytes | str, where: str) -> dict[str, str]:
    """Fields of an ``application/x-www-form-urlencoded`` text (a body or a query string).

    Percent-escapes must decode to UTF-8; a field sent twice is refused rather than silently
    resolved, because panels disagree on whether the first or the last one wins.
    """
    text = _text(raw, where)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeError:
        _bad(f"the {where} is not valid UTF-8")
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            _bad(f"field {name!r} is repeated in the {where}")
        _checked_text(name, "a field name")
        fields[name] = _checked_text(value, f"field {name!r}")
    return fields


def _unquoted(part: str) -> str:
    """``unquote(part.replace("+", " "), errors="strict")``, the ``%XX`` escapes decoded by the
    ``unicode_escape`` codec: with every backslash doubled and every ``%`` made ``\\x``, it
    turns each ``%XX`` into the code point of that byte, and Latin-1 gives the bytes back. A
    ``%`` without two hex digits after it, or a lone surrogate, takes urllib's own way."""
    spaced = part.replace("+", " ")
    if "%" not in spaced:
        return spaced
    try:
        escaped = spaced.encode("utf-8").replace(b"\\", b"\\\\").replace(b"%", b"\\x")
        code_points = codecs.unicode_escape_decode(escaped)[0]
    except UnicodeError:
        return unquote(spaced, encoding="utf-8", errors="strict")
    return code_points.encode("latin-1").decode("utf-8")


def decode_urlencoded_shortcut(raw: bytes | str, where: str) -> dict[str, str]:
    """:func:`decode_urlencoded_reference` in one pass of its own over the pieces, unquoting
    only the parts that hold an escape, each in C (:func:`_unquoted`)."""
    if not raw:
        return {}
    text = _text(raw, where)
    escaped = "%" in text or "+" in text
    # From bytes, strict UTF-8 decoding and strict unquoting cannot yield a lone surrogate.
    checked = not isinstance(raw, bytes)
    fields: dict[str, str] = {}
    # The reference's precedence: an undecodable part anywhere first, then the first repeated
    # or unencodable field, in order.
    problem: DomainError | None = None
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if escaped:
            try:
                if "%" in name or "+" in name:
                    name = _unquoted(name)
                if "%" in value or "+" in value:
                    value = _unquoted(value)
            except UnicodeError:  # undecodable escapes, or a lone surrogate in a str part
                _bad(f"the {where} is not valid UTF-8")
        if problem is not None:
            continue
        if name in fields:
            problem = _problem(f"field {name!r} is repeated in the {where}")
        elif checked and not _encodable(name):
            problem = _problem("a field name contains an invalid unicode escape")
        elif checked and not _encodable(value):
            problem = _problem(f"field {name!r} contains an invalid unicode escape")
        else:
            fields[name] = value
    if problem is not None:
        raise problem
    return fields


# Shortcut: forms split by hand, escapes decoded in C (4-7 % of a request); twin: parse_qsl.
decode_urlencoded = decode_urlencoded_reference if NO_SHORTCUTS else decode_urlencoded_shortcut


def _no_constants(name: str) -> NoReturn:
    _bad(f"the JSON body contains {name}, which is not JSON")


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            _bad(f"field {name!r} is repeated in the JSON body")
        seen[name] = value
    return seen


def decode_json(raw: bytes) -> dict[str, str]:
    """Fields of a JSON object whose values are strings or numbers (``null`` means absent).

    Numbers keep their literal text (``1.50`` stays ``"1.50"``, huge integers stay exact);
    booleans, arrays and objects are refused: the protocol has no such parameters.
    """
    try:
        text = raw.decode("utf-8")
        document = json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_int=str,
            parse_float=str,
            parse_constant=_no_constants,
        )
    except UnicodeDecodeError:
        _bad("the JSON body is not valid UTF-8")
    except RecursionError:
        _bad("the JSON body is nested too deeply")
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        _bad(f"the body is not valid JSON ({exc})")
    if not isinstance(document, dict):
        _bad("the JSON body must be an object of fields")
    for name, value in document.items():
        if value is not None and not isinstance(value, str):  # numbers are str already
            _bad(f"field {name!r} must be a string or a number, not {_json_kind(value)}")
    return _unique(((k, v) for k, v in document.items() if v is not None), "JSON body")


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _encoding_of(request: web.BaseRequest) -> Encoding | None:
    """The body encoding a request declares, or ``None`` for a media type we never decode
    (or a charset other than UTF-8 and its ASCII subset)."""
    charset = request.charset
    if charset is not None and charset.lower() not in _UTF8_CHARSETS:
        return None
    media = request.content_type
    if media.endswith("+json"):
        return Encoding.JSON
    return next((enc for enc, known in _MEDIA_TYPES.items() if known == media), None)


def abandon_body(request: web.BaseRequest, reason: BaseException) -> None:
    """Stop reading the request body for good: a body that failed or stalled half-way leaves
    the connection's framing unknown, so its answer must close it (see
    :func:`body_abandoned`), and aiohttp must not try to drain it after answering."""
    content = request.content
    if content.exception() is None:
        content.set_exception(reason)
    content.feed_eof()


def body_abandoned(request: web.BaseRequest) -> bool:
    """Whether the body failed or was given up, so the connection cannot be reused."""
    return request.content.exception() is not None


async def _read_body(request: web.BaseRequest, max_bytes: int, body_seconds: float) -> bytes:
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise DomainError(ErrorCode.BODY_TOO_LARGE, limit=max_bytes)
    try:
        async with asyncio.timeout(body_seconds):
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:  # a chunked body that outgrew client_max_size
        raise DomainError(ErrorCode.BODY_TOO_LARGE, limit=max_bytes) from None
    except web.RequestPayloadError as exc:  # a corrupt Content-Encoding or chunked framing
        abandon_body(request, exc)
        _bad("the body could not be decoded (check its Content-Encoding)")
    except TimeoutError as exc:
        abandon_body(request, exc)
        _bad(f"the body did not arrive in full within {body_seconds:g} seconds")
    if len(body) > max_bytes:
        raise DomainError(ErrorCode.BODY_TOO_LARGE, limit=max_bytes)
    return body


def read_params_now(
    request: web.BaseRequest, accepted: frozenset[Encoding], max_bytes: int
) -> dict[str, str] | None:
    """:func:`read_params` without waiting, or ``None`` when it would have to wait.

    A small form arrives with its headers: its body is in aiohttp's buffer in full before the
    view runs, so it is taken from there (``read_nowait``) instead of through ``read()``'s
    coroutines and the timer that guards a stalled body. A body still arriving, or one that
    failed on the way, is left to :func:`read_params` and its timeout and error handling; so is
    a buffer found empty (no body, or a middleware's ``read()``, which aiohttp keeps).
    """
    content = request.content
    if not content.is_eof() or content.exception() is not None:
        return None
    body = content.read_nowait()  # all of it: aiohttp saw exactly Content-Length bytes
    if not body:
        return None
    if len(body) > max_bytes:
        raise DomainError(ErrorCode.BODY_TOO_LARGE, limit=max_bytes)
    return _fields(request, accepted, body)


async def read_params(
    request: web.BaseRequest,
    accepted: frozenset[Encoding],
    max_bytes: int,
    *,
    body_seconds: float = READ_TIMEOUT,
) -> dict[str, str]:
    """All request fields, decoded the ways ``accepted`` allows.

    The query string counts only when the profile accepts ``query`` (PHP's ``$_REQUEST``);
    a field present both there and in the body is a repeat. An empty body carries no fields
    whatever its content type, so it is answered as a request without ``key``.
    """
    body = b""
    if request.method not in ("GET", "HEAD"):
        body = await _read_body(request, max_bytes, body_seconds)
    return _fields(request, accepted, body)


def _fields(request: web.BaseRequest, accepted: frozenset[Encoding], body: bytes) -> dict[str, str]:
    """The fields of the query string (when the profile reads it) and of ``body``."""
    fields: dict[str, str] = {}
    if ENCODING_QUERY in accepted and (query := request.rel_url.raw_query_string):
        fields = decode_urlencoded(query, "query string")
    if not body or request.method in ("GET", "HEAD"):
        return fields
    if request.headers.get("Content-Type") == _FORM_MEDIA:  # the plain header, as most send it
        encoding: Encoding | None = ENCODING_FORM
    else:
        encoding = _encoding_of(request)
    if encoding is None or encoding not in accepted:
        raise DomainError(
            ErrorCode.UNSUPPORTED_ENCODING,
            encoding=request.headers.get("Content-Type", "none"),
            accepted=", ".join(media for enc, media in _MEDIA_TYPES.items() if enc in accepted),
        )
    body_fields = (
        decode_urlencoded(body, "form body") if encoding is ENCODING_FORM else decode_json(body)
    )
    if not fields:  # no query string: nothing to merge
        return body_fields
    for name in body_fields:
        if name in fields:
            _bad(f"field {name!r} is sent both in the query string and in the body")
    fields.update(body_fields)
    return fields

