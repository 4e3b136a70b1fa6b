"""Dialect fingerprinting: which known dialect a panel speaks, read from non-spending probes.

``--panel-profile auto`` (and, for a cross-check, an explicit profile) runs :func:`fingerprint`
once per run. It sends at most ten requests through the run's :class:`PanelClient` (so the
politeness limiter and the key redaction apply), none of which can cost money: ``services``,
``balance``, ``balance`` with a wrong key, an unknown action, and ``status`` / multi-status /
``refill_status`` / ``cancel`` of an id no panel can have issued. The answers become observed
*traits* (:func:`observe`); every dialect of ``schemas/dialects.yaml`` is scored on them
(:func:`rank`: the weights of matching traits over the weights of the traits both observed and
stated by the dialect); :func:`guess` names the best one, or none below the file's threshold.

Vendor differences live in the YAML, not here: this module only knows how to read a trait off
an answer and how to compare it with a dialect's value (``equals``, ``one_of``, ``subset``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from harness.base import values
from harness.base.exchange import Exchange
from harness.base.redaction import Secret
from harness.contract.dialects import (
    MESSAGE_CHARS,
    MULTI_NONE,
    Dialect,
    Dialects,
    Trait,
    TraitValue,
    load_dialects,
    show,
)
from harness.panel import catalog
from harness.panel.probes import UNKNOWN_ACTION, refused_as_unknown
from harness.wire.client import PanelClient

__all__ = [
    "DialectGuess",
    "Probes",
    "Score",
    "failed_guess",
    "fingerprint",
    "guess",
    "observe",
    "probe",
    "rank",
]


_FLAGS: Final = ("cancel", "dripfeed", "refill")
_SNAKE = re.compile(r"[a-z0-9_]+")
_SHARING_SHOWN = 4
_MULTI_TRIES = 3  # status and two aliases: the whole fingerprint stays within ten requests


# ---------------------------------------------------------------------------------------------
# Probing: the non-spending exchanges


@dataclass(frozen=True, slots=True)
class Probes:
    """The answers a fingerprint reads; ``multi`` holds each multi-status action tried."""

    url: str
    never_issued: str
    services: Exchange
    balance: Exchange
    bad_key: Exchange
    unknown_action: Exchange
    status: Exchange
    multi: tuple[tuple[str, Exchange], ...]
    refill_status: Exchange
    cancel: Exchange

    def exchanges(self) -> tuple[Exchange, ...]:
        return (
            self.services, self.balance, self.bad_key, self.unknown_action, self.status,
            *(exchange for _, exchange in self.multi), self.refill_status, self.cancel,
        )


def probe(
    client: PanelClient,
    key: Secret,
    dialects: Dialects,
    *,
    never_issued: str,
    wrong_key: Secret,
) -> Probes:
    """Send the probes (8 to 10 requests, none that can spend) and keep their answers."""
    # A panel may echo a key in its errors: scrub both like any other secret, even when the
    # caller's client was not told about them.
    client.secrets.add(key)
    client.secrets.add(wrong_key)

    def call(form: str | None, params: Mapping[str, str], with_key: Secret = key) -> Exchange:
        return client.call(params, key=with_key, form=form)

    services = call("services", {"action": "services"})
    balance = call("balance", {"action": "balance"})
    bad_key = call("balance", {"action": "balance"}, wrong_key)
    unknown = call(None, {"action": UNKNOWN_ACTION})
    status = call("status", {"action": "status", "order": never_issued})
    multi: list[tuple[str, Exchange]] = []
    for action in ("status", *dialects.multi_status_aliases())[:_MULTI_TRIES]:
        exchange = call("status-multi" if action == "status" else None,
                        {"action": action, "orders": never_issued})
        multi.append((action, exchange))
        if _multi_item(exchange, never_issued) is not None:
            break
    refill_status = call("refill_status", {"action": "refill_status", "refill": never_issued})
    cancel = call("cancel", {"action": "cancel", "orders": never_issued})
    return Probes(
        client.url, never_issued, services, balance, bad_key, unknown, status, tuple(multi),
        refill_status, cancel,
    )


# ---------------------------------------------------------------------------------------------
# Observing: answers -> traits


def _json_type(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _flag_style(value: object) -> str | None:
    return {"bool": "bool", "number": "int", "string": "string"}.get(_json_type(value) or "")


def _body(exchange: Exchange) -> object:
    """The parsed JSON of an answer that is not an error envelope, else ``None``."""
    if not exchange.is_json or exchange.error_message is not None:
        return None
    return exchange.json


def _message(exchange: Exchange, replacements: Mapping[str, str]) -> str | None:
    message = exchange.error_message
    if message is None:
        return None
    message = message.strip()
    for value, placeholder in replacements.items():
        message = message.replace(value, placeholder)
    return message[:MESSAGE_CHARS]


def _extra(exchange: Exchange, known: Iterable[str]) -> tuple[str, ...] | None:
    body = exchange.json if exchange.is_json else None
    if not isinstance(body, dict):
        return None
    return tuple(sorted(str(k) for k in body if k not in set(known)))


def _transport(p: Probes) -> dict[str, TraitValue | None]:
    ctype = p.services.header("Content-Type")
    path = urlsplit(p.url).path.rstrip("/") or "/"
    return {
        "transport.content_type": ctype.split(";")[0].strip().lower() if ctype else None,
        "transport.pretty_json": "\n" in p.services.text.strip() if p.services.is_json else None,
        "transport.path": path if p.services.status is not None else None,
    }


def _services(p: Probes) -> dict[str, TraitValue | None]:
    body = _body(p.services)
    shape = "list" if isinstance(body, list) else "object" if isinstance(body, dict) else None
    items = [i for i in body if isinstance(i, dict)] if isinstance(body, list) else []
    if not items:
        return {"services.shape": shape}
    first = items[0]
    flags = tuple(f for f in _FLAGS if any(f in item for item in items))
    flag_value = next((item[f] for item in items for f in flags if f in item), None)
    types = tuple(sorted({t for t in (i.get("type") for i in items) if isinstance(t, str)}))
    spelling = None
    if types:
        spelling = "snake" if all(_SNAKE.fullmatch(t) for t in types) else "canonical"
    return {
        "services.shape": shape,
        "services.fields": tuple(str(k) for k in first),
        "services.flags": flags,
        "services.flag_style": _flag_style(flag_value),
        "services.category": any("category" in item for item in items),
        "services.service_id": _json_type(first.get("service")),
        "services.rate": _json_type(first.get("rate")),
        "services.limits": _json_type(first.get("min")),
        "services.type_spelling": spelling,
        "services.types": types or None,
    }


def _balance(p: Probes) -> dict[str, TraitValue | None]:
    body = _body(p.balance)
    if not isinstance(body, dict) or "balance" not in body:
        return {}
    raw = body["balance"]
    currency = body.get("currency")
    return {
        "balance.balance": _json_type(raw),
        "balance.places": values.decimal_places(raw) if _json_type(raw) else None,
        "balance.currency": currency if isinstance(currency, str) else None,
        "balance.extra": _extra(p.balance, ("balance", "currency")),
    }


def _error(prefix: str, exchange: Exchange, replacements: Mapping[str, str]) -> dict[
    str, TraitValue | None
]:
    message = _message(exchange, replacements)
    return {
        f"{prefix}.message": message,
        f"{prefix}.http": exchange.status,
        f"{prefix}.extra": _extra(exchange, ("error",)) if message is not None else None,
    }


def _multi_item(exchange: Exchange, never_issued: str) -> object:
    """The per-id value of a multi-status answer keyed by id, else ``None``."""
    body = exchange.json if exchange.is_json else None
    return body.get(never_issued) if isinstance(body, dict) else None


def _item_style(item: object) -> str | None:
    return "object" if isinstance(item, dict) else "string" if isinstance(item, str) else None


def _multi_status(p: Probes) -> dict[str, TraitValue | None]:
    for action, exchange in p.multi:
        item = _multi_item(exchange, p.never_issued)
        if item is not None:
            return {"multi_status.action": action, "multi_status.item_error": _item_style(item)}
    answered = all(exchange.status is not None for _, exchange in p.multi)
    return {"multi_status.action": MULTI_NONE if answered else None}


def _offered(exchange: Exchange, action: str, baseline: Exchange) -> bool | None:
    """Whether ``action`` exists: its refusal must not read like the unknown action's."""
    unknown = refused_as_unknown(exchange, action, baseline, UNKNOWN_ACTION)
    return None if unknown is None else not unknown


def _refill_status(p: Probes) -> dict[str, TraitValue | None]:
    offered = _offered(p.refill_status, "refill_status", p.unknown_action)
    if not offered:
        return {"refill_status.offered": offered}
    return {
        "refill_status.offered": True,
        "refill_status.message": _message(p.refill_status, {p.never_issued: "{id}"}),
        "refill_status.http": p.refill_status.status,
    }


def _cancel(p: Probes) -> dict[str, TraitValue | None]:
    offered = _offered(p.cancel, "cancel", p.unknown_action)
    if not offered:
        return {"cancel.offered": offered}
    body = p.cancel.json if p.cancel.is_json else None
    item: object = None
    shape: str | None = None
    if isinstance(body, list):
        shape, item = "list", next((i for i in body if isinstance(i, dict)), None)
    elif isinstance(body, dict):
        shape, item = ("object", body) if "order" in body else ("error", None)
    nested: bool | None = None
    message: object = p.cancel.error_message
    if isinstance(item, dict):
        inner = item.get("cancel")
        if isinstance(inner, dict) and "error" in inner:
            nested, message = True, inner["error"]
        elif "error" in item:
            nested, message = False, item["error"]
    shown = message.strip().replace(p.never_issued, "{id}") if isinstance(message, str) else None
    return {
        "cancel.offered": True,
        "cancel.shape": shape,
        "cancel.error_nested": nested,
        "cancel.message": shown[:MESSAGE_CHARS] if shown is not None else None,
    }


_OBSERVERS: Final[tuple[Callable[[Probes], dict[str, TraitValue | None]], ...]] = (
    _transport,
    _services,
    _balance,
    lambda p: _error("bad_key", p.bad_key, {}),
    lambda p: _error("unknown_action", p.unknown_action, {UNKNOWN_ACTION: "{action}"}),
    lambda p: _error("unknown_order", p.status, {p.never_issued: "{id}"}),
    _multi_status,
    _refill_status,
    _cancel,
)


def observe(probes: Probes) -> dict[str, TraitValue]:
    """Every trait the answers show; a trait that could not be read is left out (unknown)."""
    observed: dict[str, TraitValue] = {}
    for reader in _OBSERVERS:
        observed.update({k: v for k, v in reader(probes).items() if v is not None})
    return observed


def notes(probes: Probes) -> tuple[str, ...]:
    """What went wrong on the wire: answers that are not JSON, requests with no answer."""
    lines: list[str] = []
    for exchange in probes.exchanges():
        action = exchange.request.action or "?"
        if exchange.transport_error is not None:
            lines.append(f"action={action} got no HTTP answer: {exchange.transport_error}")
        elif not exchange.is_json:
            ctype = exchange.header("Content-Type") or "no content type"
            lines.append(f"action={action} answered HTTP {exchange.status} {ctype}, not JSON")
    return tuple(dict.fromkeys(line[:200] for line in lines))


# ---------------------------------------------------------------------------------------------
# Scoring and the guess


@dataclass(frozen=True, slots=True)
class Score:
    """How well one dialect fits what was observed."""

    dialect: Dialect
    value: float  # matched weight / considered weight (0 when nothing could be compared)
    considered: float
    matched: tuple[Trait, ...]
    differing: tuple[Trait, ...]


def _score(observed: Mapping[str, TraitValue], dialect: Dialect, traits: Sequence[Trait]) -> Score:
    matched: list[Trait] = []
    differing: list[Trait] = []
    for trait in traits:
        if trait.id not in observed or trait.id not in dialect.traits:
            continue  # unknown on one side: counts neither way
        fits = trait.matches(observed[trait.id], dialect.traits[trait.id])
        (matched if fits else differing).append(trait)
    considered = sum(t.weight for t in matched) + sum(t.weight for t in differing)
    value = sum(t.weight for t in matched) / considered if considered else 0.0
    return Score(dialect, value, considered, tuple(matched), tuple(differing))


def rank(observed: Mapping[str, TraitValue], data: Dialects) -> list[Score]:
    """Every dialect's score, best first; ties go to the one compared on more, then file order."""
    scores = [_score(observed, d, data.traits) for d in data.dialects]
    order = {d.name: i for i, d in enumerate(data.dialects)}
    return sorted(scores, key=lambda s: (-s.value, -s.considered, order[s.dialect.name]))


@dataclass(frozen=True, slots=True)
class DialectGuess:
    """The dialect a panel was detected to speak (``name`` None: no known one fits).

    ``evidence`` lines are human-readable and redacted, most telling first; ``closest`` is the
    best-scoring dialect even when it scored too low to be named; ``indistinguishable`` lists
    the dialects the named one cannot be told from without spending money.
    """

    name: str | None
    score: float
    runner_up: tuple[str, float] | None
    evidence: tuple[str, ...]
    observed: Mapping[str, object]
    indistinguishable: tuple[str, ...] = ()
    closest: str | None = None

    def agrees_with(self, configured: str) -> bool | None:
        """Whether a configured dialect name fits the detection (None: nothing detected)."""
        if self.name is None:
            return None
        return configured == self.name or configured in self.indistinguishable

    def summary(self) -> str:
        """``perfectpanel (score 0.93; runner-up smmhub 0.71)`` or ``unknown (closest ...)``."""
        if self.name is None:
            closest = f"closest {self.closest} {self.score:.2f}" if self.closest else "no basis"
            return f"unknown ({closest})"
        parts = [f"score {self.score:.2f}"]
        if self.runner_up is not None:
            parts.append(f"runner-up {self.runner_up[0]} {self.runner_up[1]:.2f}")
        if self.indistinguishable:
            parts.append(
                f"indistinguishable from {', '.join(self.indistinguishable)} without spending"
            )
        return f"{self.name} ({'; '.join(parts)})"


def _sharing(trait: Trait, ranked: Sequence[Score]) -> str:
    names = sorted(s.dialect.name for s in ranked if trait in s.matched)
    shown = ", ".join(names[:_SHARING_SHOWN])
    more = len(names) - _SHARING_SHOWN
    return f"{shown}, +{more} more" if more > 0 else shown


def _evidence(
    best: Score, ranked: Sequence[Score], observed: Mapping[str, TraitValue], named: bool
) -> list[str]:
    # Most telling first: what sets it apart from the runner-up, then heavy traits that few
    # other dialects share.
    sharers = {t.id: sum(1 for s in ranked if t in s.matched) for t in best.matched}
    apart = {t.id for s in ranked[1:2] for t in s.differing}
    matched = [
        f"{t.describe(observed[t.id])} ({_sharing(t, ranked)})"
        for t in sorted(best.matched, key=lambda t: (t.id not in apart, -t.weight / sharers[t.id]))
    ]
    differing = [
        f"but {t.describe(observed[t.id])}, where {best.dialect.name} has "
        f"{show(best.dialect.traits[t.id])}"
        for t in sorted(best.differing, key=lambda t: -t.weight)
    ]
    return matched + differing if named else differing + matched


def guess(
    observed: Mapping[str, TraitValue],
    data: Dialects | None = None,
    *,
    notes: Sequence[str] = (),
    scrub: Callable[[str], str] = str,
) -> DialectGuess:
    """Name the best-scoring dialect, or none when it scores below the threshold or when too
    little could be compared. ``scrub`` removes secrets from every evidence line."""
    data = data or load_dialects()
    ranked = rank(observed, data)
    frozen = MappingProxyType(dict(observed))
    if not ranked:
        return DialectGuess(None, 0.0, None, tuple(scrub(n) for n in notes), frozen)
    best = ranked[0]
    named = best.value >= data.threshold and best.considered >= data.min_weight
    runner = ranked[1] if len(ranked) > 1 else None
    lines = _evidence(best, ranked, observed, named)
    lines = [*lines, *notes] if named else [*notes, *lines]
    return DialectGuess(
        name=best.dialect.name if named else None,
        score=round(best.value, 4),
        runner_up=(runner.dialect.name, round(runner.value, 4)) if runner else None,
        evidence=tuple(scrub(line) for line in lines),
        observed=frozen,
        indistinguishable=best.dialect.indistinguishable_from if named else (),
        closest=best.dialect.name if best.considered else None,
    )


def failed_guess(error: BaseException, scrub: Callable[[str], str] = str) -> DialectGuess:
    """The guess when detection itself broke: no name, the error as the evidence."""
    text = scrub(f"detection failed: {type(error).__name__}: {error}")[:300]
    return DialectGuess(None, 0.0, None, (text,), MappingProxyType({}))


def fingerprint(
    client: PanelClient,
    key: Secret,
    *,
    data: Dialects | None = None,
    seed: int | None = None,
) -> DialectGuess:
    """Probe the panel behind ``client`` with ``key`` (spending nothing) and guess its dialect.

    ``seed`` makes the never-issued id and the wrong key reproducible.
    """
    data = data or load_dialects()
    rng = random.Random(seed)
    never_issued = catalog.never_issued(rng)
    # Digits only: no hex run like "add" that a cautious reader could take for an order.
    wrong_key = Secret(f"smm-fingerprint-{rng.randrange(10**15, 10**16)}", "wrong key")
    probes = probe(client, key, data, never_issued=never_issued, wrong_key=wrong_key)
    return guess(observe(probes), data, notes=notes(probes), scrub=client.secrets.scrub)
