"""JSON text with exact Decimal numbers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockpanel.wire import jsontext
from mockpanel.wire.jsontext import dumps


def test_decimals_are_written_digit_for_digit() -> None:
    assert dumps({"charge": Decimal("4.20")}) == '{"charge":4.20}'
    assert dumps([Decimal("0.00001"), Decimal("1E+3"), Decimal("-0.10")]) == "[0.00001,1000,-0.10]"
    # 0.1 + 0.2 as floats would be 0.30000000000000004
    assert dumps(Decimal("0.1") + Decimal("0.2")) == "0.3"


def test_round_trips_every_json_type() -> None:
    value: Any = {"s": "é\"\n\u2028", "i": 1, "f": 0.5, "t": True, "n": None, "l": [[], {}],
                  "o": {"x": (1, 2)}}
    text = dumps(value)
    assert text.isascii()
    assert json.loads(text) == {**value, "o": {"x": [1, 2]}}


def test_indent_pretty_prints_like_php() -> None:
    pretty = '{\n    "a": [\n        1\n    ],\n    "b": {}\n}'
    assert dumps({"a": [1], "b": {}}, indent=4) == pretty


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (float("nan"), ValueError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        (b"bytes", TypeError),
        ({1: "non-str key"}, TypeError),
        ({"a": {1, 2}}, TypeError),
        (object(), TypeError),
    ],
)
def test_anything_not_json_is_a_loud_error(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        dumps(value)


_plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=_plain_values, indent=st.sampled_from([None, 0, 2, 4]))
def test_the_c_encoder_fast_path_writes_what_the_exact_encoder_writes(
    value: Any, indent: int | None
) -> None:
    parts: list[str] = []
    jsontext._encode(value, parts, indent, 0)
    assert dumps(value, indent=indent) == "".join(parts)


def test_a_decimal_anywhere_takes_the_exact_path() -> None:
    assert dumps({"a": [{"b": "x", "c": Decimal("1.10")}]}) == '{"a":[{"b":"x","c":1.10}]}'
