"""The certificate record: every clause once, counts and ``certified`` that agree with the
verdicts and the exit status, a record valid against schemas/report.schema.json, and no secret
anywhere in it, even when a panel echoes one back.

The record is first built from a real :class:`HarnessRun` whose book is filled by hand (no
panel needed); then the whole harness runs, with ``--panel-report`` and ``--alluredir``, against
the mock and against a broken panel, with random keys and a control token, and every file it
wrote is searched for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from jsonschema import Draft202012Validator

from harness import __version__, contract
from harness.base.redaction import Secret
from harness.contract.resources import schemas_dir
from harness.judging.verdicts import Verdict, Waiver
from harness.reporting.certificate import build_certificate, certified, plain
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.conformance import harness_runs as runs
from tests.fixtures.transports import RecordingTransport

KEY = "cert-key/with+plus&eq=1"
TOKEN = "cert-token 42"
URL = "http://user:pass@127.0.0.1:9/api/v2?key=visible"


@dataclass(frozen=True)
class Guess:
    """Shaped like harness.panel.fingerprint.DialectGuess (duck-typed by the certificate)."""

    name: str | None
    score: float
    runner_up: tuple[str, float] | None
    evidence: tuple[str, ...]


def make_run(**overrides: Any) -> HarnessRun:
    config = PanelConfig(
        url=URL,
        key=Secret(KEY, "main key"),
        max_spend=Decimal("2.50"),
        control_url="http://127.0.0.1:9/_mock",
        control_token=Secret(TOKEN, "control token"),
        seed=1234,
        clauses=("ADD-*", "GEN-001"),
        **overrides,
    )
    return HarnessRun(config, transport=RecordingTransport())


def report_schema() -> Draft202012Validator:
    schema = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def secret_forms(*secrets: str) -> list[str]:
    return [form for s in secrets for form in {s, quote(s), quote_plus(s)}]


# ---------------------------------------------------------------------------------------------
# the record


def test_every_clause_appears_once_in_contract_order_with_its_text() -> None:
    record = build_certificate(make_run(), exit_status=0)
    clauses = contract.clauses()
    assert [c["id"] for c in record["clauses"]] == list(clauses)
    for row in record["clauses"]:
        clause = clauses[row["id"]]
        assert (row["level"], row["title"], row["text"]) == (clause.level, clause.title,
                                                              clause.text)
        assert row["area"] == row["id"].split("-")[0]
    assert record["contract"] == {"hash": contract.contract_hash(), "clauses": len(clauses)}


def test_verdicts_counts_and_evidence_follow_the_book() -> None:
    run = make_run()
    run.book.record("ADD-003", Verdict.FAIL, test="t.py::test_min", message="min ignored",
                    exchanges=["#1 POST add -> HTTP 200 {}"])
    run.book.record("GEN-003", Verdict.FAIL, test="t.py::test_ctype", message="text/html")
    run.book.record("GEN-001", Verdict.PASS, test="t.py::test_post")
    run.book.record_na("BAL-001", "no control API", test="t.py::test_balance")
    record = build_certificate(run, exit_status=1, tests={"ADD-003": ["t.py::test_min"] * 2})

    rows = {row["id"]: row for row in record["clauses"]}
    assert rows["ADD-003"]["verdict"] == "FAIL"
    assert rows["ADD-003"]["evidence"] == [
        {"test": "t.py::test_min", "message": "min ignored",
         "exchanges": ["#1 POST add -> HTTP 200 {}"]}]
    assert rows["ADD-003"]["tests"] == ["t.py::test_min"]
    assert rows["GEN-003"]["verdict"] == "NON-STRICT"  # a SHOULD clause never FAILs a run
    assert rows["GEN-001"]["verdict"] == "PASS"
    assert rows["GEN-001"]["observations"]["PASS"] == 1
    assert rows["BAL-001"] == {**rows["BAL-001"], "verdict": "N/A", "reason": "no control API"}
    assert record["failed_must"] == ["ADD-003"]

    outcomes = run.book.outcomes()
    for level in ("MUST", "SHOULD", "MAY"):
        for verdict in Verdict:
            expected = sum(1 for o in outcomes if o.level == level and o.verdict is verdict)
            assert record["counts"][level][verdict.value] == expected
    assert sum(record["counts"]["total"].values()) == len(outcomes)
    assert record["counts"]["MUST"]["FAIL"] == 1
    assert record["counts"]["SHOULD"]["NON-STRICT"] == 1
    report_schema().validate(record)


@pytest.mark.parametrize(
    ("must_fail", "exit_status", "expected", "verdict"),
    [
        (False, 0, True, "CERTIFIED: no MUST clause failed"),
        (True, 1, False, "NOT CERTIFIED: 1 MUST clause(s) failed"),
        (False, 1, False, "NOT CERTIFIED: the run did not end cleanly (exit status 1)"),
        (False, 2, False, "NOT CERTIFIED: the run did not end cleanly (exit status 2)"),
    ],
)
def test_certified_needs_no_must_failure_and_a_clean_exit(
    must_fail: bool, exit_status: int, expected: bool, verdict: str
) -> None:
    run = make_run()
    if must_fail:
        run.book.record("ADD-003", Verdict.FAIL, test="t", message="m")
    record = build_certificate(run, exit_status=exit_status)
    assert record["certified"] is expected
    assert certified(run.book.outcomes(), exit_status) is expected
    assert record["verdict"] == verdict


def test_run_facts_panel_url_dates_and_spend() -> None:
    run = make_run()
    finished = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = build_certificate(run, exit_status=0, finished_at=finished)
    assert record["panel"] == {"url": "http://127.0.0.1:9/api/v2"}  # no credentials, no query
    assert record["harness"]["version"] == __version__
    assert record["run"]["finished_at"] == "2026-01-02T03:04:05Z"
    assert record["run"]["started_at"] == run.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["run"]["seed"] == 1234
    assert record["run"]["mode"] == "controlled"
    assert record["run"]["clause_selection"] == ["ADD-*", "GEN-001"]
    assert record["spend"]["cap"] == "2.50"  # money is a decimal string, never a float
    assert record["spend"]["spent"] == "0"
    assert record["dialect"] == {"configured": "auto", "detected": None}
    report_schema().validate(record)


def test_the_detected_dialect_is_read_by_duck_typing() -> None:
    run = make_run(profile="smmhub")
    run.dialect = Guess("smmhub", 0.875, ("laravel", 0.25), ("ids are strings", "USD"))
    record = build_certificate(run, exit_status=0)
    assert record["dialect"] == {
        "configured": "smmhub",
        "detected": {"name": "smmhub", "score": 0.875, "runner_up": ["laravel", 0.25],
                     "evidence": ["ids are strings", "USD"], "closest": None,
                     "indistinguishable": [], "agrees_with_configured": None},
    }
    report_schema().validate(record)
    run.dialect = Guess(None, 0.0, None, ())
    assert build_certificate(run, exit_status=0)["dialect"]["detected"]["name"] is None


@pytest.mark.parametrize(("configured", "agrees"), [("auto", None), ("smmhub", True),
                                                    ("laravel", True), ("smmpro", False)])
def test_the_fingerprints_guess_and_whether_it_agrees(configured: str, agrees: bool | None
                                                      ) -> None:
    from harness.panel.fingerprint import DialectGuess

    run = make_run(profile=configured)
    run.dialect = DialectGuess(name="smmhub", score=0.9, runner_up=("laravel", 0.9),
                               evidence=("ids are strings",), observed={},
                               indistinguishable=("laravel",), closest="smmhub")
    detected = build_certificate(run, exit_status=0)["dialect"]["detected"]
    assert detected["indistinguishable"] == ["laravel"]
    assert detected["closest"] == "smmhub"
    assert detected["agrees_with_configured"] is agrees


def test_no_secret_survives_in_any_string_of_the_record() -> None:
    run = make_run()
    minted = run.secrets.add(Secret("minted-tenant-key", "tenant t2"))
    leaky = f"panel said {KEY} / {quote_plus(KEY)} / {quote(TOKEN)} / {minted.reveal()}"
    run.book.record("ADD-003", Verdict.FAIL, test=f"t.py::test[{KEY}]", message=leaky,
                    exchanges=[leaky])
    run.problems.append(leaky)
    run.dialect = Guess(KEY, 1.0, (TOKEN, 0.5), (leaky,))
    record = build_certificate(run, exit_status=1, tests={"ADD-003": [leaky]})
    text = json.dumps(record)
    for form in secret_forms(KEY, TOKEN, "minted-tenant-key"):
        assert form not in text
    assert "<redacted>" in record["notes"][0]
    report_schema().validate(record)


def test_plain_makes_json_ready_data_and_scrubs_everything() -> None:
    @dataclass
    class Thing:
        amount: Decimal
        ratio: float

    class Opaque:
        def __str__(self) -> str:
            return "opaque SECRET"

    def scrub(text: str) -> str:
        return text.replace("SECRET", "<redacted>")

    value = plain({"SECRET key": [Thing(Decimal("0.10"), float("inf")), Opaque(), Verdict.NA,
                                  (1, True, None)]}, scrub)
    assert value == {"<redacted> key": [{"amount": "0.10", "ratio": None}, "opaque <redacted>",
                                        "N/A", [1, True, None]]}
    json.dumps(value)


# ---------------------------------------------------------------------------------------------
# end to end: the real harness, the mock and a broken panel, with --panel-report and --alluredir


def assert_no_secret_written(folders: list[Path], secrets: tuple[str, ...]) -> int:
    """Grep every file under ``folders`` (bytes) for every secret, raw and URL-encoded."""
    forms = [f.encode() for f in secret_forms(*secrets)]
    files = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for form in forms:
            assert form not in data, f"a secret is written in {path}"
    return len(files)


def check_report(folder: Path, ret: int) -> dict[str, Any]:
    record = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    report_schema().validate(record)
    assert [c["id"] for c in record["clauses"]] == list(contract.clauses())
    tallies: dict[str, dict[str, int]] = {}
    for row in record["clauses"]:
        cell = tallies.setdefault(row["level"], {})
        cell[row["verdict"]] = cell.get(row["verdict"], 0) + 1
    for level, cells in tallies.items():
        assert {k: v for k, v in record["counts"][level].items() if v} == cells
    assert record["certified"] is (ret == 0)
    assert record["run"]["exit_status"] == ret
    assert (folder / "report.md").is_file()
    assert (folder / "report.html").is_file()
    return record


def allure_results(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]


def test_a_certified_mock_run_publishes_a_clean_report(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    keys = runs.Keys()
    report, allure = tmp_path / "report" / "nested", tmp_path / "allure"
    with runs.serve_profile("reference", keys, Decimal("100")) as url:
        runs.mint_key(url, keys.token, keys.second, Decimal("1.00"))
        result = runs.run_harness(pytester, url, keys, max_spend="5", controlled=True,
                                  extra=[f"--panel-report={report}", f"--alluredir={allure}"])
    assert result.ret == pytest.ExitCode.OK, "\n".join(result.outlines[-30:])
    record = check_report(report, result.ret)
    assert record["certified"] is True
    assert record["failed_must"] == []
    assert record["run"]["mode"] == "controlled"
    assert record["dialect"]["detected"]["name"] == "reference"
    assert any(row["tests"] for row in record["clauses"])
    assert f"panel report written to {report}" in "\n".join(result.outlines)
    assert allure_results(allure)
    assert assert_no_secret_written([report, allure], keys.all()) > 3
    output = "\n".join(result.outlines + result.errlines)
    assert all(secret not in output for secret in keys.all())


def test_a_failing_broken_panel_run_publishes_redacted_evidence(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    keys = runs.Keys()
    report, allure = tmp_path / "report", tmp_path / "allure"
    balances = (Decimal("500.00"), Decimal("1.00"))
    with runs.serve_broken("completed-order-cancelled", keys, balances) as url:
        result = runs.run_harness(pytester, url, keys, max_spend="100", controlled=True,
                                  extra=[f"--panel-report={report}", f"--alluredir={allure}"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    record = check_report(report, result.ret)
    assert record["certified"] is False
    assert "CANCEL-006" in record["failed_must"]
    row = next(r for r in record["clauses"] if r["id"] == "CANCEL-006")
    assert row["evidence"]
    assert any("<redacted>" in x for e in row["evidence"] for x in e["exchanges"])
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "## Failures" in markdown
    assert "### CANCEL-006 MUST" in markdown
    html = (report / "report.html").read_text(encoding="utf-8")
    assert '<tr class="fail"><td class="id">CANCEL-006</td>' in html

    labelled = [r for r in allure_results(allure)
                if {"name": "clause", "value": "CANCEL-006"} in r["labels"]]
    assert labelled
    # allure-pytest calls a non-AssertionError failure (CheckFailure) "broken".
    assert any(r["status"] in ("failed", "broken") for r in labelled)
    assert all(r.get("attachments") for r in labelled)
    assert assert_no_secret_written([report, allure], keys.all()) > 3


def test_an_unwritable_report_directory_stops_the_run_at_configure_time(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_inprocess(
        "--panel-url=http://127.0.0.1:9/api/v2", f"--panel-key={KEY}",
        f"--panel-report={blocker / 'reports'}", "-p", "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert "--panel-report (env PANEL_REPORT, ini panel_report): cannot write to" in errors
    assert "Traceback" not in errors
    assert KEY not in errors


# ---------------------------------------------------------------------------------------------
# root causes and waivers in the record


def test_a_waived_run_is_certified_and_lists_what_was_excused() -> None:
    run = make_run()
    run.book.record("ADD-003", Verdict.FAIL, test="t.py::test_min", message="min ignored")
    run.book.record_blocked("ADD-004", by="ADD-003", test="t.py::test_min")
    run.book.record("GEN-001", Verdict.PASS, test="t.py::test_post")
    run.book.waive([Waiver("ADD-003", "fixed in v3", date(2099, 12, 31)),
                    Waiver("GEN-001", "not needed", date(2099, 12, 31))],
                   today=date(2026, 3, 15))
    record = build_certificate(run, exit_status=0)
    report_schema().validate(record)
    assert record["certified"] is True
    assert record["verdict"] == "CERTIFIED: no MUST clause failed (1 waived: ADD-003)"
    assert record["failed_must"] == []
    assert record["waivers"] == [
        {"clause": "ADD-003", "reason": "fixed in v3", "expires": "2099-12-31",
         "status": "applied", "verdict": "WAIVED"},
        {"clause": "GEN-001", "reason": "not needed", "expires": "2099-12-31",
         "status": "stale", "verdict": "PASS"},
    ]
    rows = {row["id"]: row for row in record["clauses"]}
    assert record["root_causes"] == [
        {"clause": "ADD-003", "level": "MUST", "title": contract.clauses()["ADD-003"].title,
         "verdict": "WAIVED", "reason": rows["ADD-003"]["reason"], "blocked": ["ADD-004"]},
    ]
    assert rows["ADD-003"]["observations"] == {"PASS": 0, "NON-STRICT": 0, "FAIL": 1, "N/A": 0}
    assert rows["ADD-004"]["blocked_by"] == "ADD-003"
    assert record["counts"]["total"]["WAIVED"] == 1


def test_the_schema_refuses_a_waived_verdict_that_contradicts_its_waiver() -> None:
    """The report schema ties the parts together: an applied waiver means a WAIVED clause, a
    stale one a clause that is not WAIVED, and only an N/A clause can name a blocker."""
    run = make_run()
    run.book.record("ADD-003", Verdict.FAIL, test="t", message="m")
    run.book.waive([Waiver("ADD-003", "r", date(2099, 12, 31))], today=date(2026, 3, 15))
    record = build_certificate(run, exit_status=0)
    report_schema().validate(record)
    validator = report_schema()
    record["waivers"][0]["verdict"] = "FAIL"
    assert not validator.is_valid(record)
    record["waivers"][0].update(status="stale", verdict="WAIVED")
    assert not validator.is_valid(record)
    record["waivers"][0].update(status="applied")
    row = next(r for r in record["clauses"] if r["id"] == "GEN-001")
    row["blocked_by"] = "ADD-003"  # GEN-001 is N/A: it may name a blocker
    assert validator.is_valid(record)
    row["verdict"] = "PASS"
    assert not validator.is_valid(record)
