"""What the served answers of a recording show: transport, catalogue, numbers, money, words.

Each reader takes the recording's exchanges and returns the settings it could read, as plain
values (the form of a profile file), writing into a :class:`Findings` what it saw, what it could
not see (``not_observed``, with the reason) and the dialect traits it read (``observed``, in
the vocabulary of ``schemas/dialects.yaml``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final, get_args

from mockpanel.emulate.infer_errors import as_decimal
from mockpanel.emulate.infer_read import InferenceError, Seen
from mockpanel.profiles import ServiceField, StatusField
from mockpanel.profiles.codec import to_plain
from mockpanel.state import Service, ServiceType
from mockpanel.state.catalog import AddForm, QuantitySource, rule_for

__all__ = [
    "DEFAULT_PACKAGE_QUANTITY",
    "DEFAULT_REFILL_DAYS",
    "Findings",
    "answered",
    "flags_from_behaviour",
    "json_type",
    "number_setting",
    "places_of",
    "services_settings",
    "style_of",
    "wire_settings",
]

# Not in a services answer: a refill service's guarantee, a package's fixed quantity. The
# documented defaults of profiles inferred from a recording (listed under not_observed).
DEFAULT_REFILL_DAYS: Final = 30
DEFAULT_PACKAGE_QUANTITY: Final = 1000
_SERVICE_FIELDS: Final = frozenset(get_args(ServiceField))
_STATUS_FIELDS: Final = frozenset(get_args(StatusField))
_FLAGS: Final = ("dripfeed", "refill", "cancel")
_SNAKE: Final = re.compile(r"[a-z0-9_]+")
_MEDIA: Final = {"form": "application/x-www-form-urlencoded", "json": "application/json"}


@dataclass(slots=True)
class Findings:
    """What inference found so far: settings by path, the unseen ones, traits, notes."""

    settings: dict[str, Any] = field(default_factory=dict)
    not_observed: dict[str, str] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, path: str, value: Any) -> None:
        self.settings[path] = value

    def unseen(self, path: str, reason: str) -> None:
        self.not_observed[path] = reason

    def trait(self, trait: str, value: Any) -> None:
        if value is not None:
            self.observed[trait] = value


def json_type(value: object) -> str | None:
    """``number`` or ``string`` (the NumberStyle of a value), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def style_of(values: Iterable[object]) -> str | None:
    counted = Counter(t for v in values if (t := json_type(v)) is not None)
    return counted.most_common(1)[0][0] if counted else None


def answered(exchanges: Sequence[Seen], *actions: str) -> list[Seen]:
    return [s for s in exchanges if s.answered and s.action in actions]


def places_of(value: object) -> int | None:
    number = as_decimal(value)
    if number is None:
        return None
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _leading(body: Mapping[str, Any], main: str) -> tuple[tuple[str, str | int], ...] | None:
    """The constant fields before ``main`` in an answer (a wrapper), None if ``main`` is absent."""
    if main not in body:
        return None
    lead: list[tuple[str, str | int]] = []
    for name, value in body.items():
        if name == main:
            break
        if isinstance(value, str | int) and not isinstance(value, bool):
            lead.append((name, value))
    return tuple(lead)


def number_setting(f: Findings, path: str, values: Sequence[object], reason: str) -> None:
    style = style_of(values)
    if style is None:
        f.unseen(path, reason)
    else:
        f.set(path, style)


# --- wire ----------------------------------------------------------------------------------


def wire_settings(exchanges: Sequence[Seen], f: Findings) -> frozenset[str]:
    """Paths, encodings, content type, indentation, create status; returns the encodings
    accepted."""
    api = [s for s in exchanges if s.action and (s.answered or s.error is not None)
           and s.status not in (404, 405)]
    paths = [p for p, _ in Counter(s.path for s in api).most_common() if p != "/"]
    if paths:
        f.set("wire.paths", paths)
        f.trait("transport.path", paths[0])
    else:
        f.unseen("wire.paths", "no API answer came from a path other than /")
    accepted: list[str] = []
    for encoding in ("form", "json", "query"):
        tried = [s for s in exchanges if s.encoding == encoding and s.action]
        if encoding == "query":  # a GET the API path does not route at all: no query string
            tried += [s for s in exchanges if s.method == "GET" and s.status in (404, 405)]
        if any(s.answered for s in tried):
            accepted.append(encoding)
        elif not tried:
            accepted.append(encoding)
            f.unseen(f"wire.encodings.{encoding}", f"no request sent its fields as {encoding}: "
                     "assumed accepted, as the reference does")
    if not any(s.answered for s in exchanges if s.encoding in accepted):
        accepted = ["form", "json", "query"]
    f.set("wire.encodings", accepted)
    served = [s for s in exchanges if s.answered]
    ctypes = Counter(s.headers.get("content-type", "") for s in served)
    ctypes.pop("", None)
    if ctypes:
        ctype = ctypes.most_common(1)[0][0]
        f.set("wire.content_type", ctype)
        f.trait("transport.content_type", ctype.split(";")[0].strip().lower())
    else:
        f.unseen("wire.content_type", "no served answer named its Content-Type")
    indent = _indent(served)
    f.set("wire.indent", indent)
    f.trait("transport.pretty_json", indent is not None)
    created = Counter(s.status for s in answered(exchanges, "add"))
    if created:
        f.set("wire.create_status", created.most_common(1)[0][0])
    else:
        f.unseen("wire.create_status", "no add was accepted (a run with --panel-max-spend=0 "
                 "places no order): the HTTP status of a new order is the reference's")
    return frozenset(accepted)


def accepted_media(accepted: Iterable[str]) -> str:
    """The accepted body media types as the reference's unsupported-encoding wording lists them."""
    return ", ".join(media for enc, media in _MEDIA.items() if enc in set(accepted))


def _indent(served: Sequence[Seen]) -> int | None:
    for s in sorted(served, key=lambda s: -len(s.text))[:5]:
        lines = s.text.strip().splitlines()
        if len(lines) > 1 and lines[0] in ("{", "["):
            return len(lines[1]) - len(lines[1].lstrip(" ")) or None
    return None


# --- the catalogue -------------------------------------------------------------------------


_TYPES: Final = {re.sub(r"[^a-z0-9]", "", t.value.lower()): t for t in ServiceType}


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value) and not isinstance(value, dict | list)


def _flagstyle_of(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return "string" if isinstance(value, str) else None


def _service(item: Mapping[str, Any], dripfed: set[int], notes: list[str]) -> Service | None:
    raw_id = item.get("service")
    text_id = str(raw_id).strip() if isinstance(raw_id, int | str) else ""
    if not text_id.isdigit() or len(text_id) > 12 or int(text_id) < 1:
        notes.append(f"service {str(raw_id)[:40]!r} left out: its id is not a positive number")
        return None
    service_id = int(text_id)
    kind = _TYPES.get(re.sub(r"[^a-z0-9]", "", str(item.get("type", "Default")).lower()))
    if kind is None:
        notes.append(f"service {service_id} left out: type {str(item.get('type'))[:40]!r} "
                     "is none the mock knows")
        return None
    rule = rule_for(kind, AddForm.STANDARD)
    rate, low, high = (as_decimal(item.get(n)) for n in ("rate", "min", "max"))
    name = str(item.get("name") or "").strip() or f"Service {service_id}"
    category = str(item.get("category") or "").strip() or kind.value
    refill = _truthy(item.get("refill"))
    dripfeed = (_truthy(item.get("dripfeed")) or service_id in dripfed) and rule.dripfeed
    try:
        return Service(
            id=service_id, name=name, type=kind, category=category,
            rate=rate if rate is not None else Decimal(0),
            min=int(low) if low is not None else 1, max=int(high) if high is not None else 0,
            dripfeed=dripfeed, refill=refill, cancel=_truthy(item.get("cancel")),
            refill_days=DEFAULT_REFILL_DAYS if refill else 0,
            package_quantity=(DEFAULT_PACKAGE_QUANTITY
                              if rule.quantity is QuantitySource.FIXED else None),
        )
    except (ValueError, ArithmeticError) as exc:
        notes.append(f"service {service_id} left out: {exc}")
        return None


def services_settings(exchanges: Sequence[Seen], f: Findings) -> dict[int, Service]:
    """The catalogue and the shape of the services answer; :class:`InferenceError` without one."""
    answers = [s for s in answered(exchanges, "services") if isinstance(s.json, list)]
    items_of = [[i for i in s.json if isinstance(i, dict)] for s in answers]
    if not any(items_of):
        raise InferenceError("the recording holds no services answer (a list of services): "
                             "the catalogue cannot be inferred")
    items = max(items_of, key=len)
    dripfed = {
        int(s.params["service"]) for s in answered(exchanges, "add")
        if s.params.get("runs") and s.params.get("service", "").isdigit()
        and len(s.params["service"]) < 12
    }
    catalog: dict[int, Service] = {}
    for item in items:
        service = _service(item, dripfed, f.notes)
        if service is not None and service.id not in catalog:
            catalog[service.id] = service
    if not catalog:
        raise InferenceError("the services answer lists no service the mock can serve")
    first = items[0]
    fields = [k for k in first if k in _SERVICE_FIELDS]
    f.set("services.fields", fields)
    flag_values = [item[n] for item in items for n in _FLAGS if n in item]
    style = _flagstyle_of(flag_values[0]) if flag_values else None
    if style is not None:
        f.set("services.flags", style)
    else:
        f.unseen("services.flags", "the services answer carries no flag")
    types = [str(item["type"]) for item in items if isinstance(item.get("type"), str)]
    snake = bool(types) and all(_SNAKE.fullmatch(t) for t in types) and any(
        t != t.upper() for t in types)
    f.set("services.type_spelling", "snake" if snake else "canonical")
    seen = {service.type for service in catalog.values()}
    f.set("services.types", [t.value for t in ServiceType if t in seen])
    f.set("services.catalog", [to_plain(service, Service) for service in catalog.values()])
    f.unseen("services.catalog[].refill_days", f"a services answer has no refill period: each "
             f"refill service gets {DEFAULT_REFILL_DAYS} days")
    if any(s.package_quantity is not None for s in catalog.values()):
        f.unseen("services.catalog[].package_quantity", "a services answer has no package "
                 f"size: each package delivers {DEFAULT_PACKAGE_QUANTITY}")
    f.trait("services.shape", "list")
    f.trait("services.fields", [str(k) for k in first])
    f.trait("services.flags", [n for n in sorted(_FLAGS) if any(n in i for i in items)])
    f.trait("services.flag_style", style)
    f.trait("services.category", any("category" in i for i in items))
    f.trait("services.service_id", json_type(first.get("service")))
    f.trait("services.rate", json_type(first.get("rate")))
    f.trait("services.limits", json_type(first.get("min")))
    f.trait("services.type_spelling", "snake" if snake else "canonical")
    f.trait("services.types", sorted(set(types)) or None)
    number_setting(f, "numbers.service_id", [i.get("service") for i in items], "no service id seen")
    number_setting(f, "numbers.rate", [i.get("rate") for i in items], "no service rate seen")
    number_setting(f, "numbers.limits", [i.get(n) for i in items for n in ("min", "max")],
            "no service min or max seen")
    return catalog


def flags_from_behaviour(catalog: dict[int, Service], taken: Mapping[str, set[int]],
                         refused: Mapping[str, set[int]], offered: Mapping[str, bool],
                         f: Findings) -> None:
    """The drip-feed, refill and cancel flags a services answer does not carry, read off what
    was done: a service seen taking it (a drip-feed add, a refill, a cancel accepted) has the
    flag; one seen refusing it (a drip-feed add refused, a refill of a Completed order, a
    cancel of a Pending order) has not; one never tried has it when some other service took it
    (a panel that takes what it does not advertise seldom takes it on one service only) or,
    when no service was tried at all, when the panel ``offered`` it (answers the action, takes
    drip-feed): a client of a panel that says nothing can only try. Each flag decided so is
    listed in ``not_observed``, with that rule."""
    fields = f.settings.get("services.fields", ())
    changed = False
    for flag in _FLAGS:
        if flag in fields:
            continue
        took, refusing = taken.get(flag, set()), refused.get(flag, set())
        f.unseen(f"services.catalog[].{flag}", f"the services answer carries no {flag} flag: "
                 f"set on the {len(took)} service(s) seen taking it and, when one did (or none was "
                 "tried and the panel offers it), on every service not seen refusing it")
        presumed = bool(took) or (not refusing and offered.get(flag, False))
        for service_id, old in list(catalog.items()):
            has = service_id in took or (presumed and service_id not in refusing)
            if has == getattr(old, flag):
                continue
            try:
                catalog[service_id] = _with_flag(old, flag, has)
            except ValueError:  # a type that cannot take it (a package's drip-feed)
                continue
            changed = True
    if changed:
        f.set("services.catalog", [to_plain(service, Service) for service in catalog.values()])


def _with_flag(service: Service, flag: str, value: bool) -> Service:
    if flag == "refill":
        days = (service.refill_days or DEFAULT_REFILL_DAYS) if value else 0
        return replace(service, refill=value, refill_days=days)
    if flag == "dripfeed":
        if value and not service.rule.dripfeed:
            raise ValueError("no drip-feed for this type")
        return replace(service, dripfeed=value)
    return replace(service, cancel=value)
