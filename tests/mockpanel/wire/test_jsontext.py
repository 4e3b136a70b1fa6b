"""JSON text with exact Decimal numbers, the standard encoder's text for everything else.

``dumps_bytes`` has a shortcut (orjson for a float-free value of plain JSON types) and a
reference twin (``MOCKPANEL_NO_SHORTCUTS``): the tests of what it writes run on both, and
:class:`TestShortcutMatchesReference` holds them to each other. Whatever writes it, the text is
``json.dumps``'s with ASCII escaping, which is what PHP panels send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockpanel.wire import jsontext
from mockpanel.wire.jsontext import dumps, dumps_bytes_reference, dumps_bytes_shortcut

Dump = Callable[..., bytes]
DUMPERS = pytest.mark.parametrize(
    "dump", [dumps_bytes_reference, dumps_bytes_shortcut], ids=["reference", "shortcut"]
)


def _text(dump: Dump, value: Any, indent: int | None = None) -> str:
    return str(dump(value, indent=indent).decode("ascii"))


@DUMPERS
def test_decimals_are_written_digit_for_digit(dump: Dump) -> None:
    assert _text(dump, {"charge": Decimal("4.20")}) == '{"charge":4.20}'
    values = [Decimal("0.00001"), Decimal("1E+3"), Decimal("-0.10")]
    assert _text(dump, values) == "[0.00001,1000,-0.10]"
    # 0.1 + 0.2 as floats would be 0.30000000000000004
    assert _text(dump, Decimal("0.1") + Decimal("0.2")) == "0.3"
    assert _text(dump, {"a": [{"b": "x", "c": Decimal("1.10")}]}) == '{"a":[{"b":"x","c":1.10}]}'


@DUMPERS
def test_round_trips_every_json_type(dump: Dump) -> None:
    value: Any = {"s": "é\"\n\u2028", "i": 1, "f": 0.5, "t": True, "n": None, "l": [[], {}],
                  "o": {"x": (1, 2)}}
    text = _text(dump, value)
    assert text.isascii()
    assert json.loads(text) == {**value, "o": {"x": [1, 2]}}


@DUMPERS
def test_indent_pretty_prints_like_php(dump: Dump) -> None:
    pretty = '{\n    "a": [\n        1\n    ],\n    "b": {}\n}'
    assert _text(dump, {"a": [1], "b": {}}, indent=4) == pretty
    assert _text(dump, {"a": [Decimal("1.0")], "b": {}}, indent=4) == pretty.replace("1", "1.0")


@DUMPERS
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (float("nan"), ValueError),
        ({"x": float("inf")}, ValueError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (b"bytes", TypeError),
        ({1: "non-str key"}, TypeError),
        ({"a": {1, 2}}, TypeError),
        (object(), TypeError),
    ],
)
def test_anything_not_json_is_a_loud_error(dump: Dump, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        dump(value)


def test_dumps_is_the_text_of_the_chosen_bytes() -> None:
    assert dumps({"a": [1, "é", Decimal("2.50")]}) == '{"a":[1,"\\u00e9",2.50]}'


def test_a_float_free_ascii_answer_is_written_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = jsontext.orjson.dumps

    def spy(value: Any) -> bytes:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(jsontext.orjson, "dumps", spy)
    body = {"order": 16001, "status": "Pending", "remains": "10"}
    assert dumps_bytes_shortcut(body) == b'{"order":16001,"status":"Pending","remains":"10"}'
    assert calls == [body]
    calls.clear()
    assert dumps_bytes_shortcut({"rate": 0.5}) == b'{"rate":0.5}'  # a float: not orjson's to write
    assert dumps_bytes_shortcut({"rate": Decimal("0.5")}) == b'{"rate":0.5}'  # nor a Decimal
    assert calls == []


class _Word(StrEnum):
    DONE = "Completed"


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits: orjson refuses
    | st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x7F))  # control characters to escape
    | st.floats(allow_nan=False, allow_infinity=False)
)
_PLAIN = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# ... and what only the exact encoder may write, or must refuse, anywhere inside.
_ANY = st.recursive(
    _SCALARS
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from([_Word.DONE, float("nan"), Decimal("NaN"), b"x"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text() | st.integers(0, 9), inner, max_size=4),
    max_leaves=20,
)


def _outcome(dump: Dump, value: Any, indent: int | None = None) -> bytes | type[Exception]:
    try:
        return dump(value, indent=indent)
    except (TypeError, ValueError) as refused:
        return type(refused)


class TestShortcutMatchesReference:
    @settings(max_examples=1000)
    @given(value=_PLAIN)
    @example(value={"a": "\x00\x1f\x7f\"\\/\u2028é", "b": [1, -1, 2**63, -(2**63) - 1]})
    @example(value={"charge": "0.00001", "start_count": 0, "status": "Pending", "currency": "USD"})
    @example(value="\x7f")  # ASCII, escaped by the standard encoder only
    @example(value={"a": "\x00\x08\x0c\x1f\"\\/"})
    @example(value=[1e-07, 1e16, 0.1, -0.0])  # floats orjson writes otherwise
    def test_plain_values_are_the_standard_text(self, value: Any) -> None:
        standard = json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")
        assert dumps_bytes_shortcut(value) == standard
        assert dumps_bytes_reference(value) == standard

    @given(value=_ANY, indent=st.sampled_from([None, 0, 2, 4]))
    @example(value={"charge": Decimal("0.10"), "status": "Pending"}, indent=None)
    @example(value={"1": {"charge": "0.10"}, "2": {"charge": Decimal("0.10")}}, indent=None)
    @example(value=({"a": 1}, [Decimal("2")]), indent=None)
    @example(value={"a": {1: "x"}}, indent=None)  # a non-str key inside
    @example(value={"status": _Word.DONE}, indent=None)  # a str subclass
    @example(value=[True, _Word.DONE], indent=None)
    def test_any_value(self, value: Any, indent: int | None) -> None:
        assert _outcome(dumps_bytes_shortcut, value, indent) == _outcome(
            dumps_bytes_reference, value, indent
        )

    def test_a_multi_status_answer(self) -> None:
        body = {
            str(order): {"charge": "0.00001", "start_count": "0", "status": "Pending",
                         "remains": str(order), "currency": "USD"}
            for order in range(10000, 10100)
        }
        assert dumps_bytes_shortcut(body) == dumps_bytes_reference(body)
