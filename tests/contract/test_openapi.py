"""The generated OpenAPI document: valid 3.1, self-contained, faithful to the schema files."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis.checks import CheckContext
from schemathesis.config import ChecksConfig
from schemathesis.core.failures import Failure
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance

from harness import contract
from harness.contract.openapi import (
    OpenAPIBuildError,
    build_openapi,
    component_name,
    embed_schemas,
    operation_path,
)
from harness.contract.resources import schemas_dir

# The action forms as ARCHITECTURE.md lists them, spelled out so a form silently dropped from
# the code fails here.
ACTION_FORMS = (
    "services", "add", "status", "status-multi", "cancel", "refill", "refill-multi",
    "refill_status", "refill_status-multi", "balance",
)
FORM_BODY = "application/x-www-form-urlencoded"
DOC_URI = "urn:smm-conformance:openapi"
BASE = contract.BASE_URI

# Payloads with a known verdict, judged both by the source files (harness.contract) and by the
# embedded copies; the seed 003 examples are canonical, the others break the lenient schemas.
SAMPLES: list[tuple[str, contract.Direction, object]] = [
    ("balance", "response", {"balance": "100.84292", "currency": "USD"}),
    ("balance", "response", {"balance": "-1.00", "currency": "USD"}),
    ("balance", "response", {"currency": "USD"}),
    ("add", "response", {"order": 23501}),
    ("add", "response", {"order": "K7M2X9"}),
    ("add", "response", {"order": None}),
    ("status", "response", {"charge": "0.27819", "start_count": "3572", "status": "Partial",
                            "remains": "157", "currency": "USD"}),
    ("status", "response", {"charge": "0.27819", "status": "Exploded", "remains": "157"}),
    ("status-multi", "response", {"1": {"charge": "0.27819", "start_count": "3572",
                                        "status": "Partial", "remains": "157",
                                        "currency": "USD"},
                                  "10": {"error": "Incorrect order ID"}}),
    ("services", "response", [{"service": 1, "name": "Followers", "type": "Default",
                               "category": "First Category", "rate": "0.90", "min": "50",
                               "max": "10000", "refill": True, "cancel": True}]),
    ("services", "response", [{"service": 1, "name": "Followers"}]),
    ("cancel", "response", [{"order": 9, "cancel": 1},
                            {"order": 2, "cancel": {"error": "Incorrect order ID"}}]),
    ("refill", "response", {"refill": "1"}),
    ("refill_status-multi", "response", [{"refill": 1, "status": "Completed"},
                                         {"refill": 3, "status": {"error": "Refill not found"}}]),
    ("error", "response", {"error": "Incorrect order ID"}),
    ("error", "response", {"error": ""}),
    ("add", "request", {"key": "k", "action": "add", "service": "1",
                        "link": "https://example.test/p", "quantity": "100"}),
    ("add", "request", {"key": "k", "action": "add", "link": "https://example.test/p"}),
    ("status-multi", "request", {"key": "k", "action": "status", "orders": "1,2,3"}),
    ("balance", "request", {"key": "k", "action": "services"}),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi()


@pytest.fixture(scope="module")
def embedded_registry(document: dict[str, Any]) -> Registry[Any]:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
    return registry


def _refs(node: object, where: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _refs(item, f"{where}/{index}")


def _resolve_pointer(document: object, ref: str) -> object:
    node = document
    for raw in ref.removeprefix("#/").split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref}: {token!r} walks into a non-object"
        assert token in node, f"{ref}: no {token!r}"
        node = node[token]
    return node


def _schema_files() -> list[str]:
    found: list[str] = []
    for direction in ("request", "response", "canonical"):
        folder = schemas_dir() / "v2" / direction
        found += [f"{direction}/{item.name}" for item in folder.iterdir()
                  if item.name.endswith(".json")]
    return [*sorted(found), "common.json"]


def test_document_is_openapi_3_1_with_the_2020_12_dialect(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"


def test_schemathesis_loads_and_validates_the_document(document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # raises on a document that breaks the OpenAPI 3.1 meta-schema
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "an operation failed to load"
    labels = {result.ok().label for result in results if isinstance(result, Ok)}
    assert labels == {f"POST {operation_path(form)}" for form in ACTION_FORMS}


def test_schemathesis_validation_catches_a_broken_document(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    broken["paths"][operation_path("add")]["post"]["responses"]["200"] = {"content": {}}
    with pytest.raises(Exception, match="description"):
        schemathesis.openapi.from_dict(broken).validate()


@pytest.mark.parametrize("form", ACTION_FORMS)
def test_every_action_form_has_its_path(form: str, document: dict[str, Any]) -> None:
    operation = document["paths"][f"/api/v2#{form}"]["post"]
    assert operation["operationId"] == form.replace("-", "_")
    body = operation["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        FORM_BODY: {"schema": {"$ref": f"#/components/schemas/request.{form}"}}
    }
    answer = {"anyOf": [{"$ref": f"#/components/schemas/response.{form}"},
                        {"$ref": "#/components/schemas/response.error"}]}
    error = {"$ref": "#/components/schemas/response.error"}
    responses = operation["responses"]
    # Laravel panels answer a new order or refill with 201 Created (protocol-variants 2).
    created = ["201"] if form in ("add", "refill") else []
    assert list(responses) == ["200", *created, "default"]
    for status in ("200", *created):
        assert responses[status]["content"] == {
            "application/json": {"schema": answer}, "text/html": {"schema": answer}}
    assert responses["default"]["content"] == {
        "application/json": {"schema": error}, "text/html": {"schema": error}}


@pytest.mark.parametrize(
    ("content_type", "conforms"),
    [("application/json", True), ("text/html; charset=UTF-8", True), ("text/plain", False)],
)
def test_schemathesis_accepts_json_labelled_as_php_labels_it(
    document: dict[str, Any], content_type: str, conforms: bool
) -> None:
    # GEN-003 makes text/html labelling a SHOULD-level deviation: it must not fail a run.
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    case = schema.find_operation_by_id("balance").Case(body={"key": "k", "action": "balance"})
    response = schemathesis.Response(
        status_code=200, headers={"content-type": [content_type]},
        content=b'{"balance": "1.00", "currency": "USD"}',
        request=requests.Request("POST", "http://panel.test/api/v2", data=case.body).prepare(),
        elapsed=0.01, verify=True)
    context = CheckContext(override=None, auth=None, headers=None, config=ChecksConfig(),
                           transport_kwargs=None, response_checks=None)
    if conforms:
        content_type_conformance(context, response, case)
    else:
        with pytest.raises(Failure, match="Undocumented Content-Type"):
            content_type_conformance(context, response, case)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [item["post"]["operationId"] for item in document["paths"].values()]
    assert len(ids) == len(set(ids)) == len(ACTION_FORMS)


def test_webhook_is_described(document: dict[str, Any]) -> None:
    content = document["webhooks"]["orderStatusChange"]["post"]["requestBody"]["content"]
    webhook = {"$ref": "#/components/schemas/response.webhook"}
    assert content["application/json"]["schema"] == webhook


def test_every_schema_file_and_definition_is_a_component(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    for relpath in _schema_files():
        name = component_name(relpath)
        assert name in components, relpath
        source = json.loads((schemas_dir() / "v2" / relpath).read_text(encoding="utf-8"))
        for def_name in source.get("$defs", {}):
            assert f"{name}.{def_name}" in components, f"{relpath}#/$defs/{def_name}"


def test_no_ref_points_outside_the_document(document: dict[str, Any]) -> None:
    refs = list(_refs(document))
    assert refs, "the document should use references"
    for where, ref in refs:
        assert ref.startswith("#/"), f"{where}: external $ref {ref!r}"
        assert isinstance(_resolve_pointer(document, ref), dict), f"{where}: {ref}"


def test_components_carry_no_base_uri_changes(document: dict[str, Any]) -> None:
    text = json.dumps(document["components"])
    assert '"$id"' not in text
    assert BASE not in text


@pytest.mark.parametrize(("form", "direction", "payload"), SAMPLES)
def test_embedded_schemas_judge_like_the_source_files(
    form: str,
    direction: contract.Direction,
    payload: object,
    embedded_registry: Registry[Any],
) -> None:
    name = component_name(f"{direction}/{form}.json")
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{name}"}, registry=embedded_registry
    )
    assert validator.is_valid(payload) == (contract.validate(form, direction, payload) == [])
    if direction == "response" and form in contract.CANONICAL_FORMS:
        canonical = jsonschema.Draft202012Validator(
            {"$ref": f"{DOC_URI}#/components/schemas/canonical.{form}"},
            registry=embedded_registry,
        )
        assert canonical.is_valid(payload) == contract.is_canonical(form, payload)


def test_samples_include_both_verdicts() -> None:
    verdicts = {contract.validate(form, direction, payload) == []
                for form, direction, payload in SAMPLES}
    assert verdicts == {True, False}


def test_schemathesis_generates_add_request_bodies(document: dict[str, Any]) -> None:
    operation = schemathesis.openapi.from_dict(document).find_operation_by_id("add")
    bodies: list[object] = []

    @settings(
        max_examples=5,
        database=None,
        deadline=None,
        # Generation from a large anyOf is slow by nature; speed is not what this test checks.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        assert case.media_type == FORM_BODY
        bodies.append(case.body)

    collect()
    assert bodies
    for body in bodies:
        assert isinstance(body, dict)
        assert body["action"] == "add"
        assert {"key", "service"} <= body.keys()
        assert all(isinstance(value, str) for value in body.values())


def test_build_is_deterministic(document: dict[str, Any]) -> None:
    assert json.dumps(build_openapi()) == json.dumps(document)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.openapi", *args],
        capture_output=True, text=True, check=False,
    )


def test_cli_writes_the_same_document_to_a_file(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    target = tmp_path / "openapi.json"
    done = _run_cli("-o", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == document


def test_cli_prints_to_stdout_by_default(document: dict[str, Any]) -> None:
    done = _run_cli()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == document


def test_cli_reports_an_unwritable_target_without_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "openapi.json"
    done = _run_cli("-o", str(target))
    assert done.returncode == 2
    assert "cannot write" in done.stderr
    assert "Traceback" not in done.stderr
    assert not target.exists()


# ---- the embedding rules on small synthetic files -----------------------------------------


def test_component_names_follow_the_file_layout() -> None:
    assert component_name("request/add.json") == "request.add"
    assert component_name("response/refill_status-multi.json") == "response.refill_status-multi"
    assert component_name("common.json") == "common"
    with pytest.raises(ValueError, match="not a schema file"):
        component_name("clauses.yaml")


def test_refs_are_rewritten_relative_to_each_file() -> None:
    documents = {
        "common.json": {"$id": BASE + "common.json", "$defs": {"n": {"type": "integer"}}},
        "response/x.json": {
            "$id": BASE + "response/x.json",
            "properties": {
                "whole": {"$ref": "../common.json"},
                "escaped": {"$ref": "#/$defs/local/properties/a~1b%20c"},
                "deep": {"$ref": "#/$defs/local/properties/v"},
                "$ref": {"$ref": "#/$defs/local"},
            },
            "const": {"$ref": "not a reference"},
            "$defs": {"local": {"properties": {"v": {"$ref": "../common.json#/$defs/n"},
                                               "a/b c": {"type": "null"}}}},
        },
    }
    components = embed_schemas(documents)
    assert set(components) == {"common", "common.n", "response.x", "response.x.local"}
    props = components["response.x"]["properties"]
    assert props["whole"] == {"$ref": "#/components/schemas/common"}
    escaped = "#/components/schemas/response.x.local/properties/a~1b%20c"
    assert props["escaped"] == {"$ref": escaped}
    assert props["deep"] == {"$ref": "#/components/schemas/response.x.local/properties/v"}
    assert props["$ref"] == {"$ref": "#/components/schemas/response.x.local"}
    assert components["response.x"]["const"] == {"$ref": "not a reference"}
    assert components["response.x.local"]["properties"]["v"] == {
        "$ref": "#/components/schemas/common.n"
    }
    assert "$id" not in components["response.x"]
    assert "$defs" not in components["response.x"]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "https://example.test/other.json"}, "leaves the contract"),
        ({"$ref": "../missing.json#/$defs/x"}, "leaves the contract"),
        ({"$ref": "#anchor"}, "anchor"),
        ({"items": {"$anchor": "x"}}, r"\$anchor"),
        ({"items": {"$id": "nested.json"}}, r"\$id"),
        ({"$defs": {"a/b": {}}}, "cannot be a component name"),
    ],
)
def test_unrelocatable_schemas_are_refused(schema: dict[str, Any], message: str) -> None:
    documents = {"request/x.json": {"$id": BASE + "request/x.json", **schema}}
    with pytest.raises(OpenAPIBuildError, match=message):
        embed_schemas(documents)
