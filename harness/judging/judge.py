"""Judging one test: every exchange it causes goes through the checks, and the verdicts it
earns go into the book.

The plugin opens a :class:`Judge` per test item with the clauses the item cites
(``@pytest.mark.clause``). The HTTP client hands every exchange to the judge of the running
test (:meth:`Judge.observe`), which applies every registered check and records each result on
that check's clause without interrupting the test. A test's own expectations raise
:class:`~harness.judging.checks.CheckFailure` (recorded by the plugin) or :class:`NotApplicable`.
When a test ends, :meth:`Judge.finish` records PASS for its cited clauses, or N/A for the ones
it never reached. A clause that cannot be judged because another clause failed or its action is
not offered is settled "blocked by" that clause (:meth:`Judge.blocked`, or
``NotApplicable(..., blocked_by=...)``): one defect, one failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from harness.base.exchange import Exchange
from harness.judging.checks import (
    NO_FACTS,
    CheckFailure,
    ErrorKind,
    Facts,
    Grade,
    Registry,
    expect_error,
    unusable_by,
)
from harness.judging.verdicts import NaReason, Verdict, VerdictBook

__all__ = ["Judge", "JudgeSlot", "NotApplicable"]


class NotApplicable(Exception):
    """A test (or fixture) cannot judge its clauses in this run; ``clauses`` narrows which.

    With ``blocked_by`` (a clause id), the clauses are N/A because that clause failed or its
    action is not offered: they end "blocked by" it (its own verdict is its test's business,
    so the blocking clause itself is never marked), and reports group them under it::

        raise NotApplicable(NaReason.BLOCKED, "cancel is not offered", blocked_by="CANCEL-001")
    """

    def __init__(
        self,
        reason: NaReason,
        detail: str = "",
        *,
        clauses: Sequence[str] | None = None,
        blocked_by: str | None = None,
    ) -> None:
        if blocked_by is not None and reason is not NaReason.BLOCKED:
            detail = f"{reason.value}: {detail}" if detail else reason.value
        if blocked_by is not None:
            text = f"blocked by {blocked_by}: {detail}" if detail else f"blocked by {blocked_by}"
        else:
            text = reason.value if not detail else f"{reason.value}: {detail}"
        super().__init__(text)
        self.reason = reason
        self.text = text
        self.detail = detail
        self.clauses = None if clauses is None else tuple(clauses)
        self.blocked_by = blocked_by


class JudgeSlot:
    """The running test's judge, or ``None`` between tests: owned by the run, set by the
    plugin around each test, read by everything that records a verdict."""

    def __init__(self, on_change: Callable[[Judge | None], None] | None = None) -> None:
        self._current: Judge | None = None
        self._on_change = on_change

    @property
    def current(self) -> Judge | None:
        return self._current

    @current.setter
    def current(self, judge: Judge | None) -> None:
        self._current = judge
        if self._on_change is not None:
            self._on_change(judge)


class Judge:
    """Verdict recording for one test item."""

    def __init__(
        self, book: VerdictBook, registry: Registry, test: str, cited: Iterable[str]
    ) -> None:
        self.book = book
        self.registry = registry
        self.test = test
        self.cited = tuple(dict.fromkeys(cited))
        self._lock = threading.Lock()
        self._failures: list[CheckFailure] = []
        self._settled: set[str] = set()  # cited clauses given a verdict other than PASS here
        self._blocked: dict[str, str] = {}  # clause -> the clause that blocked it in this test

    # -- observations ---------------------------------------------------------------------------

    def observe(self, exchange: Exchange) -> None:
        """Apply every registered check that needs no facts (the client calls this for every
        exchange of the test) and record each result."""
        self._record(exchange, NO_FACTS, with_needs=False)

    def apply_facts(self, exchange: Exchange, facts: Facts) -> None:
        """Apply the checks that need ``facts`` (pair checks, remains <= quantity, 4xx
        meanings); the others already ran when the exchange was observed."""
        self._record(exchange, facts, with_needs=True)

    def _record(self, exchange: Exchange, facts: Facts, *, with_needs: bool) -> None:
        for result in self.registry.run(exchange, facts):
            if bool(result.check.needs) != with_needs:
                continue
            if result.failure is None:
                self.book.record(result.clause, Verdict.PASS, test=self.test)
            else:
                self.record_failure(result.failure)

    def expect_error(
        self, exchange: Exchange, clause: str, what: str, kind: ErrorKind | None = None
    ) -> str:
        """The exchange must be a refusal; ``kind`` also grades its 4xx status (ERR-004)."""
        if kind is not None:
            self.apply_facts(exchange, Facts(error_kind=kind))
        return expect_error(exchange, clause, what)

    def record_failure(self, failure: CheckFailure) -> Verdict:
        """Record a failure that does not end the test (see :meth:`stops`; a failure that
        does is raised instead, and the plugin records it: one road each).

        A failure shown by an answer nobody can use (no answer, a body that is not JSON, a
        5xx) is that answer's generic clause's alone (:func:`~harness.judging.checks.unusable_by`,
        already failed when the exchange was observed): the clause this failure names is
        recorded blocked by it instead, and N/A is returned. One defect, one failure."""
        blocker = self.blocker_of(failure)
        if blocker is not None:
            self.blocked(failure.clause, blocker, failure.message)
            return Verdict.NA
        with self._lock:
            self._failures.append(failure)
            self._settled.add(failure.clause)
        return self.book.record(
            failure.clause,
            failure.grade.verdict,
            test=self.test,
            message=failure.message,
            exchanges=[e.evidence() for e in failure.exchanges],
        )

    def stops(self, failure: CheckFailure) -> bool:
        """Whether ``failure`` ends the test: a FAIL that stays FAIL under the level rule, on
        an answer the test could use. Helpers raise such a failure and record any other."""
        return (self.blocker_of(failure) is None
                and self.book.effective(failure.clause, failure.grade.verdict) is Verdict.FAIL)

    def not_applicable(self, clause: str, reason: NaReason, detail: str = "") -> None:
        """Mark one cited clause N/A without stopping the test (e.g. a MAY feature not offered)."""
        text = reason.value if not detail else f"{reason.value}: {detail}"
        with self._lock:
            self._settled.add(clause)
        self.book.record_na(clause, text, test=self.test)

    def blocked(self, clause: str, by: str, detail: str = "") -> None:
        """Settle one cited clause N/A "blocked by" clause ``by`` without stopping the test
        (``by``'s action failed or is not offered, so ``clause`` cannot be judged here)."""
        self.book.record_blocked(clause, by=by, test=self.test, detail=detail)
        with self._lock:
            self._settled.add(clause)
            self._blocked.setdefault(clause, by)

    def blocked_clauses(self) -> dict[str, str]:
        """The clauses this test recorded as blocked, each with the clause that blocked it."""
        with self._lock:
            return dict(self._blocked)

    def passed(self, clause: str) -> None:
        """Record a PASS for a clause the test proved but does not cite."""
        self.book.record(clause, Verdict.PASS, test=self.test)

    # -- the end of the test --------------------------------------------------------------------

    def first_must_failure(self) -> CheckFailure | None:
        """The first failure that fails the run (FAIL on a MUST clause), if any."""
        with self._lock:
            failures = list(self._failures)
        for failure in failures:
            if (
                failure.grade is Grade.FAIL
                and self.book.effective(failure.clause, Verdict.FAIL) is Verdict.FAIL
            ):
                return failure
        return None

    def finish_passed(self) -> None:
        """The test ran to its end: its cited clauses held (unless settled otherwise)."""
        for clause in self._unsettled():
            self.book.record(clause, Verdict.PASS, test=self.test)

    def finish_not_applicable(self, error: NotApplicable) -> None:
        targets = error.clauses if error.clauses is not None else self._unsettled()
        if error.blocked_by is not None:
            for clause in targets:
                if clause != error.blocked_by:  # the blocker's verdict is not ours to give
                    self.blocked(clause, error.blocked_by, error.detail)
            return
        for clause in targets:
            self.book.record_na(clause, error.text, test=self.test)
        with self._lock:
            self._settled.update(targets)

    def finish_stopped(self, reason: str) -> None:
        """The test stopped early: the cited clauses it did not settle were not judged."""
        for clause in self._unsettled():
            self.book.record_na(clause, reason, test=self.test)

    def finish_blocked(self, by: str) -> None:
        """The test stopped at clause ``by``'s failure: the cited clauses it did not settle
        could not be judged, and reports group them under ``by``."""
        for clause in self._unsettled():
            if clause != by:
                self.blocked(clause, by, "the test stopped at its failure")

    @staticmethod
    def blocker_of(failure: CheckFailure) -> str | None:
        """The generic clause an unusable answer among ``failure``'s exchanges fails, when it
        is not ``failure``'s own clause."""
        for exchange in failure.exchanges:
            clause = unusable_by(exchange)
            if clause is not None and clause != failure.clause:
                return clause
        return None

    def _unsettled(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(c for c in self.cited if c not in self._settled)
