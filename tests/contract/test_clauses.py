"""The numbered clauses: schemas/clauses.yaml is valid, complete, and every clause rests on
quotes found verbatim in the seed documents (or the research catalogue) or on a safety basis,
with its level following the one level rule of the clauses.yaml header."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness import contract
from harness.contract.resources import schemas_dir

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
CATALOGUE = "protocol-variants.md"
EXTRA_SOURCES = frozenset({CATALOGUE})
SEED_NAME = re.compile(r"^[0-9]{3}_[0-9a-f]{16}\.txt$")
# The reference documents live beside the repository (../shared) in a checkout and in CI; the
# repository keeps its own copies in schemas/sources/ so the quote checks run everywhere.
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
SEEDS_DIR = SHARED_DIR / "seeds"
RESEARCH_DIR = SHARED_DIR / "research"

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
        assert {_document(item) for item in clause.get("evidence", [])} <= known, clause["id"]
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


def test_every_level_is_used(clauses: list[dict[str, Any]]) -> None:
    assert {clause["level"] for clause in clauses} == {"MUST", "SHOULD", "MAY"}


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


# ---- evidence, safety basis and the level rule --------------------------------------------
#
# The rule (clauses.yaml header, README): MUST only with quotes from two or more seed documents,
# or on a safety basis; a rule from one seed, or only from the canonical dialect /
# protocol-variants.md, is SHOULD; common practice is MAY. The checkers below are plain
# functions so each is tested on a clause it must reject and on one it must accept.

SEED_0, SEED_2, SEED_3 = "000_9cacb542ce98a4dc.txt", "002_fba3e2809a2ac43d.txt", (
    "003_41f8170a78346ebb.txt")
TIMES = "\N{MULTIPLICATION SIGN}"  # as the catalogue writes "runs times quantity"
WIRE_BASICS = f"{CATALOGUE}#1. Wire basics"
DRIP_HEADING = f"Drip-feed semantics (runs {TIMES} quantity)"
DRIP_SEMANTICS = f"{CATALOGUE}#{DRIP_HEADING}"
SERVICE_TYPES = f"{CATALOGUE}#5. Service types, their `add` parameters, and charging"
# Clauses the issue names as MUST without a source: none of them may become MUST again
# without quotes from two seeds (or a safety basis of their own).
UNSOURCED_IN_THE_ISSUE = ("ROBUST-008", "DRIP-002", "DRIP-003", "ADD-007", "MONEY-002")


def _document(item: Mapping[str, str]) -> str:
    """The file an evidence entry quotes: its source without the ``#section`` part."""
    return item["source"].partition("#")[0]


def _normalised(text: str) -> str:
    """Runs of whitespace collapsed to one space, so a quote may span a line break."""
    return " ".join(text.split())


def _sections(markdown: str) -> dict[str, str]:
    """Every heading's text (without its #s) -> its section: the lines up to the next heading
    of the same or a higher level, so a section includes its subsections."""
    lines = markdown.splitlines()
    headings = [
        (index, len(found.group(1)), found.group(2).strip())
        for index, line in enumerate(lines)
        if (found := re.match(r"^(#{1,6})\s+(.+?)\s*$", line))
    ]
    sections: dict[str, str] = {}
    for position, (start, depth, title) in enumerate(headings):
        end = next(
            (index for index, level, _ in headings[position + 1 :] if level <= depth), len(lines)
        )
        sections[title] = "\n".join(lines[start + 1 : end])
    return sections


def quote_problems(evidence: list[dict[str, str]], documents: Mapping[str, str]) -> list[str]:
    """Each evidence entry whose quote is not found in its document (or its section)."""
    problems = []
    for item in evidence:
        source, quote = item["source"], item["quote"]
        document, _, heading = source.partition("#")
        text = documents.get(document)
        if text is None:
            problems.append(f"{source}: no such document")
            continue
        if heading:
            found = _sections(text).get(heading)
            if found is None:
                problems.append(f"{source}: no section with that heading")
                continue
            text = found
        elif document == CATALOGUE:
            problems.append(f"{source}: name the section of {CATALOGUE} quoted (#heading)")
            continue
        if _normalised(quote) not in _normalised(text):
            problems.append(f"{source}: quote not found: {quote!r}")
    return problems


def level_problems(clause: Mapping[str, Any]) -> list[str]:
    """Whether the clause's level is allowed by its evidence and basis (the level rule)."""
    problems = []
    if not clause.get("evidence") and clause.get("basis") != "safety":
        problems.append(f"{clause['id']}: neither evidence nor a safety basis")
    if clause.get("basis") is not None and not clause.get("reason"):
        problems.append(f"{clause['id']}: a basis needs a one-line reason")
    seeds = {_document(item) for item in clause.get("evidence", [])} & SEED_FILES
    if clause["level"] == "MUST" and clause.get("basis") != "safety" and len(seeds) < 2:
        problems.append(
            f"{clause['id']}: MUST with quotes from {len(seeds)} seed(s) and no safety basis"
        )
    return problems


def sources_problems(clause: Mapping[str, Any]) -> list[str]:
    """``sources`` must name exactly the documents its evidence quotes."""
    quoted = {_document(item) for item in clause.get("evidence", [])}
    listed = set(clause["sources"])
    return [f"{clause['id']}: lists {name} but quotes nothing from it"
            for name in sorted(listed - quoted)] + [
        f"{clause['id']}: quotes {name} but does not list it in sources"
        for name in sorted(quoted - listed)]


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    """The repository's own copies of the seeds and the research catalogue, by file name."""
    folder = schemas_dir() / "sources"
    return {name: folder.joinpath(name).read_text(encoding="utf-8")
            for name in sorted(SEED_FILES | EXTRA_SOURCES)}


def _clause(by_id: dict[str, dict[str, Any]], clause_id: str) -> dict[str, Any]:
    return copy.deepcopy(by_id[clause_id])


def test_the_sources_folder_holds_the_seeds_and_the_catalogue() -> None:
    folder = schemas_dir() / "sources"
    names = {item.name for item in folder.iterdir() if item.is_file()}
    assert names == SEED_FILES | EXTRA_SOURCES | {"README.md"}


def test_the_seed_copies_equal_the_shared_seeds_when_present() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"no seed folder at {SEEDS_DIR} (installed copy or a bare clone)")
    folder = schemas_dir() / "sources"
    for name in sorted(SEED_FILES):
        assert folder.joinpath(name).read_bytes() == (SEEDS_DIR / name).read_bytes(), name


def test_the_catalogue_copy_equals_the_shared_research_when_present() -> None:
    original = RESEARCH_DIR / CATALOGUE
    if not original.is_file():
        pytest.skip(f"no {original} (installed copy or a bare clone)")
    copied = schemas_dir() / "sources" / CATALOGUE
    assert copied.read_bytes() == original.read_bytes()


def test_every_clause_has_evidence_or_a_safety_basis(clauses: list[dict[str, Any]]) -> None:
    for clause in clauses:
        assert clause.get("evidence") or clause.get("basis") == "safety", clause["id"]


def test_every_quote_is_found_verbatim_in_its_source(
    clauses: list[dict[str, Any]], documents: dict[str, str]
) -> None:
    problems = [f"{clause['id']} {problem}" for clause in clauses
                for problem in quote_problems(clause.get("evidence", []), documents)]
    assert problems == []


def test_every_catalogue_section_cited_exists(
    clauses: list[dict[str, Any]], documents: dict[str, str]
) -> None:
    headings = set(_sections(documents[CATALOGUE]))
    cited = {item["source"].partition("#")[2] for clause in clauses
             for item in clause.get("evidence", []) if _document(item) == CATALOGUE}
    assert cited
    assert cited <= headings, cited - headings


def test_the_level_rule_holds_for_every_clause(clauses: list[dict[str, Any]]) -> None:
    assert [problem for clause in clauses for problem in level_problems(clause)] == []


def test_sources_name_exactly_the_quoted_documents(clauses: list[dict[str, Any]]) -> None:
    assert [problem for clause in clauses for problem in sources_problems(clause)] == []


def test_rules_the_issue_found_unsourced_are_not_must(by_id: dict[str, dict[str, Any]]) -> None:
    for clause_id in UNSOURCED_IN_THE_ISSUE:
        assert by_id[clause_id]["level"] != "MUST", clause_id
    # No seed says anything about methods other than POST: a stock 405/501 page is correct.
    assert by_id["ROBUST-008"]["level"] == "MAY"
    # No seed asks that a 4 MiB body be refused (PHP reads 8 MB): the clause binds only as
    # safety, against a 5xx, a dropped connection or a panel that stops serving.
    oversized = by_id["ROBUST-004"]
    assert (oversized["level"], oversized.get("basis")) == ("MUST", "safety")
    assert "answering it normally" in " ".join(oversized["text"].split())


# ---- the quote checker, both ways ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "quote"),
    [
        (SEED_3, "HTTP Method POST API URL"),  # spans a line break in the seed
        (SEED_0, "| 402 |   Insufficient balance |"),  # extra spaces collapse
        (WIRE_BASICS, "GET accepted by SP (`$_REQUEST`) [V SP]"),
        # A subsection is part of its parent section, and a section of its own.
        (SERVICE_TYPES, f"**total = runs {TIMES} quantity**"),
        (DRIP_SEMANTICS, f"**total = runs {TIMES} quantity**"),
    ],
)
def test_the_quote_checker_accepts_a_verbatim_quote(
    documents: dict[str, str], source: str, quote: str
) -> None:
    assert quote_problems([{"source": source, "quote": quote}], documents) == []


@pytest.mark.parametrize(
    ("source", "quote", "expected"),
    [
        (SEED_3, "HTTP Method GET", "quote not found"),  # one word changed
        (SEED_2, "HTTP Method POST", "quote not found"),  # true of another seed, not this one
        (SEED_3, "http method post", "quote not found"),  # case matters
        (WIRE_BASICS, "Canonical shapes are the JAP/SMMRISE docs.", "quote not found"),
        (DRIP_SEMANTICS, "| Poll | 17 |", "quote not found"),  # the parent's text, not its own
        (f"{CATALOGUE}#7. Invented section", "GET accepted by SP", "no section"),
        (CATALOGUE, "GET accepted by SP", "name the section"),
        ("999_0000000000000000.txt", "HTTP Method POST", "no such document"),
    ],
)
def test_the_quote_checker_rejects_what_the_source_does_not_say(
    documents: dict[str, str], source: str, quote: str, expected: str
) -> None:
    (problem,) = quote_problems([{"source": source, "quote": quote}], documents)
    assert expected in problem


# ---- the level rule and sources consistency, both ways -------------------------------------

QUOTE_0 = {"source": SEED_0, "quote": "All responses are JSON."}
QUOTE_0_AGAIN = {"source": SEED_0, "quote": "All responses are JSON."}
QUOTE_2 = {"source": SEED_2, "quote": "Responses are JSON."}
QUOTE_PV = {"source": WIRE_BASICS, "quote": "MONA/UZS set `application/json` [V]"}
SAFETY = {"basis": "safety", "reason": "A crash on a bad request hides whether it was charged."}


@pytest.mark.parametrize(
    ("level", "evidence", "extra"),
    [
        ("MUST", [QUOTE_0, QUOTE_2], {}),
        ("MUST", [QUOTE_0], SAFETY),
        ("MUST", [], SAFETY),
        ("SHOULD", [QUOTE_0], {}),
        ("SHOULD", [QUOTE_PV], {}),
        ("MAY", [QUOTE_PV], {}),
    ],
)
def test_the_level_rule_accepts(level: str, evidence: list[dict[str, str]],
                                extra: dict[str, str]) -> None:
    clause = {"id": "X-001", "level": level, "evidence": evidence, **extra}
    assert level_problems(clause) == []


@pytest.mark.parametrize(
    ("level", "evidence", "extra", "expected"),
    [
        ("MUST", [QUOTE_0], {}, "MUST with quotes from 1 seed"),
        ("MUST", [QUOTE_0, QUOTE_0_AGAIN], {}, "MUST with quotes from 1 seed"),
        ("MUST", [QUOTE_0, QUOTE_PV], {}, "MUST with quotes from 1 seed"),
        ("MUST", [QUOTE_PV], {}, "MUST with quotes from 0 seed"),
        ("SHOULD", [], {}, "neither evidence nor a safety basis"),
        ("MUST", [QUOTE_0], {"basis": "safety"}, "needs a one-line reason"),
    ],
)
def test_the_level_rule_rejects(level: str, evidence: list[dict[str, str]],
                                extra: dict[str, str], expected: str) -> None:
    clause = {"id": "X-001", "level": level, "evidence": evidence, **extra}
    assert any(expected in problem for problem in level_problems(clause))


def test_sources_check_accepts_exactly_the_quoted_documents() -> None:
    clause = {"id": "X-001", "sources": [SEED_0, SEED_2, CATALOGUE],
              "evidence": [QUOTE_0, QUOTE_0_AGAIN, QUOTE_2, QUOTE_PV]}
    assert sources_problems(clause) == []
    assert sources_problems({"id": "X-002", "sources": [], "evidence": []}) == []


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ([SEED_0, SEED_2, SEED_3], f"lists {SEED_3} but quotes nothing from it"),
        ([SEED_0], f"quotes {SEED_2} but does not list it"),
        ([SEED_0, SEED_2], f"quotes {CATALOGUE} but does not list it"),
    ],
)
def test_sources_check_rejects_a_seed_that_is_not_quoted_or_not_listed(
    sources: list[str], expected: str
) -> None:
    clause = {"id": "X-001", "sources": sources, "evidence": [QUOTE_0, QUOTE_2, QUOTE_PV]}
    assert any(expected in problem for problem in sources_problems(clause))


# ---- the schema's share of the rule -------------------------------------------------------


def _with(document: dict[str, Any], clause: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["clauses"] = [clause]
    return changed


@pytest.mark.parametrize(
    ("field", "bad_value"),
    [
        ("evidence", []),
        ("evidence", [{"source": "notes.txt", "quote": "All responses are JSON."}]),
        ("evidence", [{"source": CATALOGUE, "quote": "GET accepted by SP"}]),
        ("evidence", [{"source": SEED_0}]),
        ("evidence", [{"source": SEED_0, "quote": "JSON"}]),
        ("evidence", [{"source": SEED_0, "quote": "All responses are JSON.", "line": 3}]),
        ("evidence", "All responses are JSON."),
        ("basis", "folklore"),
        ("basis", "safety"),  # a basis without its reason
        ("reason", "A reason is only read beside a safety basis."),
    ],
)
def test_schema_rejects_malformed_evidence(
    document: dict[str, Any], by_id: dict[str, dict[str, Any]],
    validator: jsonschema.Draft202012Validator, field: str, bad_value: object,
) -> None:
    clause = _clause(by_id, "GEN-003")  # a SHOULD, so only the field itself is at fault
    assert list(_errors(validator, _with(document, clause))) == []
    clause[field] = bad_value
    assert list(_errors(validator, _with(document, clause))), f"accepted {field}={bad_value!r}"


def test_schema_wants_evidence_or_a_safety_basis(
    document: dict[str, Any], by_id: dict[str, dict[str, Any]],
    validator: jsonschema.Draft202012Validator,
) -> None:
    quoted, safe = _clause(by_id, "GEN-003"), _clause(by_id, "GEN-004")
    assert "basis" not in quoted
    assert "evidence" not in safe
    del quoted["evidence"]
    del safe["basis"], safe["reason"]
    assert list(_errors(validator, _with(document, quoted)))
    assert list(_errors(validator, _with(document, safe)))


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"sources": [SEED_0], "evidence": [QUOTE_0]}, False),
        ({"sources": [SEED_0, CATALOGUE], "evidence": [QUOTE_0, QUOTE_PV]}, False),
        ({"sources": [SEED_0], "evidence": [QUOTE_0, QUOTE_0_AGAIN]}, False),
        ({"sources": [SEED_0], "evidence": [QUOTE_0], **SAFETY}, True),
        ({"sources": [], "evidence": None, **SAFETY}, True),
        ({"level": "SHOULD", "sources": [SEED_0], "evidence": [QUOTE_0]}, True),
        ({"level": "SHOULD", "sources": [CATALOGUE], "evidence": [QUOTE_PV]}, True),
    ],
)
def test_schema_applies_the_level_rule_to_must(
    document: dict[str, Any], by_id: dict[str, dict[str, Any]],
    validator: jsonschema.Draft202012Validator, change: dict[str, Any], valid: bool,
) -> None:
    clause = _clause(by_id, "GEN-001")
    assert clause["level"] == "MUST"
    assert "basis" not in clause
    clause.update(change)
    if clause["evidence"] is None:
        del clause["evidence"]
    assert (list(_errors(validator, _with(document, clause))) == []) is valid


def test_python_catches_what_the_schema_cannot(
    document: dict[str, Any], by_id: dict[str, dict[str, Any]],
    validator: jsonschema.Draft202012Validator,
) -> None:
    """Two quotes from one seed while sources lists a second seed: the schema counts two seed
    entries in each list and accepts; the level rule and the sources check do not."""
    clause = _clause(by_id, "GEN-001")
    clause.update({"sources": [SEED_0, SEED_2], "evidence": [QUOTE_0, QUOTE_0_AGAIN]})
    assert list(_errors(validator, _with(document, clause))) == []
    assert level_problems(clause)
    assert sources_problems(clause)


# ---- loading: harness.contract.Clause carries the evidence --------------------------------


def test_loaded_clauses_carry_evidence_basis_and_reason(clauses: list[dict[str, Any]]) -> None:
    loaded = contract.clauses()
    assert list(loaded) == [clause["id"] for clause in clauses]
    for clause in clauses:
        got = loaded[clause["id"]]
        assert got.evidence == tuple(
            contract.Citation(source=item["source"], quote=item["quote"])
            for item in clause.get("evidence", [])
        ), clause["id"]
        assert got.basis == clause.get("basis")
        assert got.reason == clause.get("reason")
        assert got.sources == tuple(clause["sources"])


def test_a_citation_names_its_document_and_section() -> None:
    seed = contract.Citation(source=SEED_0, quote="All responses are JSON.")
    assert (seed.document, seed.section) == (SEED_0, None)
    research = contract.Citation(source=DRIP_SEMANTICS, quote="total")
    assert (research.document, research.section) == (CATALOGUE, DRIP_HEADING)


LOOSE_CLAUSE = """\
version: 1
clauses:
  - id: GEN-001
    level: MUST
    title: One POST endpoint
    text: A POST with a form body holding key and action is answered with HTTP 200.
    sources: [000_9cacb542ce98a4dc.txt]
    needs: [none]
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    evidence: All responses are JSON.\n", "/clauses/0/evidence: expected a list"),
        ("    evidence: [All responses are JSON.]\n", "/clauses/0/evidence/0: expected a"),
        ("    evidence: [{source: 000_9cacb542ce98a4dc.txt}]\n",
         "/clauses/0/evidence/0/quote: expected a non-empty string"),
        ("    basis: folklore\n", "/clauses/0/basis: expected one of safety"),
        ("    basis: safety\n    reason: 7\n", "/clauses/0/reason: expected a non-empty string"),
    ],
)
def test_a_looser_schema_cannot_produce_bad_evidence(
    tmp_path: Path, extra: str, expected: str
) -> None:
    source, schema_file = tmp_path / "clauses.yaml", tmp_path / "clauses.schema.json"
    source.write_text(LOOSE_CLAUSE + extra, encoding="utf-8")
    schema_file.write_text("{}", encoding="utf-8")
    with pytest.raises(contract.ContractError) as raised:
        contract.clauses(source, schema_source=schema_file)
    assert expected in str(raised.value)


def test_a_looser_schema_still_loads_good_evidence(tmp_path: Path) -> None:
    source, schema_file = tmp_path / "clauses.yaml", tmp_path / "clauses.schema.json"
    source.write_text(
        LOOSE_CLAUSE + "    evidence:\n      - {source: 000_9cacb542ce98a4dc.txt, quote: "
        "'All responses are JSON.'}\n    basis: safety\n    reason: It is only a test.\n",
        encoding="utf-8",
    )
    schema_file.write_text("{}", encoding="utf-8")
    (loaded,) = contract.clauses(source, schema_source=schema_file).values()
    assert loaded.evidence == (contract.Citation(SEED_0, "All responses are JSON."),)
    assert (loaded.basis, loaded.reason) == ("safety", "It is only a test.")
