"""CLIENT-008 (no automatic re-send of add), CLIENT-009 (429 honoured), CLIENT-010 (broken
answers) and CLIENT-011 (slow panel): faults armed through the mock's control API, scoped to
the trial's tenant, each firing once (``times: 1``)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from clientcert.protocol import OrderRequest
from clientcert.reading import carried_error
from clientcert.scenarios.base import (
    GRACE,
    LINK,
    Observation,
    Scenario,
    error_reached,
    new_entries,
)
from clientcert.trial import NotOffered, Trial
from harness import Verdict

__all__ = ["BROKEN_ANSWERS", "NO_RESEND", "RATE_LIMIT", "SLOW_PANEL"]

#: Retry-After of the armed 429, in seconds (the smallest a header can say).
RETRY_AFTER = 1
#: More requests than this after one 429 is a tight loop, whatever the timing.
TIGHT_LOOP = 5


def _no_resend(trial: Trial) -> list[Observation]:
    service = trial.bench.default_service()
    order = OrderRequest(service["service"], LINK, int(service["min"]))
    cases: tuple[tuple[str, Mapping[str, object]], ...] = (
        ("a dropped connection", {"fault": "reset", "after": True}),
        ("a 502", {"fault": "http_error", "status": 502, "after": True}),
        ("a timeout", {"fault": "delay", "seconds": trial.timeout + GRACE, "after": True}),
    )
    found: list[Observation] = []
    for what, rule in cases:
        trial.bench.arm({**rule, "action": "add", "times": 1})
        before = len(trial.bench.journal())
        try:
            call = trial.call("add", order)
        except NotOffered:
            return [Observation("CLIENT-008", Verdict.NA, "add not offered by the library")]
        finally:
            trial.bench.disarm()
        # A delayed answer is journaled when it is finally sent, after the library gave up.
        settle = float(str(rule.get("seconds", 0))) - call.elapsed
        if settle > 0:
            time.sleep(settle + 0.2)
        sent = len(new_entries(trial, before, "add"))
        if sent > 1:
            found.append(Observation("CLIENT-008", Verdict.FAIL,
                                     f"after {what} the library sent add {sent} times for one "
                                     f"order ({call.describe()})"))
        elif sent == 1:
            found.append(Observation("CLIENT-008", Verdict.PASS, f"{what}: add sent once"))
        if sent and what == "a 502":
            found.append(error_reached(call, "add answered 502 (the order was placed)"))
    return found


def _rate_limit(trial: Trial) -> list[Observation]:
    trial.bench.arm({"fault": "rate_limit", "action": "balance", "retry_after": RETRY_AFTER,
                     "times": 1})
    before = len(trial.bench.journal())
    try:
        call = trial.call("balance")
    except NotOffered:
        return [Observation("CLIENT-009", Verdict.NA, "balance not offered by the library")]
    finally:
        trial.bench.disarm()
    sent = len(new_entries(trial, before, "balance"))
    if sent == 0:
        return []
    if sent == 1:
        return [Observation("CLIENT-009", Verdict.PASS, f"no retry: {call.describe()}"),
                error_reached(call, "balance answered 429")]
    waited_enough = call.elapsed >= (sent - 1) * RETRY_AFTER * 0.95
    if sent > TIGHT_LOOP or not waited_enough:
        return [Observation("CLIENT-009", Verdict.FAIL,
                            f"{sent} requests in {call.elapsed:.2f} s after a 429 with "
                            f"Retry-After: {RETRY_AFTER}")]
    return [Observation("CLIENT-009", Verdict.PASS,
                        f"retried after {call.elapsed:.2f} s (Retry-After {RETRY_AFTER})")]


def _broken_answers(trial: Trial) -> list[Observation]:
    cases: tuple[tuple[str, Mapping[str, object]], ...] = (
        ("an HTML maintenance page", {"fault": "html"}),
        ("JSON after a PHP warning", {"fault": "malformed_json"}),
        ("truncated JSON", {"fault": "truncate"}),
        ("an empty body", {"fault": "empty_body"}),
        ("a 503", {"fault": "http_error", "status": 503}),
        ("a dropped connection", {"fault": "reset"}),
    )
    found: list[Observation] = []
    bound = trial.timeout + GRACE
    for what, rule in cases:
        trial.bench.arm({**rule, "action": "balance", "times": 1})
        before = len(trial.bench.journal())
        try:
            call = trial.call("balance")
        except NotOffered:
            return [Observation("CLIENT-010", Verdict.NA, "balance not offered by the library")]
        finally:
            trial.bench.disarm()
        if call.elapsed > bound:
            found.append(Observation("CLIENT-010", Verdict.FAIL,
                                     f"{what}: took {call.elapsed:.2f} s (bound {bound:.2f} s)"))
        elif call.raised or carried_error(call.value) is not None:
            found.append(Observation("CLIENT-010", Verdict.PASS, f"{what}: {call.describe()}"))
        elif len(new_entries(trial, before, "balance")) > 1:
            # A read may be retried (unlike add): the second, sound answer is what it returned.
            found.append(Observation("CLIENT-010", Verdict.PASS,
                                     f"{what}: the read was retried and answered soundly"))
        else:
            found.append(Observation("CLIENT-010", Verdict.FAIL,
                                     f"{what} read as a success: {call.describe()}"))
    return found


def _slow_panel(trial: Trial) -> list[Observation]:
    delay = trial.timeout + 2 * GRACE
    trial.bench.arm({"fault": "delay", "seconds": delay, "action": "balance", "times": 1})
    try:
        call = trial.call("balance")
    except NotOffered:
        return [Observation("CLIENT-011", Verdict.NA, "balance not offered by the library")]
    finally:
        trial.bench.disarm()
    bound = trial.timeout + GRACE
    if call.elapsed > bound:
        return [Observation("CLIENT-011", Verdict.FAIL,
                            f"waited {call.elapsed:.2f} s for a panel answering after "
                            f"{delay:.2f} s (timeout asked: {trial.timeout:g} s); "
                            f"{call.describe()}")]
    return [Observation("CLIENT-011", Verdict.PASS,
                        f"gave up after {call.elapsed:.2f} s: {call.describe()}")]


# None of these rests on reading a sound answer: each is judged in every dialect.
NO_RESEND = Scenario("no_resend", ("CLIENT-001", "CLIENT-008"), _no_resend, reads=False)
RATE_LIMIT = Scenario("rate_limit", ("CLIENT-001", "CLIENT-009"), _rate_limit, reads=False)
BROKEN_ANSWERS = Scenario("broken_answers", ("CLIENT-010",), _broken_answers, reads=False)
SLOW_PANEL = Scenario("slow_panel", ("CLIENT-011",), _slow_panel, reads=False)
