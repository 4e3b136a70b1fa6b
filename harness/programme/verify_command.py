"""``smm-conformance verify REPORT [--sig FILE] --trust PUBLIC...``: check a signed certificate
fully offline.

Exit 0 and a ``VERIFIED`` line: the report is exactly what a trusted key signed, and the
signature has not expired. Exit 1 and one ``REFUSED`` line on stderr saying everything found
wrong: a malformed signature file, an unknown signer, a signature that does not match, the
report's changes since signing (a clause's verdict from what to what, which fields of which
clause, the contract hash, which top-level fields), an expired signature. Exit 2 when the
check cannot be made: a missing or unreadable file, not JSON, a report of another format
version, a trusted key file that is not an Ed25519 public key.

The report is read for its format only, not validated against the schema: a report altered
after signing must reach the signature check, which says what was altered.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from harness.programme.keys import KeyFileError, read_public_key
from harness.programme.output import fail
from harness.reporting.report_file import ReportFileError, read_json, read_report, report_path
from harness.reporting.signing import SIGNATURE_SUFFIX, verify_report

__all__ = ["REFUSED", "register", "run"]

_COMMAND = "verify"
REFUSED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        _COMMAND,
        help="verify a signed report.json against trusted public keys, offline",
        description="Check that a report is exactly what a trusted key signed and that the "
                    "signature has not expired; say exactly what fails otherwise.",
    )
    parser.add_argument("report", type=Path, metavar="REPORT",
                        help="a report.json, or the --panel-report directory holding one")
    parser.add_argument("--sig", type=Path, metavar="FILE",
                        help="the signature file (default: REPORT.sig)")
    parser.add_argument("--trust", type=Path, nargs="+", action="extend", required=True,
                        metavar="PUBLIC", help="public key file(s) to trust (PEM, from keygen)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = report_path(args.report)
    sig_path: Path = args.sig or source.with_name(source.name + SIGNATURE_SUFFIX)
    try:
        report = read_report(source, validate=False)
        document = read_json(sig_path, "signature file")
    except ReportFileError as error:
        return fail(_COMMAND, str(error))
    try:
        trusted = [read_public_key(path) for path in args.trust]
    except KeyFileError as error:
        return fail(_COMMAND, str(error))
    outcome = verify_report(report, document, trusted, now=datetime.now(UTC))
    if not outcome.valid:
        print(f"smm-conformance {_COMMAND}: REFUSED: {source}: {outcome.reason()}",
              file=sys.stderr)
        return REFUSED
    expiry = f", valid until {outcome.expires_at}" if outcome.expires_at else ", no expiry"
    print(f"VERIFIED: {source} signed by {outcome.signer} at {outcome.signed_at}{expiry}: "
          f"{report.get('verdict')}")
    return 0
