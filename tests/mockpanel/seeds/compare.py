"""How an answer is compared with a seed page's example answer.

The page's example was taken from some other customer's account, so its values are not this
tenant's: what must match is the form of the answer, which is what a client's code depends on.

* **Shape.** Objects have exactly the page's keys (a key is neither added nor dropped), except
  the keys an example declares ``optional`` because the same page documents them for that
  answer elsewhere. An object keyed by order id (multi-status) has the requested ids as keys:
  the page's ids are mapped to the ones the test created. Lists correspond item by item in
  request order, except a catalogue (``any_item``), whose every item must match one of the
  page's items.
* **Types.** Each value has the page's JSON type: string, number, boolean, null, object,
  array (``"rate": "0.90"`` is a string; ``"charge": 4.20`` a number). A string the page
  prints as a decimal number (``"157"``, ``"0.90"``) must be one; one that is not
  (``"K7M2X9"``) may be any text.
* **Money places.** A ``charge`` or ``balance`` printed as a string has the page's number of
  decimals: ``"6.00"`` and ``"0.27819"`` show the precision the panel prints, which clients
  parse and display. A money JSON number's trailing zeros carry no meaning and are ignored.
  An example lists in ``copied_places`` the money keys whose places it does not vouch for (a
  stock sample pasted from another panel's page, beside the panel's own figures).
* **Values.** Compared only for the keys an example lists in ``exact`` (status words, the
  currency, error strings) and for ids the test created for the page's ids (a cancel item's
  ``order`` is the order that was asked for). Balances, charges, counts and new ids depend on
  state and are compared by type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["MONEY_KEYS", "Rules", "differences", "kind"]

MONEY_KEYS = frozenset({"charge", "balance"})
# Keys whose value is an id of this kind, when the page's value is one of its ids.
ID_KEYS: Mapping[str, str] = {"order": "order", "order_id": "order", "refill": "refill"}
_DECIMAL = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class Rules:
    exact: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    # "order" / "refill" -> {the page's id: the id the test created for it}
    ids: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    any_item: bool = False
    copied_places: frozenset[str] = frozenset()


def kind(value: Any) -> str:
    """The JSON type of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def _places(text: str) -> int:
    return len(text.partition(".")[2])


def differences(mine: Any, seed: Any, rules: Rules) -> list[str]:
    """Every way ``mine`` differs from the page's ``seed`` answer under ``rules``; empty when
    they agree."""
    return list(_diff(mine, seed, "$", None, rules, top=True))


def _diff(mine: Any, seed: Any, path: str, key: str | None, rules: Rules, *, top: bool
          ) -> Iterator[str]:
    mine_kind, seed_kind = kind(mine), kind(seed)
    if mine_kind != seed_kind:
        yield f"{path}: a {mine_kind} ({mine!r}) where the seed has a {seed_kind} ({seed!r})"
        return
    if seed_kind == "object":
        yield from _diff_object(mine, seed, path, rules)
    elif seed_kind == "array":
        yield from _diff_array(mine, seed, path, rules, top=top)
    elif seed_kind == "string":
        if _DECIMAL.match(seed) and not _DECIMAL.match(mine):
            yield f"{path}: {mine!r} is not a decimal number, as the seed's {seed!r} is"
        elif (key in MONEY_KEYS and key not in rules.copied_places and _DECIMAL.match(seed)
              and _places(mine) != _places(seed)):
            yield (f"{path}: {mine!r} has {_places(mine)} decimals, the seed's {seed!r} "
                   f"{_places(seed)}")
    if key is not None and seed_kind in ("string", "number"):
        created = rules.ids.get(ID_KEYS.get(key, ""), {})
        if str(seed) in created and str(mine) != created[str(seed)]:
            yield f"{path}: {mine!r} is not the id created for the seed's {seed!r}"
        elif key in rules.exact and mine != seed:
            yield f"{path}: {mine!r} where the seed has {seed!r}"


def _diff_object(mine: dict[str, Any], seed: dict[str, Any], path: str, rules: Rules
                 ) -> Iterator[str]:
    orders = rules.ids.get("order", {})
    wanted = {orders.get(name, name): name for name in seed}  # keyed by id: the created ids
    missing = sorted(wanted[name] for name in set(wanted) - set(mine))
    extra = sorted(set(mine) - set(wanted) - rules.optional)
    if missing:
        yield f"{path}: lacks {', '.join(missing)} (has {', '.join(sorted(mine))})"
    if extra:
        yield f"{path}: has {', '.join(extra)}, which the seed's answer does not"
    for name, seed_name in wanted.items():
        if name in mine:
            yield from _diff(mine[name], seed[seed_name], f"{path}.{seed_name}", seed_name,
                             rules, top=False)


def _diff_array(mine: list[Any], seed: list[Any], path: str, rules: Rules, *, top: bool
                ) -> Iterator[str]:
    if top and rules.any_item:
        if not mine:
            yield f"{path}: empty, where the seed lists items"
        for index, item in enumerate(mine):
            per_item = [list(_diff(item, example, f"{path}[{index}]", None, rules, top=False))
                        for example in seed]
            if all(per_item):
                yield from min(per_item, key=len)
        return
    if len(mine) != len(seed):
        yield f"{path}: {len(mine)} items where the seed has {len(seed)}"
    for index, (item, example) in enumerate(zip(mine, seed, strict=False)):
        yield from _diff(item, example, f"{path}[{index}]", None, rules, top=False)
