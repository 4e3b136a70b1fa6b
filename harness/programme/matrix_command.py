"""``smm-conformance matrix REPORT... [-o OUT.html] [--markdown OUT.md | --no-markdown]``: many
certificates side by side, one column per panel and one row per clause
(:mod:`harness.reporting.matrix`), as a standalone HTML page and its Markdown twin.

A REPORT is a ``report.json`` or the ``--panel-report`` directory holding one; its column is
labelled by that directory's name (``panel-report/smmhub`` -> ``smmhub``). Every report is read
and checked before anything is written (:mod:`harness.reporting.report_file`), so a bad one
(missing, not JSON, another format version, not a report) stops the command with one line on
stderr and exit status 2, and no half-made matrix.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.programme.output import fail, os_error_text, write_text_atomically
from harness.reporting.matrix import build_matrix, panel_labels, render_html, render_markdown
from harness.reporting.report_file import ReportFileError, read_report, report_path

__all__ = ["register", "run"]

_COMMAND = "matrix"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "matrix",
        help="write a panels x clauses matrix (HTML and Markdown) of several reports",
        description="Write one standalone HTML page (and its Markdown twin) with a column per "
                    "report and a row per clause, grouped by area: verdicts, evidence, totals.",
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT",
                        help="a report.json, or the --panel-report directory holding one")
    parser.add_argument("-o", "--output", type=Path, default=Path("matrix.html"),
                        metavar="OUT.html", help="the HTML page to write (default: matrix.html)")
    twin = parser.add_mutually_exclusive_group()
    twin.add_argument("--markdown", type=Path, metavar="OUT.md",
                      help="the Markdown twin to write (default: OUT.html with .md instead)")
    twin.add_argument("--no-markdown", action="store_true", help="write the HTML page only")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    reports: list[Path] = args.reports
    html_path: Path = args.output
    markdown_path: Path | None = None if args.no_markdown else (
        args.markdown or html_path.with_suffix(".md"))
    try:
        records = [read_report(path) for path in reports]
    except ReportFileError as error:
        return fail(_COMMAND, str(error))
    sources = [report_path(path) for path in reports]
    outputs = [p for p in (html_path, markdown_path) if p is not None]
    if markdown_path is not None and _same(markdown_path, html_path):
        return fail(_COMMAND, f"{html_path}: the HTML page and its Markdown twin would be one "
                    "file; name the twin with --markdown, or pass --no-markdown")
    for output in outputs:
        if any(_same(output, source) for source in sources):
            return fail(_COMMAND, f"{output}: is one of the reports read; choose another output")
    matrix = build_matrix(list(zip(panel_labels(sources), records, strict=True)))
    try:
        write_text_atomically(html_path, render_html(matrix))
        if markdown_path is not None:
            write_text_atomically(markdown_path, render_markdown(matrix))
    except OSError as error:
        return fail(_COMMAND, os_error_text(error))
    written = " and ".join(str(p) for p in outputs)
    print(f"matrix of {len(matrix.panels)} reports x {len(matrix.rows)} clauses "
          f"({len(matrix.differing)} differ) written to {written}")
    return 0


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()
