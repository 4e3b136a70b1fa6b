"""Run-to-run comparison: what changed, clause by clause, between an old run and a new one.

One comparison serves ``smm-conformance diff OLD NEW`` and ``--panel-baseline report.json``
(the terminal summary and the reports of a run). Pure: two :class:`RunView` in, a
:class:`Comparison` out.

Each clause present in both runs whose verdict changed is exactly one of:

- a **regression**: FAIL now, not FAIL before (a WAIVED clause whose waiver lapsed counts: the
  failure fails the run again); a clause the contract added that FAILs is one too;
- a **fix**: FAIL before, PASS or NON-STRICT now (a FAIL that became N/A or WAIVED is not
  fixed, only no longer counted: it *moved*);
- **moved**: any other change between PASS, NON-STRICT, N/A, WAIVED (and FAIL to N/A/WAIVED).

A contract change (the two contract hashes differ) adds clauses, removes others and may reword
or re-level some: listed apart, and said first. A MUST regression is what ``diff`` exits 1 on
and what ``--panel-fail-on=regressions`` fails a run on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "ChangeKind",
    "ClauseChange",
    "ClauseView",
    "Comparison",
    "RunView",
    "compare",
    "view_of_report",
]

_FAIL = "FAIL"
_FIXED = ("PASS", "NON-STRICT")


@dataclass(frozen=True, slots=True)
class ClauseView:
    """What a comparison needs of one clause of a run."""

    id: str
    level: str
    title: str
    text: str
    verdict: str


@dataclass(frozen=True, slots=True)
class RunView:
    """What a comparison needs of one run: where and when, the contract, the clauses."""

    panel: str
    finished_at: str | None
    contract_hash: str
    certified: bool | None
    clauses: tuple[ClauseView, ...]

    def label(self) -> str:
        when = f" finished {self.finished_at}" if self.finished_at else ""
        return f"{self.panel}{when}, contract {self.contract_hash[:12]}"


def view_of_report(record: Mapping[str, Any]) -> RunView:
    """The view of a report.json's value (valid against ``schemas/report.schema.json``:
    :func:`harness.reporting.report_file.read_report` checks that first)."""
    return RunView(
        panel=str(record["panel"]["url"]),
        finished_at=str(record["run"]["finished_at"]),
        contract_hash=str(record["contract"]["hash"]),
        certified=bool(record["certified"]),
        clauses=tuple(
            ClauseView(id=str(c["id"]), level=str(c["level"]), title=str(c["title"]),
                       text=str(c["text"]), verdict=str(c["verdict"]))
            for c in record["clauses"]
        ),
    )


class ChangeKind(Enum):
    REGRESSION = "regression"
    FIX = "fix"
    MOVED = "moved"
    ADDED = "added"
    REMOVED = "removed"
    REWORDED = "reworded"


@dataclass(frozen=True, slots=True)
class ClauseChange:
    """One clause that differs. ``old``/``new`` are verdicts (``None``: absent from that run);
    ``reworded`` says the contract changed its text, title or level."""

    id: str
    level: str
    title: str
    kind: ChangeKind
    old: str | None
    new: str | None
    old_level: str | None = None
    reworded: bool = False

    @property
    def added(self) -> bool:
        return self.old is None

    def line(self) -> str:
        was = self.old or "(absent)"
        now = self.new or "(absent)"
        notes = []
        if self.added:
            notes.append("new clause")
        if self.old_level is not None and self.old_level != self.level:
            notes.append(f"was {self.old_level}")
        if self.reworded and self.kind is not ChangeKind.REWORDED:
            notes.append("reworded")
        note = f" ({', '.join(notes)})" if notes else ""
        return f"{self.id:<12} {self.level:<6} {was:>10} -> {now:<10} {self.title}{note}"

    def record(self) -> dict[str, object]:
        return {"clause": self.id, "level": self.level, "title": self.title,
                "old": self.old, "new": self.new, "old_level": self.old_level,
                "reworded": self.reworded}


# The order sections are printed and recorded in: what breaks a build first.
_SECTIONS = (
    (ChangeKind.REGRESSION, "regressions", "regressions (fail now, did not before)"),
    (ChangeKind.FIX, "fixes", "fixes (failed before, pass now)"),
    (ChangeKind.MOVED, "moved", "moved (other verdict changes)"),
    (ChangeKind.ADDED, "added", "added by the contract change"),
    (ChangeKind.REMOVED, "removed", "removed by the contract change"),
    (ChangeKind.REWORDED, "reworded", "reworded or re-levelled by the contract change, same "
                                      "verdict"),
)
_COUNTED = {ChangeKind.REGRESSION: "regression(s)", ChangeKind.FIX: "fix(es)",
            ChangeKind.MOVED: "moved", ChangeKind.ADDED: "added", ChangeKind.REMOVED: "removed",
            ChangeKind.REWORDED: "reworded"}


@dataclass(frozen=True, slots=True)
class Comparison:
    old: RunView
    new: RunView
    changes: tuple[ClauseChange, ...]

    @property
    def contract_changed(self) -> bool:
        return self.old.contract_hash != self.new.contract_hash

    def of(self, kind: ChangeKind) -> tuple[ClauseChange, ...]:
        return tuple(c for c in self.changes if c.kind is kind)

    @property
    def regressions(self) -> tuple[ClauseChange, ...]:
        return self.of(ChangeKind.REGRESSION)

    @property
    def must_regressions(self) -> tuple[ClauseChange, ...]:
        return tuple(c for c in self.regressions if c.level == "MUST")

    def summary(self) -> str:
        """``2 regression(s) (1 MUST: ADD-003); 1 fix(es); 1 moved; the contract changed``,
        or ``no clause's verdict changed``."""
        parts = []
        for kind, _, _ in _SECTIONS:
            found = self.of(kind)
            if found:
                parts.append(f"{len(found)} {_COUNTED[kind]}")
        if self.regressions:
            must = self.must_regressions
            parts[0] += (f" ({len(must)} MUST: {', '.join(c.id for c in must)})" if must
                         else " (none MUST)")
        text = "; ".join(parts) if parts else "no clause's verdict changed"
        return text + ("; the contract changed" if self.contract_changed else "")

    def head(self) -> list[str]:
        """The two runs and, when it changed, the contract."""
        lines = [f"old: {self.old.label()}", f"new: {self.new.label()}"]
        if self.contract_changed:
            lines.append(f"the contract changed: {self.old.contract_hash[:12]} -> "
                         f"{self.new.contract_hash[:12]} ({len(self.of(ChangeKind.ADDED))} "
                         f"clause(s) added, {len(self.of(ChangeKind.REMOVED))} removed, "
                         f"{sum(1 for c in self.changes if c.reworded)} reworded)")
        return lines

    def sections(self) -> list[tuple[ChangeKind, str, tuple[ClauseChange, ...]]]:
        """(kind, heading, changes) of every kind with changes, regressions first."""
        return [(kind, heading, self.of(kind)) for kind, _, heading in _SECTIONS
                if self.of(kind)]

    def lines(self) -> list[str]:
        """The comparison as text: the two runs, the contract change, then each section."""
        lines = self.head()
        for _, heading, found in self.sections():
            lines.append(f"{heading}: {len(found)}")
            lines += [f"  {change.line()}" for change in found]
        lines.append(f"summary: {self.summary()}")
        return lines

    def record(self) -> dict[str, object]:
        """The ``baseline`` section of report.json (``schemas/report.schema.json``)."""
        record: dict[str, object] = {
            "panel": self.old.panel,
            "finished_at": self.old.finished_at,
            "contract_hash": self.old.contract_hash,
            "certified": self.old.certified,
            "contract_changed": self.contract_changed,
            "must_regressions": [c.id for c in self.must_regressions],
            "summary": self.summary(),
        }
        for kind, name, _ in _SECTIONS:
            record[name] = [c.record() for c in self.of(kind)]
        return record


def compare(old: RunView, new: RunView) -> Comparison:
    """Every clause whose verdict changed, plus the clauses a contract change added, removed
    or reworded; in the new run's clause order, removed ones last in the old run's."""
    before = {c.id: c for c in old.clauses}
    after = {c.id: c for c in new.clauses}
    changes: list[ClauseChange] = []
    for clause in new.clauses:
        was = before.get(clause.id)
        change = _change(was, clause)
        if change is not None:
            changes.append(change)
    changes += [
        ClauseChange(c.id, c.level, c.title, ChangeKind.REMOVED, c.verdict, None)
        for c in _missing(old.clauses, after)
    ]
    return Comparison(old, new, tuple(changes))


def _missing(clauses: Iterable[ClauseView], present: Mapping[str, ClauseView]
             ) -> list[ClauseView]:
    return [c for c in clauses if c.id not in present]


def _change(was: ClauseView | None, now: ClauseView) -> ClauseChange | None:
    if was is None:
        kind = ChangeKind.REGRESSION if now.verdict == _FAIL else ChangeKind.ADDED
        return ClauseChange(now.id, now.level, now.title, kind, None, now.verdict)
    reworded = (was.text, was.title, was.level) != (now.text, now.title, now.level)
    if was.verdict == now.verdict:
        if not reworded:
            return None
        kind = ChangeKind.REWORDED
    elif now.verdict == _FAIL:
        kind = ChangeKind.REGRESSION
    elif was.verdict == _FAIL and now.verdict in _FIXED:
        kind = ChangeKind.FIX
    else:
        kind = ChangeKind.MOVED
    return ClauseChange(now.id, now.level, now.title, kind, was.verdict, now.verdict,
                        old_level=was.level, reworded=reworded)
