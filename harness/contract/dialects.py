"""The dialects the fingerprint knows, as data: ``schemas/dialects.yaml`` read and checked.

A *trait* is one thing an answer can show (``status.error``, ``multi_status.action``, ...) with
its comparison (``equals``, ``one_of``, ``subset``) and weight; a *dialect* is a named set of
trait values. Reading traits off a live panel and scoring dialects is
:mod:`harness.panel.fingerprint`'s job; this module never talks to a panel.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Final, Literal, cast

import yaml
from jsonschema import Draft202012Validator

from harness.base.errors import DataError
from harness.contract.resources import schemas_dir

__all__ = [
    "MESSAGE_CHARS",
    "MULTI_NONE",
    "Dialect",
    "DialectDataError",
    "Dialects",
    "Kind",
    "Scalar",
    "Trait",
    "TraitValue",
    "load_dialects",
    "show",
]

Scalar = str | int | bool
TraitValue = Scalar | tuple[Scalar, ...]
Kind = Literal["equals", "one_of", "subset"]

MULTI_NONE: Final = "none"  # multi_status.action when no action answers orders= per id
MESSAGE_CHARS: Final = 120  # a message longer than this is compared and shown cut
_LIST_SHOWN = 10


class DialectDataError(DataError):
    """``dialects.yaml`` is unreadable, breaks its schema, or is inconsistent."""


# ---------------------------------------------------------------------------------------------
# The data: traits and dialects


def _same(a: object, b: object) -> bool:
    """Equality that keeps ``True``, ``1`` and ``"1"`` apart: they are different dialects."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _equals(observed: TraitValue, expected: TraitValue) -> bool:
    return _same(observed, expected)


def _one_of(observed: TraitValue, expected: TraitValue) -> bool:
    return isinstance(expected, tuple) and any(_same(observed, item) for item in expected)


def _subset(observed: TraitValue, expected: TraitValue) -> bool:
    if not isinstance(observed, tuple) or not isinstance(expected, tuple):
        return False
    return all(_one_of(item, expected) for item in observed)


_MATCHERS: Final[Mapping[str, Callable[[TraitValue, TraitValue], bool]]] = MappingProxyType(
    {"equals": _equals, "one_of": _one_of, "subset": _subset}
)


def show(value: object) -> str:
    """A trait value as evidence prints it: strings quoted, lists bracketed, bools yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        shown = value if len(value) <= MESSAGE_CHARS else value[:MESSAGE_CHARS] + "..."
        return f"'{shown}'"
    if isinstance(value, tuple):
        if not value:
            return "none"
        more = f", +{len(value) - _LIST_SHOWN} more" if len(value) > _LIST_SHOWN else ""
        return "[" + ", ".join(str(item) for item in value[:_LIST_SHOWN]) + more + "]"
    return str(value)


@dataclass(frozen=True, slots=True)
class Trait:
    """One observable property, how it is compared, and how much it weighs."""

    id: str
    kind: Kind
    weight: float
    says: str

    def matches(self, observed: TraitValue, expected: TraitValue) -> bool:
        return _MATCHERS[self.kind](observed, expected)

    def describe(self, value: object) -> str:
        return self.says.replace("{value}", show(value))


@dataclass(frozen=True, slots=True)
class Dialect:
    """A known dialect: where it comes from and the trait values it is seen with."""

    name: str
    source: str
    summary: str
    traits: Mapping[str, TraitValue]
    indistinguishable_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dialects:
    """The whole of ``dialects.yaml``, resolved (``extends`` applied, nulls dropped)."""

    traits: tuple[Trait, ...]
    dialects: tuple[Dialect, ...]
    threshold: float
    min_weight: float

    def get(self, name: str) -> Dialect | None:
        return next((d for d in self.dialects if d.name == name), None)

    def multi_status_aliases(self) -> tuple[str, ...]:
        """The vendor actions some dialect answers multi-status through, in file order."""
        seen = (d.traits.get("multi_status.action") for d in self.dialects)
        return tuple(
            dict.fromkeys(a for a in seen if isinstance(a, str) and a not in ("status", MULTI_NONE))
        )


def _read(source: Traversable) -> object:
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialectDataError(f"{source.name} not found") from None
    try:
        return yaml.safe_load(text) if source.name.endswith((".yaml", ".yml")) else json.loads(text)
    except (yaml.YAMLError, ValueError) as error:
        raise DialectDataError(f"{source.name} is not readable: {error}") from None


def _value(raw: object) -> TraitValue:
    return tuple(cast(list[Scalar], raw)) if isinstance(raw, list) else cast(Scalar, raw)


def load_dialects(
    source: Traversable | None = None, schema: Traversable | None = None
) -> Dialects:
    """Read, validate and resolve the dialect data (``schemas/dialects.yaml`` by default)."""
    if source is None and schema is None:
        return _default_dialects()
    return _load(source or schemas_dir() / "dialects.yaml",
                 schema or schemas_dir() / "dialects.schema.json")


@functools.cache
def _default_dialects() -> Dialects:
    return _load(schemas_dir() / "dialects.yaml", schemas_dir() / "dialects.schema.json")


def _load(source: Traversable, schema: Traversable) -> Dialects:
    data = _read(source)
    problems = sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '/'}: {error.message}"
        for error in Draft202012Validator(cast(dict[str, object], _read(schema))).iter_errors(data)
    )
    if problems:
        raise DialectDataError(f"{source.name}: " + "; ".join(problems[:10]))
    document = cast(dict[str, object], data)
    traits = tuple(_trait(t) for t in cast(list[dict[str, object]], document["traits"]))
    raw_dialects = cast(list[dict[str, object]], document["dialects"])
    by_name = {cast(str, d["name"]): d for d in raw_dialects}
    dialects = tuple(_dialect(d, by_name) for d in raw_dialects)
    result = Dialects(
        traits, dialects, float(cast(float, document["threshold"])),
        float(cast(float, document["min_weight"])),
    )
    problems = list(_consistency(result))
    if problems:
        raise DialectDataError(f"{source.name}: " + "; ".join(problems))
    return result


def _trait(raw: Mapping[str, object]) -> Trait:
    return Trait(
        str(raw["id"]), cast(Kind, raw["kind"]), float(cast(float, raw["weight"])), str(raw["says"])
    )


def _dialect(raw: Mapping[str, object], by_name: Mapping[str, Mapping[str, object]]) -> Dialect:
    """``raw`` with the traits of what it ``extends`` (recursively) under its own."""
    chain: list[Mapping[str, object]] = []
    current: Mapping[str, object] | None = raw
    while current is not None:
        if any(current is link for link in chain):
            raise DialectDataError(f"dialect {raw['name']}: `extends` goes round in a circle")
        chain.append(current)
        parent = current.get("extends")
        if parent is not None and parent not in by_name:
            raise DialectDataError(f"dialect {current['name']} extends unknown {parent}")
        current = by_name[cast(str, parent)] if parent is not None else None
    merged: dict[str, object] = {}
    for link in reversed(chain):
        merged.update(cast(Mapping[str, object], link["traits"]))
    return Dialect(
        name=str(raw["name"]),
        source=str(raw["source"]),
        summary=str(raw["summary"]),
        traits=MappingProxyType({k: _value(v) for k, v in merged.items() if v is not None}),
        indistinguishable_from=tuple(cast(list[str], raw.get("indistinguishable_from", []))),
    )


def _consistency(data: Dialects) -> Iterable[str]:
    """What the JSON Schema cannot say: declared traits, list values, symmetric sets."""
    kinds = {t.id: t.kind for t in data.traits}
    if len(kinds) != len(data.traits):
        yield "a trait id is declared twice"
    names = [d.name for d in data.dialects]
    if len(set(names)) != len(names):
        yield "a dialect name is used twice"
    for dialect in data.dialects:
        for trait_id, value in dialect.traits.items():
            kind = kinds.get(trait_id)
            if kind is None:
                yield f"{dialect.name}: undeclared trait {trait_id}"
            elif kind != "equals" and not isinstance(value, tuple):
                yield f"{dialect.name}: {trait_id} is {kind}, so its value must be a list"
        for other in dialect.indistinguishable_from:
            partner = data.get(other)
            if partner is None or other == dialect.name:
                yield f"{dialect.name}: indistinguishable_from names {other}"
            elif dialect.name not in partner.indistinguishable_from:
                yield f"{dialect.name} and {other}: indistinguishable_from must be symmetric"
