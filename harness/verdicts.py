"""Per-clause verdicts: what every test and check recorded, aggregated worst-first.

Each clause ends PASS, NON-STRICT, FAIL or N/A. Aggregation: FAIL > NON-STRICT > PASS, and N/A
only when nothing else was recorded (with the reasons given). A FAIL on a clause that is not
MUST is reported NON-STRICT: only MUST clauses can fail a run. The book belongs to the run
kept on ``config.stash`` (``harness.session.RUN_KEY``); evidence is kept for failures only,
and bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

__all__ = [
    "ClauseInfo",
    "ClauseOutcome",
    "Evidence",
    "NaReason",
    "Verdict",
    "VerdictBook",
]

MAX_EVIDENCE_PER_CLAUSE = 3
MAX_EVIDENCE_CHARS = 4000
MAX_NA_REASONS = 4


class Verdict(Enum):
    """A clause's standing; ``rank`` orders them for worst-wins aggregation."""

    NA = "N/A"
    PASS = "PASS"
    NON_STRICT = "NON-STRICT"
    FAIL = "FAIL"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Verdict.NA: 0, Verdict.PASS: 1, Verdict.NON_STRICT: 2, Verdict.FAIL: 3}


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
    NOT_REACHED = "not reached: the test stopped at an earlier failure"
    HARNESS_ERROR = "harness error"


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


@dataclass(slots=True)
class _Tally:
    counts: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(Verdict, 0))
    na_reasons: list[str] = field(default_factory=list)
    messages: dict[Verdict, str] = field(default_factory=dict)
    evidence: dict[Verdict, list[Evidence]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClauseOutcome:
    """The final standing of one clause, for the terminal summary and reports."""

    id: str
    level: str
    title: str
    verdict: Verdict
    reason: str
    evidence: tuple[Evidence, ...]
    counts: Mapping[Verdict, int]

    def line(self, width: int = 100) -> str:
        text = f"{self.id:<12} {self.level:<6} {self.verdict.value:<10} {self.reason}"
        return text if len(text) <= width else text[: width - 3] + "..."


class VerdictBook:
    """Records verdicts per clause (thread-safe) and aggregates them at the end."""

    def __init__(self, clauses: Iterable[ClauseInfo]) -> None:
        self._clauses: dict[str, ClauseInfo] = {c.id: c for c in clauses}
        self._tallies: dict[str, _Tally] = {cid: _Tally() for cid in self._clauses}
        self._lock = threading.Lock()

    def clause_ids(self) -> tuple[str, ...]:
        return tuple(self._clauses)

    def knows(self, clause_id: str) -> bool:
        return clause_id in self._clauses

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
        if clause_id not in self._clauses:
            raise KeyError(f"unknown clause {clause_id!r}: not in schemas/clauses.yaml")
        if verdict is Verdict.NA:
            raise ValueError("record N/A with record_na(), which needs a reason")
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
        if clause_id not in self._clauses:
            raise KeyError(f"unknown clause {clause_id!r}: not in schemas/clauses.yaml")
        with self._lock:
            tally = self._tallies[clause_id]
            tally.counts[Verdict.NA] += 1
            if reason not in tally.na_reasons and len(tally.na_reasons) < MAX_NA_REASONS:
                tally.na_reasons.append(reason)

    def outcome(self, clause_id: str) -> ClauseOutcome:
        info = self._clauses[clause_id]
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
            evidence = tuple(tally.evidence.get(verdict, ()))
        return ClauseOutcome(info.id, info.level, info.title, verdict, reason, evidence, counts)

    def outcomes(self) -> list[ClauseOutcome]:
        """Every clause, in contract order."""
        return [self.outcome(cid) for cid in self._clauses]

    def must_failed(self) -> bool:
        return any(o.verdict is Verdict.FAIL for o in self.outcomes())

    # -- across processes (pytest-xdist) ------------------------------------------------------

    def export(self) -> dict[str, object]:
        """Everything recorded, JSON-serialisable, for :meth:`merge` in another process."""
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
                }
        return exported

    def merge(self, exported: Mapping[str, object]) -> None:
        """Add another book's :meth:`export` to this one: counts add up, reasons, messages
        and evidence are kept within the same bounds as when recorded here, so the merged
        book gives the verdicts one book recording everything would give."""
        unknown = [cid for cid in exported if cid not in self._clauses]
        if unknown:
            raise KeyError(f"unknown clause(s) {', '.join(unknown)}: not in schemas/clauses.yaml")
        with self._lock:
            for cid, raw in exported.items():
                if not isinstance(raw, Mapping):
                    raise ValueError(f"{cid}: not an exported tally")
                tally = self._tallies[cid]
                for value, count in raw.get("counts", {}).items():
                    tally.counts[Verdict(value)] += int(count)
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
