"""``smm-conformance badge REPORT [-o badge.svg] [--label TEXT]``: the SVG badge a vendor puts
on its site (:mod:`harness.reporting.badge`): certified, certified on a partial scope or not
certified, its MUST failures and the run's date, drawn from a certificate (``report.json``, or
the ``--panel-report`` directory holding one).

A bad report (missing, not JSON, another format version, not a report) is one line on stderr
and exit status 2, and no badge is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.programme.output import fail, os_error_text, write_text_atomically
from harness.reporting.badge import DEFAULT_LABEL, badge_of, render_badge
from harness.reporting.report_file import ReportFileError, read_report, report_path

__all__ = ["register", "run"]

_COMMAND = "badge"
_LONGEST_LABEL = 40  # a badge is a line of text beside a logo, not a paragraph


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "badge",
        help="write an SVG badge (certified or not, MUST failures, date) of a report",
        description="Write a shields-style SVG badge saying whether the report certifies its "
                    "panel, how many MUST clauses failed and when it ran.",
    )
    parser.add_argument("report", type=Path, metavar="REPORT",
                        help="a report.json, or the --panel-report directory holding one")
    parser.add_argument("-o", "--output", type=Path, default=Path("badge.svg"),
                        metavar="OUT.svg", help="the SVG file to write (default: badge.svg)")
    parser.add_argument("--label", default=DEFAULT_LABEL,
                        help=f"the badge's left-hand text (default: {DEFAULT_LABEL!r})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source: Path = args.report
    output: Path = args.output
    label: str = " ".join(str(args.label).split())
    if not label or len(label) > _LONGEST_LABEL:
        return fail(_COMMAND, f"--label must be 1 to {_LONGEST_LABEL} characters")
    try:
        record = read_report(source)
    except ReportFileError as error:
        return fail(_COMMAND, str(error))
    if output.resolve() == report_path(source).resolve():
        return fail(_COMMAND, f"{output}: is the report read; choose another output")
    badge = badge_of(record, label=label)
    try:
        write_text_atomically(output, render_badge(badge))
    except OSError as error:
        return fail(_COMMAND, os_error_text(error))
    print(f"badge written to {output}: {badge.text}")
    return 0
