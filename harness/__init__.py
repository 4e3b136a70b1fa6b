"""Conformance harness for the SMM panel API v2: a pytest plugin and its checks.

This module is the suite author's surface: the shipped tests (``harness/suite``) import only
from here, and so can a vendor's own tests. The plugin (``harness.plugin``) is registered
through the ``pytest11`` entry point and stays inert unless ``--panel-url`` is given, so
installing this package changes no other test suite. The layers behind this face are described
in ARCHITECTURE.md. Names are imported on first use, so ``import harness.contract`` alone
needs only the contract's own dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harness.base.version import __version__

if TYPE_CHECKING:
    from harness import contract
    from harness.base import values
    from harness.base.budget import Wallet
    from harness.base.exchange import KEY_SLOT, Encoding, Exchange
    from harness.base.redaction import Secret
    from harness.judging.checks import (
        Applies,
        CheckFailure,
        ErrorKind,
        Grade,
        answer_kind,
        expect_success,
        fail,
        require,
        server_broke,
        unusable_by,
    )
    from harness.judging.judge import Judge, NotApplicable
    from harness.judging.verdicts import NaReason, Verdict, VerdictBook
    from harness.panel import dripfeed, strategies
    from harness.panel.catalog import (
        Catalog,
        OrderSpec,
        Service,
        charge_matches,
        roundings,
        visible_units,
        worst_case,
    )
    from harness.panel.driver import SANDBOX_BALANCE, Attempt, Panel, PanelSettings, PlacedOrder
    from harness.panel.ledger_model import Ledger, Violation
    from harness.panel.probes import multi_status_aliases
    from harness.reporting.terminal import verdict_line
    from harness.reporting.writers import write_reports
    from harness.run.session import HarnessRun

# name -> the module it comes from (a module itself when the name is a submodule's)
_HOMES: dict[str, str] = {
    "contract": "harness.contract",
    "values": "harness.base.values",
    "Wallet": "harness.base.budget",
    "KEY_SLOT": "harness.base.exchange",
    "Encoding": "harness.base.exchange",
    "Exchange": "harness.base.exchange",
    "Secret": "harness.base.redaction",
    "Applies": "harness.judging.checks",
    "CheckFailure": "harness.judging.checks",
    "ErrorKind": "harness.judging.checks",
    "Grade": "harness.judging.checks",
    "answer_kind": "harness.judging.checks",
    "expect_success": "harness.judging.checks",
    "fail": "harness.judging.checks",
    "require": "harness.judging.checks",
    "server_broke": "harness.judging.checks",
    "unusable_by": "harness.judging.checks",
    "Judge": "harness.judging.judge",
    "NotApplicable": "harness.judging.judge",
    "NaReason": "harness.judging.verdicts",
    "Verdict": "harness.judging.verdicts",
    "VerdictBook": "harness.judging.verdicts",
    "strategies": "harness.panel.strategies",
    "dripfeed": "harness.panel.dripfeed",
    "Catalog": "harness.panel.catalog",
    "OrderSpec": "harness.panel.catalog",
    "Service": "harness.panel.catalog",
    "charge_matches": "harness.panel.catalog",
    "roundings": "harness.panel.catalog",
    "visible_units": "harness.panel.catalog",
    "worst_case": "harness.panel.catalog",
    "SANDBOX_BALANCE": "harness.panel.driver",
    "Attempt": "harness.panel.driver",
    "Panel": "harness.panel.driver",
    "PanelSettings": "harness.panel.driver",
    "PlacedOrder": "harness.panel.driver",
    "Ledger": "harness.panel.ledger_model",
    "Violation": "harness.panel.ledger_model",
    "multi_status_aliases": "harness.panel.probes",
    "HarnessRun": "harness.run.session",
    # The certificate's writers and verdict line, for other suites' verdict books (clientcert).
    "verdict_line": "harness.reporting.terminal",
    "write_reports": "harness.reporting.writers",
}



def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "KEY_SLOT",
    "SANDBOX_BALANCE",
    "Applies",
    "Attempt",
    "Catalog",
    "CheckFailure",
    "Encoding",
    "ErrorKind",
    "Exchange",
    "Grade",
    "HarnessRun",
    "Judge",
    "Ledger",
    "NaReason",
    "NotApplicable",
    "OrderSpec",
    "Panel",
    "PanelSettings",
    "PlacedOrder",
    "Secret",
    "Service",
    "Verdict",
    "VerdictBook",
    "Violation",
    "Wallet",
    "__version__",
    "answer_kind",
    "charge_matches",
    "contract",
    "dripfeed",
    "expect_success",
    "fail",
    "multi_status_aliases",
    "require",
    "roundings",
    "server_broke",
    "strategies",
    "unusable_by",
    "values",
    "verdict_line",
    "visible_units",
    "worst_case",
    "write_reports",
]
