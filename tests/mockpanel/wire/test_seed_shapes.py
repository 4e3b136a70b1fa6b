"""Each seed profile answers with the JSON shape of its seed document's examples.

For every example the contract engineer saved from a seed (``tests/contract/examples/
<seed>__<form>[.<which>].json``) the mock is driven into the same situation (the same order
statuses, the same mix of known and unknown ids) and its answer must have the same shape:
the same keys and the same value types, with list items and multi-status entries compared as
sets of item shapes. Where a seed prints several examples of one form, the answer must match
one of them (seed 001 shows ``add`` both bare and with its extra fields).
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockpanel.profiles import Handler

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel, Panel


EXAMPLES = Path(__file__).resolve().parents[2] / "contract" / "examples"
SEED_PROFILES = {
    "000_9cacb542ce98a4dc": "smmpremium",
    "001_83170cb3c7cbf73c": "smmpro",
    "002_fba3e2809a2ac43d": "smmhub",
    "003_41f8170a78346ebb": "perfectpanel",
    "004_48888adee68f2136": "extended",
}
UNKNOWN = "999999999"


def _examples() -> dict[tuple[str, str], list[Any]]:
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for path in sorted(EXAMPLES.glob("*__*.json")):
        seed, _, rest = path.stem.partition("__")
        form = rest.split(".")[0]
        if seed in SEED_PROFILES and form != "webhook":  # webhooks are not API answers
            found[(seed, form)].append(json.loads(path.read_text(), parse_float=Decimal))
    return dict(found)


EXAMPLE_GROUPS = _examples()


def shape(value: Any, keyed_by_id: bool = False) -> Any:
    """Keys and value types, order-free; ids as keys (multi-status) become a set of items."""
    if isinstance(value, dict):
        if keyed_by_id:
            return ("by id", frozenset(shape(item) for item in value.values()))
        return ("object", frozenset((k, shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", frozenset(shape(item) for item in value))
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    return "null" if value is None else "string"


async def _order_in(panel: Panel, key: str, word: str) -> str:
    """A new order brought to the status the seed example shows."""
    order = await panel.place(key)
    forced = {"In progress": {"remains": 10}, "Partial": {"remains": 157},
              "Completed": {}, "Canceled": {}}
    if word in forced:
        await panel.force(order, word, **forced[word])
    else:
        assert word == "Pending", word
    return order


async def _refill_in(panel: Panel, key: str, word: str) -> str:
    refill = await panel.refill_of(key, await panel.place(key))
    if word in ("Completed", "Rejected"):
        await panel.control("POST", f"/refills/{refill}/outcome", {"status": word})
    elif word == "In progress":
        await panel.control("POST", "/clock/advance", {"seconds": 2})
    return refill


def _items(example: Any) -> list[Any]:
    if isinstance(example, list):
        return example
    return list(example.values()) if "order" not in example else [example]


def _is_error(item: Any, inner: str) -> bool:
    return isinstance(item, dict) and ("error" in item or (isinstance(item.get(inner), dict)
                                        and "error" in item[inner]))


async def _answer(panel: Panel, key: str, form: str, example: Any) -> Any:
    """The mock's answer to the request behind ``example``."""
    api = panel.api
    if form in ("services", "balance"):
        return (await api(key=key, action=form))[1]
    if form == "add":
        return (await api(key=key, action="add", service="1", link="https://x.test/p",
                          quantity="1000"))[1]
    if form == "status":
        order = await _order_in(panel, key, example["status"])
        return (await api(key=key, action="status", order=order))[1]
    if form == "status-multi":
        ids = [UNKNOWN if "error" in item else await _order_in(panel, key, item["status"])
               for item in example.values()]
        action = panel.profile.action_for(Handler.STATUS_MULTI) or "status"
        return (await api(key=key, action=action, orders=",".join(ids)))[1]
    if form == "cancel":
        ids = [UNKNOWN if _is_error(item, "cancel") else await panel.place(key)
               for item in _items(example)]
        return (await api(key=key, action="cancel", orders=",".join(ids)))[1]
    if form == "refill":
        order = await _order_in(panel, key, "Completed")
        return (await api(key=key, action="refill", order=order))[1]
    if form == "refill-multi":
        ids = [UNKNOWN if _is_error(item, "refill") else await _order_in(panel, key, "Completed")
               for item in example]
        return (await api(key=key, action="refill", orders=",".join(ids)))[1]
    if form == "refill_status":
        refill = await _refill_in(panel, key, example["status"])
        return (await api(key=key, action="refill_status", refill=refill))[1]
    assert form == "refill_status-multi", form
    ids = [UNKNOWN if _is_error(item, "status") else await _refill_in(panel, key, item["status"])
           for item in example]
    return (await api(key=key, action="refill_status", refills=",".join(ids)))[1]


@pytest.mark.parametrize(("seed", "form"), sorted(EXAMPLE_GROUPS))
async def test_answers_have_the_seed_examples_shape(
    make_panel: MakePanel, seed: str, form: str
) -> None:
    keyed = form == "status-multi"
    pairs = []
    for example in EXAMPLE_GROUPS[(seed, form)]:
        panel = await make_panel(SEED_PROFILES[seed])
        answer = await _answer(panel, await panel.tenant(), form, example)
        pairs.append((shape(answer, keyed), shape(example, keyed)))
    assert any(mine == theirs for mine, theirs in pairs), pairs


def test_every_seed_profile_has_examples_to_match() -> None:
    assert {seed for seed, _ in EXAMPLE_GROUPS} == set(SEED_PROFILES)


def test_shape_tells_types_and_keys_apart() -> None:
    assert shape({"a": "1"}) != shape({"a": 1})
    assert shape({"a": 1}) != shape({"b": 1})
    assert shape([{"a": 1}, {"a": 2}]) == shape([{"a": 3}])
    assert shape({"1": {"x": "a"}, "2": {"x": "b"}}, keyed_by_id=True) == shape(
        {"9": {"x": "c"}}, keyed_by_id=True
    )
    as_number = shape(json.loads('{"charge": 4.20}', parse_float=Decimal))
    assert as_number == shape({"charge": Decimal("1")})
    assert as_number != shape({"charge": 4})
