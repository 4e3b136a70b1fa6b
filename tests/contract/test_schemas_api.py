"""harness.contract's public API: lookups, violations, redaction, clauses and the contract hash."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from harness import contract
from harness.contract.resources import schemas_dir

STATUS = {
    "charge": "1.00",
    "start_count": "0",
    "status": "Pending",
    "remains": "10",
    "currency": "USD",
}
SECRET = "sk_live_7f3a9c1e55d2b8046e"


# ---- names -------------------------------------------------------------------------------


def test_form_names_per_direction() -> None:
    assert contract.FORMS == contract.RESPONSE_FORMS
    assert set(contract.REQUEST_FORMS) == {
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
    }
    assert set(contract.RESPONSE_FORMS) - set(contract.REQUEST_FORMS) == {"error", "webhook"}
    assert set(contract.CANONICAL_FORMS) == set(contract.RESPONSE_FORMS) - {"webhook"}
    assert contract.forms("request") == contract.REQUEST_FORMS


@pytest.mark.parametrize(
    ("name", "direction"),
    [("orders", "response"), ("error", "request"), ("webhook", "canonical"), ("", "request")],
)
def test_unknown_form_raises_key_error_listing_valid_names(name: str, direction: Any) -> None:
    for call in (
        lambda: contract.validate(name, direction, {}),
        lambda: contract.schema(name, direction),
    ):
        with pytest.raises(KeyError) as raised:
            call()
        for valid in contract.forms(direction):
            assert valid in str(raised.value)


def test_webhook_has_no_canonical_form() -> None:
    assert contract.validate("webhook", "response", {"order_id": 1, "status": "Completed"}) == []
    with pytest.raises(KeyError, match="unknown canonical form 'webhook'"):
        contract.is_canonical("webhook", {"order_id": 1, "status": "Completed"})


def test_unknown_direction_raises_value_error() -> None:
    with pytest.raises(ValueError, match="request, response, canonical"):
        contract.validate("status", "lenient", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown direction"):
        contract.schema("status", "responses")


# ---- schema() and registry() -------------------------------------------------------------


def test_schema_returns_a_copy_of_the_document() -> None:
    document = contract.schema("status", "response")
    assert document["$id"] == contract.BASE_URI + "response/status.json"
    document["$defs"]["order_status"]["required"].append("anything")  # type: ignore[index]
    assert contract.validate("status", "response", STATUS) == []
    fresh = contract.schema("status", "response")
    assert "anything" not in fresh["$defs"]["order_status"]["required"]


def test_registry_and_service_types_are_built_once() -> None:
    assert contract.registry() is contract.registry()
    assert contract.service_types() is contract.service_types()
    assert contract.service_types()["Default"] == "default"
    assert contract.service_types()["Custom Comments Package"] == "custom_comments_package"


# ---- validate() ---------------------------------------------------------------------------


def test_valid_payload_has_no_violations() -> None:
    assert contract.validate("status", "response", STATUS) == []
    assert contract.validate("status", "canonical", STATUS) == []
    assert contract.is_canonical("status", STATUS)


def test_violations_are_sorted_by_pointer_and_deterministic() -> None:
    payload = {
        "9": {**STATUS, "status": "Lost"},
        "1": {**STATUS, "charge": "-1"},
        "5": {"error": 7},
    }
    violations = contract.validate("status-multi", "response", payload)
    assert [v.pointer for v in violations] == ["/1/charge", "/5/error", "/9/status"]
    assert violations == contract.validate(
        "status-multi", "response", dict(reversed(payload.items()))
    )
    assert violations[2].message.startswith("'Lost' is not one of")
    assert violations[2].schema_path.endswith("/enum")


def test_violation_is_a_frozen_value() -> None:
    violation = contract.validate("error", "response", {"error": 1})[0]
    assert violation == contract.Violation("/error", violation.message, violation.schema_path)
    with pytest.raises(AttributeError):
        violation.pointer = "/x"  # type: ignore[misc]


def test_pointer_escapes_slash_and_tilde() -> None:
    violations = contract.validate("status-multi", "response", {"a/b~c": {**STATUS, "status": 1}})
    assert "/a~1b~0c/status" in {v.pointer for v in violations}


def test_canonical_rejects_a_lenient_variant_with_its_reasons() -> None:
    variant = {**STATUS, "start_count": 0, "status": "In Progress", "order": 5}
    assert contract.validate("status", "response", variant) == []
    assert not contract.is_canonical("status", variant)
    pointers = {v.pointer for v in contract.validate("status", "canonical", variant)}
    assert pointers == {"", "/start_count", "/status"}  # "" is the extra field "order"


def test_secret_key_never_appears_in_messages() -> None:
    body = {"key": SECRET, "action": "add", "service": "x", "quantity": "0"}
    violations = contract.validate("add", "request", body)
    assert {v.pointer for v in violations} >= {"", "/service", "/quantity"}
    assert all(SECRET not in v.message for v in violations)
    assert any("<redacted>" in v.message for v in violations)


@pytest.mark.parametrize(
    ("key", "pointer"),
    [(SECRET, None), ("", "/key"), (8675309123, "/key"), (["abc-secret"], "/key"), (None, "/key")],
)
def test_redaction_keeps_the_verdict_on_the_key(key: object, pointer: str | None) -> None:
    violations = contract.validate("balance", "request", {"key": key, "action": "balance"})
    assert [v.pointer for v in violations] == ([] if pointer is None else [pointer])
    for violation in violations:
        assert "8675309123" not in violation.message
        assert "abc-secret" not in violation.message


def test_a_non_mapping_payload_is_validated_as_is() -> None:
    assert [v.pointer for v in contract.validate("balance", "request", ["key"])] == [""]
    assert [v.pointer for v in contract.validate("services", "response", None)] == [""]


# ---- clauses ------------------------------------------------------------------------------

CLAUSE_SCHEMA = """{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["version", "clauses"],
  "properties": {
    "version": {"const": 1},
    "clauses": {"type": "array", "items": {
      "type": "object",
      "required": ["id", "level", "title", "text", "sources", "needs"],
      "properties": {"level": {"enum": ["MUST", "SHOULD", "MAY"]}}
    }}
  }
}"""

CLAUSES_YAML = """\
version: 1
clauses:
  - id: BAL-001
    level: MUST
    title: Balance is a non-negative decimal
    text: >-
      action=balance answers with a balance that is a non-negative decimal amount.
    sources: [003_41f8170a78346ebb.txt]
    needs: [none]
    forms: [balance]
  - id: ADD-003
    level: SHOULD
    title: Below-minimum quantity is refused without charge
    text: A quantity below the service minimum is rejected with an error and no charge.
    sources: [003_41f8170a78346ebb.txt, 004_48888adee68f2136.txt]
    needs: [spend, control]
"""


def _write(folder: Path, yaml_text: str, schema_text: str = CLAUSE_SCHEMA) -> tuple[Path, Path]:
    source, schema_file = folder / "clauses.yaml", folder / "clauses.schema.json"
    source.write_text(yaml_text, encoding="utf-8")
    schema_file.write_text(schema_text, encoding="utf-8")
    return source, schema_file


def test_clauses_load_in_file_order_as_frozen_values(tmp_path: Path) -> None:
    source, schema_file = _write(tmp_path, CLAUSES_YAML)
    loaded = contract.clauses(source, schema_source=schema_file)
    assert list(loaded) == ["BAL-001", "ADD-003"]
    assert loaded["BAL-001"] == contract.Clause(
        id="BAL-001",
        level="MUST",
        title="Balance is a non-negative decimal",
        text="action=balance answers with a balance that is a non-negative decimal amount.",
        sources=("003_41f8170a78346ebb.txt",),
        needs=("none",),
        forms=("balance",),
    )
    assert loaded["ADD-003"].needs == ("spend", "control")
    assert loaded["ADD-003"].forms == ()
    with pytest.raises(TypeError):
        loaded["X"] = loaded["BAL-001"]  # type: ignore[index]


def test_tmp_clauses_also_satisfy_the_repository_clause_schema(tmp_path: Path) -> None:
    # The repository's schema also wants evidence or a safety basis on every clause.
    based = CLAUSES_YAML.replace(
        "    needs:", "    basis: safety\n    reason: Money is at stake in this clause.\n    needs:"
    )
    source, _ = _write(tmp_path, based)
    assert list(contract.clauses(source)) == ["BAL-001", "ADD-003"]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (CLAUSES_YAML.replace("level: SHOULD", "level: OUGHT"), r"/clauses/1/level: 'OUGHT'"),
        (CLAUSES_YAML.replace("version: 1", "version: 2"), "/version: 1 was expected"),
        (
            CLAUSES_YAML.replace("    title: Balance", "    heading: Balance"),
            "/clauses/0: 'title' is a required property",
        ),
        ("version: 1\nclauses: [\n", "is not valid YAML"),
    ],
)
def test_invalid_clauses_raise_a_clear_error(tmp_path: Path, yaml_text: str, expected: str) -> None:
    source, schema_file = _write(tmp_path, yaml_text)
    with pytest.raises(contract.ContractError, match=r"clauses\.yaml") as raised:
        contract.clauses(source, schema_source=schema_file)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (CLAUSES_YAML.replace("ADD-003", "BAL-001"), "duplicate clause id 'BAL-001'"),
        (CLAUSES_YAML.replace("needs: [none]", "needs: none"), "/clauses/0/needs: expected a list"),
        (CLAUSES_YAML.replace("title: Below", "title: 7\n    x: Below"), "/clauses/1/title"),
        ("- just a list\n", "expected a mapping with a 'clauses' list"),
    ],
)
def test_a_looser_schema_cannot_produce_bad_clauses(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    source, schema_file = _write(tmp_path, yaml_text, schema_text="{}")
    with pytest.raises(contract.ContractError) as raised:
        contract.clauses(source, schema_source=schema_file)
    assert expected in str(raised.value)


def test_missing_or_broken_clause_schema_is_reported(tmp_path: Path) -> None:
    source, schema_file = _write(tmp_path, CLAUSES_YAML, schema_text='{"type": 12}')
    with pytest.raises(contract.ContractError, match="not a valid JSON Schema"):
        contract.clauses(source, schema_source=schema_file)
    with pytest.raises(contract.ContractError, match=r"clause schema nowhere\.json not found"):
        contract.clauses(source, schema_source=tmp_path / "nowhere.json")
    with pytest.raises(contract.ContractError, match=r"clause file absent\.yaml not found"):
        contract.clauses(tmp_path / "absent.yaml", schema_source=schema_file)


def test_repository_clauses_load_and_are_cached() -> None:
    loaded = contract.clauses()
    assert loaded is contract.clauses()
    assert len(loaded) >= 1
    for clause_id, clause in loaded.items():
        assert clause.id == clause_id
        assert clause.level in ("MUST", "SHOULD", "MAY")
        assert set(clause.forms) <= set(contract.FORMS)


# ---- contract_hash() ----------------------------------------------------------------------


@pytest.fixture
def schemas_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "schemas"
    shutil.copytree(Path(str(schemas_dir())), copy)
    monkeypatch.setattr(contract.schemas, "schemas_dir", lambda: copy)
    return copy


def test_contract_hash_is_a_stable_sha256() -> None:
    digest = contract.contract_hash()
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == contract.contract_hash()


def test_contract_hash_follows_content_and_names_only(schemas_copy: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(contract.schemas, "schemas_dir", schemas_dir)
        original = contract.contract_hash()
    assert contract.contract_hash() == original
    (schemas_copy / "NOTES.md").write_text("not part of the contract\n")
    assert contract.contract_hash() == original
    seen = {original}
    target = schemas_copy / "v2" / "response" / "balance.json"
    for change in (
        lambda: target.write_text(target.read_text() + " "),
        lambda: (schemas_copy / "clauses.yaml").write_text("version: 1\nclauses: []\n"),
        lambda: target.rename(target.with_name("wallet.json")),
    ):
        change()
        digest = contract.contract_hash()
        assert digest not in seen
        seen.add(digest)
