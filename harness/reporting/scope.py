"""What a run's verdict covers: how many MUST clauses it judged, and why the others were not.

CERTIFIED says that no MUST clause failed (:func:`harness.reporting.terminal.certified`); it says
nothing
about the clauses the run could not judge. A read-only run judges about half of them: the rest
need money, a second key or a control API. So every conclusion also states its *scope*:

- a MUST clause is **checked** when it ended PASS, NON-STRICT, FAIL or WAIVED;
- it is **not offered** when it is N/A only because the panel does not offer what it is about
  (no refill, no Package service): there is nothing to check, and a wider run would not check
  it either;
- every other N/A MUST clause is **not checked**, counted under one reason: the run's limits
  (spend cap, no second key, no control API, no advertised rate limit, not selected), an order
  that did not finish, a clause blocked by another one's failure (``blocked by X``), a test
  stopped early or by a harness error, or a clause no test reached.

The scope is **full** when no MUST clause was left unchecked, else a partial scope named after
the widest limit that left clauses unchecked (:data:`_SCOPE_NAMES`): ``selected-clauses``,
``read-only`` (a spend cap of 0), ``spend-capped``, ``black-box`` (no control API),
``single-key``, or plain ``partial``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from harness.judging.verdicts import ClauseOutcome, NaReason, Verdict

__all__ = ["NOT_OFFERED", "Scope", "scope_of"]

#: The reason under which a MUST clause counts as not applicable rather than not checked.
NOT_OFFERED = "not offered by the panel"

# The N/A reasons a scope counts, most telling first: a clause N/A for several reasons (one
# test lacked money, another the second key) is counted under the first of them, and "not
# offered" only when no other reason applies.
_LABELS: tuple[tuple[NaReason, str], ...] = (
    (NaReason.NOT_SELECTED, "not selected"),
    (NaReason.SPEND_CAP, "spend cap"),
    (NaReason.NO_SECOND_KEY, "no second key"),
    (NaReason.NO_CONTROL, "no control API"),
    (NaReason.NO_RATE_LIMIT, "no advertised rate limit"),
    (NaReason.LOW_BALANCE, "balance too low"),
    (NaReason.TIMEOUT, "order did not finish in time"),
    (NaReason.HARNESS_ERROR, "harness error"),
    (NaReason.BLOCKED, "blocked"),
    (NaReason.NOT_COVERED, "not checked by this suite"),
    (NaReason.NOT_OFFERED, NOT_OFFERED),
)
_RANK = {label: index for index, (_, label) in enumerate(_LABELS)}
# A reason of no NaReason (a test skipped itself, a control API error) ranks here.
_OTHER_RANK = _RANK["blocked"]

# Reason label -> the partial scope it names, widest limit first.
_SCOPE_NAMES: tuple[tuple[str, str], ...] = (
    ("not selected", "selected-clauses"),
    ("spend cap", "spend-capped"),  # "read-only" when the cap is 0
    ("no control API", "black-box"),
    ("no second key", "single-key"),
)


@dataclass(frozen=True, slots=True)
class Scope:
    """The MUST clauses a run checked, and the others grouped by why they were not."""

    name: str
    must_total: int
    must_checked: int
    not_offered: tuple[str, ...]
    # (reason, clause ids), most clauses first, then in reason order.
    not_checked: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def full(self) -> bool:
        return not self.not_checked

    @property
    def unchecked(self) -> int:
        return sum(len(ids) for _, ids in self.not_checked)

    def summary(self) -> str:
        """``read-only scope: 42 of 79 MUST clauses checked (37 not checked: 30 spend cap,
        5 no second key, 2 no control API)``."""
        head = f"{self.name} scope: "
        if self.must_checked == self.must_total:
            return head + f"all {self.must_total} MUST clauses checked"
        head += f"{self.must_checked} of {self.must_total} MUST clauses checked"
        parts = []
        if self.not_checked:
            reasons = ", ".join(f"{len(ids)} {reason}" for reason, ids in self.not_checked)
            parts.append(f"{self.unchecked} not checked: {reasons}")
        if self.not_offered:
            parts.append(f"{len(self.not_offered)} {NOT_OFFERED}")
        return f"{head} ({'; '.join(parts)})"


def _label(outcome: ClauseOutcome) -> str:
    """The one reason an N/A clause is counted under (see ``_LABELS``)."""
    if outcome.blocked_by is not None:
        return f"blocked by {outcome.blocked_by}"
    found: list[str] = []
    for segment in outcome.reason.split("; "):
        label = next((lb for reason, lb in _LABELS if segment.startswith(reason.value)), None)
        found.append(label or segment.split(":", 1)[0].strip()[:60] or "unknown")
    return min(found, key=lambda lb: _RANK.get(lb, _OTHER_RANK))


def scope_of(outcomes: Sequence[ClauseOutcome], *, spend_cap: Decimal) -> Scope:
    """The scope of a run whose final verdicts are ``outcomes`` (waivers applied)."""
    must = [o for o in outcomes if o.level == "MUST"]
    not_offered: list[str] = []
    groups: dict[str, list[str]] = {}
    for outcome in must:
        if outcome.verdict is not Verdict.NA:
            continue
        label = _label(outcome)
        if label == NOT_OFFERED:
            not_offered.append(outcome.id)
        else:
            groups.setdefault(label, []).append(outcome.id)
    order = {label: index for index, label in enumerate(groups)}
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), order[kv[0]]))
    unchecked = sum(len(ids) for ids in groups.values())
    return Scope(
        name=_name(groups, spend_cap),
        must_total=len(must),
        must_checked=len(must) - unchecked - len(not_offered),
        not_offered=tuple(not_offered),
        not_checked=tuple((label, tuple(ids)) for label, ids in ranked),
    )


def _name(groups: dict[str, list[str]], spend_cap: Decimal) -> str:
    if not groups:
        return "full"
    for reason, name in _SCOPE_NAMES:
        if reason in groups:
            return "read-only" if reason == "spend cap" and spend_cap == 0 else name
    return "partial"
