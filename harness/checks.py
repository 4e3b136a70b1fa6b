"""The check registry: small pure functions over one exchange that raise a typed failure.

A check receives an :class:`~harness.client.Exchange` and the :class:`Facts` the caller knows
(the ordered quantity, the previous answer about the same order, the expected kind of error),
and either returns or raises :class:`CheckFailure` naming its clause and grade. Checks do no
I/O. Each is registered with the forms and answer kinds it applies to, so
:meth:`Registry.run` can apply every relevant check to every exchange automatically; pair
checks (``needs=("previous",)``) run only when an earlier answer is supplied.

The ``expect_*`` functions at the end are the outcome expectations of the suite ("this must be
refused"): the clause is the caller's, because the same observation proves different rules.

Failure hierarchy::

    CheckFailure          a clause was broken (grade FAIL or NON_STRICT)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import NoReturn

from harness import contract, values
from harness.client import Exchange
from harness.verdicts import Verdict

__all__ = [
    "DEFAULT_REGISTRY",
    "NO_FACTS",
    "Applies",
    "Check",
    "CheckFailure",
    "CheckResult",
    "ErrorKind",
    "Facts",
    "Grade",
    "Registry",
    "answer_kind",
    "check",
    "expect_error",
    "expect_success",
    "fail",
    "protocol_request",
    "requested_ids",
    "require",
    "server_broke",
    "unusable_by",
]


class Grade(Enum):
    """How bad a failure is: FAIL breaks the clause, NON_STRICT is a tolerated deviation."""

    FAIL = "FAIL"
    NON_STRICT = "NON-STRICT"

    @property
    def verdict(self) -> Verdict:
        return Verdict.FAIL if self is Grade.FAIL else Verdict.NON_STRICT


class CheckFailure(AssertionError):
    """A clause was broken; carries the (redacted) exchanges that show it.

    An ``AssertionError``, so that reporters that tell a failed check from a crashed test
    (Allure's "failed" against "broken") file a broken clause as a failure."""

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

    def with_exchange(self, exchange: Exchange) -> CheckFailure:
        if exchange in self.exchanges:
            return self
        return CheckFailure(
            self.clause, self.title, self.message, self.grade, (*self.exchanges, exchange)
        )


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


def requested_ids(exchange: Exchange, param: str = "orders") -> list[str]:
    """The ids a batch request listed, in order, as sent."""
    raw = exchange.param(param) or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


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
# Schema checks: the lenient schema of each form cites the form's MUST clause; the canonical
# schema cites GEN-005 (a dialect variant is NON-STRICT). The SHOULD clauses about one detail
# of the canonical shape (ADD-002, BAL-003, STATUS-007, ...) have checks of their own below.

SCHEMA_CLAUSES: Mapping[str, str] = {
    "services": "SVC-001",
    "balance": "BAL-001",
    "add": "ADD-001",
    "status": "STATUS-001",
    "status-multi": "MSTATUS-001",
    "cancel": "CANCEL-001",
    "refill": "REFILL-001",
    "refill-multi": "REFILL-007",
    "refill_status": "RSTATUS-001",
    "refill_status-multi": "RSTATUS-003",
}
CANONICAL_CLAUSE = "GEN-005"
_ERROR_SUCCESS_FIELDS = ("order", "balance", "refill")
_MAX_DECIMALS = 10
_SCHEMA_MESSAGES = 3


def _violations(form: str, payload: object, direction: contract.Direction = "response") -> str:
    found = contract.validate(form, direction, payload)
    if not found:
        return ""
    shown = "; ".join(f"{v.pointer or '/'}: {v.message}"[:160] for v in found[:_SCHEMA_MESSAGES])
    more = f" (+{len(found) - _SCHEMA_MESSAGES} more)" if len(found) > _SCHEMA_MESSAGES else ""
    return f"off the {direction} {form} schema: {shown}{more}"


def _lenient(clause: str, form: str) -> Check:
    def fn(exchange: Exchange, facts: Facts) -> None:
        problem = _violations(form, exchange.json)
        if problem:
            broken(problem)

    fn.__name__ = f"schema_{form.replace('-', '_')}"
    return Check(fn.__name__, clause, f"{form} answer matches the contract", fn,
                 frozenset({form}), Applies.SUCCESS)


def _canonical(form: str) -> Check:
    def fn(exchange: Exchange, facts: Facts) -> None:
        if contract.is_canonical(form, exchange.json):
            return
        if contract.validate(form, "response", exchange.json):
            return  # off the lenient schema: that is the MUST clause's failure, not a variant
        broken(f"a dialect variant: {_violations(form, exchange.json, 'canonical')}")

    fn.__name__ = f"canonical_{form.replace('-', '_')}"
    return Check(fn.__name__, CANONICAL_CLAUSE, f"{form} answer has the canonical shape", fn,
                 frozenset({form}), Applies.SUCCESS, Grade.NON_STRICT)


_SCHEMA_CHECKS = Registry(
    [_lenient(clause, form) for form, clause in SCHEMA_CLAUSES.items()]
    + [_canonical(form) for form in SCHEMA_CLAUSES]
)


# ---------------------------------------------------------------------------------------------
# Transport and envelope


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


@check("GEN-002", "the panel answers", applies=Applies.ANY)
def answered(exchange: Exchange, facts: Facts) -> None:
    if protocol_request(exchange) and exchange.transport_error is not None:
        broken(f"no HTTP answer: {exchange.transport_error}")


@check("GEN-002", "every answer is JSON")
def json_body(exchange: Exchange, facts: Facts) -> None:
    if not protocol_request(exchange) or server_broke(exchange):
        return
    if exchange.transport_error is None and exchange.json_error is not None:
        broken(f"body is not JSON ({exchange.json_error}): {exchange.text[:120]!r}")


@check("ROBUST-001", "no 5xx answers")
def no_server_error(exchange: Exchange, facts: Facts) -> None:
    if protocol_request(exchange) and server_broke(exchange):
        broken(f"HTTP {exchange.status}")


@check("GEN-003", "JSON is labelled as JSON", grade=Grade.NON_STRICT)
def json_content_type(exchange: Exchange, facts: Facts) -> None:
    if not exchange.is_json or not protocol_request(exchange):
        return
    ctype = (exchange.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        broken(f"Content-Type is {ctype or 'missing'}")


def _judged_error(exchange: Exchange) -> bool:
    """An error answer to a protocol request that is JSON and not a crash: the envelope and
    status checks judge it (a 5xx or a body that is not JSON has failed its own clause)."""
    return protocol_request(exchange) and exchange.is_json and not server_broke(exchange)


@check("ERR-001", "errors use the error envelope", applies=Applies.ERROR)
def error_envelope(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    problem = _violations("error", exchange.json)
    if problem:
        broken(problem)


@check("ERR-003", "errors are HTTP 200 or 4xx", applies=Applies.ERROR)
def error_status(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    status = exchange.status
    if status is not None and status != 200 and not 400 <= status < 500:
        broken(f"an error answered with HTTP {status}")


@check("ERR-002", "errors are answered with HTTP 200", applies=Applies.ERROR,
       grade=Grade.NON_STRICT)
def error_status_canonical(exchange: Exchange, facts: Facts) -> None:
    # 429 is RATE-003's business (a throttled request SHOULD get it): not an API error the
    # dialect chooses a status for.
    if not _judged_error(exchange):
        return
    if exchange.status not in (200, 429, None):
        broken(f"error answered with HTTP {exchange.status} (canonical: 200)")


@check("ERR-004", "4xx statuses follow the documented meanings", applies=Applies.ERROR,
       grade=Grade.NON_STRICT, needs=("error_kind",))
def error_status_meaning(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    status = exchange.status
    expected = facts.error_kind
    if expected is None or status is None or not 400 <= status < 500:
        return
    if status != expected.value and not (status == 422 and expected is ErrorKind.BAD_REQUEST):
        broken(f"HTTP {status} for a {expected.name.lower()} error (documented {expected.value})")


@check("ERR-007", "an error answer carries no success fields", applies=Applies.ERROR)
def error_without_success_fields(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    body = exchange.json
    if isinstance(body, dict):
        present = [name for name in _ERROR_SUCCESS_FIELDS if name in body]
        if present:
            broken(f"error answer also carries {', '.join(present)}")


# ---------------------------------------------------------------------------------------------
# Catalogue


def _items(exchange: Exchange) -> list[dict[str, object]]:
    body = exchange.json
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


@check("SVC-002", "services carry their fields", forms=["services"], applies=Applies.SUCCESS)
def services_fields(exchange: Exchange, facts: Facts) -> None:
    required = ("service", "name", "type", "category", "rate", "min", "max")
    for index, item in enumerate(_items(exchange)):
        missing = [name for name in required if name not in item]
        if missing:
            broken(f"item {index} lacks {', '.join(missing)}")
        if values.id_text(item["service"]) is None:
            broken(f"item {index} has service id {item['service']!r}")


@check("SVC-003", "min and max are positive with min <= max", forms=["services"],
       applies=Applies.SUCCESS)
def services_min_max(exchange: Exchange, facts: Facts) -> None:
    for item in _items(exchange):
        low, high = values.count(item.get("min")), values.count(item.get("max"))
        if not low or not high or low > high:
            broken(f"service {item.get('service')!r}: min {item.get('min')!r}, "
                   f"max {item.get('max')!r}")


@check("SVC-004", "rates are non-negative decimals", forms=["services"], applies=Applies.SUCCESS)
def services_rate(exchange: Exchange, facts: Facts) -> None:
    for item in _items(exchange):
        if values.money(item.get("rate")) is None:
            broken(f"service {item.get('service')!r}: rate {item.get('rate')!r}")


@check("SVC-005", "service ids are unique", forms=["services"], applies=Applies.SUCCESS)
def services_unique(exchange: Exchange, facts: Facts) -> None:
    seen: set[str] = set()
    for item in _items(exchange):
        key = str(item.get("service"))
        if key in seen:
            broken(f"service id {key} appears twice")
        seen.add(key)


@check("SVC-007", "services state refill and cancel", forms=["services"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def services_flags(exchange: Exchange, facts: Facts) -> None:
    for item in _items(exchange):
        missing = [name for name in ("refill", "cancel") if name not in item]
        if missing:
            broken(f"service {item.get('service')!r} has no {' or '.join(missing)} flag")


@check("SVC-009", "service types are documented add variants", forms=["services"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def services_type(exchange: Exchange, facts: Facts) -> None:
    known = contract.service_types()
    for item in _items(exchange):
        if item.get("type") not in known:
            broken(f"service {item.get('service')!r} has type {item.get('type')!r}")


# ---------------------------------------------------------------------------------------------
# Money and balance


def _plain_money(label: str, value: object) -> None:
    """MONEY-008: no exponent, no float residue, no sign."""
    if value is None:
        return
    if values.money(value) is None:
        broken(f"{label} {value!r} is not a plain non-negative decimal")
    if values.decimal_places(value) > _MAX_DECIMALS:
        broken(f"{label} {value!r} has binary-float residue")
    if isinstance(value, Decimal) and "E" in str(value).upper():
        broken(f"{label} {value!r} is written with an exponent")


@check("BAL-002", "the balance is a non-negative decimal", forms=["balance"],
       applies=Applies.SUCCESS)
def balance_non_negative(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if isinstance(body, dict) and "balance" in body and values.money(body["balance"]) is None:
        broken(f"balance {body['balance']!r}")


@check("BAL-004", "currency is a three-letter code", forms=["balance"], applies=Applies.SUCCESS)
def balance_currency(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    currency = body.get("currency") if isinstance(body, dict) else None
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii()
            and currency.isalpha() and currency.isupper()):
        broken(f"currency {currency!r}")


@check("MONEY-008", "money is exact decimal", forms=["balance", "status", "services", "add"],
       applies=Applies.SUCCESS)
def money_is_decimal(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if isinstance(body, dict):
        for name in ("balance", "charge"):
            _plain_money(name, body.get(name))
    for item in _items(exchange):
        _plain_money(f"rate of service {item.get('service')!r}", item.get("rate"))


# ---------------------------------------------------------------------------------------------
# Order status


def _status_objects(exchange: Exchange) -> list[tuple[str, dict[str, object]]]:
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


@check("STATUS-002", "status words are in the vocabulary", forms=["status", "status-multi"],
       applies=Applies.SUCCESS)
def status_word_known(exchange: Exchange, facts: Facts) -> None:
    for label, item in _status_objects(exchange):
        if values.order_status(item.get("status")) is None:
            broken(f"{label}: unknown status word {item.get('status')!r}")


@check("STATUS-003", "status words use the canonical spelling",
       forms=["status", "status-multi"], applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def status_word_canonical(exchange: Exchange, facts: Facts) -> None:
    canonical = {s.value for s in values.OrderStatus}
    for label, item in _status_objects(exchange):
        word = item.get("status")
        if values.order_status(word) is not None and word not in canonical:
            broken(f"{label}: status spelled {word!r}")


@check("STATUS-004", "remains is a count", forms=["status", "status-multi"],
       applies=Applies.SUCCESS)
def remains_in_range(exchange: Exchange, facts: Facts) -> None:
    for label, item in _status_objects(exchange):
        if "remains" not in item:
            continue
        if values.count(item["remains"]) is None:
            broken(f"{label}: remains {item['remains']!r} is not a count")


@check("STATUS-004", "remains never exceeds the ordered quantity", forms=["status"],
       applies=Applies.SUCCESS, needs=("quantity",))
def remains_within_quantity(exchange: Exchange, facts: Facts) -> None:
    for label, item in _status_objects(exchange):
        remains = values.count(item.get("remains"))
        if remains is not None and facts.quantity is not None and remains > facts.quantity:
            broken(f"{label}: remains {remains} exceeds the ordered {facts.quantity}")


@check("LIFE-005", "start_count is a non-negative integer", forms=["status", "status-multi"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def start_count_count(exchange: Exchange, facts: Facts) -> None:
    for label, item in _status_objects(exchange):
        # null while the order waits: the count is unknown until delivery starts.
        if item.get("start_count") is not None and values.count(item["start_count"]) is None:
            broken(f"{label}: start_count {item['start_count']!r}")


def _single_status(exchange: Exchange | None) -> dict[str, object] | None:
    if exchange is None or answer_kind(exchange) is not Applies.SUCCESS:
        return None
    body = exchange.json
    return body if isinstance(body, dict) and exchange.form == "status" else None


@check("STATUS-008", "an order's status never goes backwards", forms=["status"],
       applies=Applies.SUCCESS, needs=("previous",))
def status_never_backwards(exchange: Exchange, facts: Facts) -> None:
    before, now = _single_status(facts.previous), _single_status(exchange)
    if before is None or now is None:
        return
    old, new = values.order_status(before.get("status")), values.order_status(now.get("status"))
    if old is None or new is None:
        return
    if new.rank < old.rank or (old.terminal and new is not old):
        broken(f"status went from {before.get('status')!r} to {now.get('status')!r}")


@check("STATUS-009", "remains never grows", forms=["status"], applies=Applies.SUCCESS,
       needs=("previous",))
def remains_never_grows(exchange: Exchange, facts: Facts) -> None:
    before, now = _single_status(facts.previous), _single_status(exchange)
    if before is None or now is None:
        return
    old, new = values.count(before.get("remains")), values.count(now.get("remains"))
    if old is not None and new is not None and new > old:
        broken(f"remains grew from {old} to {new}")


@check("LIFE-004", "terminal statuses are final", forms=["status"], applies=Applies.SUCCESS,
       needs=("previous",))
def terminal_is_final(exchange: Exchange, facts: Facts) -> None:
    before, now = _single_status(facts.previous), _single_status(exchange)
    if before is None or now is None:
        return
    old = values.order_status(before.get("status"))
    if old is None or not old.terminal:
        return
    for name in ("status", "remains", "charge"):
        if name in before and str(before.get(name)) != str(now.get(name)):
            broken(f"{name} changed after {old.value}: {before.get(name)!r} -> {now.get(name)!r}")


# ---------------------------------------------------------------------------------------------
# Batches


@check("MSTATUS-001", "multi-status has one member per requested id", forms=["status-multi"],
       applies=Applies.SUCCESS)
def multi_status_keys(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if not isinstance(body, dict):
        broken(f"a {type(body).__name__}, not an object keyed by id")
    wanted = set(requested_ids(exchange))
    got = set(body)
    if wanted != got:
        missing, extra = sorted(wanted - got), sorted(got - wanted)
        broken(f"missing ids {missing[:5]}, unexpected keys {extra[:5]}")


@check("MSTATUS-004", "per-id errors are error objects", forms=["status-multi"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def multi_status_error_objects(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if isinstance(body, dict):
        for key, item in body.items():
            if isinstance(item, str):
                broken(f"id {key}: a bare string {item!r}, not {{\"error\": ...}}")


def _list_items_name_requested(exchange: Exchange, id_field: str, param: str) -> None:
    wanted = set(requested_ids(exchange, param))
    if not wanted:
        return
    body = exchange.json
    if not isinstance(body, list | dict):
        return  # null or a scalar: off the form's schema, that clause's failure alone
    items = body if isinstance(body, list) else [body]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            broken(f"item {index} is {item!r}, not an object")
        named = values.id_text(item.get(id_field))
        if named is None or named not in wanted:
            broken(f"item {index} names {id_field} {item.get(id_field)!r}, not a requested id")


@check("BATCH-005", "batch items name the id they answer",
       forms=["cancel", "refill-multi"], applies=Applies.SUCCESS)
def batch_items_name_orders(exchange: Exchange, facts: Facts) -> None:
    _list_items_name_requested(exchange, "order", "orders")


@check("BATCH-005", "batch items name the id they answer", forms=["refill_status-multi"],
       applies=Applies.SUCCESS)
def batch_items_name_refills(exchange: Exchange, facts: Facts) -> None:
    _list_items_name_requested(exchange, "refill", "refills")


@check("CANCEL-001", "cancel answers one item per requested id", forms=["cancel"],
       applies=Applies.SUCCESS)
def cancel_one_item_per_id(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    wanted = requested_ids(exchange)
    items = body if isinstance(body, list) else [body]
    named = {values.id_text(i.get("order")) for i in items if isinstance(i, dict)}
    missing = sorted(set(wanted) - {n for n in named if n})
    if missing:
        broken(f"no item for {missing[:5]}")


# ---------------------------------------------------------------------------------------------
# Canonical details with a SHOULD clause of their own


def _body(exchange: Exchange) -> dict[str, object]:
    return exchange.json if isinstance(exchange.json, dict) else {}


@check("SVC-006", "catalogue fields use the canonical types", forms=["services"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def services_canonical_types(exchange: Exchange, facts: Facts) -> None:
    for item in _items(exchange):
        label = f"service {item.get('service')!r}"
        if isinstance(item.get("service"), bool) or not isinstance(item.get("service"), int):
            broken(f"{label}: id is not a JSON integer")
        for name in ("rate", "min", "max"):
            if name in item and not isinstance(item[name], str):
                broken(f"{label}: {name} {item[name]!r} is not a string")
        for name in ("refill", "cancel", "dripfeed"):
            if name in item and not isinstance(item[name], bool):
                broken(f"{label}: {name} {item[name]!r} is not a boolean")


@check("BAL-003", "the balance is a string", forms=["balance"], applies=Applies.SUCCESS,
       grade=Grade.NON_STRICT)
def balance_is_a_string(exchange: Exchange, facts: Facts) -> None:
    balance = _body(exchange).get("balance")
    if balance is not None and not isinstance(balance, str):
        broken(f"balance {balance!r} is a JSON number")


@check("ADD-002", "order ids are JSON integers", forms=["add"], applies=Applies.SUCCESS,
       grade=Grade.NON_STRICT)
def order_id_is_an_integer(exchange: Exchange, facts: Facts) -> None:
    order = _body(exchange).get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        broken(f"order {order!r} is not a JSON integer")


@check("STATUS-007", "status numbers are strings", forms=["status", "status-multi"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def status_numbers_are_strings(exchange: Exchange, facts: Facts) -> None:
    for label, item in _status_objects(exchange):
        for name in ("charge", "start_count", "remains"):
            if name in item and not isinstance(item[name], str):
                broken(f"{label}: {name} {item[name]!r} is not a string")


@check("CANCEL-002", "an accepted cancel is reported as cancel 1", forms=["cancel"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def cancel_ack_is_one(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    for item in body if isinstance(body, list) else [body]:
        if not isinstance(item, dict) or "error" in item:
            continue
        ack = item.get("cancel")
        if isinstance(ack, dict) and "error" in ack:
            continue
        if ack != 1 or isinstance(ack, bool):
            broken(f"order {item.get('order')!r}: cancel {ack!r}, canonical 1")


@check("REFILL-005", "the single refill id is a string", forms=["refill"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def refill_id_is_a_string(exchange: Exchange, facts: Facts) -> None:
    refill = _body(exchange).get("refill")
    if refill is not None and not isinstance(refill, str):
        broken(f"refill {refill!r} is a JSON number")


@check("RSTATUS-004", "refill statuses use the canonical spelling", forms=["refill_status"],
       applies=Applies.SUCCESS, grade=Grade.NON_STRICT)
def refill_status_canonical(exchange: Exchange, facts: Facts) -> None:
    word = _body(exchange).get("status")
    if values.refill_status(word) is not None and word not in {
        s.value for s in values.RefillStatus
    }:
        broken(f"refill status spelled {word!r}")


DEFAULT_REGISTRY = _SCHEMA_CHECKS.merged(Registry.collect(globals()))


# ---------------------------------------------------------------------------------------------
# Expectations: outcome checks whose clause is the caller's.


def fail(
    clause: str,
    title: str,
    message: str,
    exchanges: Sequence[Exchange] = (),
    grade: Grade = Grade.FAIL,
) -> NoReturn:
    """Raise a :class:`CheckFailure`."""
    raise CheckFailure(clause, title, message, grade, exchanges)


def require(
    condition: bool,
    clause: str,
    title: str,
    message: str,
    exchanges: Sequence[Exchange] = (),
    grade: Grade = Grade.FAIL,
) -> None:
    """Raise a :class:`CheckFailure` unless ``condition`` holds."""
    if not condition:
        fail(clause, title, message, exchanges, grade)


def expect_error(exchange: Exchange, clause: str, what: str) -> str:
    """``exchange`` must be a refusal (an error answer below 500); returns the error message.

    A 5xx is no refusal: on a protocol request it is ROBUST-001's failure (and the judge
    counts ``clause`` as blocked by it), on a probe it is ``clause``'s own."""
    kind = answer_kind(exchange)
    if kind is not Applies.ERROR or server_broke(exchange):
        got = (
            "no JSON answer" if kind is None else f"HTTP {exchange.status} {exchange.text[:120]}"
        )
        fail(clause, what, f"expected an error envelope, got {got}", [exchange])
    return exchange.error_message or ""


def expect_success(exchange: Exchange, clause: str, what: str) -> object:
    """``exchange`` must be a JSON success answer; returns its body."""
    kind = answer_kind(exchange)
    if kind is not Applies.SUCCESS:
        got = "no JSON answer" if kind is None else f"HTTP {exchange.status} {exchange.text[:200]}"
        fail(clause, what, f"expected a success answer, got {got}", [exchange])
    return exchange.json

