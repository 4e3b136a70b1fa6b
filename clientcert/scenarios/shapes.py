"""CLIENT-006 (cancel), CLIENT-007 (refill, refill status) and CLIENT-013 (status words):
every dialect's shapes, read back against what the journal shows the panel sent."""

from __future__ import annotations

from typing import Any

from clientcert.reading import MISSING, carried_error, field, items_by_id, same_id, scalar_or_field
from clientcert.scenarios.base import (
    BOGUS_ID,
    LINK,
    Observation,
    Scenario,
    new_entries,
    place_directly,
    refusal,
    refused_request,
    try_placing,
)
from clientcert.trial import Call, NotOffered, Trial
from harness import Verdict

__all__ = ["CANCEL", "REFILL", "STATUS_WORDS"]

#: Words real panels send (seeds 000, 001, 002, 004; protocol-variants.md): each is put on an
#: order where the dialect has it and read back through the library. Most are forced through
#: the control API's outcome; Processing (the In-progress state in the word some providers
#: use, seed 000) is shown by an order placed with a magic link and then set In progress.
#: A dialect without the word refuses either way; the word is then not tried there.
STATUS_WORDS_TRIED = ("In progress", "Completed", "Partial", "Canceled", "Processing", "Done",
                      "Failed")
#: word -> (the link to place the order with, the control outcome that shows the word)
_REACHED_BY: dict[str, tuple[str, str]] = {
    "Processing": (f"{LINK}?mock_outcome=processing", "In progress"),
}


def _item_for(value: object, order: object) -> object:
    """The cancel result for ``order``: a bare acknowledgement, the single unwrapped item, or
    the item of a list/mapping."""
    if isinstance(value, bool):
        return value
    if field(value, "order") is not MISSING:
        return value
    items = items_by_id(value)
    return MISSING if items is None else items.get(str(order), MISSING)


def _accepted(item: object) -> bool:
    if item is MISSING or item is None or item is False:
        return False
    return carried_error(item) is None and carried_error(field(item, "cancel")) is None


def _cancel_call(trial: Trial, order: object) -> tuple[Call, dict[str, Any] | None]:
    before = len(trial.bench.journal())
    call = trial.call("cancel", [order])
    sent = new_entries(trial, before)
    return call, (sent[-1] if sent else None)


def _cancel(trial: Trial) -> list[Observation]:
    order = place_directly(trial)
    try:
        call, entry = _cancel_call(trial, order)
    except NotOffered:
        return [Observation("CLIENT-006", Verdict.NA, "cancel not offered by the library")]
    if entry is None:
        return [Observation("CLIENT-006", Verdict.NA,
                            f"the library sent no request ({call.describe()})")]
    error = refusal(entry)
    if error is not None:
        return [refused_request(trial, "CLIENT-006", "cancel", entry, error)]
    found: list[Observation] = []
    item = None if call.raised else _item_for(call.value, order)
    if item is not None and _accepted(item):
        found.append(Observation("CLIENT-006", Verdict.PASS, f"accepted cancel read: {item!r}"))
    else:
        shown = call.describe() if call.raised else f"gave {item!r} from {call.value!r}"
        found.append(Observation("CLIENT-006", Verdict.FAIL,
                                 f"the panel accepted the cancel {entry['response']!r}, the "
                                 f"library {shown}"))
    call, entry = _cancel_call(trial, BOGUS_ID)
    if entry is None or call.raised:
        found.append(Observation("CLIENT-006", Verdict.PASS,
                                 f"refused cancel reported: {call.describe()}"))
        return found
    item = _item_for(call.value, BOGUS_ID)
    if carried_error(item) is not None or carried_error(field(item, "cancel")) is not None \
            or carried_error(call.value) is not None:
        found.append(Observation("CLIENT-006", Verdict.PASS, f"refused cancel kept: {item!r}"))
    else:
        found.append(Observation("CLIENT-006", Verdict.FAIL,
                                 f"the panel refused the cancel of an unknown order "
                                 f"({entry['response']!r}), the library gave {call.value!r}"))
    return found


def _refill(trial: Trial) -> list[Observation]:
    order = place_directly(trial)
    trial.bench.outcome(order, "Completed")
    before = len(trial.bench.journal())
    try:
        call = trial.call("refill", order)
    except NotOffered:
        return [Observation("CLIENT-007", Verdict.NA, "refill not offered by the library")]
    sent = new_entries(trial, before)
    if not sent:
        return [Observation("CLIENT-007", Verdict.NA,
                            f"the library sent no request ({call.describe()})")]
    error = refusal(sent[-1])
    if error is not None:
        return [refused_request(trial, "CLIENT-007", "refill", sent[-1], error)]
    wire_refill = field(sent[-1]["response"], "refill")
    read = None if call.raised else scalar_or_field(call.value, "refill")
    if not same_id(read, wire_refill):
        shown = call.describe() if call.raised else f"gave {read!r}"
        return [Observation("CLIENT-007", Verdict.FAIL,
                            f"refill: the panel sent refill {wire_refill!r}, the library {shown}")]
    found = [Observation("CLIENT-007", Verdict.PASS, f"refill id {wire_refill!r} read")]
    before = len(trial.bench.journal())
    try:
        status = trial.call("refill_status", read)
    except NotOffered:
        return found
    sent = new_entries(trial, before)
    if not sent or refusal(sent[-1]) is not None:
        entry = sent[-1] if sent else None
        found.append(refused_request(trial, "CLIENT-007", "refill_status", entry,
                                     str(refusal(entry))) if entry is not None
                     else Observation("CLIENT-007", Verdict.NA, "no refill_status request sent"))
        return found
    wire_status = field(sent[-1]["response"], "status")
    got = None if status.raised else scalar_or_field(status.value, "status")
    verdict = Verdict.PASS if got == wire_status else Verdict.FAIL
    shown = status.describe() if status.raised else f"gave {got!r}"
    found.append(Observation("CLIENT-007", verdict,
                             f"refill status: the panel sent {wire_status!r}, the library {shown}"))
    return found


def _status_words(trial: Trial) -> list[Observation]:
    found: list[Observation] = []
    for word in STATUS_WORDS_TRIED:
        link, outcome = _REACHED_BY.get(word, (LINK, word))
        order = try_placing(trial, link)
        if order is None or not trial.bench.outcome(order, outcome):
            continue  # this dialect cannot show the word
        before = len(trial.bench.journal())
        try:
            call = trial.call("status", order)
        except NotOffered:
            return [Observation("CLIENT-013", Verdict.NA, "status not offered by the library")]
        sent = new_entries(trial, before, "status")
        if not sent or refusal(sent[-1]) is not None:
            continue  # judged by CLIENT-001/004: nothing about the word here
        wire_word = field(sent[-1]["response"], "status")
        if call.raised:
            found.append(Observation("CLIENT-013", Verdict.FAIL,
                                     f"status {wire_word!r}: {call.describe()}"))
            continue
        got = scalar_or_field(call.value, "status")
        if got is MISSING or got is None:
            found.append(Observation("CLIENT-013", Verdict.FAIL,
                                     f"status {wire_word!r} came back as {call.value!r}"))
        else:
            found.append(Observation("CLIENT-013", Verdict.PASS, f"{wire_word!r} read as {got!r}"))
    return found


CANCEL = Scenario("cancel", ("CLIENT-006",), _cancel)
REFILL = Scenario("refill", ("CLIENT-007",), _refill)
STATUS_WORDS = Scenario("status_words", ("CLIENT-013",), _status_words)
