"""The three certificate files: report.json round-trips the record, report.md has its header,
summary, clause table and fenced evidence, report.html is one standalone escaped page; files
are written whole, readable, and scrubbed once more; a bad directory is a UsageError."""

from __future__ import annotations

import json
import re
import stat
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness import __version__, contract
from harness.certificate import build_certificate
from harness.client import RawResponse
from harness.config import PanelConfig
from harness.redaction import Secret
from harness.report_writers import (
    FILE_NAMES,
    prepare_dir,
    render_html,
    render_json,
    render_markdown,
    write_reports,
)
from harness.session import HarnessRun
from harness.verdicts import Verdict

HOSTILE = '<script>alert("x")</script> | `tick` ```fence``` & <img src=http://evil.test/x>'


class NoTransport:
    def send(self, method: str, url: str, headers: object, body: bytes | None) -> RawResponse:
        raise AssertionError("rendering must not talk to the panel")


def make_record(*, fail: bool = True) -> dict[str, Any]:
    config = PanelConfig(url="https://panel.example/api/v2", key=Secret("k-123", "main key"),
                         max_spend=Decimal("1.25"), seed=99)
    run = HarnessRun(config, transport=NoTransport())
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
    assert "**NOT CERTIFIED: 1 MUST clause(s) failed**: MUST: " in header

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
    assert "**CERTIFIED: no MUST clause failed**" in text
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
