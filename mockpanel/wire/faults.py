"""Faults on demand: rules that make the API misbehave the way real panels do on a bad day.

``PUT /_mock/faults {"rules": [...]}`` replaces the rules, ``DELETE`` clears them, ``GET`` lists
the active ones. A rule names a ``fault`` kind and when it applies: ``action`` (the request's
action field; every action when absent), ``key`` or ``tenant`` (one tenant only; the key is
turned into the tenant id and never kept), ``times`` (fires that often, then is gone),
``probability`` with ``seed`` (each rule rolls its own ``random.Random(seed)``, so a run is
reproducible) and ``after``.

Kinds: ``delay`` (``seconds``, at most :data:`MAX_DELAY`), ``http_error`` (``status``),
``html`` (an HTML error page with status 200), ``malformed_json`` (a PHP warning printed
before the JSON), ``truncate`` (the first half of the JSON, with a JSON content type),
``empty_body`` (status 200, the profile's JSON content type, and not one byte: what a PHP
script that died before printing, or a proxy that lost the upstream's answer, sends),
``reset`` (the connection is dropped, no answer at all) and ``rate_limit`` (429 with
``Retry-After``, optional ``retry_after``, in the profile's words).

When faults hit: a rule is consulted once the request's fields are decoded and its key looked
up (a request refused before that, or throttled, is never faulted). By default a fault acts
*before* the action runs, so a replaced answer never moved money. ``after: true`` runs the
action first and then damages or replaces its answer: the order exists, the client never heard
(what a proxy timing out after the upstream did the work looks like); ``rate_limit`` is always
before, since a 429 says the request was not processed. Every rule that matches fires, in the
order given: delays add up, and the first rule of any other kind decides the answer (later
ones are not consulted and keep their ``times``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Profile
from mockpanel.wire import render
from mockpanel.wire.journal import FaultNote
from mockpanel.wire.jsontext import Json, dumps

__all__ = [
    "ANSWERS",
    "MAX_DELAY",
    "MAX_RULES",
    "NO_FAULTS",
    "FaultAnswer",
    "FaultBook",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "RuleError",
    "parse_rules",
]

MAX_DELAY: Final = 30.0
MAX_RULES: Final = 100
_MAX_RETRY_AFTER: Final = 86_400


class FaultKind(StrEnum):
    """The fault vocabulary of ``PUT /_mock/faults`` (names kept exactly as published)."""

    DELAY = "delay"
    HTTP_ERROR = "http_error"
    HTML = "html"
    MALFORMED_JSON = "malformed_json"
    TRUNCATE = "truncate"
    EMPTY_BODY = "empty_body"
    RESET = "reset"
    RATE_LIMIT = "rate_limit"


_COMMON: Final = frozenset({"fault", "action", "key", "tenant", "times", "probability", "seed"})
_FIELDS: Final[Mapping[FaultKind, frozenset[str]]] = MappingProxyType(
    {
        FaultKind.DELAY: _COMMON | {"seconds", "after"},
        FaultKind.HTTP_ERROR: _COMMON | {"status", "after"},
        FaultKind.HTML: _COMMON | {"after"},
        FaultKind.MALFORMED_JSON: _COMMON | {"after"},
        FaultKind.TRUNCATE: _COMMON | {"after"},
        FaultKind.EMPTY_BODY: _COMMON | {"after"},
        FaultKind.RESET: _COMMON | {"after"},
        FaultKind.RATE_LIMIT: _COMMON | {"retry_after"},
    }
)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One validated rule. ``tenant`` is a tenant id, never a key; ``times`` None is forever."""

    id: int
    fault: FaultKind
    action: str | None = None
    tenant: str | None = None
    times: int | None = None
    probability: float = 1.0
    seed: int = 0
    after: bool = False
    seconds: float = 0.0  # delay
    status: int = 502  # http_error
    retry_after: int = 60  # rate_limit

    def to_json(self) -> dict[str, Json]:
        """The rule as listed by ``GET /_mock/faults`` (without its live counters)."""
        out: dict[str, Json] = {
            "id": self.id,
            "fault": self.fault.value,
            "action": self.action,
            "tenant": self.tenant,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
        }
        if "after" in _FIELDS[self.fault]:
            out["after"] = self.after
        if self.fault is FaultKind.DELAY:
            out["seconds"] = self.seconds
        elif self.fault is FaultKind.HTTP_ERROR:
            out["status"] = self.status
        elif self.fault is FaultKind.RATE_LIMIT:
            out["retry_after"] = self.retry_after
        return out


class RuleError(ValueError):
    """A rule document refused; ``field`` says where (``rules[0].status``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# --------------------------------------------------------------------------- parsing


def _number_in(value: object, high: float, where: str, expected: str) -> float:
    """``value`` as a float if it is a JSON number in (0, ``high``]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | Decimal)
        or not 0 < value <= high  # also false for a NaN
    ):
        raise RuleError(where, expected)
    return float(value)


def _int_in(value: object, low: int, high: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(where, f"must be a whole number in {low}..{high}")
    return value


def parse_rules(
    document: object,
    *,
    actions: Collection[str],
    default_seed: int,
    tenant_of_key: Callable[[str], str | None],
    tenant_exists: Callable[[str], bool],
) -> list[FaultRule]:
    """Validate a ``{"rules": [...]}`` document into rules (ids 0 until a book numbers them).

    Strict: an unknown kind, an unknown field, a field that belongs to another kind or a value
    out of range raises :class:`RuleError` naming the field, and nothing is accepted.
    """
    if not isinstance(document, dict):
        raise RuleError("body", 'must be a JSON object {"rules": [...]}')
    for name in document:
        if name != "rules":
            raise RuleError(str(name), "unknown field; the body has only rules")
    raw = document.get("rules")
    if not isinstance(raw, list):
        raise RuleError("rules", "is required, as a list of rule objects")
    if len(raw) > MAX_RULES:
        raise RuleError("rules", f"at most {MAX_RULES} rules")
    return [
        _parse_rule(item, f"rules[{n}]", actions, default_seed, tenant_of_key, tenant_exists)
        for n, item in enumerate(raw)
    ]


def _parse_rule(
    item: object,
    where: str,
    actions: Collection[str],
    default_seed: int,
    tenant_of_key: Callable[[str], str | None],
    tenant_exists: Callable[[str], bool],
) -> FaultRule:
    if not isinstance(item, dict):
        raise RuleError(where, "must be an object")
    kinds = ", ".join(kind.value for kind in FaultKind)
    raw_kind = item.get("fault")
    kind = next((k for k in FaultKind if k.value == raw_kind), None)
    if kind is None:
        problem = "is required" if raw_kind is None else "is not a fault kind"
        raise RuleError(f"{where}.fault", f"{problem}; one of {kinds}")
    allowed = _FIELDS[kind]
    for name in item:
        if name not in allowed:
            raise RuleError(
                f"{where}.{name}",
                f"unknown field for a {kind.value} rule; allowed: {', '.join(sorted(allowed))}",
            )
    rule = FaultRule(0, kind, seed=default_seed)
    changes: dict[str, Any] = {}
    if "action" in item:
        action = item["action"]
        if not isinstance(action, str) or action not in actions:
            raise RuleError(
                f"{where}.action", f"must be an action of this panel: {', '.join(sorted(actions))}"
            )
        changes["action"] = action
    if "key" in item and "tenant" in item:
        raise RuleError(f"{where}.key", "give key or tenant, not both")
    if "key" in item:
        key = item["key"]
        tenant = tenant_of_key(key) if isinstance(key, str) and key else None
        if tenant is None:  # the message never repeats the key
            raise RuleError(f"{where}.key", "is not the API key of any tenant")
        changes["tenant"] = tenant
    if "tenant" in item:
        tenant = item["tenant"]
        if not isinstance(tenant, str) or not tenant_exists(tenant):
            raise RuleError(f"{where}.tenant", "is not the id of any tenant")
        changes["tenant"] = tenant
    if "times" in item:
        changes["times"] = _int_in(item["times"], 1, 1_000_000_000, f"{where}.times")
    if "probability" in item:
        changes["probability"] = _number_in(
            item["probability"], 1.0, f"{where}.probability", "must be a number in (0, 1]"
        )
    if "seed" in item:
        if isinstance(item["seed"], bool) or not isinstance(item["seed"], int):
            raise RuleError(f"{where}.seed", "must be a whole number")
        changes["seed"] = item["seed"]
    if "after" in item:
        if not isinstance(item["after"], bool):
            raise RuleError(f"{where}.after", "must be true or false")
        changes["after"] = item["after"]
    if kind is FaultKind.DELAY:
        changes["seconds"] = _number_in(
            item.get("seconds"),
            MAX_DELAY,
            f"{where}.seconds",
            f"is required, a number of seconds in (0, {MAX_DELAY:g}]",
        )
    if kind is FaultKind.HTTP_ERROR:
        if "status" not in item:
            raise RuleError(f"{where}.status", "is required, an HTTP status in 400..599")
        changes["status"] = _int_in(item["status"], 400, 599, f"{where}.status")
    if "retry_after" in item:
        changes["retry_after"] = _int_in(
            item["retry_after"], 1, _MAX_RETRY_AFTER, f"{where}.retry_after"
        )
    return replace(rule, **changes)


# --------------------------------------------------------------------------- the book


class _Armed:
    """A rule in force: its remaining fires, its hits and its own random stream."""

    __slots__ = ("hits", "left", "random", "rule")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.left = rule.times
        self.hits = 0
        self.random = random.Random(rule.seed)

    def to_json(self) -> dict[str, Json]:
        return {**self.rule.to_json(), "left": self.left, "hits": self.hits}


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """The faults one request gets: delays before and after the action, and at most one rule
    that decides the answer."""

    delays: tuple[FaultRule, ...] = ()
    answer: FaultRule | None = None

    def delay(self, *, after: bool) -> float:
        return sum(rule.seconds for rule in self.delays if rule.after is after)

    def answers(self, *, after: bool) -> FaultRule | None:
        return self.answer if self.answer is not None and self.answer.after is after else None

    def notes(self) -> tuple[FaultNote, ...]:
        fired = (*self.delays, *(() if self.answer is None else (self.answer,)))
        return tuple(FaultNote(rule.id, rule.fault.value, rule.after) for rule in fired)


NO_FAULTS: Final = FaultPlan()


class FaultBook:
    """The active rules of one panel, in the order given; ids never repeat.

    ``idle`` is true while no rule is armed: the API view then does not ask :meth:`take`.
    """

    __slots__ = ("_armed", "_next_id", "idle")

    def __init__(self) -> None:
        self._armed: list[_Armed] = []
        self._next_id = 1
        self.idle = True

    def replace(self, rules: Sequence[FaultRule]) -> None:
        """Put ``rules`` in force instead of the current ones, numbering them."""
        armed = []
        for rule in rules:
            armed.append(_Armed(replace(rule, id=self._next_id)))
            self._next_id += 1
        self._armed = armed
        self.idle = not armed

    def clear(self) -> None:
        self._armed = []
        self.idle = True

    def listing(self) -> list[Json]:
        """The active rules with how many fires each has ``left`` and how many ``hits``."""
        return [armed.to_json() for armed in self._armed]

    def take(self, action: str | None, tenant: str | None) -> FaultPlan:
        """Fire the rules matching a request, counting their ``times`` down."""
        if not self._armed:
            return NO_FAULTS
        delays: list[FaultRule] = []
        answer: FaultRule | None = None
        for armed in self._armed:
            rule = armed.rule
            if rule.action is not None and rule.action != action:
                continue
            if rule.tenant is not None and rule.tenant != tenant:
                continue
            if rule.probability < 1 and armed.random.random() >= rule.probability:
                continue
            armed.hits += 1
            if armed.left is not None:
                armed.left -= 1
            if rule.fault is FaultKind.DELAY:
                delays.append(rule)
            else:
                answer = rule
                break
        self._armed = [armed for armed in self._armed if armed.left != 0]
        self.idle = not self._armed
        return FaultPlan(tuple(delays), answer)


# --------------------------------------------------------------------------- answers

# A fault's answer from the rule, the profile, and the action's rendered JSON body (``None``
# when the fault acts before the action); ``None`` means no answer: the connection is gone.
FaultAnswer = Callable[[FaultRule, Profile, bytes | None, web.BaseRequest], web.Response | None]

# What stands in for the answer when a damaging fault acts before the action.
_UNAVAILABLE: Final = {"error": "Service temporarily unavailable"}
_PHP_WARNING: Final = (
    b"<br />\n<b>Warning</b>:  Undefined array key \"currency\" in "
    b"<b>/var/www/panel/app/api/v2.php</b> on line <b>214</b><br />\n"
)
_HTML_PAGE: Final = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>\n"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center>\n"
    "<hr><center>nginx</center></body></html>\n"
)


def _body_or_stand_in(profile: Profile, body: bytes | None) -> bytes:
    if body is not None:
        return body
    return dumps(_UNAVAILABLE, indent=profile.wire.indent).encode("ascii")


def _raw(profile: Profile, body: bytes, status: int = 200) -> web.Response:
    return web.Response(
        body=body, status=status, headers={"Content-Type": profile.wire.content_type}
    )


def _http_error(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> web.Response:
    try:
        phrase = HTTPStatus(rule.status).phrase
    except ValueError:
        phrase = "Error"
    return _raw(profile, dumps({"error": f"{rule.status} {phrase}"}).encode("ascii"), rule.status)


def _html(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> web.Response:
    return web.Response(text=_HTML_PAGE, status=200, content_type="text/html")


def _malformed_json(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> web.Response:
    return _raw(profile, _PHP_WARNING + _body_or_stand_in(profile, body))


def _truncate(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> web.Response:
    # Every answer is a JSON object or array, so any proper prefix of it is invalid JSON.
    whole = _body_or_stand_in(profile, body)
    return _raw(profile, whole[: max(1, len(whole) // 2)])


def _empty_body(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> web.Response:
    # A complete HTTP answer (Content-Length: 0), unlike ``reset``: the client got a reply
    # and must notice there is nothing in it, not a connection error.
    return _raw(profile, b"")


def _reset(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()  # RST rather than FIN where the OS allows: no answer, no goodbye
    return None


def _rate_limit(
    rule: FaultRule, profile: Profile, body: bytes | None, request: web.BaseRequest
) -> web.Response:
    reply = render.error_reply(
        profile, DomainError(ErrorCode.RATE_LIMITED, retry_after=rule.retry_after)
    )
    return render.json_response(profile, reply._replace(status=429))


ANSWERS: Final[Mapping[FaultKind, FaultAnswer]] = MappingProxyType(
    {
        FaultKind.HTTP_ERROR: _http_error,
        FaultKind.HTML: _html,
        FaultKind.MALFORMED_JSON: _malformed_json,
        FaultKind.TRUNCATE: _truncate,
        FaultKind.EMPTY_BODY: _empty_body,
        FaultKind.RESET: _reset,
        FaultKind.RATE_LIMIT: _rate_limit,
    }
)
