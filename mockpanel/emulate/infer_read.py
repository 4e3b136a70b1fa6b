"""Reading a HAR 1.2 recording into the exchanges a profile is inferred from.

Two writers make the recordings this reads: the harness (``pytest --panel-record``), whose keys
read ``<redacted>:<label>`` (``main key``, ``wrong key``, ``blank key``, ``tenant t7``, ...), and
``mockpanel serve --record``, whose keys all read ``[redacted]``. The label is all that says
whether a key was a good one; a ``[redacted]`` key could be either (:attr:`KeyUse.UNKNOWN`).

Anything odd in a recording is taken as it is, never a reason to fail: an entry that is not an
object, a body that is not UTF-8 or not JSON, an answer with no text. An entry without an
``action`` field and without a JSON answer is not an API exchange and is left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "InferenceError",
    "KeyUse",
    "Seen",
    "error_of",
    "parse_recording",
    "read_exchanges",
]

_FORM: Final = "application/x-www-form-urlencoded"
# Labels the harness gives keys that are meant to be refused.
_BAD_LABEL: Final = re.compile(r"wrong|blank|made[- ]up|invalid|bad|fake|unknown", re.IGNORECASE)
_HARNESS_KEY: Final = re.compile(r"<redacted>:(?P<label>.*)")
_SERVE_KEY: Final = "[redacted]"
# The mock's own advice appended to an error (mockpanel.wire.hints); not the panel's wording.
_HINT_HEADER: Final = "x-mock-hint"


class InferenceError(ValueError):
    """A recording nothing can be inferred from; the message is one line for the user."""


class KeyUse(Enum):
    """What the request's ``key`` field was, as far as the recording tells."""

    ABSENT = "absent"  # no key field, or an empty one
    VALID = "valid"  # a key the harness labelled as a working one
    INVALID = "invalid"  # a key labelled wrong, blank or made up
    UNKNOWN = "unknown"  # redacted without a label (mockpanel serve --record)


@dataclass(frozen=True, slots=True)
class Seen:
    """One exchange of the recording, decoded."""

    index: int
    test: str | None  # the harness test that made it, if any
    method: str
    path: str  # without a trailing slash
    encoding: str | None  # "form", "json", "query", "other", or None (no fields sent)
    content_type: str  # the request's Content-Type as sent
    params: Mapping[str, str]
    odd_body: bool  # repeated fields, bytes that are not UTF-8, JSON that is not an object
    body_size: int
    key: KeyUse
    key_label: str | None  # who made it: the harness label, "?" when unlabelled
    status: int  # 0: no HTTP answer
    headers: Mapping[str, str]  # lower-case names
    text: str
    json: Any = field(default=None)  # None also when the answer is not JSON (see is_json)
    is_json: bool = False

    @property
    def action(self) -> str | None:
        return self.params.get("action")

    @property
    def error(self) -> str | None:
        """The top-level ``error`` message of a JSON answer, else None."""
        return error_of(self.json, self.headers.get(_HINT_HEADER))

    @property
    def answered(self) -> bool:
        """A JSON answer that is not an error: the request was served."""
        return self.is_json and 200 <= self.status < 300 and self.error is None

    @property
    def extra_fields(self) -> dict[str, Any]:
        """The error answer's fields besides ``error``."""
        body = self.json
        return {k: v for k, v in body.items() if k != "error"} if isinstance(body, dict) else {}


def error_of(body: Any, hint: str | None = None) -> str | None:
    """The ``error`` message of an answer (or an item), without the mock's hint."""
    if not isinstance(body, dict):
        return None
    message = body.get("error")
    if not isinstance(message, str):
        return None
    if hint and message.endswith(f" ({hint})"):
        message = message[: -len(hint) - 3]
    return message


def parse_recording(text: str | bytes) -> dict[str, Any]:
    """The HAR document in ``text``; :class:`InferenceError` when it is not JSON."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise InferenceError("the recording is not JSON (expected a HAR 1.2 file)") from None
    if not isinstance(document, dict):
        raise InferenceError("the recording is not a HAR file: no top-level object")
    return document


def _entries(har: Mapping[str, Any]) -> Sequence[Any]:
    log = har.get("log") if isinstance(har, Mapping) else None
    entries = log.get("entries") if isinstance(log, Mapping) else None
    if not isinstance(entries, list):
        raise InferenceError("the recording is not a HAR file: no log.entries list")
    return entries


def _pairs(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    return [
        (str(p.get("name")), str(p.get("value", "")))
        for p in value
        if isinstance(p, Mapping) and "name" in p
    ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _decoded_json(text: str) -> tuple[bool, Any]:
    if not text.strip():
        return False, None
    try:
        # Decimal for fractions: "0.90" keeps its places; whole numbers stay ints.
        return True, json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return False, None


def _body_fields(method: str, ctype: str, text: str) -> tuple[str | None, dict[str, str], bool]:
    """(encoding, fields, odd) of a request body."""
    media = ctype.split(";")[0].strip().lower()
    if not text and method in ("GET", "HEAD"):
        return None, {}, False
    if media == _FORM:
        odd = "\ufffd" in text or "\\x" in text
        fields: dict[str, str] = {}
        try:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeError, ValueError):
            return "form", {}, True
        for name, value in pairs:
            odd = odd or name in fields or not name or "\ufffd" in value
            fields.setdefault(name, value)
        return "form", fields, odd
    if media == "application/json" or media.endswith("+json"):
        is_json, document = _decoded_json(text)
        if not is_json or not isinstance(document, dict):
            return "json", {}, True
        odd = any(isinstance(v, dict | list | bool) for v in document.values())
        return "json", {str(k): _scalar(v) for k, v in document.items() if v is not None}, odd
    if not text:
        return None, {}, False
    return "other", {}, False


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _key(params: Mapping[str, str]) -> tuple[KeyUse, str | None]:
    raw = params.get("key")
    if raw is None or raw == "":
        return KeyUse.ABSENT, None
    labelled = _HARNESS_KEY.fullmatch(raw)
    if labelled:
        label = labelled["label"]
        return (KeyUse.INVALID if _BAD_LABEL.search(label) else KeyUse.VALID), label
    if raw == _SERVE_KEY:
        return KeyUse.UNKNOWN, "?"
    if not raw.strip():
        return KeyUse.INVALID, None
    return KeyUse.UNKNOWN, "?"


def _seen(index: int, item: Any) -> Seen | None:
    if not isinstance(item, Mapping):
        return None
    request, response = item.get("request"), item.get("response")
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        return None
    method = _text(request.get("method")).upper() or "GET"
    url = _text(request.get("url"))
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    headers_in = dict((n.lower(), v) for n, v in _pairs(request.get("headers")))
    post = request.get("postData")
    post = post if isinstance(post, Mapping) else {}
    ctype = _text(post.get("mimeType")) or headers_in.get("content-type", "")
    body = _text(post.get("text"))
    if not body and post.get("params"):
        body = "&".join(f"{n}={v}" for n, v in _pairs(post.get("params")))
    encoding, params, odd = _body_fields(method, ctype, body)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if query:
        params = {**query, **params}
        if encoding is None:
            encoding = "query"
    size = request.get("bodySize")
    body_size = (size if isinstance(size, int) and size >= 0
                 else len(body.encode("utf-8", "replace")))
    status = response.get("status")
    content = response.get("content")
    text = _text(content.get("text")) if isinstance(content, Mapping) else ""
    is_json, document = _decoded_json(text)
    if "action" not in params and not is_json:
        return None
    key, label = _key(params)
    comment = item.get("comment")
    return Seen(
        index=index,
        test=comment if isinstance(comment, str) else None,
        method=method,
        path=parts.path.rstrip("/") or "/",
        encoding=encoding,
        content_type=ctype,
        params=params,
        odd_body=odd,
        body_size=body_size,
        key=key,
        key_label=label,
        status=status if isinstance(status, int) else 0,
        headers={n.lower(): v for n, v in _pairs(response.get("headers"))},
        text=text,
        json=document,
        is_json=is_json,
    )


def read_exchanges(har: Mapping[str, Any]) -> list[Seen]:
    """The API exchanges of ``har``, in the recording's order; :class:`InferenceError` when it
    is not a HAR log or holds none."""
    exchanges = [s for i, item in enumerate(_entries(har)) if (s := _seen(i, item)) is not None]
    if not any(s.action for s in exchanges):
        raise InferenceError("the recording holds no API requests (no entry sends an action)")
    return exchanges
