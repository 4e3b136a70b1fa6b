"""The text a run prints: the report header and the per-clause verdict table, the failures
grouped by root cause (a failure and the clauses it blocked, once), the evidence, the waivers,
and the conclusion: the verdict line and the scope it covers (:mod:`harness.reporting.scope`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from harness import contract
from harness.base.budget import SpendReport
from harness.base.version import __version__
from harness.judging.verdicts import ClauseOutcome, Verdict, WaiverResult, WaiverStatus, root_causes
from harness.panel.fingerprint import DialectGuess
from harness.reporting.compare import ChangeKind, Comparison
from harness.reporting.scope import Scope
from harness.run.config import PanelConfig

__all__ = ["baseline_lines", "certified", "conclusion", "dialect_line", "header_lines",
           "root_cause_lines", "scope_colour", "summary_lines", "verdict_counts", "verdict_line"]

# pytest's exit statuses that say more than a number (1 is "tests failed", said otherwise).
_EXIT_MEANINGS = {5: "no test was collected or selected"}


def header_lines(config: PanelConfig, dialect: DialectGuess | None = None) -> list[str]:
    """What makes a run reproducible: where, which dialect, which mode, what may be spent."""
    selection = ", ".join(config.clauses) if config.clauses else "all"
    rate = f"{config.rate_limit}/min advertised" if config.rate_limit else "not advertised"
    lines = [
        f"smm-harness {__version__}: panel {config.display_url} "
        f"(profile {config.profile}, mode {config.mode.value})",
        f"smm-harness: spend cap {config.max_spend} on the given keys, seed {config.seed}, "
        f"clauses {selection}, rate limit {rate}, politeness {config.request_rate:g} req/s, "
        f"contract {contract.contract_hash()[:12]}",
    ]
    if dialect is not None:
        lines.append(dialect_line(config.profile, dialect))
    return lines


def dialect_line(profile: str, guess: DialectGuess, *, evidence: int = 3) -> str:
    """The detected dialect with its top evidence; a configured profile the detection
    contradicts is flagged MISMATCH (one it cannot confirm, UNCONFIRMED)."""
    head = f"dialect {guess.summary()}"
    if profile != "auto":
        flag = {True: "", False: " MISMATCH", None: " UNCONFIRMED"}[guess.agrees_with(profile)]
        head = f"dialect configured {profile}, detected {guess.summary()}{flag}"
    shown = "; ".join(guess.evidence[:evidence])
    return f"smm-harness: {head}: {shown}" if shown else f"smm-harness: {head}"


def certified(outcomes: Sequence[ClauseOutcome], exit_status: int) -> bool:
    """No MUST clause failed and the run ended cleanly: a run stopped by an internal error, a
    harness error or an interrupt proves nothing, whatever its verdicts say so far."""
    return exit_status == 0 and not any(o.verdict is Verdict.FAIL for o in outcomes)


def verdict_line(outcomes: Sequence[ClauseOutcome], exit_status: int) -> str:
    """The run's one-line conclusion, the same on the terminal and in every report; waived
    failures are counted in it, so a certificate never hides what it excused."""
    failed = sum(1 for o in outcomes if o.verdict is Verdict.FAIL)
    waived = [o.id for o in outcomes if o.verdict is Verdict.WAIVED]
    excused = f" ({len(waived)} waived: {', '.join(waived)})" if waived else ""
    if failed:
        return f"NOT CERTIFIED: {failed} MUST clause(s) failed{excused}"
    if exit_status in _EXIT_MEANINGS:
        return f"NOT CERTIFIED: {_EXIT_MEANINGS[exit_status]} (exit status {exit_status}){excused}"
    if exit_status != 0:
        return (f"NOT CERTIFIED: the run did not end cleanly (exit status {exit_status})"
                f"{excused}")
    return f"CERTIFIED: no MUST clause failed{excused}"


def conclusion(outcomes: Sequence[ClauseOutcome], exit_status: int, scope: Scope) -> str:
    """The verdict line and its scope in one sentence, for banners: ``CERTIFIED: no MUST
    clause failed — read-only scope: 42 of 79 MUST clauses checked (37 not checked: ...)``."""
    return f"{verdict_line(outcomes, exit_status)} — {scope.summary()}"


def scope_colour(scope: Scope, ok: bool) -> Verdict:
    """The colour of the scope line: green for a full certificate, yellow for a partial one
    (or a failed run: the verdict line above is red already)."""
    return Verdict.PASS if ok and scope.full else Verdict.NON_STRICT


def verdict_counts(outcomes: Sequence[ClauseOutcome]) -> dict[str, Counter[Verdict]]:
    """Verdicts per level (MUST, SHOULD, MAY)."""
    counts: dict[str, Counter[Verdict]] = {}
    for outcome in outcomes:
        counts.setdefault(outcome.level, Counter())[outcome.verdict] += 1
    return counts


def root_cause_lines(outcomes: Sequence[ClauseOutcome]) -> list[tuple[str, Verdict]]:
    """``ERR-005 FAIL — blocked: CANCEL-001, BATCH-005`` once per root cause, worst first:
    every failure (waived ones too) and every clause that blocked others."""
    return [(cause.line(), cause.outcome.verdict) for cause in root_causes(outcomes)]


def summary_lines(
    outcomes: Sequence[ClauseOutcome],
    spend: SpendReport,
    problems: Sequence[str] = (),
    *,
    exit_status: int = 0,
    width: int = 120,
    waivers: Sequence[WaiverResult] = (),
) -> list[tuple[str, Verdict | None]]:
    """The verdict table, the root causes, the evidence of every failure (waived ones too),
    the waivers, totals and spend.

    Each line comes with the verdict it reports (for colouring), or ``None``.
    """
    lines: list[tuple[str, Verdict | None]] = [
        (f"{'clause':<12} {'level':<6} {'verdict':<10} reason / evidence", None)
    ]
    lines += [(o.line(width), o.verdict) for o in outcomes]
    causes = root_cause_lines(outcomes)
    if causes:
        lines.append(("", None))
        lines.append(("root causes (each failure once, with the clauses it blocked):", None))
        lines += [(f"  {text}", verdict) for text, verdict in causes]
    failed = [o for o in outcomes if o.verdict in (Verdict.FAIL, Verdict.WAIVED)]
    if failed:
        lines.append(("", None))
        lines.append(("evidence (keys redacted):", None))
        for outcome in failed:
            waived = " (WAIVED)" if outcome.verdict is Verdict.WAIVED else ""
            lines.append((f"--- {outcome.id} {outcome.title}{waived}", outcome.verdict))
            for evidence in outcome.evidence:
                lines += [(f"    {row}", None) for row in evidence.render().splitlines()]
    if waivers:
        lines.append(("", None))
        lines.append(("waivers (--panel-waivers):", None))
        lines += [(f"  {result.line()}", _waiver_colour(result)) for result in waivers]
    lines.append(("", None))
    for level, counter in sorted(verdict_counts(outcomes).items(), key=lambda kv: _LEVELS[kv[0]]):
        parts = ", ".join(f"{counter[v]} {v.value}" for v in _ORDER if counter[v])
        lines.append((f"{level}: {parts}", None))
    lines.append((spend.line(), None))
    lines += [(f"note: {problem}", None) for problem in problems]
    ok = certified(outcomes, exit_status)
    lines.append((verdict_line(outcomes, exit_status), Verdict.PASS if ok else Verdict.FAIL))
    return lines


_LEVELS = {"MUST": 0, "SHOULD": 1, "MAY": 2}
_ORDER = (Verdict.PASS, Verdict.NON_STRICT, Verdict.WAIVED, Verdict.FAIL, Verdict.NA)


def _waiver_colour(result: WaiverResult) -> Verdict:
    """Applied: the WAIVED colour; stale: a warning (remove it); expired: a warning, red when
    the FAIL it no longer excuses stands."""
    if result.status is WaiverStatus.APPLIED:
        return Verdict.WAIVED
    return Verdict.FAIL if result.verdict is Verdict.FAIL else Verdict.NON_STRICT


# A regression is red, a fix green, another moved verdict yellow; the contract's own changes
# (added, removed, reworded clauses) are facts, uncoloured.
_CHANGE_COLOURS = {ChangeKind.REGRESSION: Verdict.FAIL, ChangeKind.FIX: Verdict.PASS,
                   ChangeKind.MOVED: Verdict.NON_STRICT}


def baseline_lines(comparison: Comparison) -> list[tuple[str, Verdict | None]]:
    """The comparison with ``--panel-baseline``: the two runs, the contract change, each
    changed clause under its kind, and the summary (red when a MUST clause regressed)."""
    lines: list[tuple[str, Verdict | None]] = [(line, None) for line in comparison.head()]
    for kind, heading, changes in comparison.sections():
        colour = _CHANGE_COLOURS.get(kind)
        lines.append((f"{heading}: {len(changes)}", colour))
        lines += [(f"  {change.line()}", colour) for change in changes]
    verdict = Verdict.FAIL if comparison.must_regressions else Verdict.PASS
    lines.append((f"since the baseline: {comparison.summary()}", verdict))
    return lines
