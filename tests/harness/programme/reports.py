"""Certificate records for the programme's tests (matrix, badge, browser), made the way a run
makes them (:func:`harness.reporting.certificate.build_certificate`), so they have the real
shape of ``report.json``; and the hostile strings a panel could put into its evidence."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness.base.redaction import Secret
from harness.judging.verdicts import Verdict, Waiver
from harness.reporting.certificate import build_certificate
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.fixtures.transports import RecordingTransport

# What a hostile panel may answer, to land in the evidence a matrix shows: markup that would
# run a script or load an image if it were pasted unescaped, a fence-breaking run of backticks
# and a table-breaking pipe for the Markdown twin.
HOSTILE = ('</pre></details><script>alert("evidence")</script>'
           '"><img src=x onerror=alert(1)> ``` | `` <b>bold</b>')

PASS, FAIL = Verdict.PASS, Verdict.FAIL


def record(
    verdicts: Mapping[str, Verdict],
    *,
    profile: str = "reference",
    url: str = "https://panel.example/api/v2",
    message: str = "expected a success answer",
    exchanges: Iterable[str] = (),
    blocked: Mapping[str, str] | None = None,
    waived: Iterable[str] = (),
) -> dict[str, Any]:
    """A certificate in which each clause of ``verdicts`` got that verdict (FAIL and
    NON-STRICT with ``message`` and ``exchanges`` as evidence), each clause of ``blocked`` is
    N/A blocked by its value, each FAIL clause of ``waived`` is WAIVED, and every other clause
    is N/A (not checked)."""
    run = HarnessRun(PanelConfig(url=url, key=Secret("programme-key-0001", "main key"),
                                 max_spend=Decimal("0.50"), profile=profile),
                     transport=RecordingTransport())
    run.book.waive([Waiver(clause, "known, fix scheduled", date(2999, 1, 1)) for clause in waived],
                   today=date.today())
    for clause, verdict in verdicts.items():
        run.book.record(clause, verdict, test=f"t.py::test_{clause.lower()}", message=message,
                        exchanges=list(exchanges))
    for clause, by in (blocked or {}).items():
        run.book.record_blocked(clause, by=by, test="t.py::test_blocked")
    failed = any(outcome.verdict is FAIL for outcome in run.book.outcomes())
    return build_certificate(run, exit_status=1 if failed else 0)


def write_report(directory: Path, data: Mapping[str, Any]) -> Path:
    """``data`` as ``directory/report.json`` (as --panel-report lays it out); the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return directory
