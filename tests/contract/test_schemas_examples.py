"""The schemas against real payloads: seed examples, known variants, broken payloads, requests.

The data lives in ``examples/`` (see its README); every file is one test case named after it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from harness import contract

EXAMPLES = Path(__file__).parent / "examples"
SEED_FILES = sorted(EXAMPLES.glob("[0-9][0-9][0-9]_*__*.json"))
VARIANT_FILES = sorted((EXAMPLES / "variants").glob("*.json"))
BROKEN_FILES = sorted((EXAMPLES / "broken").glob("*.json"))
REQUEST_FILES = sorted((EXAMPLES / "requests").glob("*.json"))
TYPE_FILES = sorted((EXAMPLES / "requests" / "types").glob("*.json"))
MANIFEST: dict[str, dict[str, Any]] = json.loads(
    (EXAMPLES / "seeds.manifest.json").read_text(encoding="utf-8")
)["examples"]
BASE_PARAMS = {"key", "action", "service"}


def _ids(files: list[Path]) -> list[str]:
    return [path.stem for path in files]


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _seed_and_form(path: Path) -> tuple[str, str]:
    seed, _, rest = path.stem.partition("__")
    return seed, rest.split(".")[0]


def _type_validator(def_name: str) -> Draft202012Validator:
    ref = f"{contract.BASE_URI}request/add.json#/$defs/{def_name}"
    return Draft202012Validator({"$ref": ref}, registry=contract.registry())


# ---- seed examples -----------------------------------------------------------------------


def test_every_seed_document_contributes_examples() -> None:
    seeds = {_seed_and_form(path)[0] for path in SEED_FILES}
    assert seeds == {
        "000_9cacb542ce98a4dc",
        "001_83170cb3c7cbf73c",
        "002_fba3e2809a2ac43d",
        "003_41f8170a78346ebb",
        "004_48888adee68f2136",
    }


def test_manifest_lists_exactly_the_seed_examples() -> None:
    assert sorted(MANIFEST) == [path.name for path in SEED_FILES]


@pytest.mark.parametrize("path", SEED_FILES, ids=_ids(SEED_FILES))
def test_seed_example_is_valid(path: Path) -> None:
    _, form = _seed_and_form(path)
    assert contract.validate(form, "response", _read(path)) == []


@pytest.mark.parametrize("path", SEED_FILES, ids=_ids(SEED_FILES))
def test_seed_example_canonicality_is_as_recorded(path: Path) -> None:
    seed, form = _seed_and_form(path)
    recorded = MANIFEST[path.name]["canonical"]
    if form not in contract.CANONICAL_FORMS:
        assert recorded is None
        return
    if seed.startswith("003_"):
        assert recorded is True, "seed 003 defines the canonical dialect"
    assert contract.is_canonical(form, _read(path)) is recorded
    assert (contract.validate(form, "canonical", _read(path)) == []) is recorded
    if not recorded:
        assert MANIFEST[path.name]["why"]


# ---- variants ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", VARIANT_FILES, ids=_ids(VARIANT_FILES))
def test_variant_is_accepted_and_graded_as_recorded(path: Path) -> None:
    case = _read(path)
    assert path.stem.startswith(case["schema"] + "__")
    assert case["reason"]
    assert case["source"]
    assert contract.validate(case["schema"], "response", case["payload"]) == []
    if case["schema"] in contract.CANONICAL_FORMS:
        assert contract.is_canonical(case["schema"], case["payload"]) is case["canonical"]


def test_most_variants_are_dialects_not_canonical() -> None:
    cases = [_read(path) for path in VARIANT_FILES]
    assert sum(not case["canonical"] for case in cases) >= 40
    assert {case["schema"] for case in cases} == set(contract.RESPONSE_FORMS)


# ---- broken payloads ---------------------------------------------------------------------


@pytest.mark.parametrize("path", BROKEN_FILES, ids=_ids(BROKEN_FILES))
def test_broken_payload_fails_at_the_broken_spot(path: Path) -> None:
    case = _read(path)
    assert path.stem.startswith(f"{case['direction']}__{case['schema']}__")
    assert case["reason"]
    violations = contract.validate(case["schema"], case["direction"], case["payload"])
    pointers = {violation.pointer for violation in violations}
    assert case["pointer"] in pointers
    # Nothing else is blamed: every violation sits on the broken spot or one of its parents.
    target = case["pointer"]
    for pointer in pointers:
        assert target == pointer or target.startswith(pointer + "/"), pointer
    if case["direction"] == "response" and case["schema"] in contract.CANONICAL_FORMS:
        assert not contract.is_canonical(case["schema"], case["payload"])


def test_broken_payloads_cover_every_form() -> None:
    covered = {(_read(path)["direction"], _read(path)["schema"]) for path in BROKEN_FILES}
    assert {("response", name) for name in contract.RESPONSE_FORMS} <= covered
    assert {d for d, _ in covered} == {"request", "response"}


# ---- requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", REQUEST_FILES, ids=_ids(REQUEST_FILES))
def test_seed_request_body_is_valid(path: Path) -> None:
    case = _read(path)
    assert path.stem.split("__")[1].split(".")[0] == case["form"]
    assert all(isinstance(value, str) for value in case["body"].values())
    assert contract.validate(case["form"], "request", case["body"]) == []


def test_seed_request_bodies_cover_every_action() -> None:
    forms = {_read(path)["form"] for path in REQUEST_FILES}
    assert forms == set(contract.REQUEST_FORMS)
    curl = {_read(path)["form"] for path in REQUEST_FILES if _read(path)["source"] == "curl"}
    assert curl == set(contract.REQUEST_FORMS), "seeds 000 and 002 give a curl body for each"


@pytest.mark.parametrize("path", REQUEST_FILES, ids=_ids(REQUEST_FILES))
@pytest.mark.parametrize("field", ["key", "action"])
def test_request_without_key_or_action_is_rejected(path: Path, field: str) -> None:
    case = _read(path)
    body = {name: value for name, value in case["body"].items() if name != field}
    violations = contract.validate(case["form"], "request", body)
    assert any(
        v.pointer == "" and f"'{field}' is a required property" in v.message for v in violations
    )


@pytest.mark.parametrize("path", REQUEST_FILES, ids=_ids(REQUEST_FILES))
def test_request_with_a_non_string_value_is_rejected(path: Path) -> None:
    case = _read(path)
    for name, value in case["body"].items():
        wrong = int(value) if value.isdigit() else [value]
        violations = contract.validate(case["form"], "request", {**case["body"], name: wrong})
        assert f"/{name}" in {v.pointer for v in violations}, name


@pytest.mark.parametrize("path", TYPE_FILES, ids=_ids(TYPE_FILES))
def test_service_type_body_matches_its_definition(path: Path) -> None:
    case = _read(path)
    def_name = path.stem.split(".")[0]
    assert def_name in contract.service_types().values()
    assert list(_type_validator(def_name).iter_errors(case["body"])) == []
    assert contract.validate("add", "request", case["body"]) == []


@pytest.mark.parametrize("path", TYPE_FILES, ids=_ids(TYPE_FILES))
def test_service_type_definition_needs_exactly_its_parameters(path: Path) -> None:
    case = _read(path)
    validator = _type_validator(path.stem.split(".")[0])
    for name in set(case["body"]) - BASE_PARAMS:
        without = {k: v for k, v in case["body"].items() if k != name}
        assert validator.is_valid(without) is (name not in case["required"]), name
    for name in BASE_PARAMS:
        without = {k: v for k, v in case["body"].items() if k != name}
        assert not validator.is_valid(without), name


def test_every_service_type_has_an_example() -> None:
    covered = {path.stem.split(".")[0] for path in TYPE_FILES}
    assert covered == set(contract.service_types().values())


def test_web_traffic_needs_the_parameter_its_traffic_type_uses() -> None:
    case = _read(EXAMPLES / "requests" / "types" / "web_traffic.google-keyword.json")
    validator = _type_validator("web_traffic")
    referrer = {**case["body"], "type_of_traffic": "2"}
    assert not validator.is_valid(referrer)
    assert validator.is_valid({**referrer, "referring_url": "https://ref.example.org/"})
    assert validator.is_valid({**case["body"], "type_of_traffic": "3"})


def test_subscription_delay_comes_from_the_selector() -> None:
    case = _read(EXAMPLES / "requests" / "types" / "subscriptions.perfectpanel.json")
    validator = _type_validator("subscriptions")
    assert validator.is_valid({**case["body"], "delay": "600"})
    assert not validator.is_valid({**case["body"], "delay": "7"})


# ---- a second implementation agrees (schemathesis validates with jsonschema_rs) ------------


@pytest.fixture(scope="module")
def rust_registry() -> jsonschema_rs.Registry:
    uris = [contract.BASE_URI + "common.json"] + [
        f"{contract.BASE_URI}{direction}/{name}.json"
        for direction in ("request", "response", "canonical")
        for name in contract.forms(direction)
    ]
    return jsonschema_rs.Registry([(uri, contract.registry().contents(uri)) for uri in uris])


def _rust_valid(registry: jsonschema_rs.Registry, direction: str, form: str, payload: Any) -> bool:
    ref = {"$ref": f"{contract.BASE_URI}{direction}/{form}.json"}
    return bool(jsonschema_rs.validator_for(ref, registry=registry).is_valid(payload))


def test_jsonschema_rs_gives_the_same_verdicts(rust_registry: jsonschema_rs.Registry) -> None:
    checked = 0
    for path in SEED_FILES:
        _, form = _seed_and_form(path)
        assert _rust_valid(rust_registry, "response", form, _read(path)), path.name
        if form in contract.CANONICAL_FORMS:
            canonical = _rust_valid(rust_registry, "canonical", form, _read(path))
            assert canonical is contract.is_canonical(form, _read(path)), path.name
        checked += 1
    for path in VARIANT_FILES:
        case = _read(path)
        assert _rust_valid(rust_registry, "response", case["schema"], case["payload"]), path.name
        checked += 1
    for path in BROKEN_FILES:
        case = _read(path)
        valid = _rust_valid(rust_registry, case["direction"], case["schema"], case["payload"])
        assert not valid, path.name
        checked += 1
    for path in REQUEST_FILES:
        case = _read(path)
        assert _rust_valid(rust_registry, "request", case["form"], case["body"]), path.name
        checked += 1
    assert checked == len(SEED_FILES) + len(VARIANT_FILES) + len(BROKEN_FILES) + len(REQUEST_FILES)
