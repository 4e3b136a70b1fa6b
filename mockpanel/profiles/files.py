"""Profile files: YAML read into a :class:`~mockpanel.profiles.model.Profile`, checked first.

A file is the plain form of :mod:`mockpanel.profiles.codec`. It may start from another profile
(``extends: reference``, a built-in's name, or a path relative to the file) and give only what
differs. How a file's value replaces the one it extends:

- a group of settings (``wire``, ``numbers``, ``services``, ``shapes``, ``shapes.cancel``, ...)
  is merged setting by setting;
- ``errors`` is merged code by code, and each code's ``message``, ``status``, ``fields`` and
  ``by_status`` one by one, so a vendor's file words only the errors it words differently;
- every list (``services.catalog``, ``cancellable``, ...) and every other table (``actions``,
  ``order_words``, ``shapes.wrappers``, ...) is replaced whole: a vendor that offers fewer
  actions lists the ones it offers.

``not_observed`` (written by ``mockpanel profiles infer``) lists what a recording did not show,
each with the reason, so a reader knows which values are the reference's guesses; loading ignores
it. A bad file gets a :class:`ProfileFileError` naming the file, the line, the field and the
allowed values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from mockpanel.profiles.codec import (
    FieldError,
    fields_of,
    is_dataclass_type,
    profile_from_plain,
    schema,
    unwrap_optional,
)
from mockpanel.profiles.model import ErrorSpec, Profile

__all__ = [
    "BUILTIN_NAMES",
    "ProfileFileError",
    "builtin_text",
    "file_schema",
    "load_builtin_profiles",
    "load_profile_file",
    "load_profile_text",
    "merged",
]

#: The shipped profiles, in the order ``mockpanel profiles`` lists them.
BUILTIN_NAMES = (
    "reference", "perfectpanel", "smmpremium", "smmpro", "smmhub", "extended", "smartpanel",
    "laravel", "smmapi", "smmserver",
)
_BUILTIN_DIR = "builtin"
# A chain of extends longer than this is a loop or a mistake.
_MAX_DEPTH = 8


class ProfileFileError(ValueError):
    """A profile file that cannot be used: where (file, line, field) and why."""

    def __init__(self, source: str, message: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        where = source if line is None else f"{source}, line {line}"
        text = f"{where}: {field}: {message}" if field else f"{where}: {message}"
        super().__init__(text)
        self.source = source
        self.line = line
        self.field = field


@cache
def file_schema() -> dict[str, Any]:
    """The JSON Schema a profile file is checked against (shipped as ``profile.schema.json``
    for editors; a test keeps that copy equal to this one)."""
    body = schema(Profile)
    body["properties"]["extends"] = {
        "type": "string", "minLength": 1,
        "description": "a built-in profile's name, or a profile file's path relative to this one",
    }
    body["properties"]["not_observed"] = {
        "type": "object", "additionalProperties": {"type": "string"},
        "description": "what the recording a profile was inferred from did not show: each "
                       "setting named keeps the reference's value, with the reason",
    }
    body["properties"]["observed"] = {
        "type": "object",
        "description": "the dialect traits (schemas/dialects.yaml) the recording a profile was "
                       "inferred from shows, by trait id; informational, loading ignores it",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mockpanel profile",
        "description": "One vendor dialect of the SMM panel API v2, as served by mockpanel "
                       "(`mockpanel serve --profile-file FILE`). See `mockpanel profiles show`.",
        **body,
    }


def load_profile_file(path: str | Path) -> Profile:
    """The profile in the YAML file at ``path``; :class:`ProfileFileError` if it is unusable."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProfileFileError(str(file), f"cannot be read: {reason}") from None
    return load_profile_text(text, str(file), base=file.parent)


def load_profile_text(text: str, source: str, *, base: Path | None = None) -> Profile:
    """The profile in YAML ``text`` (``source`` names it in errors; ``base`` is where a
    relative ``extends:`` path is looked for)."""
    document, lines = _read(text, source)
    data = _resolve(document, lines, source, base, depth=0)
    return _build(data, lines, source)


def builtin_text(name: str) -> str:
    """The shipped file of the built-in profile ``name``, as written (comments and all)."""
    if name not in BUILTIN_NAMES:
        raise KeyError(name)
    return resources.files(__package__).joinpath(_BUILTIN_DIR, f"{name}.yaml").read_text("utf-8")


def load_builtin_profiles() -> dict[str, Profile]:
    """Every shipped profile, by name."""
    profiles: dict[str, Profile] = {}
    for name in BUILTIN_NAMES:
        source = f"{name}.yaml (built in)"
        document, lines = _read(builtin_text(name), source)
        data = _resolve(document, lines, source, None, depth=0)
        profile = _build(data, lines, source)
        if profile.name != name:
            raise ProfileFileError(source, f"names itself {profile.name!r}", field="name")
        profiles[name] = profile
    return profiles


# --- reading -----------------------------------------------------------------------------------

Lines = dict[tuple[str | int, ...], int]


def _read(text: str, source: str) -> tuple[dict[str, Any], Lines]:
    """The document and the line of each of its keys and items (for error messages)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileFileError(source, f"is not valid YAML: {problem}", line=line) from None
    if not isinstance(document, dict):
        raise ProfileFileError(source, "must be a mapping of profile settings (name: ..., ...)")
    lines: Lines = {}
    _index(node, (), lines)
    errors = sorted(
        jsonschema.Draft202012Validator(file_schema()).iter_errors(document),
        key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))),
    )
    if errors:
        raise _schema_error(errors[0], lines, source)
    return document, lines


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _index(node: Any, path: tuple[str | int, ...], lines: Lines) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, key.value)
            lines[here] = key.start_mark.line + 1
            _index(value, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index(item, (*path, i), lines)


def _line(lines: Lines, path: tuple[str | int, ...]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _schema_error(error: jsonschema.ValidationError, lines: Lines, source: str) -> ProfileFileError:
    path = tuple(error.absolute_path)
    field = ".".join(map(str, path)) or None
    expected: Any = error.validator_value
    schema_here: Any = error.schema
    if error.validator == "enum" and "propertyNames" in error.schema_path:
        # A key of a table that must be one of a set (an error code, a status word, a handler).
        allowed = ", ".join(json.dumps(v) for v in expected)
        message = f"{json.dumps(error.instance)} is not allowed as a key; allowed keys: {allowed}"
        path = (*path, str(error.instance))
        field = ".".join(map(str, path))
    elif error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in expected)
        message = f"{json.dumps(error.instance)} is not allowed; allowed values: {allowed}"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema_here.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        message = f"unknown setting {extra[0]!r}" if extra else error.message
        if extra:
            path = (*path, extra[0])
            field = ".".join(map(str, path))
        if known:
            message += f"; the settings here are {', '.join(known)}"
    else:
        message = error.message
    return ProfileFileError(source, message, line=_line(lines, path), field=field)


# --- extends -----------------------------------------------------------------------------------


def _resolve(document: dict[str, Any], lines: Lines, source: str, base: Path | None, *,
             depth: int) -> dict[str, Any]:
    """``document`` merged over the profile it extends (recursively), without ``extends``."""
    own = {k: v for k, v in document.items() if k not in ("extends", "not_observed", "observed")}
    parent_ref = document.get("extends")
    if parent_ref is None:
        return own
    if depth >= _MAX_DEPTH:
        raise ProfileFileError(source, f"extends more than {_MAX_DEPTH} profiles deep (a loop?)",
                               line=lines.get(("extends",)), field="extends")
    parent = _parent(parent_ref, lines, source, base, depth)
    return merged(parent, own)


def _parent(ref: str, lines: Lines, source: str, base: Path | None, depth: int) -> dict[str, Any]:
    line = lines.get(("extends",))
    if ref in BUILTIN_NAMES:
        parent_source = f"{ref}.yaml (built in)"
        document, parent_lines = _read(builtin_text(ref), parent_source)
        return _resolve(document, parent_lines, parent_source, None, depth=depth + 1)
    if base is None:
        raise ProfileFileError(source, f"{ref!r} is not a built-in profile; built-in: "
                               f"{', '.join(BUILTIN_NAMES)}", line=line, field="extends")
    file = base / ref
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ProfileFileError(
            source, f"{ref!r} is neither a built-in profile ({', '.join(BUILTIN_NAMES)}) nor a "
            "readable file next to this one", line=line, field="extends") from None
    document, parent_lines = _read(text, str(file))
    return _resolve(document, parent_lines, str(file), file.parent, depth=depth + 1)


def merged(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """``child`` over ``parent`` by the rules of the module docstring (plain forms of whole or
    partial profiles)."""
    return _merge(parent, child, Profile)


def _merge(parent: Mapping[str, Any], child: Mapping[str, Any], cls: type) -> dict[str, Any]:
    hints = {f.name for f in dataclasses.fields(cls)}
    out = dict(parent)
    for name, value in child.items():
        sub = _group_type(cls, name) if name in hints else None
        old = out.get(name)
        if sub is not None and isinstance(value, dict) and isinstance(old, dict):
            out[name] = _merge(old, value, sub)
        elif cls is Profile and name == "errors" and isinstance(value, dict) and isinstance(
            old, dict
        ):
            out[name] = {
                **old,
                **{code: {**old.get(code, {}), **spec} if isinstance(spec, dict) else spec
                   for code, spec in value.items()},
            }
        else:
            out[name] = value
    return out


def _group_type(cls: type, name: str) -> type | None:
    """The dataclass type of field ``name`` of ``cls``, when it is a group of settings."""
    for field_name, hint, _ in fields_of(cls):
        if field_name == name:
            target = unwrap_optional(hint) or hint
            return target if is_dataclass_type(target) and target is not ErrorSpec else None
    return None


# --- building ----------------------------------------------------------------------------------


def _build(data: dict[str, Any], lines: Lines, source: str) -> Profile:
    try:
        return profile_from_plain(data)
    except FieldError as exc:
        field = ".".join(map(str, exc.path)) or None
        raise ProfileFileError(source, exc.message, line=_line(lines, exc.path),
                               field=field) from None
    except ValueError as exc:
        raise ProfileFileError(source, str(exc)) from None
