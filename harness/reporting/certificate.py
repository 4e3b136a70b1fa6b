"""The publishable certificate: one plain, JSON-ready record of a run, and the plugin that
writes it (``--panel-report DIR``) when the verdicts are final.

The record says what was checked and how it ended, so that a vendor can publish it and anyone
can read it: the verdict and its scope (how many MUST clauses were checked, and why the others
were not: :mod:`harness.reporting.scope`); every clause of the contract with its level, verdict,
reason,
the tests citing it, the clause that blocked it (for N/A) and (for failures) the redacted
evidence; the failures
grouped by root cause; every waiver with its reason, expiry and what became of it (applied,
stale, expired), so a reader sees what was excused; the counts per level; the dialect; the
harness version, contract hash, seed, mode, clause selection and spend; the run's dates. Every
string in it passes through the run's :class:`~harness.wire.client.SecretBook` on the way out, on
top of the evidence being redacted when it was recorded: a key never reaches a published file.

With ``--panel-baseline`` the record gets a ``baseline`` section (the comparison with that run:
:mod:`harness.reporting.baseline`); with ``--panel-sign-key`` report.json is signed as it is
written (``report.json.sig``: :mod:`harness.reporting.signing`), the key read and checked when
the plugin is made, so a bad key stops the run before it starts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness import contract
from harness.base.budget import SpendReport
from harness.base.dates import utc_iso
from harness.base.version import __version__
from harness.judging.verdicts import (
    RECORDED,
    ClauseOutcome,
    Evidence,
    RootCause,
    Verdict,
    WaiverResult,
    root_causes,
)
from harness.reporting.baseline import BaselinePlugin
from harness.reporting.report_file import FORMAT
from harness.reporting.scope import Scope, scope_of
from harness.reporting.signing import (
    SigningError,
    load_private_key,
    render_signature,
    sign_report,
)
from harness.reporting.terminal import certified, conclusion, verdict_line
from harness.reporting.writers import prepare_dir, write_reports
from harness.run.session import HarnessRun

__all__ = [
    "FORMAT",
    "LEVELS",
    "CertificatePlugin",
    "build_certificate",
    "certified",
    "clause_row",
    "count_table",
    "plain",
    "root_cause_row",
]

LEVELS = ("MUST", "SHOULD", "MAY")
_VERDICTS = tuple(v.value for v in (Verdict.PASS, Verdict.NON_STRICT, Verdict.WAIVED,
                                    Verdict.FAIL, Verdict.NA))


def build_certificate(
    run: HarnessRun,
    *,
    exit_status: int,
    finished_at: datetime | None = None,
    tests: Mapping[str, Sequence[str]] | None = None,
    baseline: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The certificate record of ``run``: only str, int, float, bool, None, list and dict,
    every string scrubbed of every secret the run knows.

    ``tests`` maps a clause id to the test ids citing it (as collected); ``exit_status`` is
    the run's final exit status, which ``certified`` agrees with; ``baseline`` is the
    comparison with ``--panel-baseline`` (:meth:`BaselinePlugin.record`), when given.
    """
    config = run.config
    outcomes = run.book.outcomes()
    texts = contract.clauses()
    tests = tests or {}
    failed = [o.id for o in outcomes if o.verdict is Verdict.FAIL]
    ok = certified(outcomes, exit_status)
    verdict = verdict_line(outcomes, exit_status)
    scope = scope_of(outcomes, spend_cap=config.max_spend)
    record: dict[str, Any] = {
        "format": FORMAT,
        "harness": {"name": "smm-conformance", "version": __version__},
        "contract": {"hash": contract.contract_hash(), "clauses": len(outcomes)},
        "panel": {"url": config.display_url},
        "run": {
            "started_at": utc_iso(run.started_at),
            "finished_at": utc_iso(finished_at or datetime.now(UTC)),
            "seed": config.seed,
            "mode": config.mode.value,
            "clause_selection": list(config.clauses),
            "exit_status": exit_status,
        },
        "dialect": {
            "configured": config.profile,
            "detected": _dialect(run.dialect, config.profile),
        },
        "spend": _spend(run.guard.report()),
        "certified": ok,
        "verdict": verdict,
        "scope": _scope(scope),
        "conclusion": conclusion(outcomes, exit_status, scope),
        "failed_must": failed,
        "counts": count_table(outcomes),
        "root_causes": [root_cause_row(cause) for cause in root_causes(outcomes)],
        "waivers": [_waiver(result) for result in run.book.waiver_results()],
        "notes": list(run.problems),
        # What the run cost the panel: requests per action and per test (harness.run.tally).
        "requests": run.tally.record(),
        "clauses": [clause_row(o, texts[o.id].text, tests.get(o.id, ())) for o in outcomes],
    }
    if baseline is not None:
        record["baseline"] = dict(baseline)
    scrubbed = plain(record, run.secrets.scrub)
    assert isinstance(scrubbed, dict)
    return scrubbed


def plain(value: object, scrub: Callable[[str], str]) -> object:
    """``value`` as JSON-ready data with every string (keys too) passed through ``scrub``.

    Decimals become strings (money is never a float); dataclasses become objects; anything
    unknown becomes its ``str``, so that a new field can never make a report unwritable.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Decimal | Path):
        return scrub(str(value))
    if isinstance(value, Enum):
        return plain(value.value, scrub)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): plain(v, scrub) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), scrub) for f in fields(value)}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v, scrub) for v in value]
    return scrub(str(value))


# ---------------------------------------------------------------------------------------------
# parts of the record


def _dialect(guess: object | None, configured: str) -> dict[str, object] | None:
    """What the fingerprint detected, read by duck typing
    (``harness.panel.fingerprint.DialectGuess``:
    name, score, runner_up, evidence; closest, indistinguishable and agrees_with if present)."""
    if guess is None:
        return None
    name = getattr(guess, "name", None)
    score = getattr(guess, "score", None)
    closest = getattr(guess, "closest", None)
    agrees_with = getattr(guess, "agrees_with", None)
    agrees = agrees_with(configured) if callable(agrees_with) and configured != "auto" else None
    return {
        "name": None if name is None else str(name),
        "score": float(score) if isinstance(score, int | float | Decimal) else None,
        "runner_up": getattr(guess, "runner_up", None),
        "evidence": _strings(getattr(guess, "evidence", ())),
        "closest": None if closest is None else str(closest),
        "indistinguishable": _strings(getattr(guess, "indistinguishable", ())),
        "agrees_with_configured": agrees if isinstance(agrees, bool) else None,
    }


def _strings(values: object) -> list[str]:
    return [str(v) for v in values] if isinstance(values, Iterable) else []


def _scope(scope: Scope) -> dict[str, object]:
    return {
        "name": scope.name,
        "full": scope.full,
        "must_total": scope.must_total,
        "must_checked": scope.must_checked,
        "must_not_checked": scope.unchecked,
        "not_checked": [{"reason": reason, "count": len(ids), "clauses": list(ids)}
                        for reason, ids in scope.not_checked],
        "not_offered": list(scope.not_offered),
        "summary": scope.summary(),
    }


def _spend(report: SpendReport) -> dict[str, object]:
    return {
        "cap": str(report.cap),
        "committed": str(report.committed),
        # Unknown when a wallet's closing balance was not read: never a partial sum as a total.
        "spent": str(report.spent) if report.known else None,
        "sandbox_spent": str(report.sandbox_spent),
        "requests": report.requests,
        "refused": report.refused,
        "unmeasured": list(report.unmeasured),
        "summary": report.line(),
    }


def count_table(outcomes: Sequence[ClauseOutcome]) -> dict[str, dict[str, int]]:
    """Clauses per level and verdict, every cell present (zero when none)."""
    counted = Counter((o.level, o.verdict.value) for o in outcomes)
    table = {
        level: {verdict: counted[level, verdict] for verdict in _VERDICTS} for level in LEVELS
    }
    table["total"] = {verdict: sum(table[lv][verdict] for lv in LEVELS) for verdict in _VERDICTS}
    return table


def clause_row(outcome: ClauseOutcome, text: str, tests: Sequence[str]) -> dict[str, object]:
    return {
        "id": outcome.id,
        "area": outcome.id.rsplit("-", 1)[0],
        "level": outcome.level,
        "title": outcome.title,
        "text": text,
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "blocked_by": outcome.blocked_by,
        "observations": {v.value: outcome.counts.get(v, 0) for v in RECORDED},
        "tests": list(dict.fromkeys(tests)),
        "evidence": [_evidence(e) for e in outcome.evidence],
    }


def root_cause_row(cause: RootCause) -> dict[str, object]:
    outcome = cause.outcome
    return {
        "clause": outcome.id,
        "level": outcome.level,
        "title": outcome.title,
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "blocked": list(cause.blocked),
    }


def _waiver(result: WaiverResult) -> dict[str, object]:
    return {
        "clause": result.waiver.clause,
        "reason": result.waiver.reason,
        "expires": result.waiver.expires.isoformat(),
        "status": result.status.value,
        "verdict": result.verdict.value,
    }


def _evidence(evidence: Evidence) -> dict[str, object]:
    return {
        "test": evidence.test,
        "message": evidence.message,
        "exchanges": list(evidence.exchanges),
    }


# ---------------------------------------------------------------------------------------------
# the plugin


class CertificatePlugin:
    """Writes the certificate at the end of the run, in the process that owns the verdicts.

    The directory is created and probed when the plugin is made (configure time), so that an
    unwritable one stops the run before it starts instead of losing the report at its end.
    """

    def __init__(self, run: HarnessRun, directory: Path) -> None:
        self.run = run
        self.directory = prepare_dir(directory)
        self.sign_key = None if run.config.sign_key is None else _signing_key(run.config.sign_key)
        self.written: list[Path] = []
        self.error: str | None = None

    def _sign(self, report: Mapping[str, Any]) -> str:
        """The signature file of the report as written (``writers`` hands it back parsed)."""
        assert self.sign_key is not None
        document = sign_report(report, self.sign_key, now=datetime.now(UTC),
                               harness_version=__version__)
        return render_signature(document)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Under pytest-xdist only the controller holds the final verdicts.
        if hasattr(session.config, "workerinput"):
            return
        try:
            baseline = session.config.pluginmanager.get_plugin(BaselinePlugin.NAME)
            record = build_certificate(
                self.run, exit_status=int(session.exitstatus), tests=self.run.cited,
                baseline=baseline.record() if isinstance(baseline, BaselinePlugin) else None,
            )
            self.written = write_reports(record, self.directory, scrub=self.run.secrets.scrub,
                                         sign=None if self.sign_key is None else self._sign)
        except OSError as error:
            self.error = self.run.secrets.scrub(f"{type(error).__name__}: {error}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.error is not None:
            terminalreporter.write_line(
                f"panel report NOT written to {self.directory}: {self.error}", red=True
            )
        elif self.written:
            names = ", ".join(path.name for path in self.written)
            terminalreporter.write_line(f"panel report written to {self.directory}: {names}")


_SIGN_ORIGIN = "--panel-sign-key (env PANEL_SIGN_KEY, ini panel_sign_key)"


def _signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key of ``--panel-sign-key``, read now (configure time) or a UsageError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise pytest.UsageError(f"{_SIGN_ORIGIN}: cannot read {path}: {reason}") from None
    try:
        return load_private_key(data, str(path))
    except SigningError as error:
        raise pytest.UsageError(f"{_SIGN_ORIGIN}: {error}") from None
