"""CLIENT-014: a sound JSON answer is read whatever its Content-Type says.

Real PHP panels print JSON without setting a header, so it arrives as ``text/html`` (the
``smartpanel`` dialect; protocol-variants.md: "SP prints JSON pretty-printed and sets no
Content-Type"). A library that trusts the label instead of the body cannot read such a panel
at all. That is one finding, judged here; the other scenarios that rest on reading an answer
are N/A in that dialect for that library (:func:`unreadable`), so the finding does not land
under clauses (money, ids, status words...) the library never got to.
"""

from __future__ import annotations

from typing import Any

from clientcert.bench import json_label
from clientcert.scenarios.base import Observation, Scenario, new_entries, refusal
from clientcert.trial import Call, NotOffered, Trial
from harness import Verdict

__all__ = ["LABELS", "unreadable"]

CLAUSE = "CLIENT-014"


def _balance(trial: Trial) -> tuple[Call, dict[str, Any]] | str:
    """A balance call and the panel's sound answer to it, or why there is none to judge."""
    before = len(trial.bench.journal())
    call = trial.call("balance")
    sent = new_entries(trial, before, "balance")
    if len(sent) != 1:
        return f"the library sent {len(sent)} balance requests ({call.describe()})"
    error = refusal(sent[0])
    if error is not None:  # the request itself was wrong: nothing about the label to judge
        return f"the panel refused the library's balance request ({error})"
    return call, sent[0]


def unreadable(trial: Trial) -> str | None:
    """Why the library cannot read this dialect's answers at all (it raised on a sound JSON
    answer labelled otherwise), or ``None``: it can, the dialect labels JSON as JSON, or the
    library has no balance to try."""
    label = json_label(trial.bench.profile)
    if label is None:
        return None
    try:
        seen = _balance(trial)
    except NotOffered:
        return None
    if isinstance(seen, str) or not seen[0].raised:
        return None
    return (f"the library cannot read this dialect's JSON labelled {label!r} "
            f"({seen[0].describe()}): judged under {CLAUSE}")


def _labels(trial: Trial) -> list[Observation]:
    label = json_label(trial.bench.profile)
    if label is None:
        return [Observation(CLAUSE, Verdict.NA, "this dialect labels its JSON as JSON")]
    try:
        seen = _balance(trial)
    except NotOffered:
        return [Observation(CLAUSE, Verdict.NA, "balance not offered by the library")]
    if isinstance(seen, str):
        return [Observation(CLAUSE, Verdict.NA, f"not judged: {seen}")]
    call, entry = seen
    if call.raised:
        return [Observation(CLAUSE, Verdict.FAIL,
                            f"the panel answered HTTP {entry.get('status')} with sound JSON "
                            f"{entry.get('response')!r} labelled {label!r}; the library "
                            f"{call.describe()}")]
    return [Observation(CLAUSE, Verdict.PASS,
                        f"JSON labelled {label!r} read: {call.describe()}")]


LABELS = Scenario("content_type", (CLAUSE,), _labels, reads=False)
