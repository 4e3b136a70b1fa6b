"""CLIENT-001 and CLIENT-002 (with CLIENT-005): error answers, top level and per id."""

from __future__ import annotations

from clientcert.protocol import OrderRequest
from clientcert.reading import MISSING, carried_error, field, items_by_id, scalar_or_field
from clientcert.scenarios.base import (
    BOGUS_ID,
    LINK,
    Observation,
    Scenario,
    error_reached,
    new_entries,
    place_directly,
    refusal,
    refused_request,
)
from clientcert.trial import NotOffered, Trial
from harness import Verdict

__all__ = ["BATCH_ERRORS", "TOP_LEVEL_ERRORS"]


def _top_level(trial: Trial) -> list[Observation]:
    found: list[Observation] = []
    for operation, args, what in (
        ("status", (BOGUS_ID,), "status of a never-issued order"),
        ("add", (OrderRequest(999_999, LINK, 100),), "add for a service the panel lacks"),
    ):
        before = len(trial.bench.journal())
        try:
            call = trial.call(operation, *args)
        except NotOffered:
            continue
        sent = new_entries(trial, before, operation)
        if sent and refusal(sent[-1]) is None:
            continue  # the panel did not answer an error: nothing to judge here
        found.append(error_reached(call, f"{what} (HTTP {sent[-1]['status']})" if sent else what))
    return found


def _status_word(item: object) -> object:
    return scalar_or_field(item, "status") if not isinstance(item, str) else item


def _batch(trial: Trial) -> list[Observation]:
    good = place_directly(trial)
    trial.bench.outcome(good, "Partial", remains=157)
    before = len(trial.bench.journal())
    try:
        call = trial.call("multi_status", [good, BOGUS_ID])
    except NotOffered:
        return [Observation(c, Verdict.NA, "feature not offered by the library")
                for c in ("CLIENT-002", "CLIENT-005")]
    sent = new_entries(trial, before)
    if not sent:
        reason = f"no request reached the panel ({call.describe()})"
        return [Observation("CLIENT-002", Verdict.NA, reason),
                # Raising before sending anything: the library cannot ask for these ids.
                Observation("CLIENT-005", Verdict.FAIL if call.raised else Verdict.NA, reason)]
    entry = sent[-1]
    error = refusal(entry)
    if error is not None:
        return [refused_request(trial, "CLIENT-005", "status_multi", entry, error),
                error_reached(call, "a refused multi-status request")]
    wire = entry["response"]
    wire_good = field(wire.get(str(good), {}), "status") if isinstance(wire, dict) else MISSING
    if call.raised:
        return [
            Observation("CLIENT-002", Verdict.NON_STRICT,
                        f"one unknown id made the whole batch fail ({call.describe()}): the "
                        "good ids' statuses were lost"),
            Observation("CLIENT-005", Verdict.FAIL,
                        f"could not read a batch with one per-id error: {call.describe()}"),
        ]
    items = items_by_id(call.value)
    if items is None:
        return [Observation("CLIENT-005", Verdict.FAIL,
                            f"returned {call.value!r}: neither keyed by id nor a list of items")]
    found: list[Observation] = []
    got = _status_word(items.get(str(good), MISSING))
    if got == wire_good:
        found.append(Observation("CLIENT-005", Verdict.PASS, f"status {got!r} read"))
    else:
        found.append(Observation("CLIENT-005", Verdict.FAIL,
                                 f"order {good}: read status {got!r}, the panel sent "
                                 f"{wire_good!r}"))
    if str(BOGUS_ID) not in items:
        found.append(Observation("CLIENT-002", Verdict.FAIL,
                                 f"the unknown id was silently dropped from {call.value!r}"))
        return found
    bad = items[str(BOGUS_ID)]
    if carried_error(bad) is not None or (isinstance(bad, str) and bad not in ("", "None")):
        found.append(Observation("CLIENT-002", Verdict.PASS, f"per-id error kept: {bad!r}"))
    else:
        found.append(Observation("CLIENT-002", Verdict.FAIL,
                                 f"the unknown id came back as {bad!r}, not as an error"))
    return found


# An error answer is judged whatever the library can read: raising on it is what passes.
TOP_LEVEL_ERRORS = Scenario("top_level_errors", ("CLIENT-001",), _top_level, reads=False)
BATCH_ERRORS = Scenario("batch_errors", ("CLIENT-001", "CLIENT-002", "CLIENT-005"), _batch)
