"""Validation of an ``add``: raw form strings in, a priced :class:`OrderRequest` out, or a
:class:`DomainError` in the documented order of precedence.

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
- An order whose per-1000 charge would round to zero is ``QUANTITY_TOO_LOW`` with ``min`` set
  to the least quantity that costs at least one money unit: nothing is ever free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import urlsplit

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state.catalog import (
    MAX_COUNT,
    PARAM_SPECS,
    TYPE_RULES,
    ParamKind,
    PricingRule,
    QuantitySource,
    Service,
)
from mockpanel.state.magic import PLAIN_OUTCOME, parse_magic_link, planned_outcome
from mockpanel.state.money import SharedAmounts, fraction_units, smallest_chargeable
from mockpanel.state.orders import Outcome

__all__ = ["OrderRequest", "count_lines", "validate_add"]

_SHOWN = 64  # longest value echoed back in an error's params
# The kinds, quantity sources and pricing every ``add`` tests for, as module names: on Python
# 3.11 reading a member off its enum class (``ParamKind.COUNT``) goes through the enum
# metaclass's ``__getattr__`` hook, several times the cost of a global name.
_COUNT, _URL = ParamKind.COUNT, ParamKind.URL
_FROM_PARAM, _FIXED = QuantitySource.PARAM, QuantitySource.FIXED
_FLAT = PricingRule.FLAT
_MAX_DIGITS = len(str(MAX_COUNT))
_new_tuple = tuple.__new__
# Links most orders carry (a lower-case scheme, a plain host name, an optional port, then a
# path, query or fragment or nothing): urlsplit would find a host in each, so they skip it (see
# _take_required). Case-sensitive, as matching without case costs a lower-casing per character; a
# scheme spelt otherwise takes the full check.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#]|\Z)")


class OrderRequest(NamedTuple):
    """A valid, priced ``add``: everything needed to debit and create the order (a named tuple:
    one is built per ``add``, and a frozen dataclass sets its fields one call at a time)."""

    service: Service
    link: str | None
    quantity: int  # the total (runs * per-run quantity for drip-feed)
    runs: int | None
    interval: int | None
    charge: Decimal
    planned: Outcome
    charge_units: int  # the charge in money steps (10**-places each): what the ledger debits


def count_lines(text: str) -> int:
    """Non-blank lines of ``text``, split on ``\\n`` (a trailing ``\\r`` is part of ``\\r\\n``)."""
    return sum(1 for line in text.split("\n") if line.strip())


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "..."


def _raw(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return value if value else None


def _is_url_with_a_host(value: str) -> bool:
    """The full check: an http(s) scheme, printable without spaces, and a host urlsplit finds."""
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


def _as_int(value: str) -> int | None:
    if value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
        return int(value)
    return None


def _required(params: Mapping[str, str], name: str) -> str:
    """The value of parameter ``name``, checked as :func:`_take_required` checks it."""
    values: dict[str, str] = {}
    _take_required(params, (name,), values)
    return values[name]


def _take_required(
    params: Mapping[str, str], names: Iterable[str], values: dict[str, str]
) -> None:
    """Put the value of each parameter of ``names``, in order, into ``values``: missing when
    absent or empty, else it must have the shape its :data:`PARAM_SPECS` entry demands (or
    that entry's error is raised). One call for all of a type's parameters, as every add
    checks two or more: a loop here is a function call less per parameter."""
    for name in names:
        value = params.get(name)
        if not value:
            raise DomainError(ErrorCode.MISSING_PARAM, param=name)
        spec = PARAM_SPECS[name]
        kind = spec.kind  # (tested against module names: see _COUNT)
        if kind is _COUNT:  # (_as_int inline: every add has a count or two)
            ok = (
                value.isascii()
                and value.isdigit()
                and len(value) <= _MAX_DIGITS
                and 1 <= int(value) <= MAX_COUNT
            )
        elif kind is _URL:  # a plain link (most adds carry one) skips the full check
            ok = bool(
                _PLAIN_URL.match(value) and value.isprintable() and " " not in value
            ) or _is_url_with_a_host(value)
        elif kind is ParamKind.CHOICE:
            number = _as_int(value)
            ok = number is not None and number in spec.choices
        elif kind is ParamKind.TEXT:
            ok = bool(value.strip())
        else:
            assert kind is ParamKind.LINES  # the last kind
            ok = count_lines(value) > 0
        if not ok:
            raise DomainError(spec.error, param=name, value=_shown(value))
        values[name] = value


def _dripfeed(service: Service, params: Mapping[str, str]) -> tuple[int, int] | None:
    if _raw(params, "runs") is None and _raw(params, "interval") is None:
        return None
    if not service.dripfeed:
        raise DomainError(ErrorCode.DRIPFEED_NOT_SUPPORTED, service=service.id)
    checked = [_required(params, name) for name in ("runs", "interval")]
    return int(checked[0]), int(checked[1])


def validate_add(
    catalog: Mapping[int, Service],
    service: str,
    params: Mapping[str, str],
    amounts: SharedAmounts,
) -> OrderRequest:
    """Check an ``add`` for ``service`` (the raw id) with raw form ``params``; price it at
    ``amounts.places``, the charge one of ``amounts``' shared Decimals."""
    # The service first (missing, unknown, then not orderable over the API), inline: every
    # add names one.
    if not service:
        raise DomainError(ErrorCode.MISSING_PARAM, param="service")
    found = (
        catalog.get(int(service))
        if service.isascii() and service.isdigit() and len(service) <= _MAX_DIGITS
        else None
    )
    if found is None:
        raise DomainError(ErrorCode.UNKNOWN_SERVICE, service=_shown(service))
    rule = TYPE_RULES[found.type]
    if not rule.via_api:
        raise DomainError(ErrorCode.SUBSCRIPTION_NOT_VIA_API, service=found.id)
    values: dict[str, str] = {}
    _take_required(params, rule.params, values)
    for cond in rule.conditional:
        if values.get(cond.param) == cond.equals:
            _take_required(params, (cond.requires,), values)
    # Most orders are not drip-fed: skip the call when neither of its fields was sent.
    drip = _dripfeed(found, params) if "runs" in params or "interval" in params else None
    link = values.get("link")
    # A link without a query string carries no magic outcome (most links): no call for it.
    magic = parse_magic_link(link) if link is not None and "?" in link else None

    source = rule.quantity
    if source is _FROM_PARAM:
        quantity = int(values["quantity"])
    elif source is _FIXED:
        assert found.package_quantity is not None  # guaranteed by Service.__post_init__
        quantity = found.package_quantity
    else:
        assert source is QuantitySource.LINES  # the last source
        assert rule.lines_param is not None  # guaranteed by the TYPE_RULES table
        quantity = count_lines(values[rule.lines_param])
    if drip is not None:
        quantity *= drip[0]
    if source is not _FIXED:
        if quantity < found.min:
            raise DomainError(ErrorCode.QUANTITY_TOO_LOW, min=found.min, quantity=quantity)
        if quantity > found.max:
            raise DomainError(ErrorCode.QUANTITY_TOO_HIGH, max=found.max, quantity=quantity)

    places = amounts.places
    if rule.pricing is _FLAT:
        # The whole rate (1000 per 1000), rounded half up to the places: what quantize(rate)
        # gives. StateConfig refuses catalogues whose flat rates round to zero.
        units = fraction_units(found.rate_fraction, 1000, places)
    else:
        units = fraction_units(found.rate_fraction, quantity, places)
        if not units:
            least = smallest_chargeable(found.rate, places)
            raise DomainError(ErrorCode.QUANTITY_TOO_LOW, min=least, quantity=quantity)
    charge = amounts.of_units(units)
    # Built from its fields in order: the generated __new__ is a Python call more per add.
    request: OrderRequest = _new_tuple(
        OrderRequest,
        (
            found,  # service
            link,  # link
            quantity,  # quantity
            drip[0] if drip else None,  # runs
            drip[1] if drip else None,  # interval
            charge,  # charge
            PLAIN_OUTCOME if magic is None else planned_outcome(magic, quantity),  # planned
            units,  # charge_units
        ),
    )
    return request
