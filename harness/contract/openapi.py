"""The OpenAPI 3.1 view of the contract, generated from the v2 JSON Schemas.

SMM panels serve every action on one URL, which OpenAPI cannot tell apart, so each action form
gets a virtual path ``/api/v2#<form>`` (the fragment never reaches the wire; Schemathesis and
HTTP clients drop it) whose ``post`` takes the form's request schema as an
``application/x-www-form-urlencoded`` body. Every schema file is copied into
``components/schemas`` and every ``$ref`` rewritten to point there, so the document stands alone:
users can feed it to their own tooling without our files. Run ``python -m harness.openapi
[-o FILE]`` to write it (JSON, stdout by default).

Answers are described under ``application/json`` and ``text/html`` alike: PHP panels that print
JSON without setting a Content-Type send it as ``text/html`` (protocol-variants 1; GEN-003 grades
that a SHOULD-level deviation, not a broken answer), so a tool checking content types against the
document must not fail them. The API key is a form field (``key``), not a header, query or cookie,
so no OpenAPI security scheme can describe it: ``harness/schemathesis.toml`` and
``harness.schemathesis_hooks`` put it into every request for Schemathesis.

Naming: ``<direction>.<form>`` for a file (``request.add``, ``response.error``,
``canonical.status``, ``common``) and ``<file name>.<def>`` for each of its top-level ``$defs``
(``common.money``, ``request.add.params``), hoisted so tools see them as named components.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote, unquote, urldefrag, urljoin

from harness.base.errors import DataError
from harness.base.version import __version__
from harness.contract.schemas import BASE_URI, REQUEST_FORMS, schema_documents

__all__ = [
    "API_PATH",
    "OpenAPIBuildError",
    "build_openapi",
    "component_name",
    "embed_schemas",
    "main",
    "operation_path",
]

API_PATH: Final = "/api/v2"
OPENAPI_VERSION: Final = "3.1.0"
DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
COMPONENTS_PREFIX: Final = "#/components/schemas/"
FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
JSON_MEDIA_TYPE: Final = "application/json"
HTML_MEDIA_TYPE: Final = "text/html"
"""JSON printed by PHP without a Content-Type of its own (SmartPanel, the TR script): the same
document under PHP's default label."""
ANSWER_MEDIA_TYPES: Final = (JSON_MEDIA_TYPE, HTML_MEDIA_TYPE)

_SUMMARIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "services": "List the service catalogue (action=services)",
        "add": "Place an order (action=add)",
        "status": "One order's status (action=status, order=id)",
        "status-multi": "Several orders' status (action=status, orders=id,id,...)",
        "cancel": "Cancel orders (action=cancel, orders=id,id,...)",
        "refill": "Request a refill of one order (action=refill, order=id)",
        "refill-multi": "Request refills of several orders (action=refill, orders=...)",
        "refill_status": "One refill's status (action=refill_status, refill=id)",
        "refill_status-multi": "Several refills' status (action=refill_status, refills=...)",
        "balance": "The account's balance and currency (action=balance)",
    }
)
# The forms some panels answer with HTTP 201 Created on success: a new order, a new refill
# (LAR-BRL in protocol-variants 2, "HTTP status on error" and the add/refill rows).
_CREATED_FORMS: Final = frozenset({"add", "refill"})
# OpenAPI 3.1 restricts the keys of components/schemas to this.
_COMPONENT_NAME: Final = re.compile(r"[a-zA-Z0-9.\-_]+")
# Keywords whose values are data, not subschemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS: Final = frozenset({"const", "enum", "examples", "default", "example"})
# Keywords that would move the base URI or resolve dynamically; the contract uses none of them,
# and rewriting them correctly would need a full resolver, so meeting one is an error.
_UNSUPPORTED_KEYWORDS: Final = frozenset(
    {"$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveRef", "$recursiveAnchor"}
)


class OpenAPIBuildError(DataError):
    """A schema file cannot be embedded (bad JSON, wrong ``$id``, a ref leaving the contract)."""


def operation_path(form: str) -> str:
    """The virtual path of an action form, e.g. ``/api/v2#status-multi``."""
    return f"{API_PATH}#{form}"


def component_name(relpath: str) -> str:
    """Component name of a schema file given by its path under ``v2/``.

    ``request/add.json`` -> ``request.add``; ``common.json`` -> ``common``.
    """
    if not relpath.endswith(".json"):
        raise ValueError(f"not a schema file: {relpath!r}")
    return relpath.removesuffix(".json").replace("/", ".")


def build_openapi() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, built afresh from the schema files."""
    documents = schema_documents()
    components = embed_schemas(documents)
    paths = {operation_path(form): {"post": _operation(form, components)} for form in REQUEST_FORMS}
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": DIALECT,
        "info": {
            "title": "SMM panel API v2",
            "version": __version__,
            "description": (
                "The reseller protocol of PerfectPanel/JAP-style SMM panels: one POST endpoint "
                f"({API_PATH}) taking a form body with `key` (the API key) and `action`. Each "
                "action form is a virtual path `/api/v2#<form>`; the fragment is not sent. "
                "Schemas are lenient (every variant real panels send); the `canonical.*` "
                "components are the classic PerfectPanel shapes. Errors are `{\"error\": ...}`, "
                "answered with HTTP 200 by classic panels and with 4xx by others. Answers are "
                "JSON, labelled application/json or, by PHP panels that set no Content-Type, "
                "text/html. The key is the form field `key`, which no OpenAPI security scheme "
                "can express: to run Schemathesis, use harness/schemathesis.toml of "
                "smm-conformance (its hooks send PANEL_KEY in every form body). The numbered "
                "rules are in schemas/clauses.yaml of smm-conformance."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [
            {
                "url": "{scheme}://{host}",
                "description": "The panel's origin; the API lives at /api/v2 under it.",
                "variables": {
                    "scheme": {"default": "http", "enum": ["http", "https"]},
                    "host": {"default": "127.0.0.1:8080"},
                },
            }
        ],
        "paths": paths,
        "webhooks": {
            "orderStatusChange": {"post": _webhook_operation(components)},
        },
        "components": {"schemas": components},
    }
    return document


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: write the document as JSON to ``-o FILE`` or stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.openapi",
        description="Write the OpenAPI 3.1 document generated from the SMM v2 schemas.",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="file to write (default: standard output)"
    )
    options = parser.parse_args(argv)
    text = json.dumps(build_openapi(), indent=2, ensure_ascii=False) + "\n"
    if options.output is None:
        sys.stdout.write(text)
    else:
        try:
            options.output.write_text(text, encoding="utf-8")
        except OSError as error:
            parser.exit(2, f"{parser.prog}: cannot write {options.output}: {error.strerror}\n")
    return 0


# ---- operations ---------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENTS_PREFIX + name}


def _json_content(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {JSON_MEDIA_TYPE: {"schema": dict(schema)}}


def _answer_content(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A panel's answer: the same JSON schema under each label panels send it with."""
    return {media_type: {"schema": dict(schema)} for media_type in ANSWER_MEDIA_TYPES}


def _require(components: Mapping[str, Any], name: str) -> str:
    if name not in components:
        raise OpenAPIBuildError(f"schemas/v2 has no {name.replace('.', '/')}.json")
    return name


def _operation(form: str, components: Mapping[str, Any]) -> dict[str, Any]:
    request = _require(components, component_name(f"request/{form}.json"))
    response = _require(components, component_name(f"response/{form}.json"))
    error = _require(components, component_name("response/error.json"))
    description = str(components[request].get("description", f"action form {form}"))
    answer = _answer_content({"anyOf": [_ref(response), _ref(error)]})
    responses: dict[str, Any] = {
        "200": {
            "description": (
                f"The result of {form}, or the error envelope: classic panels answer "
                "errors with HTTP 200."
            ),
            "content": answer,
        },
    }
    if form in _CREATED_FORMS:
        responses["201"] = {
            "description": (
                f"The result of {form} from panels that answer a creation with 201 Created "
                "(Laravel panels). An error envelope here breaks ERR-003 (refusals come with "
                "200 or a 4xx), which the harness and the smm_refusal check report."
            ),
            "content": copy.deepcopy(answer),
        }
    responses["default"] = {
        "description": "The error envelope with a 4xx (or 429 when throttled).",
        "content": _answer_content(_ref(error)),
    }
    operation: dict[str, Any] = {
        "operationId": form.replace("-", "_"),
        "summary": _SUMMARIES.get(form, f"action form {form}"),
        "description": description,
        "tags": [form.split("-", 1)[0]],
        "requestBody": {
            "required": True,
            "content": {FORM_MEDIA_TYPE: {"schema": _ref(request)}},
        },
        "responses": responses,
    }
    return operation


def _webhook_operation(components: Mapping[str, Any]) -> dict[str, Any]:
    webhook = _require(components, component_name("response/webhook.json"))
    return {
        "operationId": "order_status_change",
        "summary": "Order status change pushed to the reseller (optional, seed 004)",
        "requestBody": {"required": True, "content": _json_content(_ref(webhook))},
        "responses": {"200": {"description": "Any 2xx acknowledges the delivery."}},
    }


# ---- embedding ----------------------------------------------------------------------------


def embed_schemas(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``components/schemas`` for schema files keyed by their path under ``v2/``.

    One component per file and per top-level ``$defs`` entry, every ``$ref`` rewritten to a
    ``#/components/schemas/...`` pointer; :class:`OpenAPIBuildError` when a reference points
    outside the given files or the schemas use keywords that cannot be relocated.
    """
    names = {BASE_URI + relpath: component_name(relpath) for relpath in documents}
    for relpath, file_name in zip(documents, names.values(), strict=True):
        if not _COMPONENT_NAME.fullmatch(file_name):
            raise OpenAPIBuildError(f"schemas/v2/{relpath}: file name cannot be a component name")
    components: dict[str, Any] = {}
    for relpath, document in documents.items():
        base = BASE_URI + relpath
        name = names[base]
        body = {
            key: value
            for key, value in document.items()
            if key not in {"$id", "$schema", "$defs"}
        }
        components[name] = _rewrite(body, base, names, relpath)
        for def_name, definition in document.get("$defs", {}).items():
            hoisted = f"{name}.{def_name}"
            if not _COMPONENT_NAME.fullmatch(hoisted):
                raise OpenAPIBuildError(
                    f"schemas/v2/{relpath}: $defs name {def_name!r} cannot be a component name"
                )
            if hoisted in components or hoisted in names.values():
                raise OpenAPIBuildError(f"component name {hoisted!r} is used twice")
            components[hoisted] = _rewrite(definition, base, names, relpath)
    return dict(sorted(components.items()))


def _rewrite(node: Any, base: str, names: Mapping[str, str], where: str) -> Any:
    """A deep copy of ``node`` with every ``$ref`` pointing into ``#/components/schemas``."""
    if isinstance(node, list):
        return [_rewrite(item, base, names, where) for item in node]
    if not isinstance(node, dict):
        return node
    found = _UNSUPPORTED_KEYWORDS.intersection(node)
    if found or "$id" in node:
        keyword = sorted(found or {"$id"})[0]
        raise OpenAPIBuildError(f"schemas/v2/{where}: nested {keyword} is not supported")
    rewritten: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            rewritten[key] = _target(value, base, names, where)
        elif key in _DATA_KEYWORDS:
            rewritten[key] = copy.deepcopy(value)
        elif key == "properties" and isinstance(value, dict):
            # Property names are data; only their values are schemas.
            rewritten[key] = {
                prop: _rewrite(schema, base, names, where) for prop, schema in value.items()
            }
        else:
            rewritten[key] = _rewrite(value, base, names, where)
    return rewritten


def _target(ref: str, base: str, names: Mapping[str, str], where: str) -> str:
    """Map a reference, resolved against its file's ``$id``, to a component pointer."""
    resource, fragment = urldefrag(urljoin(base, ref))
    if resource not in names:
        raise OpenAPIBuildError(f"schemas/v2/{where}: $ref {ref!r} leaves the contract")
    name = names[resource]
    if fragment and not fragment.startswith("/"):
        raise OpenAPIBuildError(f"schemas/v2/{where}: $ref {ref!r} uses an anchor")
    # Fragments are percent-encoded JSON pointers (RFC 6901); work on the decoded tokens.
    tokens = [
        unquote(token).replace("~1", "/").replace("~0", "~") for token in fragment.split("/")[1:]
    ]
    if len(tokens) >= 2 and tokens[0] == "$defs":
        name = f"{name}.{tokens[1]}"
        tokens = tokens[2:]
    rest = "".join("/" + _fragment_token(token) for token in tokens)
    return COMPONENTS_PREFIX + _fragment_token(name) + rest


def _fragment_token(token: str) -> str:
    """One JSON-pointer token, escaped (RFC 6901) and percent-encoded for a URI fragment."""
    return quote(token.replace("~", "~0").replace("/", "~1"), safe="!$&'()*+,;=:@")


if __name__ == "__main__":
    raise SystemExit(main())
