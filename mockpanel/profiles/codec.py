"""A :class:`~mockpanel.profiles.model.Profile` as plain data (what a profile file holds), and
back, driven by the dataclasses' own type hints so that a new field needs no code here.

The plain form is what YAML and JSON can hold: enums by their value (``"form"``,
``"Completed"``), sets and tuples as lists, read-only mappings as mappings, money as a decimal
string (``"0.90"``), and the ordered pairs of constant body fields and per-status wordings as
mappings (YAML keeps a mapping's order). :func:`schema` derives the JSON Schema of that form from
the same hints, so the file format, the reader and the schema cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from types import MappingProxyType
from typing import Any, TypeGuard, Union, get_args, get_origin

from mockpanel.profiles.model import Profile

__all__ = [
    "FieldError",
    "fields_of",
    "from_plain",
    "is_dataclass_type",
    "profile_from_plain",
    "profile_to_plain",
    "schema",
    "to_plain",
    "unwrap_optional",
]

Path = tuple[str | int, ...]


class FieldError(ValueError):
    """A value that does not fit its field; ``path`` is where it sits in the file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def profile_to_plain(profile: Profile) -> dict[str, Any]:
    """``profile`` as plain data, every field present, in declaration order."""
    plain = to_plain(profile, Profile)
    assert isinstance(plain, dict)
    return plain


def profile_from_plain(data: Mapping[str, Any]) -> Profile:
    """The profile ``data`` describes. Raises :class:`FieldError` for a value that does not
    fit its field and ``ValueError`` for a profile whose fields contradict each other."""
    value = from_plain(data, Profile, ())
    assert isinstance(value, Profile)
    return value


# --- the type hints, read once per class -------------------------------------------------------


@cache
def fields_of(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type hint, has a default) of each field a constructor takes."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints[f.name],
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.init
    )


def unwrap_optional(hint: Any) -> Any | None:
    """``X`` for ``X | None``; None for any other hint."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(get_args(hint)) == 2:
            return args[0]
    return None


def _pairs(hint: Any) -> tuple[Any, Any] | None:
    """(K, V) for ``tuple[tuple[K, V], ...]``, an ordered table written as a mapping."""
    if get_origin(hint) is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis and get_origin(args[0]) is tuple:
            inner = get_args(args[0])
            if len(inner) == 2:
                return inner[0], inner[1]
    return None


def is_dataclass_type(hint: Any) -> TypeGuard[type]:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


# --- to plain ----------------------------------------------------------------------------------


def to_plain(value: Any, hint: Any) -> Any:
    """``value`` (of type ``hint``) as plain data."""
    inner = unwrap_optional(hint)
    if inner is not None:
        return None if value is None else to_plain(value, inner)
    if is_dataclass_type(hint):
        return {name: to_plain(getattr(value, name), h) for name, h, _ in fields_of(hint)}
    if _is_enum(hint):
        return value.value
    if hint is Decimal:
        return str(value)
    pairs = _pairs(hint)
    if pairs is not None:
        return {to_plain(k, pairs[0]): to_plain(v, pairs[1]) for k, v in value}
    origin = get_origin(hint)
    if origin is frozenset:
        (item,) = get_args(hint)
        return [to_plain(v, item) for v in _in_order(value, item)]
    if origin is tuple:
        item = get_args(hint)[0]
        return [to_plain(v, item) for v in value]
    if origin is Mapping:
        key, item = get_args(hint)
        return {to_plain(k, key): to_plain(v, item) for k, v in value.items()}
    return value


def _in_order(values: frozenset[Any], item: Any) -> list[Any]:
    """A set's members in a stable order: an enum's own order, else sorted."""
    if _is_enum(item):
        return [member for member in item if member in values]
    return sorted(values)


# --- from plain --------------------------------------------------------------------------------


def _where(path: Path) -> str:
    return ".".join(str(p) for p in path) or "the profile"


def from_plain(data: Any, hint: Any, path: Path) -> Any:
    """The value of type ``hint`` that ``data`` describes; :class:`FieldError` if it cannot."""
    inner = unwrap_optional(hint)
    if inner is not None:
        return None if data is None else from_plain(data, inner, path)
    if is_dataclass_type(hint):
        return _dataclass(data, hint, path)
    if _is_enum(hint):
        try:
            return hint(data)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in hint)
            raise FieldError(path, f"{data!r} is not one of {allowed}") from None
    if hint is Decimal:
        return _decimal(data, path)
    pairs = _pairs(hint)
    if pairs is not None:
        table = _mapping(data, path)
        return tuple(
            (from_plain(k, pairs[0], path), from_plain(v, pairs[1], (*path, str(k))))
            for k, v in table.items()
        )
    origin = get_origin(hint)
    if origin in (frozenset, tuple):
        item = get_args(hint)[0]
        if not isinstance(data, list):
            raise FieldError(path, f"expected a list, got {_kind(data)}")
        items = [from_plain(v, item, (*path, i)) for i, v in enumerate(data)]
        if origin is frozenset:
            if len(set(items)) != len(items):
                raise FieldError(path, "lists a value twice")
            return frozenset(items)
        return tuple(items)
    if origin is Mapping:
        key, item = get_args(hint)
        table = _mapping(data, path)
        return MappingProxyType(
            {
                from_plain(k, key, (*path, str(k))): from_plain(v, item, (*path, str(k)))
                for k, v in table.items()
            }
        )
    return _scalar(data, hint, path)


def _dataclass(data: Any, cls: type, path: Path) -> Any:
    table = _mapping(data, path)
    known = {name for name, _, _ in fields_of(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise FieldError(
            (*path, unknown[0]),
            f"unknown field {unknown[0]!r}; the fields here are {', '.join(sorted(known))}",
        )
    values: dict[str, Any] = {}
    for name, h, has_default in fields_of(cls):
        if name in table:
            values[name] = from_plain(table[name], h, (*path, name))
        elif not has_default:
            raise FieldError((*path, name), f"{name} is required")
    try:
        return cls(**values)
    except FieldError:
        raise
    except (TypeError, ValueError) as exc:
        raise FieldError(path, str(exc)) from None


def _mapping(data: Any, path: Path) -> Mapping[Any, Any]:
    if not isinstance(data, Mapping):
        raise FieldError(path, f"expected a mapping, got {_kind(data)}")
    return data


def _decimal(data: Any, path: Path) -> Decimal:
    # A string, so that "0.90" keeps its digits; a YAML float would already have lost them.
    if not isinstance(data, str):
        raise FieldError(path, f"write the amount as a quoted decimal string, got {_kind(data)}")
    try:
        value = Decimal(data)
    except InvalidOperation:
        raise FieldError(path, f"{data!r} is not a decimal number") from None
    if not value.is_finite():
        raise FieldError(path, f"{data!r} is not a finite decimal number")
    return value


def _scalar(data: Any, hint: Any, path: Path) -> Any:
    if get_origin(hint) is typing.Literal:
        allowed = get_args(hint)
        if data not in allowed or isinstance(data, bool):
            raise FieldError(path, f"{data!r} is not one of {', '.join(map(repr, allowed))}")
        return data
    if get_origin(hint) in (Union, types.UnionType):  # str | int: a constant body field
        if isinstance(data, str | int) and not isinstance(data, bool):
            return data
        raise FieldError(path, f"expected text or a whole number, got {_kind(data)}")
    if hint is bool:
        if not isinstance(data, bool):
            raise FieldError(path, f"expected true or false, got {_kind(data)}")
        return data
    if hint is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise FieldError(path, f"expected a whole number, got {_kind(data)}")
        return data
    if hint is str:
        if not isinstance(data, str):
            raise FieldError(path, f"expected text, got {_kind(data)}")
        return data
    raise TypeError(f"{_where(path)}: no plain form for {hint!r}")  # a new field's type: add it


def _kind(data: Any) -> str:
    if data is None:
        return "nothing (null)"
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "a mapping"}.get(type(data), type(data).__name__)


# --- the JSON Schema of the plain form ---------------------------------------------------------


def schema(hint: Any = Profile) -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``hint``'s plain form; no field is required (a file that
    ``extends:`` another gives only what differs; a whole profile's required fields are
    checked on the merged result)."""
    inner = unwrap_optional(hint)
    if inner is not None:
        return {"anyOf": [schema(inner), {"type": "null"}]}
    if is_dataclass_type(hint):
        return {
            "type": "object",
            "properties": {name: schema(h) for name, h, _ in fields_of(hint)},
            "additionalProperties": False,
        }
    if _is_enum(hint):
        return {"enum": [m.value for m in hint]}
    if hint is Decimal:
        return {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
    pairs = _pairs(hint)
    if pairs is not None:
        return {"type": "object", "additionalProperties": schema(pairs[1]),
                **_keys(pairs[0])}
    origin = get_origin(hint)
    if origin in (frozenset, tuple):
        return {"type": "array", "items": schema(get_args(hint)[0]),
                **({"uniqueItems": True} if origin is frozenset else {})}
    if origin is Mapping:
        key, item = get_args(hint)
        return {"type": "object", "additionalProperties": schema(item), **_keys(key)}
    if get_origin(hint) is typing.Literal:
        return {"enum": list(get_args(hint))}
    if get_origin(hint) in (Union, types.UnionType):
        return {"type": ["string", "integer"]}
    return {"type": {bool: "boolean", int: "integer", str: "string"}[hint]}


def _keys(key: Any) -> dict[str, Any]:
    if _is_enum(key):
        return {"propertyNames": {"enum": [m.value for m in key]}}
    return {}
