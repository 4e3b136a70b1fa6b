"""Vendor dialects as data: one frozen :class:`Profile` type and the registry of profiles.

``reference`` speaks the canonical PerfectPanel shapes (seed 003) with every action and
service type; each vendor profile is ``dataclasses.replace(REFERENCE, ...)`` changing only the
knobs where its document differs, so a difference between two profiles is always a field, never
an ``if``. The wire layer (:mod:`mockpanel.wire`) reads these fields and nothing else about a
vendor; the state layer never sees a profile, only the :class:`~mockpanel.state.StateConfig`
built from one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, TypeVar

from mockpanel.errors import ErrorCode
from mockpanel.state import OrderStatus, RefillStatus, ServiceType
from mockpanel.state.catalog import AddForm
from mockpanel.state.ids import IdStyle

__all__ = [
    "ENCODING_FORM",
    "ENCODING_QUERY",
    "EXTENDED",
    "HANDLER_ADD",
    "HANDLER_BALANCE",
    "HANDLER_STATUS",
    "LARAVEL",
    "NUMBER_STYLE_NUMBER",
    "NUMBER_STYLE_STRING",
    "PERFECTPANEL",
    "PROFILES",
    "REFERENCE",
    "SMARTPANEL",
    "SMMAPI",
    "SMMHUB",
    "SMMPREMIUM",
    "SMMPRO",
    "SMMSERVER",
    "UNKNOWN_COUNT_ZERO",
    "CancelAck",
    "CancelShape",
    "Encoding",
    "ErrorSpec",
    "FlagStyle",
    "Handler",
    "ItemError",
    "NumberStyle",
    "Numbers",
    "Profile",
    "RateLimit",
    "ServiceField",
    "ServiceList",
    "Shapes",
    "StatusField",
    "TypeSpelling",
    "UnknownCount",
    "Wire",
    "get_profile",
]

StatusField = Literal["order", "charge", "start_count", "status", "remains", "currency"]
ServiceField = Literal[
    "service", "name", "type", "category", "rate", "min", "max", "dripfeed", "refill", "cancel"
]
Scalar = str | int
Fields = tuple[tuple[str, Scalar], ...]  # constant body fields, in order
K = TypeVar("K")
V = TypeVar("V")


class Encoding(StrEnum):
    """Where request fields may come from."""

    FORM = "form"  # application/x-www-form-urlencoded body
    JSON = "json"  # application/json body holding one object of scalars
    QUERY = "query"  # the URL query string (GET, or alongside a POST body, like PHP $_REQUEST)


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
ENCODING_FORM: Final = Encoding.FORM
ENCODING_QUERY: Final = Encoding.QUERY


class Handler(StrEnum):
    """What an action does; a profile's action table maps its action names onto these."""

    SERVICES = "services"
    ADD = "add"
    STATUS = "status"  # ``order=``; also ``orders=`` when STATUS is in ``Shapes.batch``
    STATUS_MULTI = "status_multi"  # ``orders=`` only (smmpremium ``orders``, ``multiStatus``)
    CANCEL = "cancel"
    REFILL = "refill"  # ``order=``; also ``orders=`` when REFILL is in ``Shapes.batch``
    REFILL_STATUS = "refill_status"  # ``refill=``; ``refills=`` when in ``Shapes.batch``
    BALANCE = "balance"


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
HANDLER_ADD: Final = Handler.ADD
HANDLER_BALANCE: Final = Handler.BALANCE
HANDLER_STATUS: Final = Handler.STATUS


class NumberStyle(StrEnum):
    """How a number goes on the wire."""

    STRING = "string"  # "157"
    NUMBER = "number"  # 157 (ids that are not all digits stay strings whatever the style)


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
NUMBER_STYLE_NUMBER: Final = NumberStyle.NUMBER
NUMBER_STYLE_STRING: Final = NumberStyle.STRING


class UnknownCount(StrEnum):
    """How a ``start_count`` not known yet (a Pending order) is rendered."""

    ZERO = "zero"  # "start_count": "0"
    OMIT = "omit"  # no start_count field (seed 000's pending order)


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
UNKNOWN_COUNT_ZERO: Final = UnknownCount.ZERO


class FlagStyle(StrEnum):
    """How the services booleans (dripfeed, refill, cancel) are written."""

    BOOL = "bool"  # true
    INT = "int"  # 1
    STRING = "string"  # "1"


class TypeSpelling(StrEnum):
    """How a service type is named in the catalogue."""

    CANONICAL = "canonical"  # "Custom Comments"
    SNAKE = "snake"  # "custom_comments" (SmartPanel's database values)


class ItemError(StrEnum):
    """How one unknown id inside a multi-status answer is reported."""

    OBJECT = "object"  # "10": {"error": "Incorrect order ID"}
    STRING = "string"  # "10": "Incorrect order ID" (SmartPanel)


class CancelAck(StrEnum):
    """The value of ``cancel`` for an accepted cancel item."""

    FLAG = "flag"  # "cancel": 1
    SUCCESS = "success"  # "cancel": {"status": "success"}


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """How one :class:`ErrorCode` is answered: a message template, an HTTP status, and extra
    body fields some dialects add (the SMMApi script's ``"status": "102"``).

    ``by_status`` words a refusal by the state of the order it is about: pairs of an order
    status word (``"Completed"``) and the template used, instead of ``message``, when the
    error's ``status`` parameter is that status (smmhub refuses to cancel a completed order
    with "Order already completed", any other with its general wording).
    """

    message: str
    status: int = 200
    fields: Fields = ()
    by_status: tuple[tuple[str, str], ...] = ()

    def template(self, params: Mapping[str, object]) -> str:
        """The message template for an error carrying ``params``."""
        if self.by_status:
            status = params.get("status")
            for word, template in self.by_status:
                if status == word:  # an OrderStatus is a str enum: equal to its word
                    return template
        return self.message


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A published request budget: at most ``per_minute`` requests in any 60 seconds of the
    panel's clock, counted per API key (each tenant its own budget) or per client address.
    Enforced by :mod:`mockpanel.wire.ratelimit`; a run may override it (``MockConfig``)."""

    per_minute: int
    scope: Literal["key", "ip"]


@dataclass(frozen=True, slots=True)
class Wire:
    """Transport: where the API is served, what bodies it decodes, how it answers."""

    paths: tuple[str, ...] = ("/api/v2",)  # each also served with a trailing slash
    encodings: frozenset[Encoding] = frozenset(Encoding)
    content_type: str = "application/json"
    indent: int | None = None  # pretty-printed JSON (SmartPanel's JSON_PRETTY_PRINT)
    create_status: int = 200  # HTTP status of a successful add or single refill


@dataclass(frozen=True, slots=True)
class Numbers:
    """String or number, per field family. Canonical PerfectPanel: every count and amount a
    string, except the service id, the new order id and ids inside lists."""

    service_id: NumberStyle = NumberStyle.NUMBER
    rate: NumberStyle = NumberStyle.STRING
    limits: NumberStyle = NumberStyle.STRING  # services min/max
    order_id: NumberStyle = NumberStyle.NUMBER  # ``order`` of add and of list items
    refill_id: NumberStyle = NumberStyle.STRING  # ``refill`` answering a single refill
    listed_id: NumberStyle = NumberStyle.NUMBER  # ``refill`` inside multi-refill lists
    charge: NumberStyle = NumberStyle.STRING
    balance: NumberStyle = NumberStyle.STRING
    start_count: NumberStyle = NumberStyle.STRING
    remains: NumberStyle = NumberStyle.STRING
    add_extras: NumberStyle = NumberStyle.NUMBER  # smmpro's extra add fields
    unknown_start_count: UnknownCount = UnknownCount.ZERO
    # Every number of a webhook payload; None: each field in its own style above.
    webhook: NumberStyle | None = None


@dataclass(frozen=True, slots=True)
class ServiceList:
    """The ``services`` answer: which fields, how flags and types are spelled, which types."""

    fields: tuple[ServiceField, ...] = (
        "service", "name", "type", "category", "rate", "min", "max", "dripfeed", "refill",
        "cancel",
    )
    flags: FlagStyle = FlagStyle.BOOL
    type_spelling: TypeSpelling = TypeSpelling.CANONICAL
    types: frozenset[ServiceType] = frozenset(ServiceType)
    # The add form of each type the dialect takes otherwise than the standard (PerfectPanel)
    # way: see mockpanel.state.catalog.AddForm.
    forms: Mapping[ServiceType, AddForm] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    # Whether the services that could take drip-feed (runs + interval) do; False: every add
    # with runs or interval is refused, whatever the catalogue's flags would have said.
    takes_dripfeed: bool = True


@dataclass(frozen=True, slots=True)
class CancelShape:
    """One ``cancel`` item is ``{"order": id, "cancel": ACK}``; a refused one nests
    ``{"error": m}`` under ``cancel`` or, when ``error_nested`` is false, sits beside ``order``.
    ``unwrap_single`` answers a one-id request with the bare item (smmpremium)."""

    ack: CancelAck = CancelAck.FLAG
    error_nested: bool = True
    unwrap_single: bool = False


@dataclass(frozen=True, slots=True)
class Shapes:
    """Response shapes beyond the number types."""

    batch: frozenset[Handler] = frozenset({Handler.STATUS, Handler.REFILL, Handler.REFILL_STATUS})
    max_ids: int = 100
    status_fields: tuple[StatusField, ...] = (
        "charge", "start_count", "status", "remains", "currency",
    )
    multi_status_fields: tuple[StatusField, ...] = (
        "charge", "start_count", "status", "remains", "currency",
    )
    status_item_error: ItemError = ItemError.OBJECT
    add_fields: tuple[StatusField, ...] = ()  # extra fields after ``order`` (smmpro)
    # Constant fields leading a single-form success answer, per handler: SmartPanel's
    # {"status": "success", ...}, SMMApi's {"status": 100, ...}, SMMSERVER's refill message.
    wrappers: Mapping[Handler, Fields] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    cancel: CancelShape = CancelShape()


@dataclass(frozen=True, slots=True)
class Profile:
    """One vendor dialect. Mapping fields are read-only and left out of the hash."""

    name: str
    summary: str  # one line, for ``mockpanel profiles``
    source: str  # the seed file or protocol-variants section it is drawn from
    wire: Wire
    actions: Mapping[str, Handler] = field(hash=False)
    errors: Mapping[ErrorCode, ErrorSpec] = field(hash=False)
    currency: str
    money_places: int
    id_style: IdStyle
    numbers: Numbers
    # Spellings of order statuses; naming a non-canonical status (Done, Failed) here is what
    # puts it in the dialect's vocabulary (wire.setup.state_config).
    order_words: Mapping[OrderStatus, str] = field(hash=False)
    refill_words: Mapping[RefillStatus, str] = field(hash=False)
    services: ServiceList
    shapes: Shapes
    cancellable: frozenset[OrderStatus]
    rate_limit: RateLimit | None
    webhooks: bool  # the vendor POSTs order status changes to a webhook URL (seed 004)

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ValueError(f"profile {self.name!r}: " + "; ".join(problems))

    def offers(self, handler: Handler) -> bool:
        """Whether some action of this profile reaches ``handler``."""
        return handler in self.actions.values()

    def action_for(self, handler: Handler) -> str | None:
        """The action name that reaches ``handler`` (the first, if several do)."""
        return next((name for name, h in self.actions.items() if h is handler), None)


def _problems(profile: Profile) -> Iterable[str]:
    missing = set(ErrorCode) - set(profile.errors)
    if missing:
        yield "no wording for " + ", ".join(sorted(code.value for code in missing))
    for code, spec in profile.errors.items():
        # Only 200 or a 4xx: a 5xx from the mock must always mean a mock bug.
        if spec.status != 200 and not 400 <= spec.status <= 499:
            yield f"{code.value} answers HTTP {spec.status}; errors may only use 200 or 4xx"
        if not _is_template(spec.message):
            yield f"{code.value}: {spec.message!r} is not a template of named {{fields}}"
        for word, template in spec.by_status:
            if word not in _ORDER_STATUS_WORDS:
                yield f"{code.value}: {word!r} is not an order status"
            if not _is_template(template):
                yield f"{code.value}: {template!r} is not a template of named {{fields}}"
    if not 200 <= profile.wire.create_status <= 299:
        yield f"create_status {profile.wire.create_status} is not a 2xx"
    if not profile.wire.paths or any(
        not p.startswith("/") or p.endswith("/") for p in profile.wire.paths
    ):
        yield "paths must be non-empty and each start, but not end, with '/'"
    if not profile.wire.encodings:
        yield "at least one encoding must be accepted"
    if not re.fullmatch("[A-Z]{3}", profile.currency):
        yield f"currency {profile.currency!r} is not an ISO 4217 code"
    if not 0 <= profile.money_places <= 8:
        yield f"money_places {profile.money_places} is outside 0..8"
    if not profile.actions:
        yield "no actions"
    if not profile.services.types:
        yield "no service types"
    if profile.shapes.max_ids < 1:
        yield "max_ids must be at least 1"
    if profile.rate_limit is not None and profile.rate_limit.per_minute < 1:
        yield "rate_limit.per_minute must be at least 1"
    if profile.rate_limit is not None and profile.rate_limit.scope not in ("key", "ip"):
        yield "rate_limit.scope must be 'key' or 'ip'"


_ORDER_STATUS_WORDS: Final = frozenset(status.value for status in OrderStatus)


def _is_template(message: str) -> bool:
    """A non-empty message whose placeholders are all plain ``{name}`` fields."""
    try:
        parsed = list(string.Formatter().parse(message))
    except ValueError:
        return False
    fields = [(name, spec, conversion) for _, name, spec, conversion in parsed if name is not None]
    return bool(message.strip()) and all(
        name.isidentifier() and not spec and conversion is None for name, spec, conversion in fields
    )


def _read_only(items: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(items))


def _errors(
    base: Mapping[ErrorCode, ErrorSpec],
    *,
    messages: Mapping[ErrorCode, str] | None = None,
    statuses: Mapping[ErrorCode, int] | None = None,
    fields: Mapping[ErrorCode, Fields] | None = None,
    by_status: Mapping[ErrorCode, Mapping[OrderStatus, str]] | None = None,
) -> Mapping[ErrorCode, ErrorSpec]:
    """``base`` with some messages, statuses, extra fields and per-status wordings replaced."""
    messages, statuses, fields = messages or {}, statuses or {}, fields or {}
    worded = {
        code: tuple((status.value, text) for status, text in table.items())
        for code, table in (by_status or {}).items()
    }
    return _read_only(
        {
            code: ErrorSpec(
                messages.get(code, spec.message),
                statuses.get(code, spec.status),
                fields.get(code, spec.fields),
                worded.get(code, spec.by_status),
            )
            for code, spec in base.items()
        }
    )


def _statuses(default: int, groups: Mapping[int, Iterable[ErrorCode]]) -> dict[ErrorCode, int]:
    """Every code answering ``default`` except those listed under another status."""
    table = dict.fromkeys(ErrorCode, default)
    for status, codes in groups.items():
        table.update(dict.fromkeys(codes, status))
    return table


_E = ErrorCode
_H = Handler
_O = OrderStatus
_R = RefillStatus
_T = ServiceType
_N = NumberStyle

# Panels that answer errors with real HTTP codes (seeds 000 and 004): 400 for a bad request,
# 401 for the key, 402 for funds, 403 for a suspended account, 404 for unknown ids, 429 when
# throttled. The 403 is seed 000's ("| 403 | Account suspended | Contact support. |"); seed
# 004's table lists no suspension at all, so its panel gets the same: HTTP's own code for a
# caller who is known (a 401 would tell it to fix a key that is right) but not allowed.
_REAL_HTTP_STATUSES: Final = _statuses(
    400,
    {
        401: (_E.MISSING_KEY, _E.INVALID_KEY),
        402: (_E.INSUFFICIENT_FUNDS,),
        403: (_E.ACCOUNT_SUSPENDED,),
        404: (_E.UNKNOWN_ORDER, _E.UNKNOWN_SERVICE, _E.UNKNOWN_REFILL),
        429: (_E.RATE_LIMITED,),
    },
)

# PerfectPanel's own strings where they are attested ("Invalid API key", "Incorrect order ID",
# "Incorrect service ID", "Not enough funds on balance", "Quantity less than minimal N",
# "Refill not found"); the request-shape errors say what was wrong, because a reference mock
# that answers a malformed request with a bare "Incorrect request" helps nobody.
_PP_ERRORS: Final = _read_only(
    {
        _E.BAD_REQUEST: ErrorSpec("Incorrect request: {detail}"),
        _E.BODY_TOO_LARGE: ErrorSpec("Incorrect request: the body is larger than {limit} bytes"),
        _E.UNSUPPORTED_ENCODING: ErrorSpec(
            "Incorrect request: content type {encoding} is not accepted (send {accepted})"
        ),
        _E.MISSING_KEY: ErrorSpec("Invalid API key"),
        _E.INVALID_KEY: ErrorSpec("Invalid API key"),
        # No PerfectPanel page words a suspended account; seed 000's "Account suspended" is
        # the one seed that does, answered here as every refusal of this family is (HTTP 200).
        _E.ACCOUNT_SUSPENDED: ErrorSpec("Account suspended"),
        _E.MISSING_ACTION: ErrorSpec("Incorrect request: the action parameter is missing"),
        _E.UNKNOWN_ACTION: ErrorSpec("Incorrect request: unknown action {action}"),
        _E.MISSING_PARAM: ErrorSpec("Incorrect request: the {param} parameter is missing"),
        _E.INVALID_PARAM: ErrorSpec("Incorrect request: invalid {param}"),
        _E.TOO_MANY_IDS: ErrorSpec("Incorrect request: at most {limit} IDs per request"),
        # HTTP 429 even where every other error is a 200: throttling is the web server's
        # refusal, not the API's (STARS, NOTPANEL in protocol-variants.md section 8).
        _E.RATE_LIMITED: ErrorSpec("Rate limit exceeded", 429),
        _E.UNKNOWN_SERVICE: ErrorSpec("Incorrect service ID"),
        _E.SERVICE_TYPE_NOT_SUPPORTED: ErrorSpec("Incorrect service ID"),
        _E.SUBSCRIPTION_NOT_VIA_API: ErrorSpec(
            "Subscriptions can only be created on the website, not through the API"
        ),
        _E.INVALID_LINK: ErrorSpec("Incorrect link"),
        _E.QUANTITY_TOO_LOW: ErrorSpec("Quantity less than minimal {min}"),
        _E.QUANTITY_TOO_HIGH: ErrorSpec("Quantity more than maximum {max}"),
        _E.DRIPFEED_NOT_SUPPORTED: ErrorSpec("Drip-feed is not available for this service"),
        _E.INSUFFICIENT_FUNDS: ErrorSpec("Not enough funds on balance"),
        _E.UNKNOWN_ORDER: ErrorSpec("Incorrect order ID"),
        _E.ORDER_NOT_CANCELLABLE: ErrorSpec("The order cannot be canceled"),
        _E.REFILL_NOT_AVAILABLE: ErrorSpec("Refill is disabled for this service"),
        _E.ORDER_NOT_COMPLETED: ErrorSpec("The order is not completed"),
        _E.REFILL_WINDOW_EXPIRED: ErrorSpec("The refill period of this order has expired"),
        _E.UNKNOWN_REFILL: ErrorSpec("Refill not found"),
    }
)

_CANONICAL_ACTIONS: Final = _read_only(
    {
        "services": _H.SERVICES,
        "add": _H.ADD,
        "status": _H.STATUS,
        "cancel": _H.CANCEL,
        "refill": _H.REFILL,
        "refill_status": _H.REFILL_STATUS,
        "balance": _H.BALANCE,
    }
)


def _actions(*names: str, **extra: Handler) -> Mapping[str, Handler]:
    """The canonical actions named in ``names`` plus vendor-specific ``extra`` ones."""
    return _read_only({name: _CANONICAL_ACTIONS[name] for name in names} | extra)


_NO_WORDS: Final[Mapping[OrderStatus, str]] = _read_only({})
_NO_REFILL_WORDS: Final[Mapping[RefillStatus, str]] = _read_only({})

REFERENCE: Final = Profile(
    name="reference",
    summary="canonical PerfectPanel shapes, every action and service type, errors as HTTP 200",
    source="003_41f8170a78346ebb.txt + protocol-variants.md section 2 (canonical column)",
    wire=Wire(),
    actions=_CANONICAL_ACTIONS,
    errors=_PP_ERRORS,
    currency="USD",
    money_places=5,
    id_style="numeric",
    numbers=Numbers(),
    order_words=_NO_WORDS,
    refill_words=_NO_REFILL_WORDS,
    services=ServiceList(),
    shapes=Shapes(),
    cancellable=frozenset({_O.PENDING}),
    rate_limit=None,
    webhooks=False,
)

PERFECTPANEL: Final = replace(
    REFERENCE,
    name="perfectpanel",
    summary="seed 003 exactly: form bodies only, no drip-feed, errors as HTTP 200",
    source="003_41f8170a78346ebb.txt",
    wire=Wire(encodings=frozenset({Encoding.FORM})),
    # Seed 003's add takes service, link and quantity only: no runs or interval anywhere on the
    # page, and no dripfeed field in its catalogue. So its services refuse drip-feed rather
    # than take it silently (a panel taking drip-feed it does not advertise is SVC-010's
    # NON-STRICT, which this page gives no ground for).
    services=ServiceList(
        fields=("service", "name", "type", "category", "rate", "min", "max", "refill", "cancel"),
        takes_dripfeed=False,
    ),
)

# smmpremium: a 4xx for every refusal, by its table (400/401/402/403/404/429/500).
SMMPREMIUM: Final = replace(
    REFERENCE,
    name="smmpremium",
    summary="INR, alphanumeric ids, JSON or form, `orders` multi-status, real HTTP 4xx codes",
    source="000_9cacb542ce98a4dc.txt",
    wire=Wire(encodings=frozenset({Encoding.FORM, Encoding.JSON})),
    actions=_actions(
        "services", "balance", "add", "status", "cancel", "refill", "refill_status",
        orders=_H.STATUS_MULTI,
    ),
    errors=_errors(
        _PP_ERRORS,
        statuses=_REAL_HTTP_STATUSES,
    ),
    currency="INR",
    money_places=2,
    id_style="alphanumeric",
    numbers=Numbers(
        limits=_N.NUMBER,
        start_count=_N.NUMBER,
        unknown_start_count=UnknownCount.OMIT,
    ),
    shapes=Shapes(
        batch=frozenset(),
        cancel=CancelShape(ack=CancelAck.SUCCESS, unwrap_single=True),
    ),
    services=ServiceList(types=frozenset({_T.DEFAULT})),
    rate_limit=RateLimit(100, "key"),
)

# Money: kept AND printed at 2 places (cents), charges rounded half up once, when priced, so the
# ledger is exact and the printed balance is exactly what the account holds. Seed 001 shows
# 5-place charges ("charge": "0.27819" in Order Status and Bulk Status) but those two samples
# are the stock PerfectPanel example copied whole (seed 003 and seed 004 show the same
# "0.27819", "3572", "157"); where smmpro wrote its own figures they have 2 places: the
# balance, edited from the stock "100.84292" to "100.84", and its own add answer's
# "charge": 4.20 (rate "0.420" x 10000 / 1000). Keeping 5 places while printing a 2-place
# balance would hide debits below a cent from the balance (0.00819 of a 0.27819 charge) and
# break "the charge in status equals the debit", which a client can only check through the
# balance (tried: a 5-place ledger behind a 2-place balance fails MONEY-001, -007, -010, -011,
# ISO-005 and LIFE-002 of the harness); so the one precision is the one the vendor printed.
SMMPRO: Final = replace(
    REFERENCE,
    name="smmpro",
    summary="add answers status/charge/start_count/remains/currency; lean bulk status items",
    source="001_83170cb3c7cbf73c.txt",
    wire=Wire(encodings=frozenset({Encoding.FORM})),
    actions=_actions("services", "add", "status", "refill", "balance"),
    money_places=2,
    shapes=Shapes(
        batch=frozenset({_H.STATUS}),
        multi_status_fields=("charge", "status", "remains"),
        add_fields=("status", "charge", "start_count", "remains", "currency"),
    ),
    services=ServiceList(types=frozenset({_T.DEFAULT})),
    # "Status values: Pending · In progress · Completed · Partial · Canceled · Processing",
    # while its example shows "In progress" for a running order: Processing is In progress in
    # the word some providers use (seed 000: "Same as in progress (used by some providers)";
    # mockpanel.state.orders.OrderStatus). Reached by a magic link (mock_outcome=processing):
    # the order shows Processing while it works, then ends Completed.
    order_words=_read_only({_O.PROCESSING: "Processing"}),
)

SMMHUB: Final = replace(
    REFERENCE,
    name="smmhub",
    summary="form only; its own error strings; cancel, multi refill and refill_status lists",
    source="002_fba3e2809a2ac43d.txt",
    wire=Wire(encodings=frozenset({Encoding.FORM})),
    errors=_errors(
        _PP_ERRORS,
        messages={
            _E.MISSING_KEY: "Invalid API key",
            _E.INSUFFICIENT_FUNDS: "Insufficient balance",
            _E.UNKNOWN_SERVICE: "Service is not active",
            _E.SERVICE_TYPE_NOT_SUPPORTED: "Service is not active",
            _E.QUANTITY_TOO_LOW: "Quantity is too low",
            _E.QUANTITY_TOO_HIGH: "Quantity is too high",
            _E.REFILL_NOT_AVAILABLE: "Refill not available",
            _E.REFILL_WINDOW_EXPIRED: "Refill not available",
            _E.ORDER_NOT_COMPLETED: "Order not eligible for refill",
            _E.ORDER_NOT_CANCELLABLE: "Order cannot be canceled",
        },
        # Seed 002's cancel example: { "order": 1832048, "cancel": { "error": "Order already
        # completed" } }. Other refusals (a Partial or Canceled order, a service without
        # cancel) keep the general wording above, which the seed does not contradict.
        by_status={_E.ORDER_NOT_CANCELLABLE: {_O.COMPLETED: "Order already completed"}},
    ),
    services=ServiceList(
        fields=("service", "name", "type", "category", "rate", "min", "max", "refill", "cancel"),
        types=frozenset({_T.DEFAULT, _T.PACKAGE, _T.CUSTOM_COMMENTS}),
    ),
    cancellable=frozenset({_O.PENDING, _O.IN_PROGRESS}),
    rate_limit=RateLimit(60, "key"),
    # "Status values: Pending, In progress, Processing, Completed, Partial, Canceled", its
    # examples showing "In progress": Processing as for smmpro (a provider's word for In
    # progress, reached by mock_outcome=processing; an In-progress order of that provider is
    # cancellable as any In-progress one).
    order_words=_read_only({_O.PROCESSING: "Processing"}),
)

EXTENDED: Final = replace(
    REFERENCE,
    name="extended",
    summary="typed add variants, `multiStatus`, string service ids, HTTP 4xx errors, webhooks",
    source="004_48888adee68f2136.txt",
    wire=Wire(encodings=frozenset({Encoding.FORM})),
    # Seed 004 documents no refill section, but says "Status / cancel / refill on an existing
    # subscription still work normally through the API": refill (one order) is offered.
    actions=_actions(
        "balance", "services", "add", "status", "cancel", "refill", multiStatus=_H.STATUS_MULTI
    ),
    errors=_errors(
        _PP_ERRORS,
        statuses=_REAL_HTTP_STATUSES,
    ),
    numbers=Numbers(service_id=_N.STRING, webhook=_N.NUMBER),  # its webhook sample's numbers
    # "Possible status values: Pending In progress Partial Completed Done Canceled Failed".
    # Done is Completed in another word; Failed is an order the provider could not deliver at
    # all, refunded in full like Canceled (mockpanel.state.orders.OrderStatus says why). The
    # lifecycle reaches them through magic links (mock_outcome=done|failed) and the control
    # API's outcome; a plain order still ends Completed, as the seed's webhook sample shows.
    order_words=_read_only({_O.DONE: "Done", _O.FAILED: "Failed"}),
    services=ServiceList(
        fields=("service", "name", "type", "rate", "min", "max", "category"),
        types=frozenset(
            {
                _T.DEFAULT, _T.SEO, _T.CUSTOM_COMMENTS, _T.CUSTOM_COMMENTS_PACKAGE, _T.POLL,
                _T.SUBSCRIPTIONS, _T.INVITES_FROM_GROUPS, _T.PACKAGE,
            }
        ),
        # Its Custom Comments Package takes username, min, max, delay, posts, old_posts and
        # expiry: "Total quantity is computed server-side as posts × max; charge is billed at  # noqa: RUF003
        # the upper bound and the undelivered slice is pro-rata refunded at completion".
        # Billed per 1000 of posts * max; delivered (min + max) // 2 per post, so it ends
        # Partial with the undelivered slice refunded (Completed when min == max), never
        # Completed with something remaining (LIFE-002). The classic link + comments form
        # stays where protocol-variants.md documents it (section 5: reference, smartpanel).
        forms=_read_only({_T.CUSTOM_COMMENTS_PACKAGE: AddForm.PER_POST}),
    ),
    shapes=Shapes(
        batch=frozenset(),
        cancel=CancelShape(ack=CancelAck.SUCCESS, error_nested=False),
    ),
    rate_limit=RateLimit(1000, "ip"),
    webhooks=True,
)

_SP_SUCCESS: Final[Fields] = (("status", "success"),)

# SmartPanel (CodeIgniter script): /api/v1, $_REQUEST (form or query), pretty JSON printed
# without a Content-Type (PHP's text/html default), "status":"success" on object answers, raw
# database rows in services, bare-string errors inside multi-status, and its lang() strings.
SMARTPANEL: Final = replace(
    REFERENCE,
    name="smartpanel",
    summary='SmartPanel script: /api/v1, GET accepted, "status":"success" wrappers, text/html',
    source="protocol-variants.md: SP, SP-REFILL, SP-LANG, SP-ECHO, FOLLOWERAN",
    wire=Wire(
        paths=("/api/v2", "/api/v1"),
        encodings=frozenset({Encoding.FORM, Encoding.QUERY}),
        content_type="text/html; charset=UTF-8",
        indent=4,
    ),
    actions=_actions("services", "add", "status", "refill", "refill_status", "balance"),
    errors=_errors(
        _PP_ERRORS,
        messages={
            _E.MISSING_KEY: "API is Disable for this user or User Not Found! Contact the Support",
            _E.INVALID_KEY: "API is Disable for this user or User Not Found! Contact the Support",
            # protocol-variants.md section 6: the same string for "bad key / disabled" (SP)
            _E.ACCOUNT_SUSPENDED: (
                "API is Disable for this user or User Not Found! Contact the Support"
            ),
            _E.MISSING_ACTION: "This action is Invalid",
            _E.UNKNOWN_ACTION: "This action is Invalid",
            _E.MISSING_PARAM: "There are missing required parameters. Please check your API Manual",
            _E.UNKNOWN_SERVICE: "Service ID does not exists",
            _E.SERVICE_TYPE_NOT_SUPPORTED: "Service ID does not exists",
            _E.INVALID_LINK: "Bad Link",
            _E.QUANTITY_TOO_LOW: (
                "Quantity must to be greater than or equal to minimum amount {min}"
            ),
            _E.QUANTITY_TOO_HIGH: "Quantity must to be less than or equal to maximum amount {max}",
            _E.DRIPFEED_NOT_SUPPORTED: "This services does not support Dripfeed feature!",
        },
    ),
    numbers=Numbers(service_id=_N.STRING),
    services=ServiceList(
        fields=("service", "name", "category", "rate", "min", "max", "type", "dripfeed", "refill"),
        flags=FlagStyle.INT,
        type_spelling=TypeSpelling.SNAKE,
    ),
    shapes=Shapes(
        batch=frozenset({_H.STATUS}),
        status_fields=("order", "charge", "start_count", "status", "remains", "currency"),
        status_item_error=ItemError.STRING,
        wrappers=_read_only({_H.ADD: _SP_SUCCESS, _H.BALANCE: _SP_SUCCESS}),
    ),
)

# A Laravel panel billing in BRL (LAR-BRL): 422 for validation and business refusals, 401 for
# the key, 201 for a created order or refill, integer counts and min/max.
LARAVEL: Final = replace(
    REFERENCE,
    name="laravel",
    summary="Laravel panel: 422 for refusals, 401 for the key, 201 on create, BRL",
    source="protocol-variants.md: LAR-BRL (sections 1, 2, 6)",
    wire=Wire(encodings=frozenset({Encoding.FORM, Encoding.JSON}), create_status=201),
    errors=_errors(
        _PP_ERRORS,
        messages={
            _E.INVALID_LINK: "Bad link",
            _E.REFILL_WINDOW_EXPIRED: (
                "The order was completed or refill was requested less than 24 hours ago"
            ),
            # protocol-variants.md section 6: "Your account has been suspended." (LAR-BRL, 401)
            _E.ACCOUNT_SUSPENDED: "Your account has been suspended.",
        },
        statuses=_statuses(
            422,
            {
                401: (_E.MISSING_KEY, _E.INVALID_KEY, _E.ACCOUNT_SUSPENDED),
                429: (_E.RATE_LIMITED,),
            },
        ),
    ),
    currency="BRL",
    money_places=2,
    numbers=Numbers(limits=_N.NUMBER, remains=_N.NUMBER),
)

# The Turkish "SMMApi" script in its English build (TR): `Inprogress` from ucfirst() of the
# database value, numbered error codes beside the message, and "status":100 on a new order.
SMMAPI: Final = replace(
    REFERENCE,
    name="smmapi",
    summary='SMMApi script: "Inprogress" spelling, coded errors {"error","status":"10x"}',
    source="protocol-variants.md: TR (sections 2, 3, 6)",
    wire=Wire(encodings=frozenset({Encoding.FORM, Encoding.QUERY})),
    errors=_errors(
        _PP_ERRORS,
        messages={
            _E.MISSING_KEY: "Missing data",
            _E.MISSING_ACTION: "Missing data",
            _E.INVALID_KEY: "API key invalid",
            # protocol-variants.md section 6: "Your account is inactive" + "status":"103" (TR)
            _E.ACCOUNT_SUSPENDED: "Your account is inactive",
            _E.UNKNOWN_ORDER: "Order not found.",
            _E.UNKNOWN_SERVICE: "Service not found or inactive",
            _E.SERVICE_TYPE_NOT_SUPPORTED: "Service not found or inactive",
            _E.MISSING_PARAM: "You must fill in the required fields.",
            _E.QUANTITY_TOO_LOW: "Enter a value above the minimum number.",
            _E.QUANTITY_TOO_HIGH: "Maximum number exceed.",
            _E.INSUFFICIENT_FUNDS: "Your balance is insufficient.",
            _E.REFILL_NOT_AVAILABLE: "Refill not allowed",
            _E.ORDER_NOT_COMPLETED: "Refill not allowed",
            _E.REFILL_WINDOW_EXPIRED: "Refill not allowed",
        },
        fields={
            _E.MISSING_KEY: (("status", "101"),),
            _E.MISSING_ACTION: (("status", "101"),),
            _E.INVALID_KEY: (("status", "102"),),
            _E.ACCOUNT_SUSPENDED: (("status", "103"),),
            _E.UNKNOWN_ORDER: (("status", "104"),),
            _E.UNKNOWN_SERVICE: (("status", "105"),),
            _E.SERVICE_TYPE_NOT_SUPPORTED: (("status", "105"),),
            _E.MISSING_PARAM: (("status", "107"),),
            _E.QUANTITY_TOO_LOW: (("status", "108"),),
            _E.QUANTITY_TOO_HIGH: (("status", "109"),),
            _E.INSUFFICIENT_FUNDS: (("status", "113"),),
        },
    ),
    currency="TRY",
    money_places=2,
    order_words=_read_only({_O.IN_PROGRESS: "Inprogress"}),
    shapes=Shapes(wrappers=_read_only({_H.ADD: (("status", 100),)})),
)

# SMMSERVER / SMMPSTORE family (pages smmserver.life/api, pro.smmpanels.store/api): `Cancelled`
# with a double L for orders and refills, the new order id as a string, an integer refill id
# after a "success" message. Its cancel example could not be read in full, so the profile
# offers no cancel rather than a guessed one.
SMMSERVER: Final = replace(
    REFERENCE,
    name="smmserver",
    summary='SMMSERVER family: "Cancelled" spelling, string order ids, refill "success" message',
    source="protocol-variants.md: SMMSERVER, SMMPSTORE (sections 2, 3, 6)",
    wire=Wire(encodings=frozenset({Encoding.FORM})),
    actions=_actions("services", "add", "status", "refill", "refill_status", "balance"),
    errors=_errors(
        _PP_ERRORS,
        messages={
            _E.REFILL_NOT_AVAILABLE: "Order not eligible for refill.",
            _E.ORDER_NOT_COMPLETED: "Order not eligible for refill.",
            _E.REFILL_WINDOW_EXPIRED: "Order not eligible for refill.",
            _E.UNKNOWN_REFILL: "Refill Request Not found",
        },
    ),
    numbers=Numbers(order_id=_N.STRING, refill_id=_N.NUMBER),
    order_words=_read_only({_O.CANCELED: "Cancelled"}),
    refill_words=_read_only({_R.REJECTED: "Cancelled"}),
    shapes=Shapes(
        wrappers=_read_only(
            {_H.REFILL: (("success", "Your order will be refill asap. Thank you for patience"),)}
        )
    ),
)

PROFILES: Final[Mapping[str, Profile]] = _read_only(
    {
        p.name: p
        for p in (
            REFERENCE, PERFECTPANEL, SMMPREMIUM, SMMPRO, SMMHUB, EXTENDED, SMARTPANEL, LARAVEL,
            SMMAPI, SMMSERVER,
        )
    }
)


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(
            f"unknown profile {name!r}; known profiles: {', '.join(sorted(PROFILES))}"
        ) from None
