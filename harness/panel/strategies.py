"""Hypothesis strategies for API requests, derived from the request schemas and the live catalogue.

The schemas say which fields each form and each service type requires, which values are enums,
and which shape (pattern, length) every field has; the catalogue says what a panel will accept
(service ids, min..max, prices). Strategies are built, never filtered, from both, so that a
failing example shrinks to a readable minimal request: the cheapest affordable service, its
smallest visible quantity, the shortest link, no drip-feed, the fewest comment lines.

Every spending strategy is budget-aware: it only produces requests whose worst-case charge at
the panel's money precision fits the per-example budget it is given (see
:func:`example_budget`), so a property run can never take more than its share of
``--panel-max-spend``. Strategies need no panel: the suite feeds them the catalogue it read.

Public strategies (plural nouns, each a ``SearchStrategy``):

- :func:`action_requests`: valid requests of every action but ``add`` (read-only ids only).
- :func:`orders`: valid, affordable ``add`` requests of every orderable service type.
- :func:`malformed_orders`: ``add`` requests broken one way each (missing, empty, extra,
  wrong-typed, out-of-range, oversized fields), with the clause a refusal proves.
- :func:`malformed_bodies`: valid non-spending requests sent with a wrong encoding.

Each has a twin returning explicit examples (:func:`action_examples`, :func:`order_examples`,
:func:`malformed_order_examples`, :func:`malformed_body_examples`): the simplest request of
every form, service type, defect and encoding, built by the same code with every choice at its
minimum, so that a property run tries each of them whatever the random examples turn out to be.
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import urlencode

from hypothesis import strategies as st

from harness import contract
from harness.base.exchange import KEY_SLOT
from harness.panel.catalog import (
    FLAT_TYPES,
    NEVER_ISSUED_PREFIX,
    PER_POST_TYPES,
    Catalog,
    OrderSpec,
    Service,
    visible_units,
    worst_case,
)

__all__ = [
    "LINK_BASE",
    "NEVER_ISSUED_PREFIX",
    "OVERSIZED",
    "READ_FORMS",
    "SPEND_SHARE",
    "ActionRequest",
    "MalformedBody",
    "MalformedOrder",
    "OrderShape",
    "action_examples",
    "action_requests",
    "affordable_services",
    "example_budget",
    "field_values",
    "malformed_bodies",
    "malformed_body_examples",
    "malformed_order_examples",
    "malformed_orders",
    "never_issued_ids",
    "order_examples",
    "order_shape",
    "orders",
    "worst_case",
]

LINK_BASE: Final = "https://example.com/smm-conformance/p"
"""Generated target links start here; the suite adds a per-run suffix."""
READ_FORMS: Final[tuple[str, ...]] = tuple(f for f in contract.REQUEST_FORMS if f != "add")
SPEND_SHARE: Final = Decimal("0.25")
"""The part of the remaining cap a spending property may use: the scenarios and later tests
need the rest."""
OVERSIZED: Final = 64 * 1024
"""Bytes of an oversized field: far beyond any schema maxLength, far below ROBUST-004's MiBs."""
_WORDS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10)
_TOKENS = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8)
_LINES_FIELDS = ("comments", "usernames", "keywords", "groups")
_URL_FIELDS = ("link", "media", "referring_url")
_X = TypeVar("_X")


class _Pick(Protocol):
    """Chooses a value: from a strategy while Hypothesis draws, or its given minimal value when
    building the explicit examples; one builder serves both, so they cannot drift apart."""

    def __call__(self, strategy: st.SearchStrategy[_X], minimal: _X) -> _X: ...


class _Draws:
    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def __call__(self, strategy: st.SearchStrategy[_X], minimal: _X) -> _X:
        return self._draw(strategy)


def _minimal(strategy: st.SearchStrategy[_X], minimal: _X) -> _X:
    return minimal


def _word(index: int) -> str:
    """``a`` .. ``z``, ``ba`` ..: distinct short words for the explicit examples."""
    letters = ""
    while True:
        index, rest = divmod(index, 26)
        letters = string.ascii_lowercase[rest] + letters
        if not index:
            return letters


# ---- values ---------------------------------------------------------------------------------


def example_budget(remaining: Decimal, examples: int, *, share: Decimal = Decimal(1)) -> Decimal:
    """What one example may spend at most: ``share`` of ``remaining`` split over ``examples``."""
    if examples < 1:
        raise ValueError("a property runs at least one example")
    if remaining < 0 or not Decimal(0) <= share <= 1:
        raise ValueError("the remaining budget and the share cannot be negative")
    return remaining * share / examples


@dataclass(frozen=True, slots=True)
class OrderShape:
    """What the ``add`` schema requires for one catalogue type, and how its quantity is told."""

    type: str
    required: tuple[str, ...]
    """Required parameters besides key, action and service, in schema order."""
    conditional: tuple[tuple[str, str, str], ...] = ()
    """``(param, value, requires)``: ``requires`` is needed when ``param`` equals ``value``."""
    lines_param: str | None = None
    """The parameter whose non-empty lines are the quantity (when ``quantity`` is not sent)."""
    also: tuple[str, ...] = ()
    """Required parameters of the type's other documented forms (the schema's later ``anyOf``
    alternatives), sent too: a panel reads its own form's and ignores the rest. Leaving one
    of these out is no defect, since the order is still valid in the first form."""

    @property
    def flat(self) -> bool:
        return self.type in FLAT_TYPES

    @property
    def per_post(self) -> bool:
        """Seed 004's per-post form is among the type's forms (see :func:`_per_post_values`)."""
        return self.type in PER_POST_TYPES

    @property
    def orderable(self) -> bool:
        """Whether the suite can order it: a link and a quantity it can price (Subscriptions
        have neither: their total charge is open-ended)."""
        return "link" in self.required and ("quantity" in self.required or self.flat
                                              or self.lines_param is not None)


@functools.cache
def order_shape(service_type: str) -> OrderShape | None:
    """The shape ``request/add.json`` gives a catalogue type label, or ``None`` if undocumented.

    For a type with alternative shapes (``anyOf``), the first alternative (PerfectPanel's) is
    :attr:`OrderShape.required` and the others' parameters are :attr:`OrderShape.also`.
    """
    name = contract.service_types().get(service_type)
    if name is None:
        return None
    definition = _document("add")["$defs"][name]
    required = list(definition.get("required", ()))
    also: list[str] = []
    alternatives = definition.get("anyOf", ())
    if not required and alternatives:
        required = list(alternatives[0].get("required", ()))
        also = [p for alt in alternatives[1:] for p in alt.get("required", ())
                if p not in required]
    conditional = tuple(
        (param, str(rule["const"]), needed)
        for item in definition.get("allOf", ())
        for param, rule in item["if"].get("properties", {}).items()
        for needed in item["then"].get("required", ())
    )
    lines = None
    if "quantity" not in required:
        lines = next((p for p in _LINES_FIELDS if p in required), None)
    return OrderShape(service_type, tuple(required), conditional, lines,
                      tuple(dict.fromkeys(also)))


@functools.cache
def _document(form: str) -> Mapping[str, Any]:
    return contract.schema(form, "request")


@functools.cache
def _property_schema(form: str, field: str) -> Mapping[str, Any]:
    """The subschema of ``field`` in ``request/<form>.json``, with its ``$ref`` resolved."""
    document = _document(form)
    properties = document.get("properties") or document["$defs"]["params"]["properties"]
    found: Mapping[str, Any] = properties[field]
    resolver = contract.registry().resolver(base_uri=document["$id"])
    while "$ref" in found:
        resolved = resolver.lookup(found["$ref"])
        resolver, found = resolved.resolver, resolved.contents
    return found


def field_values(form: str, field: str) -> st.SearchStrategy[str]:
    """Values of ``field`` that its request schema accepts: its ``const``, its ``enum`` (shrinks
    to the first), or its ``pattern`` within ``maxLength``."""
    schema = _property_schema(form, field)
    if "const" in schema:
        return st.just(str(schema["const"]))
    if "enum" in schema:
        return st.sampled_from([str(v) for v in schema["enum"]])
    pattern = schema.get("pattern", ".")
    strategy = st.from_regex(pattern, fullmatch=pattern.startswith("^"))
    most = schema.get("maxLength")
    if most is None:
        return strategy
    # Every anchored pattern of the contract still matches a prefix of its own long enough
    # match, so cutting at maxLength keeps the value valid.
    return strategy.map(lambda text: text[: int(most)])


# ---- read-only actions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """A request of a non-spending action: its form name and its parameters (no key)."""

    form: str
    params: tuple[tuple[str, str], ...]

    def body(self, key: str | None = None) -> dict[str, str]:
        """The form as a dict; ``key`` adds a key (only for schema validation in tests)."""
        return {**({"key": key} if key is not None else {}), **dict(self.params)}

    @property
    def action(self) -> str:
        return dict(self.params)["action"]


def never_issued_ids() -> st.SearchStrategy[str]:
    """Ids no panel has issued (13 digits from 9100000000000), valid for every id field."""
    return st.integers(10**11, 10**12 - 1).map(lambda n: f"{NEVER_ISSUED_PREFIX}{n}")


def _id_lists(ids: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(ids, min_size=1, max_size=5, unique=True).map(",".join)


_FIRST_ID = f"{NEVER_ISSUED_PREFIX}{10**11}"


def _build_action(pick: _Pick, form: str, ids: st.SearchStrategy[str]) -> ActionRequest:
    document = _document(form)
    required = [f for f in document.get("required", ()) if f != "key"]
    alternatives = [alt["required"] for alt in document.get("anyOf", ()) if "required" in alt]
    if alternatives:
        required += pick(st.sampled_from(alternatives), alternatives[0])
    params: list[tuple[str, str]] = []
    for field in required:
        schema = _property_schema(form, field)
        if field == "action":
            # The first spelling the schema lists is the canonical one (status-multi's status).
            value = str(schema.get("const", (schema.get("enum") or [""])[0]))
        elif "," in schema.get("pattern", ""):
            value = pick(_id_lists(ids), _FIRST_ID)
        else:
            value = pick(ids, _FIRST_ID)
        params.append((field, value))
    return ActionRequest(form, tuple(params))


@st.composite
def _action_request(draw: st.DrawFn, form: str, ids: st.SearchStrategy[str]) -> ActionRequest:
    return _build_action(_Draws(draw), form, ids)


def action_requests(
    forms: Sequence[str] = READ_FORMS, *, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[ActionRequest]:
    """Valid requests of every non-spending form in ``forms`` (shrinks to the first form), with
    ids from ``ids`` (default :func:`never_issued_ids`, so cancel and refill touch nothing)."""
    unknown = [f for f in forms if f not in READ_FORMS]
    if unknown or not forms:
        raise ValueError(f"forms must be non-spending request forms, got {unknown or forms}")
    ids = ids if ids is not None else never_issued_ids()
    return st.one_of([_action_request(form, ids) for form in forms])


def action_examples(forms: Sequence[str] = READ_FORMS) -> list[ActionRequest]:
    """The simplest request of each form in ``forms``: explicit examples, so that every
    action is tried in every run."""
    return [_build_action(_minimal, form, never_issued_ids()) for form in forms]


# ---- valid orders ---------------------------------------------------------------------------


def _largest_affordable(service: Service, budget: Decimal, places: int) -> int:
    """The largest quantity whose worst case fits ``budget`` (0 when none does)."""
    if service.rate == 0:
        return service.max
    # A price at most the budget rounded down to the money step is reserved (rounded up)
    # within the budget: no search needed.
    within = budget.quantize(Decimal(1).scaleb(-places), ROUND_FLOOR)
    units = int((within * 1000 / service.rate).to_integral_value(ROUND_FLOOR))
    units = min(units, service.max)
    while units > 0 and worst_case(service.price(units), places) > budget:
        units -= 1  # only where rate * units / 1000 is inexact in Decimal; a step or two
    return units


def _quantity_range(service: Service, budget: Decimal, places: int) -> tuple[int, int] | None:
    """Valid, visible and affordable total quantities of ``service``, or ``None`` (for a type
    with two pricings, affordable at the dearer)."""
    if not service.metered:
        return (service.min, service.max) if worst_case(service.rate, places) <= budget else None
    low = visible_units(service, places)
    if worst_case(service.price(low), places) > budget:
        return None
    high = _largest_affordable(service, budget, places)
    return (low, high) if high >= low else None


def affordable_services(
    catalog: Catalog, *, budget: Decimal, places: int
) -> list[tuple[Service, OrderShape]]:
    """The orderable services with at least one valid order within ``budget``, cheapest first."""
    return [(service, shape) for service, shape, _ in _affordable(catalog, budget, places)]


def _affordable(
    catalog: Catalog, budget: Decimal, places: int
) -> list[tuple[Service, OrderShape, tuple[int, int]]]:
    found = []
    for service in catalog.services:
        shape = order_shape(service.type)
        if shape is None or not shape.orderable:
            continue
        span = _quantity_range(service, budget, places)
        if span is not None:
            found.append((service, shape, span))
    return sorted(found, key=lambda item: (item[0].price(item[0].min), item[0].id))


def _links(base: str) -> st.SearchStrategy[str]:
    return _TOKENS.map(lambda token: f"{base}/{token}")


def _lines(count: int) -> st.SearchStrategy[str]:
    return st.lists(_WORDS, min_size=count, max_size=count, unique=True).map("\n".join)


PER_POST_DELAY: Final = "5"
"""Minutes between posts of a per-post order: in PerfectPanel's and SONREVIZE's delay lists
(protocol-variants.md section 5); never "0", which PHP's ``empty()`` reads as missing."""


def _per_post_values(units: int) -> dict[str, str]:
    """Seed 004's per-post parameters ordering exactly ``units``: one post (``posts`` is sent,
    since a panel modelling it on Subscriptions reads an unset ``posts`` as unlimited) and
    ``min == max == units``, so ``posts * max`` is ``units`` and no undelivered slice is
    refunded later: the charge is final when the order is placed."""
    return {"posts": "1", "min": str(units), "max": str(units), "delay": PER_POST_DELAY}


def _text_value(pick: _Pick, field: str, link_base: str) -> str:
    """A readable value of a non-quantity parameter (schema-derived where nothing reads better)."""
    if field in _URL_FIELDS:
        return pick(_links(link_base), f"{link_base}/0")
    if field in _LINES_FIELDS:
        return pick(_lines(1), "a")
    if field == "answer_number":
        return pick(st.integers(1, 9).map(str), "1")
    if field == "country":
        return pick(st.sampled_from(["US", "United States"]), "US")
    if field in ("username", "hashtag", "hashtags", "google_keyword"):
        return pick(_WORDS, "a")
    enum = _property_schema("add", field).get("enum")
    return pick(field_values("add", field), str(enum[0]) if enum else "1")


def _build_order(
    pick: _Pick, service: Service, shape: OrderShape, span: tuple[int, int], link_base: str
) -> OrderSpec:
    low, high = span
    params: dict[str, str] = {}
    units: int | None = None
    for field in shape.required:
        if field == "quantity":
            continue
        if field == shape.lines_param:
            units = pick(st.integers(low, min(high, low + 4)), low)
            params[field] = pick(_lines(units), "\n".join(_word(i) for i in range(units)))
        else:
            params[field] = _text_value(pick, field, link_base)
    for param, value, needed in shape.conditional:
        if params.get(param) == value:
            params[needed] = _text_value(pick, needed, link_base)
    if shape.also:
        # Both forms at once (a Custom Comments Package): the lines of the first form and the
        # posts * max of seed 004's order the same units, so either form's price is known.
        fixed = _per_post_values(units or low) if shape.per_post else {}
        for field in shape.also:
            params[field] = fixed.get(field) or _text_value(pick, field, link_base)
        params.update(fixed)
    if "quantity" in shape.required:
        runs = 1
        if service.dripfeed and high >= 2 * low and pick(st.booleans(), False):
            runs = pick(st.integers(2, min(high // low, 10)), 2)
            params["runs"] = str(runs)
            params["interval"] = str(pick(st.integers(1, 60), 1))
        quantity = pick(st.integers(low, high // runs), low)
        params = {"link": params.pop("link"), "quantity": str(quantity), **params}
        units = quantity * runs
    return OrderSpec.priced(service, params.items(), units)


@st.composite
def _order(
    draw: st.DrawFn, service: Service, shape: OrderShape, span: tuple[int, int], link_base: str
) -> OrderSpec:
    return _build_order(_Draws(draw), service, shape, span, link_base)


def orders(
    catalog: Catalog, *, budget: Decimal, places: int, link_base: str = LINK_BASE
) -> st.SearchStrategy[OrderSpec]:
    """Valid ``add`` requests of every orderable, affordable service of ``catalog`` (drip-feed
    where the service offers it), each with worst case <= ``budget`` at ``places`` decimals.

    Shrinks to the cheapest service at its smallest visible quantity, without drip-feed.
    Raises :class:`ValueError` when nothing is affordable (the caller decides what that means).
    """
    offered = _affordable(catalog, budget, places)
    if not offered:
        raise ValueError(f"no orderable service has an order within {budget}")
    return st.one_of([_order(s, shape, span, link_base) for s, shape, span in offered])


def order_examples(
    catalog: Catalog, *, budget: Decimal, places: int, link_base: str = LINK_BASE
) -> list[OrderSpec]:
    """The simplest affordable order of each service type of ``catalog`` (its cheapest
    service, its smallest visible quantity): explicit examples, so that every type the
    budget allows is ordered in every run."""
    cheapest: dict[str, OrderSpec] = {}
    for spec in _simplest_orders(catalog, budget, places, link_base):
        cheapest.setdefault(spec.service.type, spec)
    return list(cheapest.values())


def _simplest_orders(
    catalog: Catalog, budget: Decimal, places: int, link_base: str
) -> list[OrderSpec]:
    """The simplest affordable order of every service, cheapest first."""
    return [_build_order(_minimal, service, shape, span, link_base)
            for service, shape, span in _affordable(catalog, budget, places)]


# ---- malformed orders -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MalformedOrder:
    """An ``add`` broken one way, with the clause it proves and what it could cost at most."""

    params: tuple[tuple[str, str], ...]
    """The parameters besides key and action (``service`` included when sent)."""
    defect: str
    """What is wrong, e.g. ``quantity below min``, for the test's messages."""
    clause: str
    """The clause a refusal proves (a tolerated request is judged under ROBUST-001)."""
    worst_case: Decimal
    """The most it can take if a panel accepts it anyway; reserved before it is sent."""
    must_refuse: bool = True
    """False for requests a panel may accept (an extra field, an oversized one)."""
    price: Decimal | None = None
    """For a tolerated request: the exact charge if it is accepted (the dearest of
    :attr:`charges`)."""
    charges: tuple[Decimal, ...] = ()
    """For a tolerated request: every exact charge a panel may rightly take if it accepts it
    (one per pricing of the type: a Custom Comments Package has two)."""

    def form(self) -> dict[str, str]:
        return {"action": "add", **dict(self.params)}

    def __repr__(self) -> str:
        # An oversized field would fill a failure report: show its start and its length.
        shown = {k: v if len(v) <= 80 else f"{v[:60]}...({len(v)} chars)" for k, v in self.params}
        return (f"MalformedOrder({shown!r}, defect={self.defect!r}, clause={self.clause!r}, "
                f"worst_case={self.worst_case})")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints falsifying examples with this (IPython's protocol)."""
        printer.text(repr(self))


# How one kind of defect rewrites a valid order: (params, spec) -> params or None when the kind
# cannot apply to that order. Kinds are data; each names its clause and whether refusal is due.
_Rewrite = Callable[[_Pick, dict[str, str], OrderSpec, Catalog], dict[str, str] | None]


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    clause: str
    rewrite: _Rewrite
    worst: Callable[[OrderSpec, Catalog], Decimal]
    must_refuse: bool = True


def _missing_clause(field: str, spec: OrderSpec) -> str:
    if field in ("service", "link", "quantity"):
        return "ADD-006"
    return "ADD-011" if field == "comments" and spec.service.type == "Custom Comments" else (
        "ADD-013")


def _at_max(spec: OrderSpec, catalog: Catalog) -> Decimal:
    return spec.service.price(spec.service.max)


def _as_ordered(spec: OrderSpec, catalog: Catalog) -> Decimal:
    return spec.price


def _anywhere(spec: OrderSpec, catalog: Catalog) -> Decimal:
    return catalog.most_expensive(spec.units or 1)


def _above_max(spec: OrderSpec, catalog: Catalog) -> Decimal:
    return spec.service.price(spec.service.max + 1)


def _one_form_only(field: str, spec: OrderSpec) -> bool:
    """Whether ``field`` belongs to one of the order's forms only: without it the order is
    still valid in the other form (and so neither missing nor empty is a defect)."""
    shape = order_shape(spec.service.type)
    if shape is None or not shape.also:
        return False
    return field in shape.also or field in shape.required


def _drop(field: str) -> _Rewrite:
    def rewrite(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                catalog: Catalog) -> dict[str, str] | None:
        if field not in params or _one_form_only(field, spec):
            return None
        return {k: v for k, v in params.items() if k != field}
    return rewrite


def _blank(field: str) -> _Rewrite:
    def rewrite(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                catalog: Catalog) -> dict[str, str] | None:
        if field not in params or _one_form_only(field, spec):
            return None
        return {**params, field: pick(st.sampled_from(["", " ", "\n \n"]), "")}
    return rewrite


def _quantity(values: st.SearchStrategy[str], minimal: str) -> _Rewrite:
    def rewrite(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                catalog: Catalog) -> dict[str, str] | None:
        if "quantity" not in params or "runs" in params:
            return None
        return {**params, "quantity": pick(values, minimal)}
    return rewrite


def _below_min(pick: _Pick, params: dict[str, str], spec: OrderSpec,
               catalog: Catalog) -> dict[str, str] | None:
    low = spec.service.min
    if "quantity" not in params or "runs" in params or low <= 1:
        return None
    return {**params, "quantity": str(low - 1 - pick(st.integers(0, low - 2), 0))}


def _over_max(pick: _Pick, params: dict[str, str], spec: OrderSpec,
              catalog: Catalog) -> dict[str, str] | None:
    if "quantity" not in params or "runs" in params:
        return None
    return {**params, "quantity": str(spec.service.max + 1)}


def _unknown_service(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                     catalog: Catalog) -> dict[str, str] | None:
    return {**params, "service": str(int(catalog.unknown_id()) + pick(st.integers(0, 999), 0))}


def _service_text(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                  catalog: Catalog) -> dict[str, str] | None:
    value = pick(st.sampled_from(["abc", "-1", str(2**64 + 1), "12ab!", "1e400"]), "abc")
    return {**params, "service": value}


def _bad_link(pick: _Pick, params: dict[str, str], spec: OrderSpec,
              catalog: Catalog) -> dict[str, str] | None:
    if "link" not in params:
        return None
    return {**params, "link": pick(st.sampled_from(
        ["not a url", "example.com/post", "ftp://example.com/post", "https://"]), "not a url")}


def _bad_dripfeed(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                  catalog: Catalog) -> dict[str, str] | None:
    if "quantity" not in params:
        return None
    runs = pick(st.sampled_from(["-3", "0", "abc", "1.5"]), "-3")
    return {**params, "runs": runs,
            "interval": pick(st.sampled_from(["abc", "-1", "10"]), "abc")}


def _extra_field(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                 catalog: Catalog) -> dict[str, str] | None:
    name = pick(_WORDS.map(lambda word: f"x_{word}"), "x_a")
    return {**params, name: pick(_WORDS, "a")}


def _oversized(field: str) -> _Rewrite:
    def rewrite(pick: _Pick, params: dict[str, str], spec: OrderSpec,
                catalog: Catalog) -> dict[str, str] | None:
        if field not in params:
            return None
        padding = OVERSIZED - len(params[field])
        filler = pick(st.sampled_from(["a", "x/"]), "a")
        return {**params, field: params[field] + (filler * padding)[:padding]}
    return rewrite


# ADD-007's examples, any negative number and any word: what no panel may read as a quantity.
# ("1e3" is not one: PHP reads it as 1000; the suite's test_04_add judges it on its own.)
_NOT_POSITIVE = st.one_of(
    st.sampled_from(["0", "-5", "1.5", "abc"]),
    st.integers(1, 10**6).map(lambda n: f"-{n}"),
    _WORDS,
)
_HUGE = st.integers(20, 40).map(lambda digits: "9" * digits)

_KINDS: Final[tuple[_Kind, ...]] = (
    *(_Kind(f"missing {f}", "", _drop(f), _anywhere if f == "service" else _as_ordered)
      for f in ("service", "link", "quantity", "comments", "usernames", "keywords", "groups",
                "username", "hashtag", "hashtags", "answer_number", "media")),
    *(_Kind(f"empty {f}", "", _blank(f), _anywhere if f == "service" else _as_ordered)
      for f in ("service", "link", "quantity", "comments")),
    _Kind("quantity below min", "ADD-003", _below_min, _as_ordered),
    _Kind("quantity above max", "ADD-004", _over_max, _above_max),
    _Kind("quantity not a positive integer", "ADD-007", _quantity(_NOT_POSITIVE, "0"), _at_max),
    _Kind("quantity beyond 64 bits", "ADD-007", _quantity(_HUGE, "9" * 20), _at_max),
    _Kind("unknown service", "ADD-005", _unknown_service, _anywhere),
    _Kind("service not a number", "ROBUST-007", _service_text, _anywhere),
    # A link that is no http(s) URL may be refused, or served as given: many panels take a
    # username or a bare host as the link, and one seed alone asks for a URL. An accepted one
    # is an order like any other and must cost its price.
    _Kind("link not a URL", "ROBUST-009", _bad_link, _as_ordered, must_refuse=False),
    _Kind("drip-feed runs not a positive integer", "ROBUST-009", _bad_dripfeed, _as_ordered),
    _Kind("extra unknown field", "ROBUST-001", _extra_field, _as_ordered, must_refuse=False),
    _Kind("oversized link", "ROBUST-001", _oversized("link"), _as_ordered, must_refuse=False),
    _Kind("oversized comments", "ROBUST-001", _oversized("comments"), _as_ordered,
          must_refuse=False),
)


def _kind_clause(kind: _Kind, spec: OrderSpec) -> str:
    return kind.clause or _missing_clause(kind.name.split()[-1], spec)


def _usable(spec: OrderSpec, catalog: Catalog, budget: Decimal, places: int) -> list[_Kind]:
    """The kinds whose worst case on ``spec`` fits the budget (the tolerated kinds cost what
    the valid order costs, so at least those always fit)."""
    return [k for k in _KINDS if worst_case(k.worst(spec, catalog), places) <= budget]


def _build_malformed(
    pick: _Pick, kind: _Kind, spec: OrderSpec, catalog: Catalog, places: int
) -> MalformedOrder | None:
    """``spec`` broken the ``kind`` way, or ``None`` when the kind does not apply to it."""
    params = {"service": spec.service.id, **dict(spec.params)}
    broken = kind.rewrite(pick, params, spec, catalog)
    if broken is None:
        return None
    return MalformedOrder(
        tuple(broken.items()), kind.name, _kind_clause(kind, spec),
        worst_case(kind.worst(spec, catalog), places), kind.must_refuse,
        None if kind.must_refuse else spec.price,
        () if kind.must_refuse else tuple(spec.prices.values()),
    )


@st.composite
def _malformed(
    draw: st.DrawFn, bases: st.SearchStrategy[OrderSpec], catalog: Catalog, budget: Decimal,
    places: int,
) -> MalformedOrder:
    spec = draw(bases)
    # Only kinds that apply to this order and whose worst case fits the budget are offered;
    # sampled_from shrinks towards the first, a missing field.
    usable = _usable(spec, catalog, budget, places)
    while True:
        kind = draw(st.sampled_from(usable))
        broken = _build_malformed(_Draws(draw), kind, spec, catalog, places)
        if broken is not None:
            return broken
        usable = [k for k in usable if k is not kind]


def malformed_orders(
    catalog: Catalog, *, budget: Decimal, places: int, base_budget: Decimal | None = None,
    link_base: str = LINK_BASE,
) -> st.SearchStrategy[MalformedOrder]:
    """``add`` requests each broken one way: a missing or empty required field, an extra
    field, a wrong-typed, out-of-range or 64-bit-overflowing value, an unknown service, a
    non-URL link, broken drip-feed, or an oversized field (64 KiB).

    Each is made from a valid order of :func:`orders` within ``base_budget`` (default
    ``budget``) and offered only if its worst case, should a panel accept it anyway, fits
    ``budget``. Shrinks to a missing field of the cheapest order.
    """
    base_budget = budget if base_budget is None else base_budget
    if base_budget > budget:
        raise ValueError("the valid order a malformed one is made from must fit its budget")
    bases = orders(catalog, budget=base_budget, places=places, link_base=link_base)
    return _malformed(bases, catalog, budget, places)


def malformed_order_examples(
    catalog: Catalog, *, budget: Decimal, places: int, base_budget: Decimal | None = None,
    link_base: str = LINK_BASE,
) -> list[MalformedOrder]:
    """Each kind of defect once, made from the cheapest simplest order it applies to and fits
    ``budget``: explicit examples, so that every defect is tried in every run."""
    bases = _simplest_orders(catalog, budget if base_budget is None else base_budget, places,
                             link_base)
    found: list[MalformedOrder] = []
    for kind in _KINDS:
        for spec in bases:
            if kind not in _usable(spec, catalog, budget, places):
                continue
            broken = _build_malformed(_minimal, kind, spec, catalog, places)
            if broken is not None:
                found.append(broken)
                break
    return found


# ---- malformed encodings --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MalformedBody:
    """A non-spending request sent with a wrong encoding; :data:`KEY_SLOT` marks the key."""

    body: bytes
    content_type: str
    defect: str
    clause: str
    form: str


_BAD_BYTES: Final = (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xfe\xff")
_ENCODINGS: Final = ("raw", "percent", "json", "text/plain", "octet-stream")


def _build_body(pick: _Pick, request: ActionRequest, kind: str) -> MalformedBody:
    form_body = b"key=" + KEY_SLOT + b"&" + urlencode(request.params).encode()
    if kind in ("raw", "percent"):
        bad = pick(st.sampled_from(_BAD_BYTES), _BAD_BYTES[0])
        if kind == "raw":
            return MalformedBody(form_body + b"&note=" + bad,
                                 "application/x-www-form-urlencoded", "invalid UTF-8 bytes",
                                 "ROBUST-003", request.form)
        quoted = "".join(f"%{b:02X}" for b in bad).encode()
        return MalformedBody(form_body + b"&note=" + quoted, "application/x-www-form-urlencoded",
                             "percent-encoded invalid UTF-8", "ROBUST-003", request.form)
    if kind == "json":
        # The key travels percent-quoted inside the JSON string, as test_11 sends it.
        pairs = json.dumps(dict(request.params))[1:-1].encode()
        body = b'{"key": "' + KEY_SLOT + b'", ' + pairs + b"}"
        return MalformedBody(body, "application/json", "a JSON body where a form is expected",
                             "ROBUST-005", request.form)
    content_type = "text/plain" if kind == "text/plain" else "application/octet-stream"
    return MalformedBody(form_body, content_type, f"a form body labelled {content_type}",
                         "ROBUST-005", request.form)


@st.composite
def _malformed_body(draw: st.DrawFn, requests: st.SearchStrategy[ActionRequest]) -> MalformedBody:
    request = draw(requests)
    return _build_body(_Draws(draw), request, draw(st.sampled_from(_ENCODINGS)))


def malformed_bodies(
    requests: st.SearchStrategy[ActionRequest] | None = None,
) -> st.SearchStrategy[MalformedBody]:
    """Valid non-spending requests (default :func:`action_requests`) sent with a wrong encoding:
    invalid UTF-8 (raw or percent-encoded), a JSON body, or a form labelled text/plain or
    octet-stream. Shrinks to raw invalid bytes in a ``services`` request."""
    return _malformed_body(requests if requests is not None else action_requests())


def malformed_body_examples() -> list[MalformedBody]:
    """Each wrong encoding once, on the simplest request: explicit examples."""
    request = action_examples()[0]
    return [_build_body(_minimal, request, kind) for kind in _ENCODINGS]
