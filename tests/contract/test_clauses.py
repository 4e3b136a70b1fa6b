"""The numbered clauses: schemas/clauses.yaml is valid, complete and cites real seed documents."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.resources import schemas_dir

# The seed documents as the seeds README lists them. Embedded because an installed wheel (and
# a CI clone without ../shared) has no seeds folder; checked against the folder when present.
SEED_FILES = frozenset(
    {
        "000_9cacb542ce98a4dc.txt",
        "001_83170cb3c7cbf73c.txt",
        "002_fba3e2809a2ac43d.txt",
        "003_41f8170a78346ebb.txt",
        "004_48888adee68f2136.txt",
    }
)
EXTRA_SOURCES = frozenset({"protocol-variants.md"})
SEEDS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"

FORMS = frozenset(
    {
        "services", "add", "status", "status-multi", "cancel", "refill", "refill-multi",
        "refill_status", "refill_status-multi", "balance", "error", "webhook",
    }
)

# Every topic the issue requires, as (clause ids that cover it, a pattern their title or text
# must match). Listing ids keeps the check exact; the pattern proves the listed clause is really
# about the topic, so renumbering or rewording a clause away from its topic fails here.
REQUIRED_TOPICS: dict[str, tuple[tuple[str, ...], str]] = {
    "JSON body": (("GEN-002",), r"parses as a\s+single JSON document"),
    "JSON content type": (("GEN-003",), r"application/json"),
    "error envelope": (("ERR-001",), r"`error` member"),
    "errors as 200 vs 4xx": (("ERR-002", "ERR-003"), r"HTTP (status )?200"),
    "unknown action": (("ERR-005",), r"action=no_such_action"),
    "missing key": (("AUTH-001",), r"no `key`"),
    "wrong key": (("AUTH-002",), r"never issued"),
    "services shape": (("SVC-001",), r"`services` response schema"),
    "balance shape": (("BAL-001",), r"`balance` response schema"),
    "add shape": (("ADD-001",), r"`add` response schema"),
    "status shape": (("STATUS-001",), r"`status` response schema"),
    "multi-status shape": (("MSTATUS-001",), r"`status-multi` schema"),
    "cancel shape": (("CANCEL-001",), r"`cancel` schema"),
    "refill shape": (("REFILL-001",), r"`refill` schema"),
    "refill-multi shape": (("REFILL-007",), r"`refill-multi` schema"),
    "refill_status shape": (("RSTATUS-001",), r"refill_status"),
    "refill_status-multi shape": (("RSTATUS-003",), r"`refill_status-multi`"),
    "webhook shape": (("HOOK-001",), r"`webhook` schema"),
    "batch limit 100": (("BATCH-001", "BATCH-002"), r"10[01] (distinct )?ids"),
    "per-id errors in batches": (("BATCH-004", "MSTATUS-002"), r"per-id error"),
    "multi-status agrees with single": (("MSTATUS-003",), r"same `status`"),
    "status vocabulary": (("STATUS-002",), r"Pending, In progress, Processing, Completed"),
    "remains <= quantity": (("STATUS-004",), r"remains <= the order's\s+quantity"),
    "status never backwards": (("STATUS-008",), r"never decreases"),
    "charge equals debit": (("MONEY-003",), r"`charge`.*equals the\s+amount"),
    "below min rejected": (("ADD-003",), r"min - 1.*balance unchanged"),
    "above max rejected": (("ADD-004",), r"max \+ 1.*balance unchanged"),
    "unknown service": (("ADD-005",), r"absent from the `services`"),
    "beyond balance rejected": (("MONEY-005",), r"exceeds the current balance"),
    "balance never negative": (("MONEY-006",), r"negative"),
    "concurrent orders": (("MONEY-007",), r"sent at once"),
    "per-1000 debit": (("MONEY-001",), r"R \* Q / 1000"),
    "package flat rate": (("MONEY-002",), r"Package-type.*exactly R"),
    "drip-feed total": (("DRIP-001", "DRIP-002"), r"runs? \* q"),
    "custom comments lines": (("ADD-010",), r"non-empty\s+lines"),
    "subscriptions refused": (("ADD-012",), r"Subscriptions service"),
    "cancel refunds once": (("CANCEL-003",), r"exactly its charge, once"),
    "second cancel refunds nothing": (("CANCEL-004",), r"already cancelled"),
    "partial refund formula": (("MONEY-011",), r"c \* r / q"),
    "refill only refill-enabled": (("REFILL-002",), r"`refill: false`"),
    "refill only completed": (("REFILL-003",), r"Pending or In progress"),
    "refill_status vocabulary": (("RSTATUS-001",), r"Pending, In progress, Completed, Rejected"),
    "isolation: order unknown": (("ISO-001", "ISO-002"), r"key B"),
    "isolation: not cancellable": (("ISO-003",), r"`cancel` sent with key B"),
    "isolation: not refillable": (("ISO-004",), r"`refill` sent with key B"),
    "isolation: balances": (("ISO-005",), r"debits only A's balance"),
    "429 with Retry-After": (("RATE-004",), r"`Retry-After`.*integer"),
    "no 5xx on malformed input": (("ROBUST-001",), r"5xx"),
    "no non-JSON on malformed input": (("ROBUST-002",), r"never with HTML"),
    "invalid UTF-8": (("ROBUST-003",), r"not valid UTF-8"),
    "oversized bodies": (("ROBUST-004",), r"megabytes"),
    "wrong content type": (("ROBUST-005",), r"Content-Type text/plain"),
    "nothing charged when rejected": (("MONEY-004",), r"error envelope.*balance"),
    "money precision": (("MONEY-008",), r"decimal places"),
}

# Areas whose every clause places an order (or could be billed by a defective panel).
SPENDING_AREAS = frozenset({"ADD", "MONEY", "DRIP", "LIFE", "ISO", "HOOK"})


def _load_clause_file() -> dict[str, Any]:
    text = schemas_dir().joinpath("clauses.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def _load_schema() -> dict[str, Any]:
    text = schemas_dir().joinpath("clauses.schema.json").read_text(encoding="utf-8")
    loaded = json.loads(text)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _load_clause_file()


@pytest.fixture(scope="module")
def clauses(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["clauses"]
    assert isinstance(found, list)
    return found


@pytest.fixture(scope="module")
def by_id(clauses: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {clause["id"]: clause for clause in clauses}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = _load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _area(clause_id: str) -> str:
    return clause_id.rsplit("-", 1)[0]


def _errors(validator: jsonschema.Draft202012Validator, doc: object) -> Iterator[str]:
    for error in validator.iter_errors(doc):
        yield f"{error.json_path}: {error.message}"


def test_schema_has_its_published_id() -> None:
    assert _load_schema()["$id"] == "https://smm-conformance.invalid/schemas/clauses.schema.json"


def test_clause_file_validates_against_its_schema(
    document: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    assert list(_errors(validator, document)) == []


@pytest.mark.parametrize(
    ("field", "bad_value"),
    [
        ("id", "add-001"),
        ("id", "ADD-1"),
        ("level", "MUSTNT"),
        ("title", "x" * 81),
        ("sources", []),
        ("sources", ["protocol-variants.md"]),
        ("sources", ["notes.txt"]),
        ("sources", ["003_41f8170a78346ebb.txt", "003_41f8170a78346ebb.txt"]),
        ("needs", []),
        ("needs", ["none", "spend"]),
        ("needs", ["money"]),
        ("needs", ["spend", "spend"]),
        ("forms", ["order"]),
        ("surprise", "extra field"),
    ],
)
def test_schema_rejects_a_malformed_clause(
    document: dict[str, Any],
    validator: jsonschema.Draft202012Validator,
    field: str,
    bad_value: object,
) -> None:
    broken = copy.deepcopy(document)
    broken["clauses"][0][field] = bad_value
    assert list(_errors(validator, broken)), f"schema accepted {field}={bad_value!r}"


def test_schema_rejects_a_clause_without_sources(
    document: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    broken = copy.deepcopy(document)
    del broken["clauses"][0]["sources"]
    assert list(_errors(validator, broken))


def test_there_are_at_least_sixty_clauses(clauses: list[dict[str, Any]]) -> None:
    assert len(clauses) >= 60


def test_ids_are_unique(clauses: list[dict[str, Any]]) -> None:
    ids = [clause["id"] for clause in clauses]
    assert len(ids) == len(set(ids))


def test_each_area_is_one_block_numbered_in_order(clauses: list[dict[str, Any]]) -> None:
    seen_areas: list[str] = []
    last_number: dict[str, int] = {}
    for clause in clauses:
        area, number = _area(clause["id"]), int(clause["id"].rsplit("-", 1)[1])
        if not seen_areas or seen_areas[-1] != area:
            assert area not in seen_areas, f"area {area} is split at {clause['id']}"
            seen_areas.append(area)
        assert number > last_number.get(area, 0), f"{clause['id']} is out of order"
        last_number[area] = number


def test_embedded_seed_list_matches_the_seed_folder_when_present() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"no seed folder at {SEEDS_DIR} (installed copy)")
    assert {path.name for path in SEEDS_DIR.glob("*.txt")} == SEED_FILES


def test_every_source_names_a_real_document(clauses: list[dict[str, Any]]) -> None:
    known = SEED_FILES | EXTRA_SOURCES
    for clause in clauses:
        assert set(clause["sources"]) <= known, clause["id"]
        assert set(clause["sources"]) & SEED_FILES, f"{clause['id']} cites no seed"
    if SEEDS_DIR.is_dir():
        cited = {name for clause in clauses for name in clause["sources"]} & SEED_FILES
        for name in cited:
            assert (SEEDS_DIR / name).is_file(), name


def test_every_seed_is_cited(clauses: list[dict[str, Any]]) -> None:
    cited = {name for clause in clauses for name in clause["sources"]}
    assert cited >= SEED_FILES


@pytest.mark.parametrize("topic", sorted(REQUIRED_TOPICS))
def test_required_topic_is_covered(topic: str, by_id: dict[str, dict[str, Any]]) -> None:
    ids, pattern = REQUIRED_TOPICS[topic]
    for clause_id in ids:
        assert clause_id in by_id, f"{topic}: clause {clause_id} is missing"
        clause = by_id[clause_id]
        prose = " ".join(f"{clause['title']} {clause['text']}".split())
        assert re.search(pattern, prose, re.DOTALL), f"{topic}: {clause_id} is not about it"


def test_every_contract_form_has_a_clause(clauses: list[dict[str, Any]]) -> None:
    cited = {form for clause in clauses for form in clause.get("forms", [])}
    assert cited == FORMS


def test_cross_references_name_existing_clauses(
    clauses: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> None:
    for clause in clauses:
        for ref in re.findall(r"\b[A-Z]+-[0-9]{3}\b", clause["text"]):
            assert ref in by_id, f"{clause['id']} refers to unknown {ref}"


def test_every_level_is_used_and_musts_dominate(clauses: list[dict[str, Any]]) -> None:
    levels = [clause["level"] for clause in clauses]
    assert set(levels) == {"MUST", "SHOULD", "MAY"}
    assert levels.count("MUST") > len(levels) / 2


def test_needs_follow_the_documented_convention(clauses: list[dict[str, Any]]) -> None:
    for clause in clauses:
        area, needs = _area(clause["id"]), set(clause["needs"])
        if area in SPENDING_AREAS:
            assert "spend" in needs, f"{clause['id']} places orders but does not need spend"
        if area == "ISO":
            assert "second-key" in needs, clause["id"]
        if area == "RATE":
            assert "rate-limit" in needs, clause["id"]
        if "rate-limit" in needs:
            assert area == "RATE", f"{clause['id']} needs rate-limit outside RATE"


def test_optional_actions_are_may(by_id: dict[str, dict[str, Any]]) -> None:
    for clause_id in ("REFILL-007", "RSTATUS-003", "MSTATUS-005", "HOOK-001", "HOOK-002"):
        assert by_id[clause_id]["level"] == "MAY", clause_id
