"""The contract as code: loads the v2 JSON Schemas and the clause list, and validates payloads.

Everything is read through :func:`harness.contract.resources.schemas_dir`
(``importlib.resources``), so
a source checkout and an installed wheel behave the same. Schema ``$ref``s resolve offline
through a :class:`referencing.Registry` built from the files themselves; nothing is fetched.

Three directions per form name:

- ``request``: the form body a client sends (every value a string).
- ``response``: the lenient shape, accepting every variant real clients cope with.
- ``canonical``: the classic PerfectPanel shape (seed 003). A payload valid against
  ``response`` but not ``canonical`` is a dialect variant, graded NON-STRICT.

Exceptions: unknown form names raise :class:`KeyError`, an unknown direction
:class:`ValueError`, and a missing, unparsable or invalid contract file :class:`ContractError`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any, Final, Literal, cast, get_args

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from harness.base.errors import DataError
from harness.base.redaction import REDACTED
from harness.contract.resources import schemas_dir

__all__ = [
    "BASE_URI",
    "CANONICAL_FORMS",
    "FORMS",
    "REQUEST_FORMS",
    "RESPONSE_FORMS",
    "Basis",
    "Citation",
    "Clause",
    "ContractError",
    "Direction",
    "Violation",
    "clauses",
    "contract_hash",
    "forms",
    "is_canonical",
    "registry",
    "schema",
    "schema_documents",
    "service_types",
    "validate",
]

BASE_URI: Final = "https://smm-conformance.invalid/schemas/v2/"
"""The ``$id`` prefix of every schema file; the host is reserved and never resolved."""

Direction = Literal["request", "response", "canonical"]
Level = Literal["MUST", "SHOULD", "MAY"]
Basis = Literal["safety"]
"""Why a clause binds without quotes: ``safety``, a rule any panel holding money must keep."""

REQUEST_FORMS: Final[tuple[str, ...]] = (
    "services",
    "add",
    "status",
    "status-multi",
    "cancel",
    "refill",
    "refill-multi",
    "refill_status",
    "refill_status-multi",
    "balance",
)
RESPONSE_FORMS: Final[tuple[str, ...]] = (*REQUEST_FORMS, "error", "webhook")
CANONICAL_FORMS: Final[tuple[str, ...]] = (*REQUEST_FORMS, "error")
FORMS: Final[tuple[str, ...]] = RESPONSE_FORMS
"""Every form name: the request forms, plus ``error`` and ``webhook`` (responses only)."""

_FORMS_BY_DIRECTION: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"request": REQUEST_FORMS, "response": RESPONSE_FORMS, "canonical": CANONICAL_FORMS}
)
_LEVELS: Final[tuple[str, ...]] = get_args(Level)
_BASES: Final[tuple[str, ...]] = get_args(Basis)
_CONTRACT_SUFFIXES: Final = (".json", ".yaml", ".yml")


class ContractError(DataError):
    """A contract file is missing, unparsable, or does not satisfy its own schema."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a payload breaks a schema."""

    pointer: str
    """JSON pointer into the payload (``""`` is the root), e.g. ``"/1/status"``."""
    message: str
    """jsonschema's message, with the payload's ``key`` value redacted."""
    schema_path: str
    """JSON pointer along the schema keywords that failed (it runs through ``$ref``s)."""


@dataclass(frozen=True, slots=True)
class Citation:
    """One short verbatim quote that states a clause's rule, and the document it is from."""

    source: str
    """A seed file name (``003_41f8170a78346ebb.txt``) or ``protocol-variants.md#<heading>``."""
    quote: str
    """The quote as written in ``clauses.yaml`` (it may differ from the source in whitespace)."""

    @property
    def document(self) -> str:
        """The file quoted: ``source`` without its ``#section`` part."""
        return self.source.partition("#")[0]

    @property
    def section(self) -> str | None:
        """The heading of the quoted section of ``protocol-variants.md``, else ``None``."""
        _, hash_sign, heading = self.source.partition("#")
        return heading if hash_sign else None


@dataclass(frozen=True, slots=True)
class Clause:
    """One numbered rule of the protocol, as ``schemas/clauses.yaml`` states it."""

    id: str
    level: Level
    title: str
    text: str
    sources: tuple[str, ...]
    needs: tuple[str, ...]
    """What checking it takes, exactly as written: ``("none",)`` or e.g. ``("spend",)``."""
    forms: tuple[str, ...] = ()
    """The form names whose schemas the clause leans on (optional in the file)."""
    evidence: tuple[Citation, ...] = ()
    """The quotes the rule comes from, in file order (empty for a rule on safety alone)."""
    basis: Basis | None = None
    """``"safety"`` when the rule binds because customers' money demands it, else ``None``."""
    reason: str | None = None
    """One line saying why the safety basis applies (set exactly when ``basis`` is)."""


def forms(direction: Direction) -> tuple[str, ...]:
    """The form names that have a schema in ``direction``."""
    try:
        return _FORMS_BY_DIRECTION[direction]
    except KeyError:
        raise ValueError(
            f"unknown direction {direction!r}; valid: {', '.join(_FORMS_BY_DIRECTION)}"
        ) from None


def validate(name: str, direction: Direction, payload: object) -> list[Violation]:
    """Check ``payload`` against ``<direction>/<name>.json``; ``[]`` means valid.

    Violations are deduplicated and sorted by pointer, then schema path, then message.
    """
    validator = _validator(*_relpath_parts(name, direction))
    found = {
        Violation(
            pointer=_pointer(error.absolute_path),
            message=error.message,
            schema_path=_pointer(error.absolute_schema_path),
        )
        for error in validator.iter_errors(_redact(payload))
    }
    return sorted(found, key=lambda v: (v.pointer, v.schema_path, v.message))


def is_canonical(name: str, payload: object) -> bool:
    """Whether ``payload`` has the classic PerfectPanel shape (``canonical/<name>.json``)."""
    return bool(_validator(*_relpath_parts(name, "canonical")).is_valid(payload))


def schema(name: str, direction: str) -> Mapping[str, Any]:
    """The raw schema document of a form (a copy: changing it changes nothing here)."""
    return copy.deepcopy(_documents()[_relpath(name, direction)])


@functools.cache
def registry() -> Registry[Any]:
    """Every ``schemas/v2`` file as a resource under its ``$id``; it never retrieves anything."""
    resources = [
        (document["$id"], Resource.from_contents(document, default_specification=DRAFT202012))
        for document in _documents().values()
    ]
    return Registry().with_resources(resources).crawl()


@functools.cache
def service_types() -> Mapping[str, str]:
    """Catalogue ``type`` label -> name of its ``$defs`` entry in ``request/add.json``.

    E.g. ``{"Default": "default", "Custom Comments": "custom_comments", ...}``; validate a
    request for one type against ``BASE_URI + "request/add.json#/$defs/" + name``.
    """
    definitions = _documents()["request/add.json"]["$defs"]
    return MappingProxyType(
        {
            definition["x-service-type"]: def_name
            for def_name, definition in definitions.items()
            if "x-service-type" in definition
        }
    )


def clauses(
    source: Traversable | None = None, *, schema_source: Traversable | None = None
) -> Mapping[str, Clause]:
    """The clauses by id, in file order, from ``clauses.yaml`` checked by its JSON Schema.

    ``source`` and ``schema_source`` default to ``schemas/clauses.yaml`` and
    ``schemas/clauses.schema.json``; the default pair is loaded once and cached.
    """
    if source is None and schema_source is None:
        return _default_clauses()
    return _load_clauses(
        source if source is not None else schemas_dir() / "clauses.yaml",
        schema_source if schema_source is not None else schemas_dir() / "clauses.schema.json",
    )


def contract_hash() -> str:
    """SHA-256 over every schema and clause file (path and content), for reports."""
    digest = hashlib.sha256()
    for relpath, item in sorted(_walk(schemas_dir(), "")):
        if relpath.endswith(_CONTRACT_SUFFIXES):
            digest.update(relpath.encode())
            digest.update(b"\0")
            digest.update(hashlib.sha256(item.read_bytes()).digest())
    return digest.hexdigest()


# ---- schemas ------------------------------------------------------------------------------


def _relpath_parts(name: str, direction: str) -> tuple[str, str]:
    if name not in forms(cast(Direction, direction)):
        valid = ", ".join(forms(cast(Direction, direction)))
        raise KeyError(f"unknown {direction} form {name!r}; valid: {valid}")
    return direction, name


def _relpath(name: str, direction: str) -> str:
    direction, name = _relpath_parts(name, direction)
    return f"{direction}/{name}.json"


def schema_documents() -> dict[str, dict[str, Any]]:
    """A private, mutable copy of every ``schemas/v2`` document by path relative to ``v2/``
    (for tools that rewrite them, such as :mod:`harness.openapi`)."""
    return copy.deepcopy({relpath: dict(document) for relpath, document in _documents().items()})


@functools.cache
def _documents() -> Mapping[str, Mapping[str, Any]]:
    """Every ``schemas/v2`` JSON file by its path relative to ``v2/``."""
    root = schemas_dir() / "v2"
    documents: dict[str, Mapping[str, Any]] = {}
    for relpath, item in sorted(_walk(root, "")):
        if not relpath.endswith(".json"):
            continue
        try:
            document = json.loads(item.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ContractError(f"schemas/v2/{relpath} is not valid JSON: {error}") from None
        expected = BASE_URI + relpath
        if not isinstance(document, dict) or document.get("$id") != expected:
            raise ContractError(f"schemas/v2/{relpath} must be an object with $id {expected!r}")
        documents[relpath] = document
    return MappingProxyType(documents)


@functools.cache
def _validator(direction: str, name: str) -> Draft202012Validator:
    document = _documents()[f"{direction}/{name}.json"]
    return Draft202012Validator(document, registry=registry())


def _walk(folder: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for item in folder.iterdir():
        relpath = f"{prefix}{item.name}"
        if item.is_dir():
            yield from _walk(item, relpath + "/")
        elif item.is_file():
            yield relpath, item


def _pointer(path: Any) -> str:
    """RFC 6901 pointer from a jsonschema path deque."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _redact(payload: object) -> object:
    """Replace a top-level ``key`` by a stand-in of the same validity, so no message shows it.

    The key schema only asks for a non-empty string, so a non-empty string becomes another
    non-empty string and any other value keeps its JSON type (and so its failure).
    """
    if not isinstance(payload, Mapping) or "key" not in payload:
        return payload
    secret = payload["key"]
    stand_in: object
    if isinstance(secret, str):
        stand_in = REDACTED if secret else ""
    elif isinstance(secret, bool) or secret is None:
        stand_in = secret
    elif isinstance(secret, int | float):
        stand_in = 0
    elif isinstance(secret, list):
        stand_in = []
    elif isinstance(secret, Mapping):
        stand_in = {}
    else:
        stand_in = "<redacted value of an unsupported type>"
    return {**payload, "key": stand_in}


# ---- clauses ------------------------------------------------------------------------------


@functools.cache
def _default_clauses() -> Mapping[str, Clause]:
    return _load_clauses(schemas_dir() / "clauses.yaml", schemas_dir() / "clauses.schema.json")


def _load_clauses(source: Traversable, schema_source: Traversable) -> Mapping[str, Clause]:
    where = source.name
    data = _read_yaml(source)
    clause_schema = _read_json(schema_source)
    try:
        Draft202012Validator.check_schema(clause_schema)
    except SchemaError as error:
        raise ContractError(
            f"{schema_source.name} is not a valid JSON Schema: {error.message}"
        ) from None
    problems = sorted(
        (_pointer(error.absolute_path), error.message)
        for error in Draft202012Validator(clause_schema).iter_errors(data)
    )
    if problems:
        listed = "; ".join(f"{pointer or '/'}: {message}" for pointer, message in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ContractError(f"{where} does not satisfy {schema_source.name}: {listed}{more}")
    return _build_clauses(data, where)


def _read_yaml(source: Traversable) -> object:
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"clause file {source.name} not found") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ContractError(f"{source.name} is not valid YAML: {error}") from None


def _read_json(source: Traversable) -> Mapping[str, Any]:
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"clause schema {source.name} not found") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ContractError(f"{source.name} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ContractError(f"{source.name} must hold a JSON object")
    return document


def _build_clauses(data: object, where: str) -> Mapping[str, Clause]:
    """Turn the validated document into Clauses, re-checking what the dataclass relies on.

    The clause schema belongs to the clause file's author; these checks make sure a looser
    schema can never produce a Clause with the wrong types or a duplicated id.
    """
    entries = data.get("clauses") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ContractError(f"{where}: expected a mapping with a 'clauses' list")
    built: dict[str, Clause] = {}
    for index, entry in enumerate(entries):
        at = f"{where}: /clauses/{index}"
        if not isinstance(entry, dict):
            raise ContractError(f"{at}: a clause must be a mapping")
        clause = Clause(
            id=_text_field(entry, "id", at),
            level=_level_field(entry, at),
            title=_text_field(entry, "title", at),
            text=_text_field(entry, "text", at),
            sources=_list_field(entry, "sources", at, required=True),
            needs=_list_field(entry, "needs", at, required=True),
            forms=_list_field(entry, "forms", at, required=False),
            evidence=_evidence_field(entry, at),
            basis=_basis_field(entry, at),
            reason=_optional_text_field(entry, "reason", at),
        )
        if clause.id in built:
            raise ContractError(f"{at}: duplicate clause id {clause.id!r}")
        built[clause.id] = clause
    return MappingProxyType(built)


def _text_field(entry: Mapping[str, object], field: str, at: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{at}/{field}: expected a non-empty string")
    return value


def _level_field(entry: Mapping[str, object], at: str) -> Level:
    value = entry.get("level")
    if value not in _LEVELS:
        raise ContractError(f"{at}/level: expected one of {', '.join(_LEVELS)}, got {value!r}")
    return cast(Level, value)


def _optional_text_field(entry: Mapping[str, object], field: str, at: str) -> str | None:
    return None if entry.get(field) is None else _text_field(entry, field, at)


def _basis_field(entry: Mapping[str, object], at: str) -> Basis | None:
    value = entry.get("basis")
    if value is None:
        return None
    if value not in _BASES:
        raise ContractError(f"{at}/basis: expected one of {', '.join(_BASES)}, got {value!r}")
    return cast(Basis, value)


def _evidence_field(entry: Mapping[str, object], at: str) -> tuple[Citation, ...]:
    value = entry.get("evidence")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ContractError(f"{at}/evidence: expected a list of {{source, quote}} mappings")
    citations = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ContractError(f"{at}/evidence/{index}: expected a {{source, quote}} mapping")
        where = f"{at}/evidence/{index}"
        source, quote = _text_field(item, "source", where), _text_field(item, "quote", where)
        citations.append(Citation(source=source, quote=quote))
    return tuple(citations)


def _list_field(
    entry: Mapping[str, object], field: str, at: str, *, required: bool
) -> tuple[str, ...]:
    value = entry.get(field)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ContractError(f"{at}/{field}: expected a list of non-empty strings")
    return tuple(value)
