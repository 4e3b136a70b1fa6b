"""The panels x clauses matrix (harness/reporting/matrix.py) and its command
(harness/programme/matrix_command.py): rows grouped by area in the contract's order, totals per
panel, the rows where panels differ, hostile evidence shown as text in both the page and the
Markdown twin, and bad input refused in one line."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path, PurePath
from typing import Any

import pytest
from markdown_it import MarkdownIt

from harness import contract
from harness.judging.verdicts import Verdict
from harness.programme import matrix_command
from harness.reporting.matrix import (
    ABSENT,
    build_matrix,
    panel_labels,
    render_html,
    render_markdown,
)
from tests.harness.programme.reports import FAIL, HOSTILE, PASS, record, write_report

NON_STRICT = Verdict.NON_STRICT


def three_panels() -> list[tuple[str, dict[str, Any]]]:
    """alpha certifies; beta fails ADD-001 (hostile evidence) and blocks CANCEL-001 with it;
    gamma is alpha with a waived ADD-001 and a NON-STRICT GEN-003."""
    base = {"GEN-001": PASS, "GEN-002": PASS, "ADD-001": PASS, "MONEY-001": PASS}
    return [
        ("alpha", record(base)),
        ("beta", record(base | {"ADD-001": FAIL, "GEN-003": NON_STRICT}, profile="smmhub",
                        message=HOSTILE, exchanges=[HOSTILE + "\n-> HTTP 200 {}"],
                        blocked={"CANCEL-001": "ADD-001"})),
        ("gamma", record(base | {"ADD-001": FAIL}, waived=["ADD-001"])),
    ]


class Page(HTMLParser):
    """The page's elements: tags seen, script bodies, and the text of every element."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


# ---------------------------------------------------------------------------------------------
# building


def test_rows_are_every_clause_once_grouped_by_area_in_the_contract_order() -> None:
    matrix = build_matrix(three_panels())
    known = list(contract.clauses())
    assert [row.id for row in matrix.rows] == known
    areas = [area.code for area in matrix.areas]
    assert areas == list(dict.fromkeys(clause.rsplit("-", 1)[0] for clause in known))
    assert areas[:3] == ["GEN", "ERR", "AUTH"]
    for area in matrix.areas:
        assert {row.id.rsplit("-", 1)[0] for row in area.rows} == {area.code}
    titles = {area.code: area.title for area in matrix.areas}
    # The section headings of schemas/clauses.yaml name the areas.
    assert titles["GEN"] == "transport and envelope"
    assert titles["MONEY"] == "debits, refunds, precision"
    assert all(titles.values())


def test_totals_count_each_panels_verdicts_as_its_certificate_does() -> None:
    reports = three_panels()
    matrix = build_matrix(reports)
    for panel, (label, data) in zip(matrix.panels, reports, strict=True):
        assert panel.label == label
        assert dict(panel.totals) == data["counts"]["total"]
        assert sum(panel.totals.values()) == len(contract.clauses())
    alpha, beta, gamma = matrix.panels
    assert (alpha.totals["PASS"], beta.totals["FAIL"], gamma.totals["WAIVED"]) == (4, 1, 1)
    assert [p.must_failures for p in matrix.panels] == [0, 1, 0]
    assert [p.standing for p in matrix.panels] == [
        "certified, partial scope", "not certified", "certified, partial scope"]
    assert beta.dialect == "smmhub"
    assert alpha.date.endswith(" UTC")
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", alpha.date)


def test_only_the_rows_whose_verdicts_differ_are_marked_as_differing() -> None:
    matrix = build_matrix(three_panels())
    differing = {row.id: [cell.verdict for cell in row.cells] for row in matrix.differing}
    assert set(differing) == {"GEN-003", "ADD-001"}
    assert differing["ADD-001"] == ["PASS", "FAIL", "WAIVED"]
    assert differing["GEN-003"] == ["N/A", "NON-STRICT", "N/A"]
    # Same verdict everywhere, even with different reasons (blocked vs not checked): same.
    cancel = next(row for row in matrix.rows if row.id == "CANCEL-001")
    assert not cancel.differs
    assert cancel.cells[1].reason.startswith("blocked by ADD-001")
    assert {a.code for a in matrix.areas if a.differs} == {"GEN", "ADD"}


def test_a_clause_missing_from_one_report_is_an_absent_cell_and_a_difference() -> None:
    reports = three_panels()
    older = dict(reports[0][1])
    older["clauses"] = [c for c in older["clauses"] if c["id"] != "HOOK-002"]
    matrix = build_matrix([("old", older), *reports[1:]])
    hook = next(row for row in matrix.rows if row.id == "HOOK-002")
    assert [cell.verdict for cell in hook.cells] == [ABSENT, "N/A", "N/A"]
    assert hook.differs
    assert matrix.panels[0].totals["N/A"] == reports[0][1]["counts"]["total"]["N/A"] - 1
    # A clause no contract knows (a newer report) still gets its row, in its area.
    newer = dict(reports[1][1])
    newer["clauses"] = [*newer["clauses"], dict(newer["clauses"][0], id="GEN-999", area="GEN")]
    matrix = build_matrix([reports[0], ("new", newer)])
    gen = matrix.areas[0]
    assert gen.rows[-1].id == "GEN-999"
    assert [cell.verdict for cell in gen.rows[-1].cells] == [ABSENT, "PASS"]


def test_column_labels_come_from_the_report_directories_and_stay_unique() -> None:
    paths = [PurePath("panel-report/smmhub/report.json"), PurePath("out/laravel.json"),
             PurePath("b/smmhub/report.json"), PurePath("c/smmhub/report.json"),
             PurePath("report.json")]
    assert panel_labels(paths) == ["smmhub", "laravel", "smmhub (2)", "smmhub (3)", "report"]


# ---------------------------------------------------------------------------------------------
# HTML


def test_the_page_shows_hostile_evidence_as_text_and_runs_only_its_own_script() -> None:
    page = render_html(build_matrix(three_panels()))
    parsed = Page(page)
    assert parsed.tags["script"] == 1
    assert parsed.tags["img"] == 0
    assert parsed.tags["b"] == 0
    assert parsed.handlers == []
    assert "alert" not in "".join(parsed.scripts)
    assert "&lt;script&gt;alert(&quot;evidence&quot;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    # Its only script is allowed by its hash and nothing else is (no 'unsafe-inline' script).
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    digest = base64.b64encode(hashlib.sha256(parsed.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp.group(1)
    assert "default-src 'none'" in csp.group(1)
    assert "http://" not in page.replace('xmlns="http://', "")  # nothing loaded from anywhere
    assert "https://panel.example/api/v2" in page  # the panel's URL is shown, as text


def test_a_hostile_label_dialect_or_title_is_escaped_too() -> None:
    reports = three_panels()
    data = json.loads(json.dumps(reports[1][1]))
    data["dialect"]["configured"] = "<i>x</i>"
    data["clauses"][0]["title"] = '"><svg onload=alert(2)>'
    page = render_html(build_matrix([("<u>label</u>", data)]))
    parsed = Page(page)
    assert parsed.tags["i"] == parsed.tags["u"] == parsed.tags["svg"] == 0
    assert parsed.handlers == []
    assert "&lt;u&gt;label&lt;/u&gt;" in page
    assert "dialect &lt;i&gt;x&lt;/i&gt;" in page


def test_the_page_marks_rows_areas_and_cells_for_the_filters_and_colours() -> None:
    page = render_html(build_matrix(three_panels()))
    rows = re.findall(r'<tr class="clause( same)?" data-id="([A-Z]+-\d+)"', page)
    assert len(rows) == len(contract.clauses())
    assert {clause for same, clause in rows if not same} == {"GEN-003", "ADD-001"}
    areas = re.findall(r'<tbody class="area( same)?" data-area="([A-Z]+)"', page)
    assert {area for same, area in areas if not same} == {"GEN", "ADD"}
    assert len(areas) == len({c.rsplit("-", 1)[0] for c in contract.clauses()})
    # The checkbox hides `.same` rows by CSS alone (it precedes the grid as a sibling).
    assert "#only-diff:checked~.grid tr.same" in page
    assert page.index('id="only-diff"') < page.index('class="grid"')
    # Each verdict is a colour class, a symbol and a word; every verdict but PASS is folded.
    add = re.search(r'<tr class="clause" data-id="ADD-001".*?</tr>', page, re.S)
    assert add is not None
    cells = re.findall(r'<td class="cell (\w+)" data-verdict="([^"]+)"(.*?)</td>', add.group(0),
                       re.S)
    assert [(css, verdict) for css, verdict, _ in cells] == [
        ("pass", "PASS"), ("fail", "FAIL"), ("waived", "WAIVED")]
    passed, failed, waived = (body for _, _, body in cells)
    assert "<details>" not in passed
    assert "✓" in passed
    assert "<details><summary" in failed
    assert "✗" in failed
    assert "FAIL" in failed
    assert "<pre>" in failed
    assert "-&gt; HTTP 200 {}" in failed
    assert "waived until 2999-01-01" in waived


def test_column_heads_carry_dialect_date_standing_and_totals_follow() -> None:
    matrix = build_matrix(three_panels())
    page = render_html(matrix)
    heads = re.findall(r'<th scope="col" class="panel".*?</th>', page, re.S)
    assert len(heads) == 3
    assert "dialect smmhub" in heads[1]
    assert "not certified · 1 MUST failure<" in heads[1]
    assert all(matrix.panels[0].date in head for head in heads[:1])
    totals = re.search(r'<tbody class="totals">(.*?)</tbody>', page, re.S)
    assert totals is not None
    fail_row = re.search(r"✗</span> FAIL</span></th>((?:<td>\d+</td>)+)", totals.group(1))
    assert fail_row is not None
    assert re.findall(r"<td>(\d+)</td>", fail_row.group(1)) == ["0", "1", "0"]


# ---------------------------------------------------------------------------------------------
# Markdown


def test_the_markdown_twin_lists_differences_areas_and_findings_with_evidence() -> None:
    text = render_markdown(build_matrix(three_panels()))
    assert "| | alpha | beta | gamma |" in text
    assert "| Dialect | reference | smmhub | reference |" in text
    assert "| ✗ FAIL | 0 | 1 | 0 |" in text
    differ = text.split("## Where the panels differ", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([A-Z]+-\d+) \|", differ, re.M)
    assert rows == ["GEN-003", "ADD-001"]
    assert "| ADD-001 | MUST | ✓ PASS | ✗ FAIL | ⚑ WAIVED | ≠ |" in differ
    headings = re.findall(r"^## ([A-Z]+): ", text, re.M)
    assert headings[:2] == ["GEN", "ERR"]
    assert len(headings) == len({clause.rsplit("-", 1)[0] for clause in contract.clauses()})
    assert len(re.findall(r"^\| [A-Z]+-\d+ \|", text, re.M)) == len(contract.clauses()) + 2
    findings = text.split("## Findings", 1)[1]
    assert re.findall(r"^### (\S+) on (\w+): (.*)$", findings, re.M) == [
        ("GEN-003", "beta", "≈ NON-STRICT"), ("ADD-001", "beta", "✗ FAIL"),
        ("ADD-001", "gamma", "⚑ WAIVED")]


def test_the_markdown_twin_keeps_hostile_evidence_inside_its_fence() -> None:
    text = render_markdown(build_matrix(three_panels()))
    # Inside a fence longer than any backtick run in it, the evidence is verbatim.
    fences = re.findall(r"^(`{3,})text\n(.*?)\n\1$", text, re.S | re.M)
    assert len(fences) == 3  # beta's NON-STRICT and FAIL, gamma's WAIVED
    hostile = [(fence, body) for fence, body in fences if HOSTILE in body]
    assert [fence for fence, _ in hostile] == ["````", "````"]
    # Rendered by a Markdown renderer that passes raw HTML through (as many do), no markup
    # of the panel's survives: the reason is escaped text, the evidence a code block.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert "<b>" not in rendered
    assert rendered.count('<pre><code class="language-text">') == 3
    assert "&lt;script&gt;alert(&quot;evidence&quot;)&lt;/script&gt;" in rendered
    # A pipe inside a cell never makes an extra column: every table row keeps its width.
    table = re.search(r"<table>.*?</table>", rendered.split("Where the panels differ")[1], re.S)
    assert table is not None
    assert {row.count("<td") for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
            if "<td" in row} == {6}


# ---------------------------------------------------------------------------------------------
# the command


def run_command(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="smm-conformance")
    matrix_command.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["matrix", *argv])
    result: int = args.func(args)
    return result


def test_the_command_writes_the_page_and_its_twin(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    dirs = [write_report(tmp_path / label, data) for label, data in three_panels()]
    out = tmp_path / "site" / "matrix.html"
    assert run_command(str(dirs[0]), str(dirs[1] / "report.json"), str(dirs[2]),
                       "-o", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    assert '<span class="label">alpha</span>' in page
    assert ">gamma</span>" in page
    twin = (tmp_path / "site" / "matrix.md").read_text(encoding="utf-8")
    assert twin.startswith("# SMM panel API v2 conformance matrix")
    clauses = len(contract.clauses())
    assert f"matrix of 3 reports x {clauses} clauses (2 differ)" in capsys.readouterr().out
    assert run_command(str(dirs[0]), "-o", str(tmp_path / "one.html"), "--no-markdown") == 0
    assert not (tmp_path / "one.md").exists()
    assert run_command(str(dirs[0]), "-o", str(tmp_path / "two.html"), "--markdown",
                       str(tmp_path / "twin.md")) == 0
    assert (tmp_path / "twin.md").is_file()


@pytest.mark.parametrize(("content", "expected"), [
    (None, "no such report"),
    ("{not json", "not JSON"),
    ('{"format": "smm-conformance-report/1", "clauses": []}', "smm-conformance-report/1"),
    ('{"format": "something-else/9"}', "not a conformance report"),
    ('[1, 2]', "not a conformance report"),
    ('{"format": "smm-conformance-report/2", "clauses": "x"}', "not a valid"),
])
def test_bad_input_is_one_line_on_stderr_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        expected: str) -> None:
    good = write_report(tmp_path / "good", three_panels()[0][1])
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    out = tmp_path / "matrix.html"
    assert run_command(str(good), str(bad), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("smm-conformance matrix: ")
    assert expected in err
    assert str(bad) in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not out.with_suffix(".md").exists()


def test_the_command_refuses_to_overwrite_a_report_or_itself(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_report(tmp_path / "good", three_panels()[0][1])
    before = (good / "report.json").read_bytes()
    assert run_command(str(good), "-o", str(good / "report.json"), "--no-markdown") == 2
    assert "is one of the reports read" in capsys.readouterr().err
    assert run_command(str(good), "-o", str(tmp_path / "m.md")) == 2
    assert "would be one file" in capsys.readouterr().err
    assert (good / "report.json").read_bytes() == before
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert run_command(str(good), "-o", str(blocker / "m.html")) == 2
    err = capsys.readouterr().err
    assert err.startswith("smm-conformance matrix: cannot write")
    assert err.count("\n") == 1
