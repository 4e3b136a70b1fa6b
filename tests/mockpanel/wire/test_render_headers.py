"""An answer's headers are its own, although they start as a copy of one kept per content type.

``json_response`` keeps the usual answer's headers (the profile's Content-Type alone) and hands
each response a copy. These pin what that must never change: every response can be given
headers of its own without touching another's, extra headers stay on their one answer, and
each content type is sent as its profile says, kept or not.
"""

from __future__ import annotations

import dataclasses

import pytest

from mockpanel.profiles import REFERENCE, Profile
from mockpanel.wire import render
from mockpanel.wire.render import Reply, json_response


def _with_content_type(content_type: str) -> Profile:
    return dataclasses.replace(
        REFERENCE, wire=dataclasses.replace(REFERENCE.wire, content_type=content_type)
    )


def test_each_answer_gets_headers_of_its_own() -> None:
    first = json_response(REFERENCE, Reply({"balance": "1.00000"}))
    second = json_response(REFERENCE, Reply({"balance": "2.00000"}))
    assert first.headers is not second.headers
    first.headers["X-Only-Here"] = "1"
    first.headers["Content-Type"] = "text/plain"
    third = json_response(REFERENCE, Reply({"balance": "3.00000"}))
    for untouched in (second, third):
        assert "X-Only-Here" not in untouched.headers
        assert untouched.headers.getall("Content-Type") == [REFERENCE.wire.content_type]


def test_extra_headers_stay_on_their_answer() -> None:
    hinted = json_response(REFERENCE, Reply({"error": "x"}, 429, (("Retry-After", "3"),)))
    assert hinted.status == 429
    assert hinted.headers["Retry-After"] == "3"
    assert hinted.headers["Content-Type"] == REFERENCE.wire.content_type
    plain = json_response(REFERENCE, Reply({"balance": "1.00000"}))
    assert "Retry-After" not in plain.headers


def test_an_extra_header_may_replace_the_content_type() -> None:
    replaced = json_response(REFERENCE, Reply("x", 200, (("Content-Type", "text/plain"),)))
    assert replaced.headers.getall("Content-Type") == ["text/plain"]


@pytest.mark.parametrize("kept", [0, 1, 64])
def test_every_content_type_is_sent_as_its_profile_says(
    monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    # However many content types are kept (none, fewer than the profiles, enough), each
    # profile's answer carries its own, again and again.
    monkeypatch.setattr(render, "_CONTENT_TYPES", {})
    monkeypatch.setattr(render, "_CONTENT_TYPES_KEPT", kept)
    types = ["application/json", "text/html; charset=UTF-8", "text/plain"]
    for _ in range(3):
        for content_type in types:
            response = json_response(_with_content_type(content_type), Reply({"a": 1}))
            assert response.headers.getall("Content-Type") == [content_type]
            assert response.body == b'{"a":1}'
    assert len(render._CONTENT_TYPES) == min(kept, len(types))
