"""Per-clause verdicts: what every test and check recorded, aggregated worst-first.

Each clause ends PASS, NON-STRICT, FAIL, N/A or WAIVED. Aggregation of what the tests recorded:
FAIL > NON-STRICT > PASS, and N/A only when nothing else was recorded (with the reasons given).
A FAIL on a clause that is not MUST is reported NON-STRICT: only MUST clauses can fail a run.
The book belongs to the run kept on ``config.stash`` (``harness.run.session.RUN_KEY``); evidence
is kept for failures only, and bounded.

**Blocked clauses.** A clause a test could not judge because another clause's action failed
or is not offered (no ``cancel``: the cancel-refund clauses cannot be checked) is N/A "blocked
by" that clause (:meth:`VerdictBook.record_blocked`), never a FAIL of its own: one defect is
one failure. The blocker is remembered, and :func:`root_causes` groups every failure with the
clauses it blocked, following chains (A blocked by B, itself blocked by C: C is the root).
Blocking is an N/A like any other: a PASS, NON-STRICT or FAIL recorded anywhere still wins.

**Waivers** (``--panel-waivers``, :mod:`harness.run.waivers`) are a vendor's known, dated,
explained failures, like the OpenID conformance suite's expected failures. WAIVED is never
recorded by a test: a waiver applies to a clause's *final* verdict at the end of the run, after
every observation (and, under xdist, every worker's book) has been aggregated. A clause whose
final verdict is FAIL and that has a waiver in force ends WAIVED; PASS, NON-STRICT and N/A are
left alone and their waivers are reported stale; an expired waiver excuses nothing. WAIVED
ranks just below FAIL (a FAIL excused is still worse than any finding that never failed) and
does not fail the run: :meth:`VerdictBook.must_failed` counts FAIL only. Its evidence is the
FAIL's, so a reader sees what was excused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Protocol

__all__ = [
    "RECORDED",
    "ClauseInfo",
    "ClauseOutcome",
    "Evidence",
    "NaReason",
    "RootCause",
    "Verdict",
    "VerdictBook",
    "Waiver",
    "WaiverResult",
    "WaiverStatus",
    "root_causes",
]

MAX_EVIDENCE_PER_CLAUSE = 3
MAX_EVIDENCE_CHARS = 4000
MAX_NA_REASONS = 4


class Verdict(Enum):
    """A clause's standing; ``rank`` orders them for worst-wins aggregation."""

    NA = "N/A"
    PASS = "PASS"
    NON_STRICT = "NON-STRICT"
    WAIVED = "WAIVED"
    FAIL = "FAIL"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Verdict.NA: 0, Verdict.PASS: 1, Verdict.NON_STRICT: 2, Verdict.WAIVED: 3,
         Verdict.FAIL: 4}

#: The verdicts a test can record (WAIVED is given by a waiver to a final FAIL, never recorded).
RECORDED = (Verdict.PASS, Verdict.NON_STRICT, Verdict.FAIL, Verdict.NA)


class NaReason(Enum):
    """Why a clause could not be judged in this run."""

    SPEND_CAP = "not allowed by the spend cap"
    NO_SECOND_KEY = "no second key"
    NO_CONTROL = "no control API"
    NOT_OFFERED = "feature not offered"
    NO_RATE_LIMIT = "no advertised rate limit (--panel-rate-limit)"
    LOW_BALANCE = "balance too low"
    TIMEOUT = "order did not finish within --panel-order-timeout"
    NOT_SELECTED = "not selected (--panel-clause)"
    NOT_COVERED = "not checked by this suite"
    HARNESS_ERROR = "harness error"
    BLOCKED = "blocked"


class ClauseInfo(Protocol):
    """What the book needs to know about a clause (``harness.contract.Clause`` fits)."""

    @property
    def id(self) -> str: ...

    @property
    def level(self) -> str: ...

    @property
    def title(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a clause failed: the test, the message, and the exchanges (already redacted)."""

    test: str
    message: str
    exchanges: tuple[str, ...] = ()

    def render(self) -> str:
        text = "\n".join((f"{self.test}: {self.message}", *self.exchanges))
        if len(text) > MAX_EVIDENCE_CHARS:
            text = text[:MAX_EVIDENCE_CHARS] + "\n...(evidence truncated)"
        return text


@dataclass(frozen=True, slots=True)
class Waiver:
    """One expected failure: ``clause`` may FAIL until ``expires`` (inclusive), for ``reason``.

    The day is a UTC calendar day, like the certificate's dates: a waiver expiring on
    2026-06-30 still excuses a run on that day and no longer one on 2026-07-01.
    """

    clause: str
    reason: str
    expires: date

    def in_force(self, today: date) -> bool:
        return today <= self.expires


class WaiverStatus(Enum):
    """What became of a waiver at the end of a run."""

    APPLIED = "applied"  # its clause FAILed: the clause is WAIVED
    STALE = "stale"  # its clause did not fail (PASS, NON-STRICT or N/A): the waiver is not needed
    EXPIRED = "expired"  # past its date: ignored, a FAIL stays a FAIL


@dataclass(frozen=True, slots=True)
class WaiverResult:
    """A waiver, what became of it, and the final verdict of its clause."""

    waiver: Waiver
    status: WaiverStatus
    verdict: Verdict

    def line(self) -> str:
        """One line for the terminal and the reports."""
        w = self.waiver
        if self.status is WaiverStatus.APPLIED:
            return f"{w.clause} WAIVED until {w.expires}: {w.reason}"
        if self.status is WaiverStatus.STALE:
            return (f"{w.clause} waiver is stale: the clause ended {self.verdict.value}, "
                    f"nothing to excuse (expires {w.expires}): {w.reason}")
        return (f"{w.clause} waiver expired on {w.expires} and was ignored "
                f"(the clause ended {self.verdict.value}): {w.reason}")


@dataclass(slots=True)
class _Tally:
    counts: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(Verdict, 0))
    na_reasons: list[str] = field(default_factory=list)
    messages: dict[Verdict, str] = field(default_factory=dict)
    evidence: dict[Verdict, list[Evidence]] = field(default_factory=dict)
    # The clauses that blocked this one (recorded with record_blocked), without repeats.
    blockers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClauseOutcome:
    """The final standing of one clause, for the terminal summary and reports.

    ``blocked_by`` is set only when the verdict is N/A and a blocking clause was recorded (the
    first blocker in contract order, whatever the order of recording: a merged book under
    xdist gives the serial one). ``waiver`` is the waiver that made the verdict WAIVED.
    """

    id: str
    level: str
    title: str
    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...]
    counts: Mapping[Verdict, int]
    blocked_by: str | None = None
    waiver: Waiver | None = None

    def line(self, width: int = 100) -> str:
        text = f"{self.id:<12} {self.level:<6} {self.verdict.value:<10} {self.reason}"
        return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True, slots=True)
class RootCause:
    """A clause and every clause it blocked (directly or through a chain of blocked ones)."""

    outcome: ClauseOutcome
    blocked: tuple[str, ...]

    def line(self) -> str:
        head = f"{self.outcome.id} {self.outcome.verdict.value}"
        return f"{head} — blocked: {', '.join(self.blocked)}" if self.blocked else head


class VerdictBook:
    """Records verdicts per clause (thread-safe) and aggregates them at the end."""

    def __init__(self, clauses: Iterable[ClauseInfo]) -> None:
        self._clauses: dict[str, ClauseInfo] = {c.id: c for c in clauses}
        self._order = {cid: index for index, cid in enumerate(self._clauses)}
        self._tallies: dict[str, _Tally] = {cid: _Tally() for cid in self._clauses}
        self._lock = threading.Lock()
        self._waivers: tuple[Waiver, ...] = ()
        self._today: date | None = None

    def clause_ids(self) -> tuple[str, ...]:
        return tuple(self._clauses)

    def knows(self, clause_id: str) -> bool:
        return clause_id in self._clauses

    def _known(self, clause_id: str) -> None:
        if clause_id not in self._clauses:
            raise KeyError(f"unknown clause {clause_id!r}: not in schemas/clauses.yaml")

    def effective(self, clause_id: str, verdict: Verdict) -> Verdict:
        """FAIL counts as FAIL only on MUST clauses; elsewhere it is NON-STRICT."""
        if verdict is Verdict.FAIL and self._clauses[clause_id].level != "MUST":
            return Verdict.NON_STRICT
        return verdict

    def record(
        self,
        clause_id: str,
        verdict: Verdict,
        *,
        test: str,
        message: str = "",
        exchanges: Iterable[str] = (),
    ) -> Verdict:
        """Record one observation; returns the effective verdict (after the level rule)."""
        self._known(clause_id)
        if verdict is Verdict.NA:
            raise ValueError("record N/A with record_na(), which needs a reason")
        if verdict is Verdict.WAIVED:
            raise ValueError("WAIVED is not observed: a waiver applies to the final verdict")
        verdict = self.effective(clause_id, verdict)
        with self._lock:
            tally = self._tallies[clause_id]
            tally.counts[verdict] += 1
            if verdict in (Verdict.FAIL, Verdict.NON_STRICT):
                tally.messages.setdefault(verdict, f"{message} [{test}]")
                kept = tally.evidence.setdefault(verdict, [])
                if len(kept) < MAX_EVIDENCE_PER_CLAUSE:
                    kept.append(Evidence(test, message, tuple(exchanges)))
        return verdict

    def record_na(self, clause_id: str, reason: str, *, test: str) -> None:
        self._known(clause_id)
        with self._lock:
            self._add_na(self._tallies[clause_id], reason)

    def record_blocked(self, clause_id: str, *, by: str, test: str, detail: str = "") -> None:
        """Record an N/A for ``clause_id`` because clause ``by`` failed or is not offered: its
        reason reads ``blocked by <by>`` (``: <detail>`` when given), and ``by`` is kept as the
        clause's root cause for :func:`root_causes`."""
        self._known(clause_id)
        self._known(by)
        if by == clause_id:
            raise ValueError(f"{clause_id} cannot block itself")
        reason = f"blocked by {by}: {detail}" if detail else f"blocked by {by}"
        with self._lock:
            tally = self._tallies[clause_id]
            self._add_na(tally, reason)
            if by not in tally.blockers:
                tally.blockers.append(by)

    @staticmethod
    def _add_na(tally: _Tally, reason: str) -> None:
        tally.counts[Verdict.NA] += 1
        if reason not in tally.na_reasons and len(tally.na_reasons) < MAX_NA_REASONS:
            tally.na_reasons.append(reason)

    # -- waivers --------------------------------------------------------------------------------

    def waive(self, waivers: Iterable[Waiver], *, today: date) -> None:
        """Set the run's waivers (replacing any set before), judged on the UTC day ``today``:
        from now on a FAIL clause with a waiver in force ends WAIVED (see the module doc)."""
        waivers = tuple(waivers)
        for waiver in waivers:
            self._known(waiver.clause)
        with self._lock:
            self._waivers = waivers
            self._today = today

    def _in_force(self, clause_id: str) -> Waiver | None:
        today = self._today
        if today is None:
            return None
        return next((w for w in self._waivers if w.clause == clause_id and w.in_force(today)),
                    None)

    def waiver_results(self) -> list[WaiverResult]:
        """Every waiver given to :meth:`waive`, in its order, with what became of it."""
        results = []
        for waiver in self._waivers:
            outcome = self.outcome(waiver.clause)
            if outcome.waiver is waiver:
                status = WaiverStatus.APPLIED
            elif self._today is not None and not waiver.in_force(self._today):
                status = WaiverStatus.EXPIRED
            else:
                status = WaiverStatus.STALE
            results.append(WaiverResult(waiver, status, outcome.verdict))
        return results

    # -- the end --------------------------------------------------------------------------------

    def outcome(self, clause_id: str) -> ClauseOutcome:
        info = self._clauses[clause_id]
        blocked_by = waiver = None
        with self._lock:
            tally = self._tallies[clause_id]
            counts = dict(tally.counts)
            recorded = [v for v in (Verdict.FAIL, Verdict.NON_STRICT, Verdict.PASS) if counts[v]]
            if recorded:
                verdict = recorded[0]
                if verdict is Verdict.PASS:
                    reason = f"{counts[Verdict.PASS]} observation(s)"
                else:
                    reason = tally.messages[verdict]
            else:
                verdict = Verdict.NA
                reason = "; ".join(tally.na_reasons) or NaReason.NOT_COVERED.value
                if tally.blockers:
                    blocked_by = min(tally.blockers, key=self._order.__getitem__)
            evidence = tuple(tally.evidence.get(verdict, ()))
        if verdict is Verdict.FAIL:
            waiver = self._in_force(clause_id)
            if waiver is not None:
                verdict = Verdict.WAIVED
                reason = f"waived until {waiver.expires} ({waiver.reason}); was FAIL: {reason}"
        return ClauseOutcome(info.id, info.level, info.title, verdict, reason, evidence, counts,
                             blocked_by, waiver)

    def outcomes(self) -> list[ClauseOutcome]:
        """Every clause, in contract order."""
        return [self.outcome(cid) for cid in self._clauses]

    def must_failed(self) -> bool:
        """Whether a MUST clause ended FAIL (a WAIVED one does not fail the run)."""
        return any(o.verdict is Verdict.FAIL for o in self.outcomes())

    # -- across processes (pytest-xdist) ------------------------------------------------------

    def export(self) -> dict[str, object]:
        """Everything recorded, JSON-serialisable, for :meth:`merge` in another process
        (waivers are not recorded: the process that reports applies them)."""
        exported: dict[str, object] = {}
        with self._lock:
            for cid, tally in self._tallies.items():
                if not any(tally.counts.values()):
                    continue
                exported[cid] = {
                    "counts": {v.value: n for v, n in tally.counts.items() if n},
                    "na_reasons": list(tally.na_reasons),
                    "messages": {v.value: m for v, m in tally.messages.items()},
                    "evidence": {
                        v.value: [[e.test, e.message, list(e.exchanges)] for e in kept]
                        for v, kept in tally.evidence.items()
                    },
                    "blocked_by": list(tally.blockers),
                }
        return exported

    def merge(self, exported: Mapping[str, object]) -> None:
        """Add another book's :meth:`export` to this one: counts add up, reasons, messages
        and evidence are kept within the same bounds as when recorded here, blockers are
        united, so the merged book gives the verdicts one book recording everything would
        give."""
        unknown = [cid for cid in exported if cid not in self._clauses]
        if unknown:
            raise KeyError(f"unknown clause(s) {', '.join(unknown)}: not in schemas/clauses.yaml")
        with self._lock:
            for cid, raw in exported.items():
                if not isinstance(raw, Mapping):
                    raise ValueError(f"{cid}: not an exported tally")
                tally = self._tallies[cid]
                for value, count in raw.get("counts", {}).items():
                    verdict = Verdict(value)
                    if verdict is Verdict.WAIVED:
                        raise ValueError(f"{cid}: WAIVED is never recorded, so never exported")
                    tally.counts[verdict] += int(count)
                for reason in raw.get("na_reasons", ()):
                    if reason not in tally.na_reasons and len(tally.na_reasons) < MAX_NA_REASONS:
                        tally.na_reasons.append(str(reason))
                for value, message in raw.get("messages", {}).items():
                    tally.messages.setdefault(Verdict(value), str(message))
                for value, items in raw.get("evidence", {}).items():
                    kept = tally.evidence.setdefault(Verdict(value), [])
                    for test, message, exchanges in items:
                        if len(kept) < MAX_EVIDENCE_PER_CLAUSE:
                            kept.append(Evidence(str(test), str(message), tuple(exchanges)))
                for blocker in raw.get("blocked_by", ()):
                    blocker = str(blocker)
                    if blocker not in self._clauses:
                        raise KeyError(f"{cid}: unknown blocking clause {blocker!r}")
                    if blocker not in tally.blockers:
                        tally.blockers.append(blocker)


def root_causes(outcomes: Sequence[ClauseOutcome]) -> list[RootCause]:
    """Failures grouped by root cause: every FAIL and WAIVED clause, and every clause that
    blocked another, each with the clauses it blocked (a chain of blocked clauses is followed
    to its end: the clause that blocked the blocker is the root). Worst first, then in
    contract order; a clause that neither failed nor blocked anything is not listed."""
    by_id = {o.id: o for o in outcomes}
    order = {o.id: index for index, o in enumerate(outcomes)}
    blocked: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.blocked_by is not None:
            blocked.setdefault(_root_of(outcome, by_id), []).append(outcome.id)
    roots = {o.id for o in outcomes if o.verdict in (Verdict.FAIL, Verdict.WAIVED)}
    roots.update(cid for cid in blocked if cid in by_id)
    ranked = sorted(roots, key=lambda cid: (-by_id[cid].verdict.rank, order[cid]))
    return [RootCause(by_id[cid], tuple(blocked.get(cid, ()))) for cid in ranked]


def _root_of(outcome: ClauseOutcome, by_id: Mapping[str, ClauseOutcome]) -> str:
    """Follow ``blocked_by`` while the blocker is itself blocked; a cycle (which no sound
    test records) stops before it comes back, so no clause is its own root."""
    seen = {outcome.id}
    root = outcome.blocked_by
    assert root is not None
    while True:
        blocker = by_id.get(root)
        following = blocker.blocked_by if blocker is not None else None
        if following is None or following in seen:
            return root
        seen.add(root)
        root = following
