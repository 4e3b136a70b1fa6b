"""Which values take the C encoder: ``jsontext._plain`` checks scalar members inline.

A value wrongly judged plain would send a ``Decimal`` (or a non-str key) to the C encoder,
which writes it differently or not at all; one wrongly judged not plain only costs time.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockpanel.wire import jsontext
from mockpanel.wire.jsontext import dumps


class _Word(StrEnum):
    DONE = "Completed"


_scalars = (
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
_plain_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _with_decimal(value: Any, depth: int) -> Any:
    """``value`` with a ``Decimal`` put in as deep as ``depth`` allows (at the top if scalar)."""
    if isinstance(value, dict):
        if value and depth:
            name = next(iter(value))
            return value | {name: _with_decimal(value[name], depth - 1)}
        return value | {"added": Decimal("1.10")}
    if isinstance(value, list | tuple):
        if value and depth:
            return type(value)([_with_decimal(value[0], depth - 1), *value[1:]])
        return type(value)([*value, Decimal("1.10")])
    return Decimal("1.10")


@given(value=_plain_values)
def test_values_of_exact_json_types_are_plain(value: Any) -> None:
    assert jsontext._plain(value)


@given(value=_plain_values, depth=st.integers(min_value=0, max_value=4))
def test_a_decimal_anywhere_is_not_plain(value: Any, depth: int) -> None:
    assert not jsontext._plain(_with_decimal(value, depth))


@pytest.mark.parametrize(
    "value",
    [
        {"charge": Decimal("0.10"), "status": "Pending"},  # a flat answer, scalar member
        {"status": "Pending", "charge": Decimal("0.10")},  # the Decimal after plain members
        {"1": {"charge": "0.10"}, "2": {"charge": Decimal("0.10")}},  # second of many items
        [{"a": 1}, Decimal("2")],
        ({"a": 1}, [Decimal("2")]),
        {"a": {1: "x"}},  # a non-str key inside
        {"status": _Word.DONE},  # a str subclass: the exact path decides how it is written
        [True, _Word.DONE],
    ],
)
def test_members_the_c_encoder_may_not_see_make_the_value_not_plain(value: Any) -> None:
    assert not jsontext._plain(value)


def test_a_multi_status_body_is_written_by_the_fast_path_as_the_exact_path_would() -> None:
    body = {
        str(order): {"charge": "0.00001", "start_count": "0", "status": "Pending",
                     "remains": str(order), "currency": "USD"}
        for order in range(10000, 10100)
    }
    assert jsontext._plain(body)
    parts: list[str] = []
    jsontext._encode(body, parts, None, 0)
    assert dumps(body) == "".join(parts)
