"""The panels x clauses matrix: many certificates side by side, the view a reseller choosing
between panels actually reads (Autobahn's report is such a matrix of implementations x cases).

:func:`build_matrix` turns certificate records (``report.json``, read and checked by
:mod:`harness.reporting.reading`) into a :class:`Matrix`: one column per panel (its label,
dialect, run date, certification and totals), one row per clause, the rows grouped by area (the
clause id's prefix, in the contract's order, titled as ``schemas/clauses.yaml`` titles its
sections). A clause one report has and another lacks (reports made against different contracts)
is a row with an empty cell, never an error.

:func:`render_html` writes one standalone page: inline CSS and one inline script, allowed by its
hash in the page's Content-Security-Policy, which forbids loading anything at all, so the page
works offline and an escaping slip could still not run a panel's text as a script. Every value
is escaped: evidence strings come from panels, and a panel may be hostile. The page is built to
be read at 12 panels x 130 clauses: the table scrolls inside its own box with the column heads
and the clause column sticky; a checkbox shows only the rows where the panels differ (pure
CSS, so it works without the script too); a text box filters rows by clause id or title. Each
verdict is a colour *and* a symbol and word, so it never relies on colour alone; every verdict
other than PASS folds its reason and evidence under the cell (a click unfolds it, as an
overlay, without widening the column).

:func:`render_markdown` writes the same content as a Markdown twin: the panels, their totals,
the rows where they differ, every clause per area, then each finding's reason and evidence.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import Any

from harness import contract
from harness.contract.resources import schemas_dir

__all__ = [
    "FOLDED",
    "SYMBOLS",
    "VERDICTS",
    "Area",
    "Cell",
    "Matrix",
    "Panel",
    "Row",
    "build_matrix",
    "panel_labels",
    "render_html",
    "render_markdown",
]

VERDICTS = ("PASS", "NON-STRICT", "WAIVED", "FAIL", "N/A")
# A symbol beside every verdict word, so the matrix reads in grey scale and for colour-blind
# readers; ABSENT marks a clause the panel's report does not have (another contract version).
ABSENT = "absent"
SYMBOLS = {"PASS": "✓", "NON-STRICT": "≈", "WAIVED": "⚑", "FAIL": "✗", "N/A": "\u2013", ABSENT: "·"}
_CSS = {"PASS": "pass", "NON-STRICT": "nonstrict", "WAIVED": "waived", "FAIL": "fail",
        "N/A": "na", ABSENT: "absent"}
# The verdicts whose reason and evidence a reader wants: folded under the cell. A PASS only
# counts its observations, so its reason is a tooltip.
FOLDED = frozenset({"NON-STRICT", "WAIVED", "FAIL", "N/A"})
_AREA_HEADING = re.compile(r"^\s*#\s*-+\s*([A-Z][A-Z0-9]*):\s*(.*?)\s*-*\s*$")


@dataclass(frozen=True)
class Panel:
    """One column: a certificate's identity, context and totals."""

    label: str
    url: str
    dialect: str
    date: str
    certified: bool
    full_scope: bool
    must_failures: int
    totals: Mapping[str, int]  # clauses per verdict, over this report's clauses
    harness: str
    contract_hash: str

    @property
    def standing(self) -> str:
        """certified / certified, partial scope / not certified, as the badge says it."""
        if not self.certified:
            return "not certified"
        return "certified" if self.full_scope else "certified, partial scope"


@dataclass(frozen=True)
class Cell:
    """One panel's verdict on one clause; ``verdict`` is ABSENT when its report lacks it."""

    verdict: str
    reason: str = ""
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    id: str
    level: str
    title: str
    cells: tuple[Cell, ...]

    @property
    def differs(self) -> bool:
        """The panels do not all have the same verdict here (an absent clause counts)."""
        return len({cell.verdict for cell in self.cells}) > 1


@dataclass(frozen=True)
class Area:
    code: str
    title: str
    rows: tuple[Row, ...]

    @property
    def differs(self) -> bool:
        return any(row.differs for row in self.rows)


@dataclass(frozen=True)
class Matrix:
    panels: tuple[Panel, ...]
    areas: tuple[Area, ...]

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(row for area in self.areas for row in area.rows)

    @property
    def differing(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.differs)


# ---------------------------------------------------------------------------------------------
# building


def panel_labels(paths: Sequence[PurePath]) -> list[str]:
    """A short, unique column label per report path: the directory a ``report.json`` sits in
    (``panel-report/smmhub/report.json`` -> ``smmhub``, as ``--panel-report`` lays them out),
    else the file's stem; a repeated label gets `` (2)``, `` (3)``..."""
    labels: list[str] = []
    for path in paths:
        base = path.parent.name if path.name == "report.json" and path.parent.name else path.stem
        label, n = base or "report", 2
        while label in labels:
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    return labels


def build_matrix(reports: Sequence[tuple[str, Mapping[str, Any]]]) -> Matrix:
    """The matrix of ``(label, record)`` pairs, in the given column order; each record is a
    certificate already checked against the report schema."""
    panels = tuple(_panel(label, record) for label, record in reports)
    by_panel = [{c["id"]: c for c in record["clauses"]} for _, record in reports]
    order = _clause_order(c for record in (r for _, r in reports) for c in record["clauses"])
    titles = _area_titles()
    areas: dict[str, list[Row]] = {}
    for clause_id, first in order:
        cells = tuple(_cell(clauses.get(clause_id)) for clauses in by_panel)
        area = _area_of(first)
        areas.setdefault(area, []).append(Row(clause_id, str(first["level"]),
                                              str(first["title"]), cells))
    return Matrix(panels, tuple(Area(code, titles.get(code, ""), tuple(rows))
                                for code, rows in areas.items()))


def _panel(label: str, record: Mapping[str, Any]) -> Panel:
    clauses = record["clauses"]
    totals = {v: sum(1 for c in clauses if c["verdict"] == v) for v in VERDICTS}
    must_failures = sum(1 for c in clauses if c["verdict"] == "FAIL" and c["level"] == "MUST")
    return Panel(
        label=label,
        url=str(record["panel"]["url"]),
        dialect=_dialect(record["dialect"]),
        date=_date(str(record["run"]["started_at"])),
        certified=bool(record["certified"]),
        full_scope=bool(record["scope"]["full"]),
        must_failures=must_failures,
        totals=totals,
        harness=f"{record['harness']['name']} {record['harness']['version']}",
        contract_hash=str(record["contract"]["hash"]),
    )


def _dialect(dialect: Mapping[str, Any]) -> str:
    configured = str(dialect["configured"])
    detected = dialect.get("detected") or {}
    name = detected.get("name")
    if name is None:
        closest = detected.get("closest")
        if not detected:
            return configured
        return f"{configured} (detected none" + (f", closest {closest})" if closest else ")")
    return configured if name == configured else f"{configured} (detected {name})"


def _date(moment: str) -> str:
    """``2026-12-07T17:05:47Z`` -> ``2026-12-07 17:05 UTC`` (the harness writes UTC)."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d)?Z", moment)
    return f"{found.group(1)} {found.group(2)} UTC" if found else moment


def _cell(clause: Mapping[str, Any] | None) -> Cell:
    if clause is None:
        return Cell(ABSENT, "this clause is not in this panel's report (another contract)")
    evidence = tuple(
        "\n".join((f"{e['test']}: {e['message']}", *(str(x) for x in e["exchanges"])))
        for e in clause["evidence"]
    )
    return Cell(str(clause["verdict"]), str(clause["reason"]), evidence)


def _area_of(clause: Mapping[str, Any]) -> str:
    return str(clause.get("area") or str(clause["id"]).rsplit("-", 1)[0])


def _clause_order(clauses: Iterable[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    """Every clause id once (with its first record), areas in the contract's order, clauses in
    the contract's order within them; ids the contract does not know follow, by id."""
    first: dict[str, Mapping[str, Any]] = {}
    for clause in clauses:
        first.setdefault(str(clause["id"]), clause)
    known = list(contract.clauses())
    position = {clause_id: n for n, clause_id in enumerate(known)}
    area_rank: dict[str, int] = {}
    for clause_id in known:
        area_rank.setdefault(clause_id.rsplit("-", 1)[0], len(area_rank))

    def key(clause_id: str) -> tuple[int, str, int, str]:
        area = _area_of(first[clause_id])
        return (area_rank.get(area, len(area_rank)), area,
                position.get(clause_id, len(position)), clause_id)

    return [(clause_id, first[clause_id]) for clause_id in sorted(first, key=key)]


@cache
def _area_titles() -> dict[str, str]:
    """Area code -> title, from the section headings of ``schemas/clauses.yaml``
    (``# ---- GEN: transport and envelope ----``); an area without one shows its code only."""
    text = (schemas_dir() / "clauses.yaml").read_text(encoding="utf-8")
    found = (_AREA_HEADING.match(line) for line in text.splitlines())
    return {m.group(1): m.group(2) for m in found if m}


# ---------------------------------------------------------------------------------------------
# HTML


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# The grid scrolls inside its own box (both ways), so the page body never widens: its column
# heads stick to the top of the box and the clause column to its left. Borders are "separate"
# because collapsed borders do not travel with sticky cells. Unfolded evidence is an overlay
# (absolute, in a positioned cell) so opening it never widens a column; in the last column it
# opens leftwards. Below 40em the clause column keeps the id and level only (the title is
# its tooltip), so the verdicts still have room on a phone.
_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1em;color:#1d1f21;
background:#fff}
h1{font-size:1.4em;margin:.2em 0}p{margin:.4em 0}
.lead,.legend{max-width:60em;overflow-wrap:anywhere}
.chip{display:inline-block;padding:0 .35em;border-radius:3px;white-space:nowrap;
font-family:ui-monospace,monospace;font-size:12px}
.pass{background:#dcf5dc;color:#14521b}.nonstrict{background:#fff1c2;color:#5c4200}
.waived{background:#d9e8fb;color:#163d73;font-weight:bold}
.fail{background:#f6b8b8;color:#7a1212;font-weight:bold}.na{background:#eceef0;color:#4a4f55}
.absent{background:#fff;color:#6b7075;font-style:italic}
#only-diff{margin:0 .3em 0 0;vertical-align:middle}
#only-diff:checked~.grid tr.same,#only-diff:checked~.grid tbody.same{display:none}
tr.filtered,tbody.empty{display:none}
#filters{margin-left:1.5em}#shown{color:#4a4f55;margin-left:.6em}
.grid{overflow:auto;max-width:100%;max-height:calc(100vh - 2em);border:1px solid #c4c9ce}
table.matrix{border-collapse:separate;border-spacing:0;font-size:13px}
table.matrix th,table.matrix td{border-right:1px solid #d0d4d8;border-bottom:1px solid #d0d4d8;
padding:.25em .4em;text-align:left;vertical-align:top}
table.matrix thead th{position:sticky;top:0;z-index:2;background:#eef0f2;min-width:9em;
max-width:15em;font-weight:normal;overflow-wrap:anywhere}
table.matrix thead th.corner{left:0;z-index:3;min-width:0}
table.matrix tbody th{position:sticky;left:0;z-index:1;background:#f7f8f9;font-weight:normal;
width:24em;min-width:24em;max-width:24em}
.panel .label{display:block;font-weight:bold;font-size:14px}
.panel .meta{display:block;color:#4a4f55;font-size:12px}
.panel .standing{display:block;margin:.15em 0;white-space:normal}
.cid{font-family:ui-monospace,monospace;white-space:nowrap}
.level{font-size:11px;color:#4a4f55;margin-left:.4em}
.title{display:block;color:#33373b;font-size:12px}
table.matrix tr.area-head th{background:#e3e7eb;z-index:1}
tr.area-head .area-name{position:sticky;left:.4em;font-weight:bold}
tbody.totals th{font-weight:bold}tbody.totals td{font-family:ui-monospace,monospace}
table.matrix td.cell{position:relative;padding:0}
td.cell>.chip,td.cell summary{display:block;border-radius:0;padding:.25em .4em;
min-height:100%}
td.cell summary{cursor:pointer;list-style:none}
td.cell summary::-webkit-details-marker{display:none}
td.cell summary::after{content:" ▸";font-weight:normal}
td.cell details[open] summary::after{content:" ▾"}
.evidence{position:absolute;z-index:4;top:100%;left:0;width:min(34em,80vw);max-height:60vh;
overflow:auto;background:#fff;color:#1d1f21;border:1px solid #8a9096;
box-shadow:0 4px 14px rgba(0,0,0,.25);padding:.5em;font-weight:normal;white-space:normal}
table.matrix td.cell:last-child:not(:nth-child(2)) .evidence{left:auto;right:0}
.evidence pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4em 0;background:#f6f8fa;
border:1px solid #d0d4d8;padding:.4em;font-size:12px}
@media (max-width:40em){
body{margin:.5em}
table.matrix tbody th{width:8.5em;min-width:8.5em;max-width:8.5em}
table.matrix thead th{min-width:7.5em}
.title{display:none}.level{display:block;margin:0}
}
"""

# The row filter (clause id or title) and the Escape key that folds every open evidence.
# The "only differences" checkbox needs no script: the style sheet hides `.same` rows.
_SCRIPT = """
(function () {
  "use strict";
  var only = document.getElementById("only-diff");
  var box = document.getElementById("clause-filter");
  var shown = document.getElementById("shown");
  var areas = document.querySelectorAll("tbody.area");
  var total = document.querySelectorAll("tbody.area tr.clause").length;
  function apply() {
    var wanted = box.value.trim().toUpperCase();
    var count = 0;
    areas.forEach(function (area) {
      var visible = 0;
      area.querySelectorAll("tr.clause").forEach(function (row) {
        var text = (row.dataset.id + " " + row.dataset.title).toUpperCase();
        var hit = wanted === "" || text.indexOf(wanted) >= 0;
        row.classList.toggle("filtered", !hit);
        if (hit && !(only.checked && row.classList.contains("same"))) { visible += 1; }
      });
      area.classList.toggle("empty", visible === 0);
      count += visible;
    });
    shown.textContent = "showing " + count + " of " + total + " clauses";
  }
  document.getElementById("filters").hidden = false;
  box.addEventListener("input", apply);
  only.addEventListener("change", apply);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("td.cell details[open]").forEach(function (d) { d.open = false; });
    }
  });
  apply();
})();
"""


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _chip(verdict: str, text: str | None = None) -> str:
    css = _CSS.get(verdict, "na")
    word = verdict if text is None else text
    return (f'<span class="chip {css}"><span aria-hidden="true">{_e(SYMBOLS.get(verdict, "?"))}'
            f"</span> {_e(word)}</span>")


def _panel_head(panel: Panel) -> str:
    standing = {"certified": "pass", "certified, partial scope": "nonstrict"}.get(
        panel.standing, "fail")
    symbol = "✗" if standing == "fail" else "✓"
    failures = (f" · {panel.must_failures} MUST failure{'s' if panel.must_failures != 1 else ''}"
                if panel.must_failures else "")
    return (
        f'<th scope="col" class="panel" title="{_e(panel.url)}">'
        f'<span class="label">{_e(panel.label)}</span>'
        f'<span class="standing chip {standing}"><span aria-hidden="true">{symbol}</span> '
        f"{_e(panel.standing)}{_e(failures)}</span>"
        f'<span class="meta">dialect {_e(panel.dialect)}</span>'
        f'<span class="meta">{_e(panel.date)}</span>'
        f'<span class="meta">{_e(panel.url)}</span>'
        f'<span class="meta">{_e(panel.harness)} · contract {_e(panel.contract_hash[:12])}</span>'
        "</th>"
    )


def _html_cell(cell: Cell) -> str:
    css = _CSS.get(cell.verdict, "na")
    if cell.verdict not in FOLDED:
        tip = f' title="{_e(cell.reason)}"' if cell.reason else ""
        return f'<td class="cell {css}" data-verdict="{_e(cell.verdict)}"{tip}>' \
               f"{_chip(cell.verdict)}</td>"
    body = f"<p>{_e(cell.reason or 'no reason given')}</p>"
    body += "".join(f"<pre>{_e(text)}</pre>" for text in cell.evidence)
    return (
        f'<td class="cell {css}" data-verdict="{_e(cell.verdict)}"><details>'
        f'<summary class="chip {css}"><span aria-hidden="true">{_e(SYMBOLS[cell.verdict])}</span>'
        f' {_e(cell.verdict)}</summary><div class="evidence">{body}</div></details></td>'
    )


def _html_row(row: Row) -> str:
    same = "" if row.differs else " same"
    cells = "".join(_html_cell(cell) for cell in row.cells)
    return (
        f'<tr class="clause{same}" data-id="{_e(row.id)}" data-title="{_e(row.title)}">'
        f'<th scope="row" title="{_e(row.title)}"><span class="cid">{_e(row.id)}</span>'
        f'<span class="level">{_e(row.level)}</span><span class="title">{_e(row.title)}</span>'
        f"</th>{cells}</tr>"
    )


def _html_area(area: Area, width: int) -> str:
    same = "" if area.differs else " same"
    name = area.code + (f" — {area.title}" if area.title else "")
    rows = "\n".join(_html_row(row) for row in area.rows)
    return (
        f'<tbody class="area{same}" data-area="{_e(area.code)}">'
        f'<tr class="area-head"><th colspan="{width}" scope="rowgroup">'
        f'<span class="area-name">{_e(name)}</span></th></tr>\n{rows}\n</tbody>'
    )


def _html_totals(panels: Sequence[Panel]) -> str:
    rows = []
    for verdict in VERDICTS:
        cells = "".join(f"<td>{panel.totals[verdict]}</td>" for panel in panels)
        rows.append(f'<tr><th scope="row">{_chip(verdict)}</th>{cells}</tr>')
    clauses = "".join(f"<td>{sum(panel.totals.values())}</td>" for panel in panels)
    rows.append(f'<tr><th scope="row">clauses</th>{clauses}</tr>')
    return '<tbody class="totals">' + "".join(rows) + "</tbody>"


def render_html(matrix: Matrix) -> str:
    panels, rows = matrix.panels, matrix.rows
    heads = "".join(_panel_head(panel) for panel in panels)
    areas = "\n".join(_html_area(area, len(panels) + 1) for area in matrix.areas)
    legend = " ".join(_chip(v) for v in VERDICTS) + " " + _chip(ABSENT, "not in the report")
    contracts = {panel.contract_hash for panel in panels}
    mixed = (f" The reports were made against {len(contracts)} different contracts."
             if len(contracts) > 1 else "")
    script = _SCRIPT
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src '{_csp_hash(script)}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SMM panel API v2 conformance matrix: {len(panels)} panels</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>SMM panel API v2 conformance matrix</h1>
<p class="lead">{len(panels)} panels &times; {len(rows)} clauses; the panels differ on \
{len(matrix.differing)} clauses.{_e(mixed)} Click a verdict other than PASS for its reason \
and evidence.</p>
<p class="legend">{legend}</p>
<input type="checkbox" id="only-diff"><label for="only-diff">only the clauses where the panels \
differ ({len(matrix.differing)})</label>
<span id="filters" hidden><label>filter clauses: <input type="search" \
id="clause-filter" placeholder="id or title, e.g. MONEY" size="18"></label>\
<span id="shown" role="status"></span></span>
<div class="grid" tabindex="0" role="region" aria-label="verdicts: panels by clauses">
<table class="matrix">
<thead><tr><th scope="col" class="corner">clause</th>{heads}</tr></thead>
{_html_totals(panels)}
{areas}
</table>
</div>
<script>{script}</script>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#<>])")


def _md(text: object) -> str:
    """One table cell or line: Markdown and HTML syntax shown as text, on one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _md_verdict(verdict: str) -> str:
    return f"{SYMBOLS.get(verdict, '?')} {'not in report' if verdict == ABSENT else verdict}"


def _md_table(rows: Sequence[Row], panels: Sequence[Panel]) -> list[str]:
    head = "| Clause | Level | " + " | ".join(_md(p.label) for p in panels) + " | Differs |"
    rule = "|---|---|" + "---|" * len(panels) + "---|"
    lines = [head, rule]
    for row in rows:
        cells = " | ".join(_md_verdict(cell.verdict) for cell in row.cells)
        lines.append(f"| {_md(row.id)} | {_md(row.level)} | {cells} | "
                     f"{'≠' if row.differs else ''} |")
    return lines


def render_markdown(matrix: Matrix) -> str:
    panels = matrix.panels
    lines = ["# SMM panel API v2 conformance matrix", "",
             f"{len(panels)} panels \u00d7 {len(matrix.rows)} clauses; the panels differ on "
             f"{len(matrix.differing)} clauses.", "",
             "| | " + " | ".join(_md(p.label) for p in panels) + " |",
             "|---|" + "---|" * len(panels)]

    def line(name: str, values: Iterable[object]) -> str:
        return f"| {name} | " + " | ".join(_md(v) for v in values) + " |"

    lines.append(line("Standing", (
        p.standing + (f", {p.must_failures} MUST failures" if p.must_failures else "")
        for p in panels)))
    lines.append(line("Dialect", (p.dialect for p in panels)))
    lines.append(line("Run date", (p.date for p in panels)))
    lines.append(line("Panel URL", (p.url for p in panels)))
    lines.append(line("Harness", (f"{p.harness}, contract {p.contract_hash[:12]}"
                                  for p in panels)))
    for verdict in VERDICTS:
        lines.append(line(_md_verdict(verdict), (p.totals[verdict] for p in panels)))
    lines += ["", "## Where the panels differ", ""]
    lines += (_md_table(matrix.differing, panels) if matrix.differing
              else ["The panels have the same verdict on every clause."])
    for area in matrix.areas:
        title = f"{area.code}: {area.title}" if area.title else area.code
        lines += ["", f"## {_md(title)}", ""]
        lines += _md_table(area.rows, panels)
    findings = [(row, panel, cell) for row in matrix.rows
                for panel, cell in zip(panels, row.cells, strict=True)
                if cell.verdict in FOLDED - {"N/A"}]
    if findings:
        lines += ["", "## Findings", ""]
        for row, panel, cell in findings:
            lines += [f"### {_md(row.id)} on {_md(panel.label)}: {_md_verdict(cell.verdict)}",
                      "", _md(row.title), "", _md(cell.reason or "no reason given")]
            lines += [item for text in cell.evidence for item in ("", _fence(text))]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
