"""``smm-conformance diff OLD NEW [--json]``: what changed between two runs, clause by clause
(:mod:`harness.reporting.compare`): regressions, fixes, moved verdicts, the clauses a contract
change added, removed or reworded (and that the contract changed).

Exit 1 when a MUST clause regressed (FAIL in NEW, not in OLD), so a CI step can fail on
regressions only; 0 otherwise; 2 when a report is missing, not JSON, not a valid report or of
another format version.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.programme.output import fail
from harness.reporting.compare import compare, view_of_report
from harness.reporting.report_file import ReportFileError, read_report

__all__ = ["REGRESSED", "register", "run"]

_COMMAND = "diff"
REGRESSED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        _COMMAND,
        help="list the clause verdicts that changed between two reports; exit 1 on a MUST "
             "regression",
        description="Compare two reports clause by clause: regressions, fixes, moved "
                    "verdicts, clauses added or removed by a contract change.",
    )
    parser.add_argument("old", type=Path, metavar="OLD",
                        help="the earlier report.json (or its --panel-report directory)")
    parser.add_argument("new", type=Path, metavar="NEW",
                        help="the later report.json (or its --panel-report directory)")
    parser.add_argument("--json", action="store_true",
                        help="print the comparison as JSON (report.json's baseline section)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        old = view_of_report(read_report(args.old))
        new = view_of_report(read_report(args.new))
    except ReportFileError as error:
        return fail(_COMMAND, str(error))
    comparison = compare(old, new)
    if args.json:
        print(json.dumps(comparison.record(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(comparison.lines()))
    return REGRESSED if comparison.must_regressions else 0
