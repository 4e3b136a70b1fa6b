"""The profile type: one frozen :class:`Profile` describing a vendor dialect, and its checks.

A difference between two dialects is always a field of a :class:`Profile`, never an ``if``.
The wire layer (:mod:`mockpanel.wire`) reads these fields and nothing else about a vendor; the
state layer never sees a profile, only the :class:`~mockpanel.state.StateConfig` built from
one. The profiles themselves are data files (``mockpanel/profiles/builtin/*.yaml``, or a user's
own through ``--profile-file``), read into this type by :mod:`mockpanel.profiles.files`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

from mockpanel.errors import ErrorCode
from mockpanel.state import OrderStatus, RefillStatus, ServiceType
from mockpanel.state.catalog import Service, default_catalog
from mockpanel.state.ids import IdStyle

__all__ = [
    "ENCODING_FORM",
    "ENCODING_QUERY",
    "HANDLER_ADD",
    "HANDLER_BALANCE",
    "HANDLER_STATUS",
    "NUMBER_STYLE_NUMBER",
    "NUMBER_STYLE_STRING",
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
]

StatusField = Literal["order", "charge", "start_count", "status", "remains", "currency"]
ServiceField = Literal[
    "service", "name", "type", "category", "rate", "min", "max", "dripfeed", "refill", "cancel"
]
Scalar = str | int
Fields = tuple[tuple[str, Scalar], ...]  # constant body fields, in order


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
    # Whether the services that could take drip-feed (runs + interval) do; False: every add
    # with runs or interval is refused, whatever the catalogue's flags would have said.
    takes_dripfeed: bool = True
    # The services the panel lists (ids, names, types, rates, limits, flags, refill days, the
    # add form: mockpanel.state.catalog.AddForm); those of a type in ``types`` are served.
    catalog: tuple[Service, ...] = field(default_factory=default_catalog)


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
    ids = [service.id for service in profile.services.catalog]
    if len(set(ids)) != len(ids):
        yield "services.catalog lists a service id twice"
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
