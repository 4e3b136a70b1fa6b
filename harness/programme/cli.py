"""The ``smm-conformance`` command: one parser, one subcommand per module of :data:`COMMANDS`.

Each subcommand module exposes ``register(subparsers) -> None``, which adds its parser and sets
``func`` to a function ``(args) -> int`` returning the exit status. Adding a command is adding
its module to :data:`COMMANDS`.

Exit statuses, the same for every command: 0 done (verified, no MUST regression); 1 the command
worked and the answer is no (``verify`` refuses, ``diff`` finds a MUST regression); 2 bad input
or usage (a missing file, not JSON, a report of another format version, an unusable key: one
line on stderr, nothing written); 130 interrupted. A bug is one line too (exit 3), never a
traceback on a vendor's CI log.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from harness.base.version import __version__
from harness.programme import (
    badge_command,
    diff_command,
    keygen_command,
    matrix_command,
    openapi_command,
    sign_command,
    verify_command,
)
from harness.programme.output import BAD_INPUT

__all__ = ["COMMANDS", "PROG", "build_parser", "main"]

PROG = "smm-conformance"
COMMANDS: tuple[ModuleType, ...] = (
    keygen_command,
    sign_command,
    verify_command,
    diff_command,
    matrix_command,
    badge_command,
    openapi_command,
)
INTERNAL_ERROR = 3
INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The SMM panel API v2 certification programme: sign and verify "
                    "certificates (report.json), diff runs, matrix and badges, the OpenAPI "
                    "view of the contract. Certifying a panel is a pytest run: "
                    "pytest --panel-url=... (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) or a usage error (2), already printed
        return stop.code if isinstance(stop.code, int) else BAD_INPUT
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: a command is needed (see {PROG} --help)", file=sys.stderr)
        return BAD_INPUT
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader left; nothing more to tell it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 0
    except Exception as error:  # a bug: one line a vendor can paste, not a traceback
        print(f"{PROG} {args.command}: internal error: {type(error).__name__}: {error} "
              "(a bug in smm-conformance: please report it)", file=sys.stderr)
        return INTERNAL_ERROR
