"""The shortcut for plain links accepts nothing the full URL check would refuse.

The check of a ``link`` parameter accepts a plain ``http(s)://host[:port]`` link with a regular
expression and leaves every other link to the full check (``urlsplit``), which is the oracle
here: a shortcut that lets a bad link through, or refuses a good one, fails.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state.catalog import PARAM_SPECS
from mockpanel.state.params import _is_url_with_a_host as _full_check
from mockpanel.state.params import _required


def _is_url(value: str) -> bool:
    """Whether an add's ``link`` check accepts ``value`` (empty: missing, so not a link)."""
    try:
        _required({"link": value}, "link")
    except DomainError as refused:
        refusal = refused.code
    else:
        return True
    assert refusal is (ErrorCode.MISSING_PARAM if not value else PARAM_SPECS["link"].error)
    return False

_PIECES = st.sampled_from(
    ["http", "https", "HTTPS", "ftp", ":", "//", "/", "?", "#", "@", "[", "]", ".", "-", "a",
     "example", "test", "80", "99999", " ", "\t", "\n", "%", "é", "\u200b", "::1", "x=1", ""]
)


@given(st.lists(_PIECES, max_size=12).map("".join))
@example("https://example.test/b")
@example("http://a.b:8080")
@example("https://.")
@example("https://host:123456/x")
@example("https://[::1]/x")
@example("https://user@host/x")
@example("https://exa mple.test/")
@example("https://example.test/\n")
@example("https:///path")
@example("HTTPS://Example.test/b")
@example("Http://a.b:8080")
def test_plain_link_shortcut_agrees_with_the_full_check(value: str) -> None:
    assert _is_url(value) == _full_check(value)


def test_a_scheme_in_capitals_is_still_a_link() -> None:
    # The shortcut matches lower-case schemes only; the full check takes the others.
    for link in ("HTTPS://Example.test/b", "Http://a.b:8080/x?y=1"):
        assert _is_url(link)


@given(st.text(max_size=40))
def test_any_text_agrees_with_the_full_check(value: str) -> None:
    assert _is_url(value) == _full_check(value)
