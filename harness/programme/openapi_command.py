"""``smm-conformance openapi [-o FILE]``: the OpenAPI 3.1 view of the contract, generated from
``schemas/v2`` (:mod:`harness.contract.openapi`); the same document as the older entry point
``python -m harness.openapi``, which keeps working."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.contract.openapi import OpenAPIBuildError, build_openapi
from harness.programme.output import fail, os_error_text, write_text_atomically

__all__ = ["register", "run"]

_COMMAND = "openapi"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        _COMMAND,
        help="write the OpenAPI 3.1 document generated from the contract's schemas",
        description="Write the OpenAPI 3.1 document generated from the SMM v2 schemas "
                    "(as python -m harness.openapi does).",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="file to write (default: standard output)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    output: Path | None = args.output
    try:
        document = build_openapi()
    except OpenAPIBuildError as error:
        return fail(_COMMAND, f"the contract cannot be rendered: {error}")
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_text_atomically(output, text)
    except OSError as error:
        return fail(_COMMAND, os_error_text(error))
    print(f"OpenAPI document written to {output}")
    return 0
