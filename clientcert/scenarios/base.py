"""What a scenario is and returns, and the judgements several scenarios share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clientcert.bench import offers
from clientcert.reading import carried_error
from clientcert.trial import Call, Trial
from harness import Verdict

__all__ = [
    "BOGUS_ID",
    "LINK",
    "Observation",
    "Scenario",
    "error_reached",
    "new_entries",
    "place_directly",
    "refusal",
    "refused_request",
    "try_placing",
]

#: An order id no panel issued (alphanumeric dialects refuse it too).
BOGUS_ID = "987654321987"
LINK = "https://example.com/p/clientcert"
#: How long past its timeout a library may take to give up (scheduling, connection close).
GRACE = 1.0


@dataclass(frozen=True, slots=True)
class Observation:
    """One judgement: a clause, its verdict (N/A with its reason as the message)."""

    clause: str
    verdict: Verdict
    message: str


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named trial that judges ``clauses`` (the ones it may record). ``reads``: its verdicts
    rest on the library reading a sound answer, so in a dialect whose answers the library
    cannot read at all (JSON labelled ``text/html``) they are N/A and the finding is judged
    once, under CLIENT-014 (:mod:`clientcert.scenarios.labels`)."""

    name: str
    clauses: tuple[str, ...]
    run: Callable[[Trial], list[Observation]]
    reads: bool = True


def refusal(entry: dict[str, Any] | None) -> str | None:
    """The error a journal entry's answer carried at top level (``None``: a success)."""
    if entry is None:
        return None
    response = entry.get("response")
    if isinstance(response, dict) and response.get("error"):
        return str(response["error"])
    status = entry.get("status")
    if status is None or (isinstance(status, int) and status >= 400):
        return f"HTTP {status}"
    return None


def new_entries(trial: Trial, before: int, action: str | None = None) -> list[dict[str, Any]]:
    """The journal entries made after the first ``before`` (optionally of one action)."""
    entries = trial.bench.journal()[before:]
    return [e for e in entries if action is None or e.get("action") == action]


def error_reached(call: Call, what: str) -> Observation:
    """CLIENT-001 for a call the panel answered with an error."""
    if call.raised:
        return Observation("CLIENT-001", Verdict.PASS, f"{what}: {call.describe()}")
    carried = carried_error(call.value)
    if carried is not None:
        return Observation(
            "CLIENT-001", Verdict.NON_STRICT,
            f"{what}: the error came back as data ({carried!r}), not raised: every caller "
            "must look for it")
    return Observation("CLIENT-001", Verdict.FAIL,
                       f"{what}: the panel answered an error, the library {call.describe()}")


def refused_request(trial: Trial, clause: str, handler: str, entry: dict[str, Any],
                    error: str) -> Observation:
    """A request the panel refused outright: the library's fault when the dialect offers the
    feature (it asked wrongly), N/A when it does not offer it at all."""
    params = {k: v for k, v in entry.get("params", {}).items() if k != "key"}
    if offers(trial.bench.profile, handler):
        return Observation(clause, Verdict.FAIL,
                           f"the panel refused the library's request {params}: {error}")
    return Observation(clause, Verdict.NA,
                       f"feature not offered by this dialect (panel answered {error!r})")


def place_directly(trial: Trial, link: str = LINK) -> object:
    """Place an order with a plain form POST (set-up, not judged); its id as the panel sent
    it."""
    order = try_placing(trial, link)
    if order is None:
        raise RuntimeError(f"set-up order refused for link {link}")
    return order


def try_placing(trial: Trial, link: str) -> object | None:
    """Place an order directly; ``None`` when the panel refuses it (a magic link asking for a
    status word the dialect does not have)."""
    service = trial.bench.default_service()
    _, body = trial.bench.call("add", service=service["service"], link=link,
                               quantity=service["min"])
    if not isinstance(body, dict) or "order" not in body:
        return None
    order: object = body["order"]
    return order
