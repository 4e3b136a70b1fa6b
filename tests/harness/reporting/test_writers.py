"""The three certificate files: report.json round-trips the record, report.md has its header,
summary, clause table and fenced evidence, report.html is one standalone escaped page; all three
group failures by root cause and list WAIVED clauses and every waiver; files are written whole,
readable, and scrubbed once more; a bad directory is a UsageError."""

from __future__ import annotations

import json
import re
import stat
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness import __version__, contract
from harness.base.redaction import Secret
from harness.judging.verdicts import Verdict, Waiver
from harness.reporting.certificate import build_certificate
from harness.reporting.writers import (
    FILE_NAMES,
    prepare_dir,
    render_html,
    render_json,
    render_markdown,
    write_reports,
)
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.fixtures.transports import RecordingTransport

HOSTILE = '<script>alert("x")</script> | `tick` ```fence``` & <img src=http://evil.test/x>'


def make_record(*, fail: bool = True) -> dict[str, Any]:
    config = PanelConfig(url="https://panel.example/api/v2", key=Secret("k-123", "main key"),
                         max_spend=Decimal("1.25"), seed=99)
    run = HarnessRun(config, transport=RecordingTransport())
    if fail:
        run.book.record("ADD-003", Verdict.FAIL, test="test_04_add.py::test_min",
                        message=f"accepted below min {HOSTILE}",
                        exchanges=[f"#7 POST add\n-> HTTP 200 application/json {HOSTILE}"])
        run.book.record("GEN-003", Verdict.FAIL, test="test_01.py::test_ctype",
                        message="labelled text/html")
    run.book.record("GEN-001", Verdict.PASS, test="test_01.py::test_post")
    run.problems.append(f"closing balance: {HOSTILE}")
    return build_certificate(run, exit_status=1 if fail else 0,
                             tests={"ADD-003": ["test_04_add.py::test_min"]})


# ---------------------------------------------------------------------------------------------
# JSON and Markdown


def test_json_round_trips_the_record() -> None:
    record = make_record()
    assert json.loads(render_json(record)) == record


def test_markdown_has_the_header_the_summary_the_table_and_fenced_evidence() -> None:
    record = make_record()
    text = render_markdown(record)
    header = text.split("## Clauses")[0]
    for fact in ("https://panel.example/api/v2", record["run"]["started_at"],
                 f"smm-conformance {__version__}", contract.contract_hash(), "| Seed | 99 |",
                 "configured auto; not detected", "spent 0 of cap 1.25"):
        assert fact in header
    assert record["conclusion"].startswith("NOT CERTIFIED: 1 MUST clause(s) failed — ")
    assert f"**{record['conclusion']}**\n\nMUST: " in header  # the verdict with its scope
    assert "| Scope | " in header

    rows = [line for line in text.splitlines() if re.match(r"^\| [A-Z]+-\d{3} \|", line)]
    assert [row.split(" | ")[0][2:] for row in rows] == list(contract.clauses())
    add = next(row for row in rows if row.startswith("| ADD-003 "))
    assert add.count(" | ") == 4  # the hostile reason's pipe is escaped, not a new cell
    assert "<script>" not in add
    assert "&lt;script&gt;" in add

    failures = text.split("## Failures")[1].split("## NON-STRICT findings")
    assert "### ADD-003 MUST:" in failures[0]
    assert "GEN-003" not in failures[0]
    assert "### GEN-003 SHOULD:" in failures[1]
    # The evidence holds ``` itself, so its fence must be longer; inside, it is verbatim.
    assert f"````text\ntest_04_add.py::test_min: accepted below min {HOSTILE}\n#7 POST add\n" \
        in failures[0]


def test_markdown_of_a_clean_run_has_no_failure_section() -> None:
    text = render_markdown(make_record(fail=False))
    assert "**CERTIFIED: no MUST clause failed — partial scope: " in text
    assert "## Failures" not in text


# ---------------------------------------------------------------------------------------------
# HTML


class Page(HTMLParser):
    """Collects what makes a page non-standalone or unsafe, and the clause rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.rows: dict[str, str] = {}
        self.details = 0
        self._row_class: str | None = None
        self._in_id = False
        self.csp = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset")]
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp = values.get("content") or ""
        if tag == "tr":
            self._row_class = values.get("class")
        self._in_id = tag == "td" and values.get("class") == "id"
        self.details += tag == "details"

    def handle_data(self, data: str) -> None:
        if self._in_id and self._row_class is not None:
            self.rows[data] = self._row_class
            self._in_id = False


def test_html_is_one_standalone_escaped_page_coloured_by_verdict() -> None:
    record = make_record()
    text = render_html(record)
    page = Page()
    page.feed(text)
    assert {"script", "link", "img", "iframe", "object"}.isdisjoint(page.tags)
    assert page.urls == []
    assert page.csp.startswith("default-src 'none'")
    assert page.tags.count("style") == 1
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text

    assert list(page.rows) == list(contract.clauses())  # every clause, once, in order
    assert page.rows["ADD-003"] == "fail"
    assert page.rows["GEN-003"] == "nonstrict"
    assert page.rows["GEN-001"] == "pass"
    assert page.rows["BAL-001"] == "na"
    assert page.details >= len(page.rows)
    assert "<details open><summary>" in text  # a failure's details are open
    assert "test_04_add.py::test_min: accepted below min &lt;script&gt;" in text
    for fact in (contract.contract_hash(), "https://panel.example/api/v2", "NOT CERTIFIED"):
        assert fact in text


# ---------------------------------------------------------------------------------------------
# writing


def test_write_reports_writes_three_readable_files_and_scrubs_them(tmp_path: Path) -> None:
    record = make_record()
    record["notes"].append("leaked WHOLE-FILE-SECRET here")
    written = write_reports(record, tmp_path,
                            scrub=lambda text: text.replace("WHOLE-FILE-SECRET", "<redacted>"))
    assert [p.name for p in written] == list(FILE_NAMES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILE_NAMES)  # no temp file left
    for path in written:
        content = path.read_text(encoding="utf-8")
        assert "WHOLE-FILE-SECRET" not in content
        assert "leaked <redacted> here" in content
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert json.loads(written[0].read_text(encoding="utf-8"))["notes"][-1] == \
        "leaked <redacted> here"


def test_prepare_dir_creates_missing_folders(tmp_path: Path) -> None:
    target = prepare_dir(tmp_path / "a" / "b")
    assert target == (tmp_path / "a" / "b").resolve()
    assert target.is_dir()
    assert list(target.iterdir()) == []  # the writability probe leaves nothing behind


def test_prepare_dir_refuses_a_path_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(pytest.UsageError, match=r"^--panel-report .*cannot write to .*file"):
        prepare_dir(blocker / "reports")
    with pytest.raises(pytest.UsageError, match="cannot write to"):
        prepare_dir(blocker)


# ---------------------------------------------------------------------------------------------
# root causes and waivers


def make_waived_record() -> dict[str, Any]:
    """ADD-003 FAILs and is waived, blocking ADD-004 and (through it) ADD-005; CANCEL-001
    FAILs and blocks BATCH-005; GEN-001 passes under a stale waiver; ISO-001's waiver expired."""
    config = PanelConfig(url="https://panel.example/api/v2", key=Secret("k-123", "main key"))
    run = HarnessRun(config, transport=RecordingTransport())
    book = run.book
    book.record("ADD-003", Verdict.FAIL, test="test_04_add.py::test_min",
                message="accepted below min", exchanges=["#7 POST add -> HTTP 200"])
    book.record_blocked("ADD-004", by="ADD-003", test="test_04_add.py::test_min")
    book.record_blocked("ADD-005", by="ADD-004", test="test_04_add.py::test_max",
                        detail="no order placed")
    book.record("CANCEL-001", Verdict.FAIL, test="test_08.py::test_cancel",
                message="cancel answered null")
    book.record_blocked("BATCH-005", by="CANCEL-001", test="test_08.py::test_batch",
                        detail=f"cancel is not offered {HOSTILE}")
    book.record("GEN-001", Verdict.PASS, test="test_01.py::test_post")
    book.waive([Waiver("ADD-003", f"min enforced from v3 {HOSTILE}", date(2099, 1, 1)),
                Waiver("GEN-001", "was flaky", date(2099, 1, 1)),
                Waiver("ISO-001", "old", date(2000, 1, 1))], today=date(2026, 3, 15))
    return build_certificate(run, exit_status=1)


def test_json_groups_failures_by_root_cause_and_lists_every_waiver() -> None:
    record = json.loads(render_json(make_waived_record()))
    assert [(c["clause"], c["verdict"], c["blocked"]) for c in record["root_causes"]] == [
        ("CANCEL-001", "FAIL", ["BATCH-005"]),
        ("ADD-003", "WAIVED", ["ADD-004", "ADD-005"]),
    ]
    assert [(w["clause"], w["status"], w["verdict"], w["expires"]) for w in record["waivers"]] \
        == [("ADD-003", "applied", "WAIVED", "2099-01-01"),
            ("GEN-001", "stale", "PASS", "2099-01-01"),
            ("ISO-001", "expired", "N/A", "2000-01-01")]
    rows = {row["id"]: row for row in record["clauses"]}
    assert rows["ADD-003"]["verdict"] == "WAIVED"
    assert rows["ADD-003"]["evidence"][0]["message"] == "accepted below min"
    assert rows["ADD-005"]["blocked_by"] == "ADD-004"  # the direct blocker, per clause
    assert rows["ADD-005"]["reason"] == "blocked by ADD-004: no order placed"
    assert rows["GEN-001"]["blocked_by"] is None
    assert record["failed_must"] == ["CANCEL-001"]
    assert record["counts"]["MUST"]["WAIVED"] == 1
    assert record["verdict"] == "NOT CERTIFIED: 1 MUST clause(s) failed (1 waived: ADD-003)"


def test_markdown_has_root_causes_waivers_and_waived_evidence() -> None:
    text = render_markdown(make_waived_record())
    causes = text.split("## Root causes")[1].split("## Waivers")[0]
    titles = contract.clauses()
    assert f"- CANCEL-001 FAIL — blocked: BATCH-005 ({titles['CANCEL-001'].title})" in causes
    assert f"- ADD-003 WAIVED — blocked: ADD-004, ADD-005 ({titles['ADD-003'].title})" in causes
    waivers = text.split("## Waivers")[1].split("## Clauses")[0]
    assert "| ADD-003 | applied: the FAIL is WAIVED | 2099-01-01 | WAIVED | min enforced " \
        "from v3 &lt;script&gt;" in waivers
    assert "| GEN-001 | stale: the clause did not fail | 2099-01-01 | PASS | was flaky |" in waivers
    assert "| ISO-001 | expired: ignored | 2000-01-01 | N/A | old |" in waivers
    assert "<script>" not in text
    table = text.split("## Clauses")[1].split("## Failures")[0]
    assert "| ADD-003 | MUST | WAIVED |" in table
    batch = next(line for line in table.splitlines() if line.startswith("| BATCH-005 "))
    assert batch.startswith("| BATCH-005 | MUST | N/A | ")
    assert batch.endswith("| blocked by CANCEL-001: cancel is not offered &lt;script&gt;"
                          "alert(\"x\")&lt;/script&gt; \\| `tick` ```fence``` &amp; "
                          "&lt;img src=http://evil.test/x&gt; |")
    failures = text.split("## Failures")[1].split("## Waived failures")
    assert "### CANCEL-001 MUST" in failures[0]
    assert "ADD-003" not in failures[0]
    assert "### ADD-003 MUST" in failures[1]
    assert "test_04_add.py::test_min: accepted below min\n#7 POST add -> HTTP 200" in failures[1]


def test_a_clean_report_has_no_root_cause_or_waiver_section() -> None:
    text = render_markdown(make_record(fail=False))
    assert "## Root causes" not in text
    assert "## Waivers" not in text
    assert "Root causes" not in render_html(make_record(fail=False))


def test_html_has_waived_rows_root_causes_and_waivers() -> None:
    text = render_html(make_waived_record())
    page = Page()
    page.feed(text)
    assert list(page.rows) == list(contract.clauses())  # the new tables add no clause row
    assert page.rows["ADD-003"] == "waived"
    assert page.rows["CANCEL-001"] == "fail"
    assert page.rows["ADD-004"] == "na"
    assert "<script>" not in text
    causes = text.split("<h2>Root causes</h2>")[1].split("<h2>Waivers</h2>")[0]
    assert re.search(r'<tr class="fail"><td class="cid">CANCEL-001</td><td class="v">FAIL</td>'
                     r'<td>[^<]*</td><td class="cid">BATCH-005</td></tr>', causes)
    assert re.search(r'<tr class="waived"><td class="cid">ADD-003</td><td class="v">WAIVED</td>'
                     r'<td>[^<]*</td><td class="cid">ADD-004, ADD-005</td></tr>', causes)
    waivers = text.split("<h2>Waivers</h2>")[1].split("<h2>Clauses</h2>")[0]
    assert "<td>stale: the clause did not fail</td>" in waivers
    assert "min enforced from v3 &lt;script&gt;" in waivers
    assert causes.index("CANCEL-001") < causes.index("ADD-003")  # worst first
