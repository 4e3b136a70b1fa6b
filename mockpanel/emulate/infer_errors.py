"""Each refusal of a recording classified, and each kind's wording as a template.

Every refusal comes with its candidates (:mod:`mockpanel.emulate.infer_candidates`). Where
one is left, that is the kind; where several are, the wording decides: the code whose wording
(learnt from the unambiguous refusals, or a built-in profile's template for that code) fits the
message, else the first code not worded yet.

A wording becomes a template by putting the request's own values back as placeholders
(``Quantity less than minimal 50`` for a service whose minimum is 50 reads
``Quantity less than minimal {min}``), so that the mock says the same for any request.
Refusals of an order worded by the order's status become ``by_status`` wordings.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Final

from mockpanel.emulate.infer_candidates import Candidate, Context, candidates, item_errors, word
from mockpanel.emulate.infer_read import Seen
from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES
from mockpanel.state import OrderStatus

__all__ = [
    "ErrorWording",
    "Observation",
    "as_decimal",
    "classify",
    "known_templates",
    "number_in",
    "templated",
    "wordings",
]

E = ErrorCode
_NUMBER: Final = re.compile(r"(?<![\w.])[0-9]+(?![\w.])")
# The parameters each code's template may name (mockpanel.errors.ErrorCode).
_PARAMS: Final[Mapping[ErrorCode, frozenset[str]]] = {
    E.BAD_REQUEST: frozenset({"detail"}),
    E.BODY_TOO_LARGE: frozenset({"limit"}),
    E.UNSUPPORTED_ENCODING: frozenset({"encoding", "accepted"}),
    E.UNKNOWN_ACTION: frozenset({"action"}),
    E.MISSING_PARAM: frozenset({"param"}),
    E.INVALID_PARAM: frozenset({"param", "value"}),
    E.TOO_MANY_IDS: frozenset({"limit"}),
    E.RATE_LIMITED: frozenset({"retry_after"}),
    E.UNKNOWN_SERVICE: frozenset({"service"}),
    E.SERVICE_TYPE_NOT_SUPPORTED: frozenset({"type"}),
    E.QUANTITY_TOO_LOW: frozenset({"min", "quantity"}),
    E.QUANTITY_TOO_HIGH: frozenset({"max", "quantity"}),
    E.INSUFFICIENT_FUNDS: frozenset({"needed", "balance"}),
    E.UNKNOWN_ORDER: frozenset({"order"}),
    E.ORDER_NOT_CANCELLABLE: frozenset({"order", "status"}),
    E.REFILL_NOT_AVAILABLE: frozenset({"order"}),
    E.ORDER_NOT_COMPLETED: frozenset({"order", "status"}),
    E.REFILL_WINDOW_EXPIRED: frozenset({"order"}),
    E.UNKNOWN_REFILL: frozenset({"refill"}),
}
# Codes whose wording may depend on the status of the order the refusal is about.
_BY_STATUS: Final = frozenset({E.ORDER_NOT_CANCELLABLE, E.ORDER_NOT_COMPLETED})


@dataclass(frozen=True, slots=True)
class Observation:
    """One refusal, classified: its code, its wording as a template, where it stood."""

    code: ErrorCode
    template: str
    message: str
    status: OrderStatus | None  # the order's status, for codes worded by status
    http: int | None  # None: an item inside an answer (no status, no fields of its own)
    fields: tuple[tuple[str, str | int], ...] = ()
    action: str | None = None  # the request's action


@dataclass(frozen=True, slots=True)
class ErrorWording:
    """What a recording shows of one code."""

    message: str
    status: int | None
    fields: tuple[tuple[str, str | int], ...] | None
    by_status: tuple[tuple[str, str], ...]
    seen: int


@dataclass(slots=True)
class _Pending:
    message: str
    candidates: list[Candidate]
    http: int | None
    fields: tuple[tuple[str, str | int], ...]
    action: str | None


# --- templates -----------------------------------------------------------------------------


def templated(message: str, values: Mapping[str, str], code: ErrorCode | None = None) -> str:
    """``message`` with each of ``values`` (as a whole token) replaced by its ``{name}``; braces
    of the message itself doubled, so the result is a format template of named fields."""
    text = message
    marks: dict[str, str] = {}
    allowed = values.keys() if code is None else _PARAMS.get(code, frozenset())
    for i, (name, value) in enumerate(sorted(values.items(), key=lambda kv: -len(kv[1]))):
        if not value.strip() or "\x00" in value or len(value) > 200 or name not in allowed:
            continue
        before = r"(?<![\w.])" if value[0].isalnum() else ""
        after = r"(?![\w])" if value[-1].isalnum() else ""
        mark = f"\x00{chr(0xE000 + i)}\x00"  # no word character: no value matches inside
        replaced = re.sub(before + re.escape(value) + after, mark, text)  # no escapes in mark
        if replaced != text:
            marks[mark] = "{" + name + "}"
            text = replaced
    text = text.replace("{", "{{").replace("}", "}}")
    for mark, placeholder in marks.items():
        text = text.replace(mark, placeholder)
    return text


@cache
def _pattern(template: str) -> re.Pattern[str] | None:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return None
    regex = "".join(
        re.escape(literal) + ("" if name is None else "(.+?)") for literal, name, _, _ in parts
    )
    return re.compile(regex, re.DOTALL)


def _fits(template: str, message: str) -> bool:
    pattern = _pattern(template)
    return pattern is not None and pattern.fullmatch(message.strip()) is not None


@cache
def known_templates(code: ErrorCode) -> tuple[str, ...]:
    """Every built-in profile's template for ``code``: constant ones first, the reference's
    first among equals (the vocabulary a recording's wording is matched against)."""
    found: dict[str, int] = {}
    for rank, profile in enumerate(PROFILES.values()):
        spec = profile.errors[code]
        for template in (spec.message, *(t for _, t in spec.by_status)):
            found.setdefault(template, rank)
    return tuple(sorted(found, key=lambda t: (t.count("{") - t.count("{{") * 2, found[t])))


# --- classifying ---------------------------------------------------------------------------


def _fields(s: Seen) -> tuple[tuple[str, str | int], ...]:
    return tuple(
        (k, v) for k, v in s.extra_fields.items()
        if isinstance(v, str | int) and not isinstance(v, bool)
    )


def classify(ctx: Context, exchanges: Sequence[Seen]) -> list[Observation]:
    """Every refusal of ``exchanges`` (top-level and inside answers), classified."""
    pending: list[_Pending] = []
    for s in exchanges:
        message = s.error
        if s.answered:
            for item_message, options in item_errors(ctx, s):
                pending.append(_Pending(item_message, options, None, (), s.action))
            continue
        if s.status == 429 and message is None:
            message = s.text.strip()[:200] or "Too Many Requests"
        if message is None or (not s.is_json and s.status != 429):
            continue
        if s.method == "GET" and "query" not in ctx.accepted and s.status in (404, 405):
            continue  # the route itself refused a GET: no API answer
        if not s.action and s.status in (404, 405) and not s.params:
            continue
        found = candidates(ctx, s)
        if found:
            pending.append(_Pending(message, found, s.status, _fields(s), s.action))
    return _resolve(pending)


def _resolve(pending: Sequence[_Pending]) -> list[Observation]:
    """The refusals' codes: the sole candidates first, then by the wording learnt from them."""
    learnt: dict[ErrorCode, set[str]] = {}
    chosen: dict[int, Candidate] = {}
    for i, p in enumerate(pending):
        if len(p.candidates) == 1:
            chosen[i] = p.candidates[0]
            pick = chosen[i]
            learnt.setdefault(pick.code, set()).add(templated(p.message, pick.values, pick.code))
    for i, p in enumerate(pending):
        if i in chosen:
            continue
        pick = _pick(p, learnt)
        chosen[i] = pick
        learnt.setdefault(pick.code, set()).add(templated(p.message, pick.values, pick.code))
    return [
        Observation(
            code=chosen[i].code,
            template=templated(p.message, chosen[i].values, chosen[i].code),
            message=p.message,
            status=chosen[i].status,
            http=p.http,
            fields=p.fields,
            action=p.action,
        )
        for i, p in enumerate(pending)
    ]


def _pick(p: _Pending, learnt: Mapping[ErrorCode, set[str]]) -> Candidate:
    """The candidate the wording fits: one learnt from unambiguous refusals, then a built-in
    profile's template for the code, then the first code not worded yet."""
    for candidate in p.candidates:
        if templated(p.message, candidate.values, candidate.code) in learnt.get(
                candidate.code, ()):
            return candidate
    for candidate in p.candidates:
        if any(_fits(t, p.message) for t in known_templates(candidate.code)):
            return candidate
    for candidate in p.candidates:
        if candidate.code not in learnt:
            return candidate
    return p.candidates[0]


# --- wordings ------------------------------------------------------------------------------


def _template(code: ErrorCode, observations: Sequence[Observation]) -> str:
    """One template for all of ``observations`` (one code, one status group)."""
    messages = [o.message.strip() for o in observations]
    for known in known_templates(code):
        if all(_fits(known, m) for m in messages):
            return known
    if code is E.BAD_REQUEST and len(set(messages)) > 1:
        prefix = _common_prefix(messages)
        if len(prefix) >= 3:
            return templated(prefix, {}) + "{detail}"
    if code in (E.TOO_MANY_IDS, E.BODY_TOO_LARGE):
        return _limit_template(Counter(messages).most_common(1)[0][0])
    return Counter(o.template for o in observations).most_common(1)[0][0]


def _limit_template(message: str) -> str:
    number = _NUMBER.search(message)
    return templated(message, {"limit": number.group()} if number else {})


def _common_prefix(messages: Sequence[str]) -> str:
    first, last = min(messages), max(messages)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    cut = max(prefix.rfind(" "), prefix.rfind(":"))
    return prefix[: cut + 1] if cut >= 0 and not prefix.endswith(" ") else prefix


def wordings(observations: Sequence[Observation]) -> dict[ErrorCode, ErrorWording]:
    """Each observed code's wording, HTTP status and extra fields (statuses and fields from the
    refusals answered on their own, not from items inside a served answer)."""
    by_code: dict[ErrorCode, list[Observation]] = {}
    for o in observations:
        by_code.setdefault(o.code, []).append(o)
    out: dict[ErrorCode, ErrorWording] = {}
    for code, seen in by_code.items():
        message, by_status = _message(code, seen)
        top = [o for o in seen if o.http is not None]
        http = Counter(o.http for o in top).most_common(1)[0][0] if top else None
        fields = Counter(o.fields for o in top).most_common(1)[0][0] if top else None
        out[code] = ErrorWording(message, http, fields, by_status, len(seen))
    return out


def _message(
    code: ErrorCode, seen: Sequence[Observation]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    if code not in _BY_STATUS or not any(o.status for o in seen):
        return _template(code, seen), ()
    groups: dict[str | None, list[Observation]] = {}
    for o in seen:
        groups.setdefault(None if o.status is None else word(o.status), []).append(o)
    per_group = {status: _template(code, group) for status, group in groups.items()}
    # The general wording: the one most statuses share (then the most refusals).
    counts = Counter(per_group.values())
    weight = Counter(o.template for o in seen)
    general = max(counts, key=lambda t: (counts[t], weight[t]))
    by_status = tuple(
        (status, template)
        for status, template in sorted(per_group.items(), key=lambda kv: str(kv[0]))
        if status is not None and template != general
    )
    return general, by_status


def number_in(message: str) -> int | None:
    """The first whole number of ``message`` (the limit a too-many-ids refusal names)."""
    found = _NUMBER.search(message)
    return int(found.group()) if found and len(found.group()) < 10 else None


def as_decimal(value: object) -> Decimal | None:
    """A JSON number or numeric string as a Decimal."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            return None
        return number if number.is_finite() else None
    return None
