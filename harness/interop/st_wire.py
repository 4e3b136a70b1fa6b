"""The API key on the wire, and only there, for Schemathesis runs.

The protocol sends the key as the form field ``key``, which no OpenAPI security scheme can
express, and Schemathesis sanitizes secrets in JSON bodies, headers, query strings and cookies,
but not in form bodies: a key in the generated case would be printed in every "Reproduce with"
command. So the hooks leave the case alone and put the key into the form handed to the HTTP
client (:func:`wire_form`); once the answer is in, the recorded request gets
:data:`FILTERED` in its place (:func:`without_key`) and any echo of the key in the answer is
redacted (:func:`redact_answer`), before checks, output and reports see them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import requests

from harness.base.redaction import Secret, scrub

__all__ = ["FILTERED", "as_read", "html_json", "redact_answer", "wire_form", "without_key"]

FILTERED: Final = "[Filtered]"
"""What a recorded request shows instead of the key (Schemathesis' own replacement text)."""


def wire_form(body: Mapping[Any, Any], key: Secret) -> dict[Any, Any]:
    """The form to send: the generated one with the real key, unless its key was generated
    missing or empty, which is AUTH-001/AUTH-003 being tested (a generated placeholder of any
    other value is replaced, so that valid cases reach the action's own code)."""
    form = dict(body)
    if form.get("key") not in (None, ""):
        form["key"] = key.reveal()
    return form


def as_read(url: str, form: Mapping[Any, Any]) -> dict[str, str]:
    """``form`` as a panel reads it: encoded exactly as ``requests`` will send it (a number as
    its digits, a list as repeated fields), then the last value of each field (PHP's way)."""
    body = requests.Request("POST", url, data=form).prepare().body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return dict(parse_qsl(text, keep_blank_values=True))


def without_key(body: str | bytes, key: Secret) -> str | bytes:
    """A sent form body as recorded: the key's value replaced by :data:`FILTERED`; any other
    body unchanged."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(name == "key" and key.matches(value) for name, value in pairs):
        return body
    cleaned = urlencode([(name, FILTERED if name == "key" and key.matches(value) else value)
                         for name, value in pairs])
    return cleaned.encode() if isinstance(body, bytes) else cleaned


def redact_answer(content: bytes, key: Secret) -> bytes:
    """An answer with every spelling of the key redacted (a panel may echo what it was sent)."""
    if not any(spelling.encode() in content for spelling in key.forms()):
        return content
    return scrub(content.decode("utf-8", "replace"), [key]).encode()


def html_json(content: bytes) -> Any:
    """The JSON a PHP panel printed under its default ``text/html`` label; ``ValueError`` when
    the body is not JSON (GEN-002: answers are JSON, never an HTML page)."""
    return json.loads(content.decode("utf-8-sig"))
