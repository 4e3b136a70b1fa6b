"""The certificate's three files: ``report.json``, ``report.md`` and a standalone
``report.html``, rendered from the plain record
:func:`harness.reporting.certificate.build_certificate`
makes. The Markdown and HTML lead with the conclusion, the failures grouped by root cause (each
once, with the clauses it blocked) and the waivers (applied, stale, expired), then every clause.

Both banners state the verdict *and its scope* (how many MUST clauses were checked, and why the
others were not), so a partial certificate never reads as a full one.

The HTML is one self-contained file: inline CSS, no script, no external resource (its
Content-Security-Policy forbids loading anything), every value escaped. Clause texts are
Markdown (backticks for wire names): they are rendered by markdown-it-py with raw HTML off
(a ``<tag>`` shows as text) and images off. Long values (test ids, evidence) wrap inside their
cell, so the page fits a narrow window. Each file is scrubbed
of the run's secrets once more as a whole before it is written, and written atomically (a
temporary file renamed into place), so a reader never sees half a certificate.

A run with a baseline (``--panel-baseline``) shows, after the summary, what changed since:
regressions, fixes, moved verdicts, the contract's changes. A signed run (``--panel-sign-key``)
writes ``report.json.sig`` beside ``report.json``, signing the JSON exactly as written (after
its scrub); an unsigned run removes a ``report.json.sig`` left by an earlier run, which would
otherwise sit beside a report it does not sign.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

__all__ = [
    "FILE_NAMES",
    "SIGNATURE_NAME",
    "markdown_html",
    "prepare_dir",
    "render_html",
    "render_json",
    "render_markdown",
    "write_reports",
]

FILE_NAMES = ("report.json", "report.md", "report.html")
SIGNATURE_NAME = "report.json.sig"
_ORIGIN = "--panel-report (env PANEL_REPORT, ini panel_report)"
_CSS_CLASS = {"PASS": "pass", "NON-STRICT": "nonstrict", "WAIVED": "waived", "FAIL": "fail",
              "N/A": "na"}
_VERDICTS = ("PASS", "NON-STRICT", "WAIVED", "FAIL", "N/A")
# CommonMark with raw HTML off: "<id>" in a clause text is text, never markup; no images
# (nothing may be loaded); links keep markdown-it's check that refuses javascript: and data:.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable("image")


def prepare_dir(directory: Path) -> Path:
    """Create ``directory`` if needed and prove it is writable, or raise a UsageError now
    (at configure time) rather than lose the certificate at the end of a long run."""
    target = directory.expanduser().resolve()
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target, prefix=".probe-"):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise pytest.UsageError(f"{_ORIGIN}: cannot write to {target}: {reason}") from None
    return target


def write_reports(
    record: Mapping[str, Any],
    directory: Path,
    *,
    scrub: Callable[[str], str],
    sign: Callable[[Mapping[str, Any]], str] | None = None,
) -> list[Path]:
    """Write the three files into ``directory`` and, given ``sign`` (the report as written,
    parsed, to the signature file's text), ``report.json.sig``; returns their paths."""
    rendered = (render_json(record), render_markdown(record), render_html(record))
    written = []
    signature = directory / SIGNATURE_NAME
    for name, text in zip(FILE_NAMES, rendered, strict=True):
        path = directory / name
        if name == FILE_NAMES[0]:
            # Out first: a report.json that is no longer the one it signs must not keep it.
            signature.unlink(missing_ok=True)
        final = scrub(text)
        _write_atomically(path, final)
        written.append(path)
        if name == FILE_NAMES[0] and sign is not None:
            # Signed as written: the scrubbed text, parsed back, is what a verifier reads.
            _write_atomically(signature, scrub(sign(json.loads(final))))
            written.append(signature)
    return written


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # a certificate is for publishing: readable by all
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# JSON


def render_json(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# shared wording


def _dialect_text(dialect: Mapping[str, Any]) -> str:
    detected = dialect.get("detected")
    text = f"configured {dialect.get('configured')}"
    if not detected:
        return text + "; not detected"
    name, score = detected.get("name"), detected.get("score")
    if name is None:
        closest = detected.get("closest")
        text += "; no known dialect fits" + (f" (closest {closest})" if closest else "")
    else:
        text += f"; detected {name}"
    if isinstance(score, int | float):
        text += f", score {score:.2f}"
    agrees = detected.get("agrees_with_configured")
    if agrees is not None:
        text += "; agrees with" if agrees else "; DIFFERS from"
        text += " the configured one"
    return text


def _selection(record: Mapping[str, Any]) -> str:
    return ", ".join(record["run"]["clause_selection"]) or "all"


def _counts_line(counts: Mapping[str, Mapping[str, int]]) -> str:
    parts = []
    for level in ("MUST", "SHOULD", "MAY"):
        cells = ", ".join(f"{counts[level][v]} {v}" for v in _VERDICTS if counts[level][v])
        parts.append(f"{level}: {cells or 'none'}")
    return "; ".join(parts)


def _header_rows(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    run = record["run"]
    return [
        ("Panel", record["panel"]["url"]),
        ("Date", f"{run['started_at']} to {run['finished_at']} (UTC)"),
        ("Harness", f"{record['harness']['name']} {record['harness']['version']}"),
        ("Contract hash", f"sha256:{record['contract']['hash']}"),
        ("Seed", str(run["seed"])),
        ("Mode", run["mode"]),
        ("Clauses selected", _selection(record)),
        ("Dialect", _dialect_text(record["dialect"])),
        ("Scope", record["scope"]["summary"]),
        ("Spend", record["spend"]["summary"]),
        ("Exit status", str(run["exit_status"])),
    ]


def _findings(record: Mapping[str, Any], verdict: str) -> list[Mapping[str, Any]]:
    return [c for c in record["clauses"] if c["verdict"] == verdict]


def _not_checked(scope: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """(reason, count, clause ids) of every group of MUST clauses the run did not check, then
    the ones not offered by the panel."""
    rows = [(g["reason"], g["count"], ", ".join(g["clauses"])) for g in scope["not_checked"]]
    if scope["not_offered"]:
        rows.append(("not offered by the panel (nothing to check)", len(scope["not_offered"]),
                     ", ".join(scope["not_offered"])))
    return rows


def _root_cause_text(cause: Mapping[str, Any]) -> str:
    """``ERR-005 FAIL — blocked: CANCEL-001, BATCH-005``, as the terminal prints it."""
    head = f"{cause['clause']} {cause['verdict']}"
    return f"{head} — blocked: {', '.join(cause['blocked'])}" if cause["blocked"] else head


_WAIVER_STATUS = {
    "applied": "applied: the FAIL is WAIVED",
    "stale": "stale: the clause did not fail",
    "expired": "expired: ignored",
}


# ---------------------------------------------------------------------------------------------
# Markdown


def _md(text: object) -> str:
    """One table cell or line of prose: no raw HTML, no cell breaks, no line breaks."""
    escaped = html.escape(str(text), quote=False).replace("|", "\\|")
    return " ".join(escaped.split())


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def render_markdown(record: Mapping[str, Any]) -> str:
    lines = ["# SMM panel API v2 conformance report", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {name} | {_md(value)} |" for name, value in _header_rows(record)]
    lines += ["", f"**{_md(record['conclusion'])}**", "", _md(_counts_line(record["counts"])),
              ""]
    lines += [f"> note: {_md(note)}" for note in record["notes"]]
    lines += _markdown_baseline(record.get("baseline"))
    gaps = _not_checked(record["scope"])
    if gaps:
        lines += ["## Scope", "", f"{_md(record['scope']['summary'])}.", "",
                  "| MUST clauses | Count | Clauses |", "|---|---|---|"]
        lines += [f"| {_md(reason)} | {count} | {_md(ids)} |" for reason, count, ids in gaps]
        lines += [""]
    if record["root_causes"]:
        lines += ["## Root causes", "", "Each failure once, with the clauses it blocked "
                  "(N/A, not judged because of it).", ""]
        lines += [f"- {_md(_root_cause_text(c))} ({_md(c['title'])})"
                  for c in record["root_causes"]]
        lines += [""]
    if record["waivers"]:
        lines += ["## Waivers", "", "| Clause | Status | Expires | Verdict | Reason |",
                  "|---|---|---|---|---|"]
        lines += [
            f"| {w['clause']} | {_WAIVER_STATUS[w['status']]} | {w['expires']} | "
            f"{w['verdict']} | {_md(w['reason'])} |"
            for w in record["waivers"]
        ]
        lines += [""]
    lines += ["## Clauses", "", "| Clause | Level | Verdict | Title | Reason |",
              "|---|---|---|---|---|"]
    lines += [
        f"| {c['id']} | {c['level']} | {c['verdict']} | {_md(c['title'])} | {_md(c['reason'])} |"
        for c in record["clauses"]
    ]
    for verdict, heading in (("FAIL", "Failures"), ("WAIVED", "Waived failures"),
                             ("NON-STRICT", "NON-STRICT findings")):
        found = _findings(record, verdict)
        if not found:
            continue
        lines += ["", f"## {heading}"]
        for clause in found:
            lines += ["", f"### {clause['id']} {clause['level']}: {_md(clause['title'])}", "",
                      _md(clause["text"]), "", f"Verdict {verdict}: {_md(clause['reason'])}"]
            for evidence in clause["evidence"]:
                body = "\n".join((f"{evidence['test']}: {evidence['message']}",
                                  *evidence["exchanges"]))
                lines += ["", _fence(body)]
    return "\n".join(lines) + "\n"


_CHANGE_SECTIONS = (
    ("regressions", "Regressions (fail now, did not before)"),
    ("fixes", "Fixes (failed before, pass now)"),
    ("moved", "Moved (other verdict changes)"),
    ("added", "Added by the contract change"),
    ("removed", "Removed by the contract change"),
    ("reworded", "Reworded or re-levelled by the contract change, same verdict"),
)


def _baseline_head(baseline: Mapping[str, Any]) -> list[str]:
    """The baseline run, the contract change and the exit rule, as sentences."""
    was = baseline.get("certified")
    certified = "certified, " if was is True else "not certified, " if was is False else ""
    head = [f"Compared with the run of {baseline['panel']} finished {baseline['finished_at']}"
            f" ({certified}contract {str(baseline['contract_hash'])[:12]})."]
    if baseline["contract_changed"]:
        head.append("The contract changed since: clauses were added, removed or reworded.")
    head.append(f"Since the baseline: {baseline['summary']}.")
    if baseline.get("exit_note"):
        head.append(str(baseline["exit_note"]) + ".")
    return head


def _change_cells(change: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    notes = []
    if change.get("old") is None:
        notes.append("new clause")
    if change.get("old_level") not in (None, change["level"]):
        notes.append(f"was {change['old_level']}")
    if change.get("reworded"):
        notes.append("reworded")
    title = change["title"] + (f" ({', '.join(notes)})" if notes else "")
    return (change["clause"], change["level"], change.get("old") or "(absent)",
            change.get("new") or "(absent)", title)


def _markdown_baseline(baseline: Mapping[str, Any] | None) -> list[str]:
    if not baseline:
        return []
    lines = ["## Changes since the baseline", ""]
    lines += [_md(sentence) for sentence in _baseline_head(baseline)]
    for key, heading in _CHANGE_SECTIONS:
        if baseline[key]:
            lines += ["", f"### {heading}", "", "| Clause | Level | Was | Now | Title |",
                      "|---|---|---|---|---|"]
            lines += ["| " + " | ".join(_md(cell) for cell in _change_cells(c)) + " |"
                      for c in baseline[key]]
    return [*lines, ""]


# ---------------------------------------------------------------------------------------------
# HTML

# The page must fit a narrow window (1280 px and less). The meta and clause tables have a fixed
# layout (no column grows to a long test id or URL) and their cells break a long token
# anywhere; the small tables keep the automatic layout (breaking anywhere there would squeeze
# "MUST" into one letter a line) and break long words only where they must; evidence wraps
# inside its block; and every table sits in a box that scrolls sideways rather than widen
# the page, should something still not fit. Below 48em (a phone) the clause table keeps a
# minimum width and shares it evenly between title and reason, scrolling inside its box,
# rather than squeeze the title column to nothing beside the fixed ones.
_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;
max-width:75em;padding:0 1em;color:#1d1f21;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;width:100%;max-width:100%;margin:.6em 0}
th,td{border:1px solid #d0d4d8;padding:.3em .5em;text-align:left;vertical-align:top;
overflow-wrap:break-word}
th{background:#eef0f2}table.meta th{width:12em}
table.meta,table.clauses{table-layout:fixed}
table.meta td,table.clauses td{overflow-wrap:anywhere}
col.c-id{width:8.5em}col.c-level{width:6em}col.c-verdict{width:7.5em}col.c-reason{width:36%}
.verdict{font-size:1.25em;font-weight:bold;padding:.5em .8em;border-radius:4px;
overflow-wrap:anywhere}
.verdict.ok{background:#dcf5dc;color:#14521b}.verdict.bad{background:#fbdcdc;color:#7a1212}
.verdict.partial{background:#fff1c2;color:#5c4200}
tr.pass td.v{background:#dcf5dc}tr.nonstrict td.v{background:#fff1c2}
tr.fail{background:#fdecec}tr.fail td.v{background:#f6b8b8;font-weight:bold}
tr.na td.v{background:#eceef0;color:#555}
tr.waived td.v{background:#d9e8fb;font-weight:bold}
td.id,td.v,td.cid{font-family:ui-monospace,monospace}
td.id,td.v,td.cid:first-child{white-space:nowrap}
code{font-family:ui-monospace,monospace;font-size:.92em;background:#f0f2f4;
padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
.text p{margin:.3em 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-all;max-width:100%;
overflow-x:auto;background:#f6f8fa;border:1px solid #d0d4d8;padding:.5em;font-size:12px}
details summary{cursor:pointer;color:#3a4a5a}.note{color:#7a4d00;overflow-wrap:anywhere}
@media (max-width:48em){table.clauses{min-width:42em}col.c-reason{width:auto}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def markdown_html(text: str) -> str:
    """A clause text (Markdown) as HTML: formatted, with any raw HTML shown as text."""
    rendered: str = _MARKDOWN.render(text)
    return rendered.strip()


def _html_clause(clause: Mapping[str, Any]) -> str:
    css = _CSS_CLASS.get(clause["verdict"], "na")
    parts = [f'<div class="text">{markdown_html(str(clause["text"]))}</div>']
    if clause["tests"]:
        items = "".join(f"<li><code>{_e(t)}</code></li>" for t in clause["tests"])
        parts.append(f"<p>Tests:</p><ul>{items}</ul>")
    for evidence in clause["evidence"]:
        body = "\n".join((f"{evidence['test']}: {evidence['message']}", *evidence["exchanges"]))
        parts.append(f"<pre>{_e(body)}</pre>")
    observed = ", ".join(f"{n} {v}" for v, n in clause["observations"].items() if n)
    parts.append(f"<p>Observations: {_e(observed or 'none')}</p>")
    opened = " open" if clause["verdict"] == "FAIL" else ""
    details = f"<details{opened}><summary>{_e(clause['title'])}</summary>{''.join(parts)}</details>"
    return (
        f'<tr class="{css}"><td class="id">{_e(clause["id"])}</td><td>{_e(clause["level"])}</td>'
        f'<td class="v">{_e(clause["verdict"])}</td><td>{details}</td>'
        f"<td>{_e(clause['reason'])}</td></tr>"
    )


def _html_root_causes(causes: Sequence[Mapping[str, Any]]) -> str:
    if not causes:
        return ""
    rows = "".join(
        f'<tr class="{_CSS_CLASS.get(c["verdict"], "na")}"><td class="cid">{_e(c["clause"])}</td>'
        f'<td class="v">{_e(c["verdict"])}</td><td>{_e(c["title"])}</td>'
        f'<td class="cid">{_e(", ".join(c["blocked"]) or "-")}</td></tr>'
        for c in causes
    )
    return (
        "<h2>Root causes</h2>\n<p>Each failure once, with the clauses it blocked (N/A, not "
        "judged because of it).</p>\n<div class=\"scroll\"><table class=\"causes\"><tr>"
        "<th>clause</th><th>verdict</th>"
        f"<th>title</th><th>blocked</th></tr>{rows}</table></div>\n"
    )


def _html_waivers(waivers: Sequence[Mapping[str, Any]]) -> str:
    if not waivers:
        return ""
    rows = "".join(
        f'<tr class="{_CSS_CLASS.get(w["verdict"], "na")}"><td class="cid">{_e(w["clause"])}</td>'
        f"<td>{_e(_WAIVER_STATUS[w['status']])}</td><td>{_e(w['expires'])}</td>"
        f'<td class="v">{_e(w["verdict"])}</td><td>{_e(w["reason"])}</td></tr>'
        for w in waivers
    )
    return (
        "<h2>Waivers</h2>\n<div class=\"scroll\"><table class=\"waivers\"><tr><th>clause</th>"
        "<th>status</th>"
        f"<th>expires</th><th>verdict</th><th>reason</th></tr>{rows}</table></div>\n"
    )


def _html_scope(scope: Mapping[str, Any]) -> str:
    gaps = _not_checked(scope)
    if not gaps:
        return ""
    rows = "".join(f'<tr><td>{_e(reason)}</td><td>{count}</td><td class="cid">{_e(ids)}</td>'
                   "</tr>" for reason, count, ids in gaps)
    return (
        f"<h2>Scope</h2>\n<p>{_e(scope['summary'])}.</p>\n<div class=\"scroll\">"
        "<table class=\"scope\"><tr><th>MUST clauses</th><th>count</th><th>clauses</th></tr>"
        f"{rows}</table></div>\n"
    )


def _html_counts(counts: Mapping[str, Mapping[str, int]]) -> str:
    head = "".join(f"<th>{_e(v)}</th>" for v in _VERDICTS)
    rows = "".join(
        f"<tr><th>{_e(level)}</th>" + "".join(f"<td>{counts[level][v]}</td>" for v in _VERDICTS)
        + "</tr>"
        for level in ("MUST", "SHOULD", "MAY", "total")
    )
    return (f'<div class="scroll"><table class="counts"><tr><th>level</th>{head}</tr>{rows}'
            "</table></div>")


def render_html(record: Mapping[str, Any]) -> str:
    meta = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _header_rows(record))
    verdict_class = (("ok" if record["scope"]["full"] else "partial") if record["certified"]
                     else "bad")
    notes = "".join(f'<p class="note">note: {_e(n)}</p>' for n in record["notes"])
    clauses = "\n".join(_html_clause(c) for c in record["clauses"])
    detected = record["dialect"].get("detected") or {}
    dialect_evidence = _pre_list(detected.get("evidence", ()))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SMM panel API v2 conformance: {_e(record["panel"]["url"])}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>SMM panel API v2 conformance report</h1>
<p class="verdict {verdict_class}">{_e(record["conclusion"])}</p>
<table class="meta">{meta}</table>
{notes}{dialect_evidence}
<h2>Summary</h2>
{_html_counts(record["counts"])}
{_html_baseline(record.get("baseline"))}\
{_html_scope(record["scope"])}{_html_root_causes(record["root_causes"])}\
{_html_waivers(record["waivers"])}<h2>Clauses</h2>
<div class="scroll">
<table class="clauses">
<colgroup><col class="c-id"><col class="c-level"><col class="c-verdict"><col class="c-title">\
<col class="c-reason"></colgroup>
<thead><tr><th>clause</th><th>level</th><th>verdict</th><th>title and details</th>
<th>reason</th></tr></thead>
<tbody>
{clauses}
</tbody>
</table>
</div>
</body>
</html>
"""


def _html_baseline(baseline: Mapping[str, Any] | None) -> str:
    if not baseline:
        return ""
    parts = ["<h2>Changes since the baseline</h2>"]
    parts += [f"<p>{_e(sentence)}</p>" for sentence in _baseline_head(baseline)]
    for key, heading in _CHANGE_SECTIONS:
        if not baseline[key]:
            continue
        rows = "".join(
            f'<tr class="{_CSS_CLASS.get(cells[3], "na")}"><td class="cid">{_e(cells[0])}</td>'
            f'<td>{_e(cells[1])}</td><td class="v">{_e(cells[2])}</td>'
            f'<td class="v">{_e(cells[3])}</td><td>{_e(cells[4])}</td></tr>'
            for cells in (_change_cells(c) for c in baseline[key])
        )
        parts.append(
            f'<h3>{_e(heading)}</h3>\n<div class="scroll"><table class="changes {_e(key)}"><tr>'
            f"<th>clause</th><th>level</th><th>was</th><th>now</th><th>title</th></tr>{rows}"
            "</table></div>"
        )
    return "\n".join(parts) + "\n"


def _pre_list(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    return (
        "<details><summary>dialect evidence</summary>"
        f"<pre>{_e(chr(10).join(str(line) for line in lines))}</pre></details>"
    )
