"""The small traps of issue 21: -n after a plain install, "spent unknown" when a closing balance
was never read, and a clause selection that no collected test cites."""

from __future__ import annotations

import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.base.budget import SpendGuard, Wallet
from harness.base.redaction import Secret
from harness.contract.resources import schemas_dir
from harness.reporting.certificate import build_certificate
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.fixtures.fakepanel import KEY, FakePanel, serve
from tests.fixtures.transports import RecordingTransport

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"
MAIN = Wallet(Secret("traps-main-key-01", "main key"))
SECOND = Wallet(Secret("traps-second-key-01", "second key"))


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_xdist_and_markdown_it_install_with_the_package() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    dependencies = requirement_names(project["dependencies"])
    assert {"pytest-xdist", "markdown-it-py"} <= dependencies  # -n, and report.html
    assert "pytest-xdist" not in requirement_names(project["optional-dependencies"]["dev"])
    pinned = [r for r in project["dependencies"] if r.startswith(("pytest-xdist", "markdown-it"))]
    assert all("<" in r and ">=" in r for r in pinned), pinned


# ---------------------------------------------------------------------------------------------
# spent unknown


def test_an_unmeasured_closing_balance_makes_the_spend_unknown() -> None:
    guard = SpendGuard(Decimal("0.50"))
    guard.open(MAIN, Decimal("10.00"))
    guard.open(SECOND, Decimal("1.00"))
    guard.reserve(MAIN, Decimal("0.20"))
    guard.close(SECOND, Decimal("0.90"))  # the main key's closing balance is never read
    report = guard.report()
    assert not report.known
    line = report.line()
    assert line.startswith("spent unknown of cap 0.50 (closing balance not measured for "
                           "main key; 0.10 measured on the others; 0.20 committed under the "
                           "cap; 1 spending request(s)")
    assert "spent 0" not in line
    guard.close(MAIN, Decimal("9.95"))
    measured = guard.report()
    assert measured.known
    assert measured.line().startswith("spent 0.15 of cap 0.50 (measured from balances;")


def test_the_certificate_says_unknown_rather_than_zero() -> None:
    run = HarnessRun(PanelConfig(url="https://panel.example/api/v2", key=MAIN.key,
                                 max_spend=Decimal("0.50")), transport=RecordingTransport())
    run.guard.open(MAIN, Decimal("10.00"))
    record = build_certificate(run, exit_status=0)
    schema = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(record)
    assert record["spend"]["spent"] is None
    assert record["spend"]["unmeasured"] == ["main key"]
    assert record["spend"]["summary"].startswith("spent unknown of cap 0.50")


# ---------------------------------------------------------------------------------------------
# a selection that no test cites


def test_a_selection_no_collected_test_cites_is_refused_clearly(clean: pytest.Pytester) -> None:
    """ERR-003 exists (the pattern is valid) but no test cites it: a usage error saying so, not
    a verdict table of N/A ending "did not end cleanly (exit status 5)"."""
    with serve(FakePanel()) as url:
        result = clean.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}",
                                           "--panel-clause=ERR-003", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert "--panel-clause ERR-003: no collected test cites the selected clauses" in errors
    output = "\n".join(result.outlines)
    assert "SMM panel API v2 conformance" not in output  # no table of N/A verdicts
    assert "exit status 5" not in output + errors
