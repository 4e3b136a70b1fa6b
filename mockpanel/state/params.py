"""Validation of an ``add``: raw form strings in, a priced :class:`OrderRequest` out, or a
:class:`DomainError` in the documented order of precedence; and the :class:`Order` a valid
request places (:func:`new_order`).

Precedence (the first failing step wins): the service (missing, unknown, not orderable over
the API), then the parameters (the type's required ones in table order, then conditional ones,
then drip-feed, then the magic link), then the quantity bounds, and last the funds (checked
by the ledger when debiting, not here). Everything here is pure: nothing is changed.

Conventions decided here:

- A parameter that is absent or the empty string is *missing*; any other value must be valid.
- Counts (``quantity``, ``runs``, ``interval``, ``answer_number``) are ASCII digits only, from
  1 to ``MAX_COUNT``; signs, spaces, decimals, zero and bigger numbers are ``INVALID_PARAM``.
- Drip-feed: ``runs`` and ``interval`` come together (one alone is ``MISSING_PARAM`` for the
  other); ``runs = 1`` is allowed (one delivery). The total ``runs * quantity`` is checked
  against min/max and charged in full, and becomes the order's quantity.
- Line-counted types count non-empty lines (``\\n`` or ``\\r\\n``; whitespace-only lines do not
  count) and ignore any ``quantity`` sent. Package types take the service's
  ``package_quantity`` and skip the min/max check (there is nothing to check).
- Optional parameters (a form's ``TypeRule.optional``) are checked like required ones when
  sent, and take their default when left out; then every ``TypeRule.ordered`` pair is checked
  (``min`` <= ``max``, ``old_posts`` <= ``posts``), the ``INVALID_PARAM`` naming its blame.
- Per-post orders (seed 004's Custom Comments Package) order ``posts * max``, billed per 1000
  at the rate, and plan their delivery when placed: ``(min + max) // 2`` comments per post, so
  the order ends Completed (``min == max``) or Partial with ``posts * max - delivered``
  remaining, refunded pro rata by the ordinary Partial refund when the lifecycle ends it.
- A magic link may only ask for an ending the panel's dialect can show (``statuses``): Done
  and Failed exist only where the profile names them.
- An order whose per-1000 charge would round to zero is ``QUANTITY_TOO_LOW`` with ``min`` set
  to the least quantity that costs at least one money unit: nothing is ever free.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import urlsplit

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.shortcuts import NO_SHORTCUTS
from mockpanel.state.catalog import (
    MAX_COUNT,
    PARAM_KIND_COUNT,
    PARAM_KIND_URL,
    PARAM_SPECS,
    PER_POST_PARAMS,
    PRICING_RULE_FLAT,
    QUANTITY_SOURCE_FIXED,
    QUANTITY_SOURCE_PARAM,
    ParamKind,
    ParamSpec,
    QuantitySource,
    Service,
    TypeRule,
)
from mockpanel.state.magic import (
    OUTCOME_PARAM,
    PLAIN_OUTCOME,
    magic_status,
    parse_magic_link,
    planned_outcome,
)
from mockpanel.state.money import SharedAmounts, fraction_units, smallest_chargeable
from mockpanel.state.orders import CANONICAL_ORDER_STATUSES, Order, OrderStatus, Outcome

__all__ = [
    "OrderRequest",
    "count_lines",
    "is_link",
    "is_link_reference",
    "is_link_shortcut",
    "new_order",
    "new_order_reference",
    "new_order_shortcut",
    "validate_add",
]

_SHOWN = 64  # longest value echoed back in an error's params
_MAX_DIGITS = len(str(MAX_COUNT))
# Links most orders carry: a lower-case http(s) scheme, a plain host name, an optional port,
# then a path, query or fragment or nothing (urlsplit would find a host in each of them).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#]|\Z)")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OrderRequest(NamedTuple):
    """A valid, priced ``add``: everything needed to debit and create the order."""

    service: Service
    link: str | None
    quantity: int  # the total (runs * per-run quantity for drip-feed)
    runs: int | None
    interval: int | None
    charge: Decimal
    planned: Outcome
    charge_units: int  # the charge in money steps (10**-places each): what the ledger debits


def new_order_reference(
    request: OrderRequest,
    *,
    order_id: str,
    tenant_id: str,
    currency: str,
    created_at: float,
    refunded: Decimal,
) -> Order:
    """The order ``request`` places: Pending, nothing delivered yet (``remains`` is the whole
    quantity); ``refunded`` is zero at the panel's places."""
    return Order(
        id=order_id,
        tenant_id=tenant_id,
        service=request.service,
        link=request.link,
        quantity=request.quantity,
        charge=request.charge,
        currency=currency,
        runs=request.runs,
        interval=request.interval,
        created_at=created_at,
        planned=request.planned,
        remains=request.quantity,
        refunded=refunded,
    )


def new_order_shortcut(
    request: OrderRequest,
    *,
    order_id: str,
    tenant_id: str,
    currency: str,
    created_at: float,
    refunded: Decimal,
) -> Order:
    """:func:`new_order_reference` by position: the request unpacked in its field order, the
    order built in :class:`Order`'s (a class called with keywords gathers them into a dict
    first); tests/mockpanel/state/test_params.py pins every field to its place."""
    service, link, quantity, runs, interval, charge, planned, _units = request
    return Order(
        order_id, tenant_id, service, link, quantity, charge, currency, runs, interval,
        created_at, planned, quantity, refunded,
    )


# Shortcut: a placed order built by position (about 1.5 % of an add); twin: new_order_reference.
new_order = new_order_reference if NO_SHORTCUTS else new_order_shortcut


def count_lines(text: str) -> int:
    """Non-blank lines of ``text``, split on ``\\n`` (a trailing ``\\r`` is part of ``\\r\\n``)."""
    return sum(1 for line in text.split("\n") if line.strip())


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "..."


def is_link_reference(value: str) -> bool:
    """Whether ``value`` is a link: an http(s) scheme, printable without spaces, and a host
    that ``urlsplit`` finds."""
    head = value[:8].lower()
    if not (head.startswith("http://") or head.startswith("https://")):
        return False
    # The only whitespace character str.isprintable() lets through is the space itself.
    if not value.isprintable() or " " in value:
        return False
    try:
        host = urlsplit(value).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return bool(host)


def is_link_shortcut(value: str) -> bool:
    """:func:`is_link_reference`, with a plain link taken by a regular expression alone."""
    if _PLAIN_URL.match(value) and value.isprintable() and " " not in value:
        return True
    return is_link_reference(value)


# Shortcut: a plain link skips urlsplit (about 1 % of an add); twin: is_link_reference.
is_link = is_link_reference if NO_SHORTCUTS else is_link_shortcut


def _as_int(value: str) -> int | None:
    if value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
        return int(value)
    return None


def _is_day(value: str) -> bool:
    """Whether ``value`` is ``YYYY-MM-DD`` naming a real calendar day (not 2026-02-30)."""
    if not _ISO_DAY.fullmatch(value):
        return False
    try:
        date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError:
        return False
    return True


def _required(
    params: Mapping[str, str], name: str, specs: Mapping[str, ParamSpec] = PARAM_SPECS
) -> str:
    """The value of parameter ``name``: missing when absent or empty, else it must have the
    shape its entry in ``specs`` (else in :data:`PARAM_SPECS`) demands, or that entry's error
    is raised."""
    value = params.get(name)
    if not value:
        raise DomainError(ErrorCode.MISSING_PARAM, param=name)
    return _checked(name, value, specs.get(name) or PARAM_SPECS[name])


def _checked(name: str, value: str, spec: ParamSpec) -> str:
    """``value`` of parameter ``name`` if it has the shape ``spec`` demands."""
    kind = spec.kind
    if kind is PARAM_KIND_COUNT:
        number = _as_int(value)
        ok = number is not None and 1 <= number <= MAX_COUNT
    elif kind is PARAM_KIND_URL:
        ok = is_link(value)
    elif kind is ParamKind.CHOICE:
        number = _as_int(value)
        ok = number is not None and number in spec.choices
    elif kind is ParamKind.TEXT:
        ok = bool(value.strip())
    elif kind is ParamKind.WHOLE:
        number = _as_int(value)
        ok = number is not None and 0 <= number <= MAX_COUNT
    elif kind is ParamKind.DATE:
        ok = _is_day(value)
    else:
        assert kind is ParamKind.LINES  # the last kind
        ok = count_lines(value) > 0
    if not ok:
        raise DomainError(spec.error, param=name, value=_shown(value))
    return value


def _service(catalog: Mapping[int, Service], service: str) -> Service:
    """The service an ``add`` names (the raw id): missing, then unknown."""
    if not service:
        raise DomainError(ErrorCode.MISSING_PARAM, param="service")
    number = _as_int(service)
    found = None if number is None else catalog.get(number)
    if found is None:
        raise DomainError(ErrorCode.UNKNOWN_SERVICE, service=_shown(service))
    return found


def _dripfeed(service: Service, params: Mapping[str, str]) -> tuple[int, int]:
    """The runs and interval of an ``add`` that sent either (both are required then)."""
    if not service.dripfeed:
        raise DomainError(ErrorCode.DRIPFEED_NOT_SUPPORTED, service=service.id)
    checked = [_required(params, name) for name in ("runs", "interval")]
    return int(checked[0]), int(checked[1])


def _optional_and_ordered(
    rule: TypeRule, params: Mapping[str, str], values: dict[str, str]
) -> None:
    """Add ``rule``'s optional parameters to ``values`` (checked, or their defaults), then
    check its ordered pairs."""
    specs = rule.specs
    for optional in rule.optional:
        name = optional.name
        value = params.get(name) or optional.default
        if value:
            values[name] = _checked(name, value, specs.get(name) or PARAM_SPECS[name])
    for pair in rule.ordered:
        low, high = values.get(pair.low), values.get(pair.high)
        if low is not None and high is not None and int(low) > int(high):
            raise DomainError(
                ErrorCode.INVALID_PARAM,
                param=pair.blame,
                value=_shown(values[pair.blame]),
                detail=f"{pair.low} ({low}) must not exceed {pair.high} ({high})",
            )


def _per_post(values: Mapping[str, str]) -> tuple[int, Outcome]:
    """The quantity of a per-post order (``posts * max``, the upper bound billed) and how it
    ends when its lifecycle runs out: ``(min + max) // 2`` delivered per post."""
    posts, low, high = (int(values[name]) for name in PER_POST_PARAMS)
    quantity = posts * high
    undelivered = quantity - posts * ((low + high) // 2)
    if not undelivered:
        return quantity, PLAIN_OUTCOME
    return quantity, Outcome(OrderStatus.PARTIAL, undelivered)


def validate_add(
    catalog: Mapping[int, Service],
    service: str,
    params: Mapping[str, str],
    amounts: SharedAmounts,
    statuses: frozenset[OrderStatus] = CANONICAL_ORDER_STATUSES,
) -> OrderRequest:
    """Check an ``add`` for ``service`` (the raw id) with raw form ``params``; price it at
    ``amounts.places``, the charge one of ``amounts``' shared Decimals. ``statuses`` are the
    order statuses the panel's dialect can show (the endings a magic link may ask for)."""
    found = _service(catalog, service)
    rule = found.rule
    if not rule.via_api:
        raise DomainError(ErrorCode.SUBSCRIPTION_NOT_VIA_API, service=found.id)
    values: dict[str, str] = {}
    specs = rule.specs
    for name in rule.params:
        values[name] = _required(params, name, specs)
    for cond in rule.conditional:
        if values.get(cond.param) == cond.equals:
            values[cond.requires] = _required(params, cond.requires, specs)
    if rule.optional or rule.ordered:
        _optional_and_ordered(rule, params, values)
    drip = _dripfeed(found, params) if params.get("runs") or params.get("interval") else None
    link = values.get("link")
    # Only a query string can carry a magic outcome (most links have none).
    magic = parse_magic_link(link) if link is not None and "?" in link else None
    if magic is not None and magic_status(magic) not in statuses:
        raise DomainError(
            ErrorCode.INVALID_PARAM,
            param=OUTCOME_PARAM,
            value=magic.outcome.value,
            detail=f"this panel never shows the status {magic_status(magic).value!r}",
        )
    planned = PLAIN_OUTCOME

    source = rule.quantity
    if source is QUANTITY_SOURCE_PARAM:
        quantity = int(values["quantity"])
    elif source is QUANTITY_SOURCE_FIXED:
        assert found.package_quantity is not None  # guaranteed by Service.__post_init__
        quantity = found.package_quantity
    elif source is QuantitySource.PER_POST:
        quantity, planned = _per_post(values)
    else:
        assert source is QuantitySource.LINES  # the last source
        assert rule.lines_param is not None  # guaranteed by the TYPE_RULES table
        quantity = count_lines(values[rule.lines_param])
    if drip is not None:
        quantity *= drip[0]
    if source is not QUANTITY_SOURCE_FIXED:
        if quantity < found.min:
            raise DomainError(ErrorCode.QUANTITY_TOO_LOW, min=found.min, quantity=quantity)
        if quantity > found.max:
            raise DomainError(ErrorCode.QUANTITY_TOO_HIGH, max=found.max, quantity=quantity)

    places = amounts.places
    if rule.pricing is PRICING_RULE_FLAT:
        # The whole rate (1000 per 1000), rounded half up to the places: what quantize(rate)
        # gives. StateConfig refuses catalogues whose flat rates round to zero.
        units = fraction_units(found.rate_fraction, 1000, places)
    else:
        units = fraction_units(found.rate_fraction, quantity, places)
        if not units:
            least = smallest_chargeable(found.rate, places)
            raise DomainError(ErrorCode.QUANTITY_TOO_LOW, min=least, quantity=quantity)
    # Positional, in OrderRequest's field order (keywords cost an add about 0.5 %);
    # tests/mockpanel/state/test_params.py pins every field to its place.
    return OrderRequest._make(
        (
            found,
            link,
            quantity,
            None if drip is None else drip[0],
            None if drip is None else drip[1],
            amounts.of_units(units),
            planned if magic is None else planned_outcome(magic, quantity),
            units,
        )
    )
