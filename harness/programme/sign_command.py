"""``smm-conformance sign REPORT --key PRIVATE [-o SIG] [--valid-days N]``: sign a certificate.

Writes the detached signature (``report.json.sig`` beside the report unless ``-o`` says
otherwise; :mod:`harness.reporting.signing` says what it holds and covers). Only a report of
this harness's format and of the shape of ``schemas/report.schema.json`` is signed: a signature
vouches for a report, so a broken one is refused (exit 2) rather than signed.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from harness.base.version import __version__
from harness.programme.keys import KeyFileError, read_private_key
from harness.programme.output import fail, os_error_text, write_text_atomically
from harness.reporting.report_file import ReportFileError, read_report, report_path
from harness.reporting.signing import (
    SIGNATURE_SUFFIX,
    fingerprint,
    render_signature,
    sign_report,
)

__all__ = ["positive_days", "register", "run"]

_COMMAND = "sign"
_LONGEST = 3660  # ten years: a certificate of a panel that changes weekly is stale long before


def positive_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}"
                                         ) from None
    if not 1 <= days <= _LONGEST:
        raise argparse.ArgumentTypeError(f"expected 1 to {_LONGEST} days, got {days}")
    return days


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        _COMMAND,
        help="sign a report.json with an Ed25519 private key (a detached .sig file)",
        description="Sign a certificate (report.json) over its canonical JSON form and write "
                    "the detached signature: signer, fingerprint, harness version, contract "
                    "hash, dates.",
    )
    parser.add_argument("report", type=Path, metavar="REPORT",
                        help="a report.json, or the --panel-report directory holding one")
    parser.add_argument("--key", type=Path, required=True, metavar="PRIVATE",
                        help="the Ed25519 private key (from smm-conformance keygen)")
    parser.add_argument("-o", "--output", type=Path, metavar="SIG",
                        help="the signature file to write (default: REPORT.sig)")
    parser.add_argument("--valid-days", type=positive_days, metavar="N",
                        help="the signature expires N days after signing (default: never)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = report_path(args.report)
    output: Path = args.output or source.with_name(source.name + SIGNATURE_SUFFIX)
    try:
        report = read_report(source)
    except ReportFileError as error:
        return fail(_COMMAND, str(error))
    try:
        key = read_private_key(args.key)
    except KeyFileError as error:
        return fail(_COMMAND, str(error))
    if output.resolve() in (source.resolve(), args.key.resolve()):
        return fail(_COMMAND, f"{output}: would overwrite an input; choose another output")
    document = sign_report(report, key, now=datetime.now(UTC), harness_version=__version__,
                           valid_days=args.valid_days)
    try:
        write_text_atomically(output, render_signature(document))
    except OSError as error:
        return fail(_COMMAND, os_error_text(error))
    expires = document["signed"]["expires_at"]
    print(f"signed {source} with {fingerprint(key.public_key())}: {output} "
          f"({'valid until ' + expires if expires else 'no expiry'})")
    return 0
