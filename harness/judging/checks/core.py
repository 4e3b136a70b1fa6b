"""The check machinery: the failure type, what a check knows, how it is declared and run.

A check is a pure function of an :class:`~harness.base.exchange.Exchange` and the :class:`Facts`
the caller knows, declared with :func:`check` (its clause, forms and answer kinds) and run by a
:class:`Registry`; :func:`broken` inside its body becomes a :class:`CheckFailure` naming its
clause. The readers every family shares (:func:`answer_kind`, :func:`status_objects`, ...) and
the gate of the generic checks (:func:`protocol_request`, :func:`unusable_by`) live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import NoReturn, Self

from harness import contract
from harness.base.exchange import Exchange
from harness.judging.verdicts import Verdict

__all__ = [
    "NO_FACTS",
    "Applies",
    "Check",
    "CheckFailure",
    "CheckFn",
    "CheckResult",
    "ErrorKind",
    "Facts",
    "Grade",
    "Registry",
    "answer_kind",
    "broken",
    "check",
    "protocol_request",
    "requested_ids",
    "schema_problem",
    "server_broke",
    "service_items",
    "status_objects",
    "unusable_by",
]

_SCHEMA_MESSAGES = 3


class Grade(Enum):
    """How bad a failure is: FAIL breaks the clause, NON_STRICT is a tolerated deviation."""

    FAIL = "FAIL"
    NON_STRICT = "NON-STRICT"

    @property
    def verdict(self) -> Verdict:
        return Verdict.FAIL if self is Grade.FAIL else Verdict.NON_STRICT


class CheckFailure(AssertionError):
    """A clause was broken; carries the (redacted) exchanges that show it.

    The one failure type of the harness (its subclasses add where the failure was seen). An
    ``AssertionError``, so that pytest reports a failed test, and reporters that tell a failed
    check from a crashed test (Allure's "failed" against "broken") file a broken clause as a
    failure."""

    def __init__(
        self,
        clause: str,
        title: str,
        message: str,
        grade: Grade = Grade.FAIL,
        exchanges: Sequence[Exchange] = (),
    ) -> None:
        super().__init__(f"{clause} {title}: {message}")
        self.clause = clause
        self.title = title
        self.message = message
        self.grade = grade
        self.exchanges = tuple(exchanges)

    def with_exchanges(self, exchanges: Iterable[Exchange]) -> Self:
        """This failure with ``exchanges`` added to its evidence: a copy of the same class (a
        subclass keeps what it knows), or ``self`` when they are all there already."""
        evidence = list(self.exchanges)
        for exchange in exchanges:
            if exchange not in evidence:
                evidence.append(exchange)
        if len(evidence) == len(self.exchanges):
            return self
        copy = type(self).__new__(type(self), *self.args)
        copy.__dict__.update(self.__dict__)
        copy.exchanges = tuple(evidence)
        return copy

    def with_exchange(self, exchange: Exchange) -> Self:
        return self.with_exchanges((exchange,))


class ErrorKind(Enum):
    """Why a request should be refused; the value is the 4xx a status-code dialect uses."""

    BAD_REQUEST = 400
    AUTH = 401
    FUNDS = 402
    NOT_FOUND = 404
    THROTTLED = 429


@dataclass(frozen=True, slots=True)
class Facts:
    """What the caller knows beyond the exchange itself."""

    quantity: int | None = None
    """Units ordered (runs * quantity for drip-feed), for remains <= quantity."""
    previous: Exchange | None = None
    """An earlier answer about the same order, for the never-backwards pair checks."""
    error_kind: ErrorKind | None = None
    """Why the request should fail, for the 4xx-meaning check."""


NO_FACTS = Facts()


class Applies(Enum):
    """Which answers a check looks at."""

    ANY = "any"
    SUCCESS = "success"
    ERROR = "error"


def answer_kind(exchange: Exchange) -> Applies | None:
    """Success or error, judged from the answer alone; ``None`` when there is no JSON answer.

    An error is an HTTP status >= 400, or a top-level object holding ``error`` (for ``cancel``,
    an object that also names an ``order`` is a per-order result, not an envelope).
    """
    if not exchange.is_json or exchange.status is None:
        return Applies.ERROR if exchange.status is not None and exchange.status >= 400 else None
    if exchange.status >= 400:
        return Applies.ERROR
    body = exchange.json
    if isinstance(body, dict) and "error" in body:
        if exchange.form == "cancel" and "order" in body:
            return Applies.SUCCESS
        return Applies.ERROR
    return Applies.SUCCESS


CheckFn = Callable[[Exchange, Facts], None]


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: its clause, title, and where it applies."""

    name: str
    clause: str
    title: str
    fn: CheckFn = field(repr=False)
    forms: frozenset[str] | None = None
    applies: Applies = Applies.ANY
    grade: Grade = Grade.FAIL
    needs: tuple[str, ...] = ()

    def relevant(self, exchange: Exchange, facts: Facts) -> bool:
        if self.forms is not None and exchange.form not in self.forms:
            return False
        if any(getattr(facts, need) is None for need in self.needs):
            return False
        return self.applies is Applies.ANY or answer_kind(exchange) is self.applies

    def __call__(self, exchange: Exchange, facts: Facts = NO_FACTS) -> None:
        """Run on one exchange; a failure comes back tagged with this check's clause."""
        try:
            self.fn(exchange, facts)
        except _Broken as broken:
            raise CheckFailure(
                self.clause, self.title, broken.message, broken.grade or self.grade, (exchange,)
            ) from None


class _Broken(Exception):
    """Raised inside a check body; :class:`Check` turns it into a CheckFailure."""

    def __init__(self, message: str, grade: Grade | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.grade = grade


def broken(message: str, grade: Grade | None = None) -> NoReturn:
    """Inside a check: the exchange breaks this check's clause."""
    raise _Broken(message, grade)


def check(
    clause: str,
    title: str,
    *,
    forms: Iterable[str] | None = None,
    applies: Applies = Applies.ANY,
    grade: Grade = Grade.FAIL,
    needs: Iterable[str] = (),
) -> Callable[[CheckFn], Check]:
    """Decorator: turn ``fn(exchange, facts)`` into a :class:`Check` citing ``clause``."""

    def wrap(fn: CheckFn) -> Check:
        return Check(
            name=fn.__name__,
            clause=clause,
            title=title,
            fn=fn,
            forms=None if forms is None else frozenset(forms),
            applies=applies,
            grade=grade,
            needs=tuple(needs),
        )

    return wrap


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one exchange."""

    check: Check
    failure: CheckFailure | None

    @property
    def clause(self) -> str:
        return self.check.clause


class Registry:
    """An immutable set of checks, looked up by name or run over an exchange."""

    def __init__(self, checks: Iterable[Check]) -> None:
        self._checks: dict[str, Check] = {}
        for item in checks:
            if item.name in self._checks:
                raise ValueError(f"two checks are named {item.name!r}")
            self._checks[item.name] = item

    @classmethod
    def collect(cls, namespace: Mapping[str, object]) -> Registry:
        """Every :class:`Check` defined in a module namespace, in definition order."""
        return cls(v for v in namespace.values() if isinstance(v, Check))

    def merged(self, *others: Registry) -> Registry:
        return Registry([*self, *(c for other in others for c in other)])

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __getitem__(self, name: str) -> Check:
        return self._checks[name]

    def clauses(self) -> frozenset[str]:
        return frozenset(c.clause for c in self)

    def run(self, exchange: Exchange, facts: Facts = NO_FACTS) -> list[CheckResult]:
        """Apply every relevant check; failures are returned, not raised."""
        results = []
        for item in self:
            if not item.relevant(exchange, facts):
                continue
            try:
                item(exchange, facts)
            except CheckFailure as failure:
                results.append(CheckResult(item, failure))
            else:
                results.append(CheckResult(item, None))
        return results


# ---------------------------------------------------------------------------------------------
# Readers the families share


def requested_ids(exchange: Exchange, param: str = "orders") -> list[str]:
    """The ids a batch request listed, in order, as sent."""
    raw = exchange.param(param) or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


def service_items(exchange: Exchange) -> list[dict[str, object]]:
    """The objects of a ``services`` list (anything else in it is the schema check's business)."""
    body = exchange.json
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


def status_objects(exchange: Exchange) -> list[tuple[str, dict[str, object]]]:
    """(label, status object) pairs: the body for status, the non-error members for multi."""
    body = exchange.json
    if exchange.form == "status" and isinstance(body, dict):
        return [("status", body)]
    if exchange.form == "status-multi" and isinstance(body, dict):
        return [
            (f"order {key}", item)
            for key, item in body.items()
            if isinstance(item, dict) and "error" not in item
        ]
    return []


def schema_problem(
    form: str, payload: object, direction: contract.Direction = "response"
) -> str:
    """How ``payload`` is off the ``direction`` schema of ``form`` (at most three of the
    violations, the rest counted); ``""`` when it matches."""
    found = contract.validate(form, direction, payload)
    if not found:
        return ""
    shown = "; ".join(f"{v.pointer or '/'}: {v.message}"[:160] for v in found[:_SCHEMA_MESSAGES])
    more = f" (+{len(found) - _SCHEMA_MESSAGES} more)" if len(found) > _SCHEMA_MESSAGES else ""
    return f"off the {direction} {form} schema: {shown}{more}"


# ---------------------------------------------------------------------------------------------
# What the generic checks judge


def _api_method(exchange: Exchange) -> bool:
    """An API request: a POST, or a GET carrying parameters (some dialects accept those)."""
    request = exchange.request
    return request.method == "POST" or (request.method == "GET" and bool(request.params))


def protocol_request(exchange: Exchange) -> bool:
    """Whether the generic checks judge this exchange: a protocol request, not a probe.

    A probe leaves the protocol on purpose (a PUT, a hand-made body of random bytes): what a
    panel answers to it is judged by the clause of the test that sent it alone, so that one
    odd answer is one failure, not one per generic rule it also happens to break."""
    return not exchange.request.probe and _api_method(exchange)


def server_broke(exchange: Exchange) -> bool:
    """A 5xx: ROBUST-001's failure alone; the body of a crash is not judged as an answer."""
    return exchange.status is not None and exchange.status >= 500


def unusable_by(exchange: Exchange) -> str | None:
    """The generic clause an unusable answer to a protocol request fails, else ``None``:
    no HTTP answer or a body that is not JSON (GEN-002), a 5xx (ROBUST-001). Whatever the
    test expected of that answer cannot be judged: it is blocked by that clause."""
    if not protocol_request(exchange):
        return None
    if exchange.transport_error is not None:
        return "GEN-002"
    if server_broke(exchange):
        return "ROBUST-001"
    if exchange.json_error is not None:
        return "GEN-002"
    return None
