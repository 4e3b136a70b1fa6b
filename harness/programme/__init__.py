"""``smm-conformance``: the certification programme's command-line tool, for everything that is
not a test run: signing and verifying certificates, diffing runs, the panels x clauses matrix,
badges, the OpenAPI view of the contract.

An entry point only (the top layer, beside :mod:`harness.plugin`): :mod:`harness.programme.cli`
builds the parser from a registry of subcommand modules, each exposing ``register(subparsers)``;
the work is done below, in :mod:`harness.reporting` and :mod:`harness.contract`.
"""
