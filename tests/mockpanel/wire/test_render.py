"""Rendering answers: every response's headers are its own, extra headers stay on their one
answer, and each content type is sent as its profile says.

An answer's usual headers have a shortcut (one ``CIMultiDict`` kept per content type, which
each response copies) and a reference twin (``MOCKPANEL_NO_SHORTCUTS``): every test here runs
on both, and :class:`TestShortcutMatchesReference` holds them to each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import pytest

from mockpanel.profiles import REFERENCE, Profile
from mockpanel.wire import render
from mockpanel.wire.render import (
    Reply,
    json_response,
    usual_headers_reference,
    usual_headers_shortcut,
)

TYPES = ["application/json", "text/html; charset=UTF-8", "text/plain"]


@pytest.fixture(
    autouse=True,
    params=[usual_headers_reference, usual_headers_shortcut],
    ids=["reference", "shortcut"],
)
def usual_headers(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Mapping[str, str]]:
    """Every test on each twin: ``json_response`` takes whichever ``usual_headers`` is."""
    twin: Callable[[str], Mapping[str, str]] = request.param
    monkeypatch.setattr(render, "usual_headers", twin)
    return twin


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


def test_every_content_type_is_sent_as_its_profile_says() -> None:
    for _ in range(3):
        for content_type in TYPES:
            response = json_response(_with_content_type(content_type), Reply({"a": 1}))
            assert response.headers.getall("Content-Type") == [content_type]
            assert response.body == b'{"a":1}'


class TestShortcutMatchesReference:
    @pytest.mark.parametrize("content_type", TYPES)
    def test_the_kept_headers_are_the_reference_headers(self, content_type: str) -> None:
        kept = usual_headers_shortcut(content_type)
        assert dict(kept) == dict(usual_headers_reference(content_type))
        assert usual_headers_shortcut(content_type) is kept  # kept, not built again
