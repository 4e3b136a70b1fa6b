"""orjson writes the float-free plain answers: its bytes must be the standard encoder's text.

``dumps`` hands a value of exact ``dict``/``list``/``tuple``/``str``/``int``/``bool``/``None``
to orjson and keeps its bytes only when they are ASCII and every int fit; anything else falls
back to the standard library. Whatever path is taken, the text must equal ``json.dumps`` with
ASCII escaping, which is what PHP panels send, and the bytes must equal that text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockpanel.wire import jsontext
from mockpanel.wire.jsontext import dumps, dumps_bytes

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits: orjson refuses
    | st.text()
    | st.text(alphabet=st.characters(max_codepoint=0x7F))  # control characters to escape
    | st.floats(allow_nan=False, allow_infinity=False)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _standard(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


@settings(max_examples=1000)
@given(value=_values)
@example(value={"a": "\x00\x1f\x7f\"\\/\u2028é", "b": [1, -1, 2**63, -(2**63) - 1]})
@example(value={"charge": "0.00001", "start_count": 0, "status": "Pending", "currency": "USD"})
@example(value="\x7f")  # ASCII, escaped by the standard encoder only
@example(value={"a": "\x00\x08\x0c\x1f\"\\/"})
@example(value=[1e-07, 1e16, 0.1, -0.0])
def test_every_path_writes_the_standard_text(value: Any) -> None:
    text = dumps(value)
    assert text == _standard(value)
    assert dumps_bytes(value) == text.encode("ascii")


def test_a_float_free_ascii_answer_is_written_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = jsontext.orjson.dumps

    def spy(value: Any) -> bytes:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(jsontext.orjson, "dumps", spy)
    body = {"order": 16001, "status": "Pending", "remains": "10"}
    assert dumps_bytes(body) == b'{"order":16001,"status":"Pending","remains":"10"}'
    assert calls == [body]
    calls.clear()
    assert dumps_bytes({"rate": 0.5}) == b'{"rate":0.5}'  # a float: not orjson's to write
    assert calls == []


@pytest.mark.parametrize("value", [float("nan"), {"x": float("inf")}])
def test_a_non_finite_float_is_still_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps_bytes(value)
