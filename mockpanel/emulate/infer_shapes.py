"""What a recording shows of actions, answer shapes, refusals and the request budget.

Works on the exchanges and on the classified refusals (:mod:`mockpanel.emulate.infer_errors`);
writes settings, unseen settings and traits into the :class:`Findings`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, get_args

from mockpanel.emulate.infer_answers import Findings, _leading
from mockpanel.emulate.infer_candidates import MULTI_ALIASES, STANDARD_ACTIONS, Context, word
from mockpanel.emulate.infer_errors import ErrorWording, Observation, number_in
from mockpanel.emulate.infer_read import Seen
from mockpanel.errors import ErrorCode
from mockpanel.profiles import REFERENCE, StatusField

__all__ = [
    "actions_settings",
    "dripfeed_settings",
    "error_settings",
    "rate_limit_settings",
    "shapes_settings",
]

E = ErrorCode
_STATUS_FIELDS: Final = frozenset(get_args(StatusField))
# A refusal of the request itself, before its action is looked at: says nothing of the action.
_BEFORE_ACTION: Final = frozenset({
    E.RATE_LIMITED, E.UNSUPPORTED_ENCODING, E.BODY_TOO_LARGE, E.BAD_REQUEST, E.MISSING_KEY,
    E.INVALID_KEY, E.ACCOUNT_SUSPENDED, E.MISSING_ACTION,
})
_MESSAGE_CHARS: Final = 120  # dialects.yaml compares messages cut to this length

# Why a code's wording may be missing from a recording, for the not_observed section.
_WHY: Final[Mapping[ErrorCode, str]] = {
    E.INSUFFICIENT_FUNDS: "no add was refused for funds (a run with --panel-max-spend=0 places "
                          "no order, and one without a low-balance second key tries none)",
    E.QUANTITY_TOO_LOW: "no add was refused for a quantity below the service's minimum",
    E.QUANTITY_TOO_HIGH: "no add was refused for a quantity above the service's maximum",
    E.UNKNOWN_SERVICE: "no add named a service the catalogue lacks",
    E.INVALID_LINK: "no add was refused for its link",
    E.DRIPFEED_NOT_SUPPORTED: "no drip-feed add was refused",
    E.SERVICE_TYPE_NOT_SUPPORTED: "a recording cannot show a type the panel does not list",
    E.SUBSCRIPTION_NOT_VIA_API: "no add of a subscription service was refused",
    E.ORDER_NOT_CANCELLABLE: "no cancel of an own order was refused",
    E.REFILL_NOT_AVAILABLE: "no refill of an order of a non-refill service was refused",
    E.ORDER_NOT_COMPLETED: "no refill of an unfinished order was refused",
    E.REFILL_WINDOW_EXPIRED: "no refill was refused for an expired guarantee",
    E.ACCOUNT_SUSPENDED: "a recording cannot tell a suspended account's key from a wrong one",
    E.RATE_LIMITED: "no request was refused with HTTP 429",
    E.TOO_MANY_IDS: "no batch was refused for its number of ids",
    E.BODY_TOO_LARGE: "no request body was refused for its size",
}


def _answered(exchanges: Sequence[Seen], *actions: str) -> list[Seen]:
    return [s for s in exchanges if s.answered and s.action in actions]


# --- errors --------------------------------------------------------------------------------


# Refusals a panel answers alike: a code the recording did not show takes the HTTP status
# its family's observed codes mostly have (a panel answering 400 or 422 for every refusal it
# was seen making answers the others so too). The key's and the funds' codes, suspension and
# throttling have statuses of their own that nothing else tells.
_FAMILIES: Final = (
    frozenset({E.UNKNOWN_ORDER, E.UNKNOWN_SERVICE, E.UNKNOWN_REFILL}),
    frozenset(ErrorCode) - {E.UNKNOWN_ORDER, E.UNKNOWN_SERVICE, E.UNKNOWN_REFILL, E.MISSING_KEY,
                            E.INVALID_KEY, E.ACCOUNT_SUSPENDED, E.RATE_LIMITED,
                            E.INSUFFICIENT_FUNDS},
)


def _family_status(code: ErrorCode, found: Mapping[ErrorCode, ErrorWording]) -> int | None:
    """The HTTP status most observed codes of ``code``'s family have, if any was observed."""
    for family in _FAMILIES:
        if code in family:
            seen = Counter(w.status for c, w in found.items()
                           if c in family and w.status is not None)
            return seen.most_common(1)[0][0] if seen else None
    return None


def error_settings(found: Mapping[ErrorCode, ErrorWording], f: Findings) -> None:
    """Each observed code's wording, HTTP status, extra fields and per-status wordings; an
    unobserved code keeps the reference's wording, with its family's usual status."""
    for code in ErrorCode:
        wording = found.get(code)
        if wording is None:
            why = _WHY.get(code, f"no {code.value} refusal was seen")
            usual = _family_status(code, found)
            if usual is not None and usual != REFERENCE.errors[code].status:
                f.set(f"errors.{code.value}", {"status": usual})
                why += (f"; the reference's wording, with the HTTP status ({usual}) the panel "
                        "gave the refusals of its kind that were seen")
            f.unseen(f"errors.{code.value}", why)
            continue
        spec: dict[str, Any] = {"message": wording.message}
        if wording.status is not None:
            spec["status"] = wording.status
            spec["fields"] = dict(wording.fields or ())
        if code in (E.ORDER_NOT_CANCELLABLE, E.ORDER_NOT_COMPLETED):
            spec["by_status"] = dict(wording.by_status)
        f.set(f"errors.{code.value}", spec)
    _error_trait(f, "bad_key", found.get(E.INVALID_KEY), {})
    _error_trait(f, "unknown_action", found.get(E.UNKNOWN_ACTION), {})
    _error_trait(f, "unknown_order", found.get(E.UNKNOWN_ORDER), {"{order}": "{id}"})


def _error_trait(f: Findings, prefix: str, wording: ErrorWording | None,
                 renames: Mapping[str, str]) -> None:
    if wording is None or wording.status is None:
        return
    message = wording.message.replace("{{", "{").replace("}}", "}")
    for old, new in renames.items():
        message = message.replace(old, new)
    f.trait(f"{prefix}.message", message.strip()[:_MESSAGE_CHARS])
    f.trait(f"{prefix}.http", wording.status)
    f.trait(f"{prefix}.extra", sorted(name for name, _ in wording.fields or ()))


# --- actions -------------------------------------------------------------------------------


def actions_settings(exchanges: Sequence[Seen], observations: Sequence[Observation],
                     f: Findings) -> None:
    """The action table: the standard actions a panel offers, and its multi-status action."""
    actions: dict[str, str] = {}
    refused = Counter(o.action for o in observations
                      if o.http is not None and o.code is E.UNKNOWN_ACTION)
    other = Counter(o.action for o in observations
                    if o.code not in _BEFORE_ACTION and o.code is not E.UNKNOWN_ACTION)
    answered = {s.action for s in exchanges if s.answered}
    for name in STANDARD_ACTIONS:
        if name in answered or other[name]:
            actions[name] = name
        elif not refused[name]:
            actions[name] = name
            f.unseen(f"actions.{name}", "never asked: assumed offered, as the reference does")
    multi = [
        s.action for s in _answered(exchanges, *MULTI_ALIASES)
        if isinstance(s.json, dict) and s.action is not None
    ]
    for alias in dict.fromkeys(multi):
        actions[alias] = "status_multi"
    f.set("actions", actions)
    f.trait("refill_status.offered", "refill_status" in actions
            if "actions.refill_status" not in f.not_observed else None)
    f.trait("cancel.offered", "cancel" in actions if "actions.cancel" not in f.not_observed
            else None)


# --- shapes --------------------------------------------------------------------------------


def _keys(body: Mapping[str, Any]) -> list[str]:
    return [k for k in body if k in _STATUS_FIELDS]


def shapes_settings(exchanges: Sequence[Seen], found: Mapping[ErrorCode, ErrorWording],
                    ctx: Context, f: Findings) -> None:
    """Batches, status fields, item errors, add fields, wrappers, the cancel shape."""
    _batches(exchanges, f)
    limit = found.get(E.TOO_MANY_IDS)
    number = number_in(limit.message.replace("{limit}", "")) if limit else None
    too_many = [s for s in exchanges if s.error is not None and "orders" in s.params]
    if limit is not None:
        number = number or next((n for s in too_many if (n := number_in(s.error or ""))), None)
    if number:
        f.set("shapes.max_ids", number)
    else:
        f.unseen("shapes.max_ids", "no batch was refused for its size, with the limit named")
    singles = [s.json for s in _answered(exchanges, "status")
               if isinstance(s.json, dict) and "orders" not in s.params]
    if singles:
        f.set("shapes.status_fields", _merged_keys(singles))
    else:
        f.unseen("shapes.status_fields", "no order's status was seen")
    multi_items, item_errors = _multi(exchanges)
    if multi_items:
        f.set("shapes.multi_status_fields", _merged_keys(multi_items))
    else:
        f.unseen("shapes.multi_status_fields", "no multi-status answer showed an order")
    if item_errors:
        style = Counter(item_errors).most_common(1)[0][0]
        f.set("shapes.status_item_error", style)
        f.trait("multi_status.item_error", style)
    else:
        f.unseen("shapes.status_item_error", "no multi-status answer showed an unknown id")
    adds = [s.json for s in _answered(exchanges, "add") if isinstance(s.json, dict)]
    if adds:
        first = adds[0]
        names = list(first)
        after = names[names.index("order") + 1:] if "order" in names else []
        f.set("shapes.add_fields", [n for n in after if n in _STATUS_FIELDS])
    else:
        f.unseen("shapes.add_fields", "no add was accepted: the fields of its answer were not "
                 "seen")
    _wrappers(exchanges, f)
    _cancel(exchanges, f)
    cancellable = sorted({word(s) for s in ctx.cancel_accepted})
    if cancellable:
        f.set("cancellable", cancellable)
        tried = {word(s) for s in ctx.cancel_accepted | ctx.cancel_refused}
        for status in ("Pending", "In progress"):
            if status not in tried:
                f.unseen(f"cancellable.{status}", f"no cancel of an order {status} was seen: "
                         "taken as not cancellable")
    else:
        f.unseen("cancellable", "no cancel of an own order was accepted")
    f.unseen("webhooks", "webhooks are not in a recording of API requests")


def _merged_keys(bodies: Sequence[Mapping[str, Any]]) -> list[str]:
    """The order fields of answers, in their order; a field only some answers carry (a Pending
    order's missing start_count) is put after the field it follows where it appears."""
    order: list[str] = []
    for body in sorted(bodies, key=len, reverse=True):
        previous: str | None = None
        for name in _keys(body):
            if name not in order:
                order.insert(order.index(previous) + 1 if previous in order else 0, name)
            previous = name
    return order


def _batches(exchanges: Sequence[Seen], f: Findings) -> None:
    batch: list[str] = []
    for handler, action, name in (("status", "status", "orders"), ("refill", "refill", "orders"),
                                  ("refill_status", "refill_status", "refills")):
        tried = [s for s in exchanges if s.action == action and s.params.get(name, "").strip()
                 and s.key.value == "valid"]
        if any(s.answered for s in tried):
            batch.append(handler)
        elif not tried:
            batch.append(handler)
            f.unseen(f"shapes.batch.{handler}", f"no {action} with {name}= was sent: assumed "
                     "batched, as the reference does")
    f.set("shapes.batch", batch)
    if any(s.answered and s.action == "status" and "orders" in s.params for s in exchanges):
        f.trait("multi_status.action", "status")
    else:
        alias = next((s.action for s in _answered(exchanges, *MULTI_ALIASES)), None)
        asked = any(s.action in ("status", *MULTI_ALIASES) and "orders" in s.params
                    for s in exchanges)
        f.trait("multi_status.action", alias or ("none" if asked else None))


def _multi(exchanges: Sequence[Seen]) -> tuple[list[Mapping[str, Any]], list[str]]:
    items: list[Mapping[str, Any]] = []
    errors: list[str] = []
    for s in _answered(exchanges, "status", *MULTI_ALIASES):
        if "orders" not in s.params or not isinstance(s.json, dict):
            continue
        for item in s.json.values():
            if isinstance(item, str):
                errors.append("string")
            elif isinstance(item, dict) and "error" in item:
                errors.append("object")
            elif isinstance(item, dict):
                items.append(item)
    return items, errors


def _wrappers(exchanges: Sequence[Seen], f: Findings) -> None:
    wrappers: dict[str, dict[str, str | int]] = {}
    seen_any = False
    for handler, main in (("add", "order"), ("balance", "balance"), ("refill", "refill")):
        bodies = [s.json for s in _answered(exchanges, handler) if isinstance(s.json, dict)]
        leads = [lead for b in bodies if (lead := _leading(b, main)) is not None]
        if not leads:
            f.unseen(f"shapes.wrappers.{handler}", f"no single {handler} was answered")
            continue
        seen_any = True
        lead = Counter(leads).most_common(1)[0][0]
        if lead:
            wrappers[handler] = dict(lead)
    if seen_any:
        f.set("shapes.wrappers", wrappers)


def _cancel(exchanges: Sequence[Seen], f: Findings) -> None:
    answers = _answered(exchanges, "cancel")
    items = [i for s in answers for i in (s.json if isinstance(s.json, list) else [s.json])
             if isinstance(i, dict) and "order" in i]
    acks = [i["cancel"] for i in items if ("cancel" in i and not isinstance(i["cancel"], dict))
            or (isinstance(i.get("cancel"), dict) and "error" not in i["cancel"])]
    if acks:
        f.set("shapes.cancel.ack", "success" if isinstance(acks[0], dict) else "flag")
    else:
        f.unseen("shapes.cancel.ack", "no cancel was accepted")
    nested = [isinstance(i.get("cancel"), dict) and "error" in i["cancel"] for i in items
              if "error" in i or (isinstance(i.get("cancel"), dict) and "error" in i["cancel"])]
    if nested:
        f.set("shapes.cancel.error_nested", Counter(nested).most_common(1)[0][0])
        f.trait("cancel.error_nested", Counter(nested).most_common(1)[0][0])
    else:
        f.unseen("shapes.cancel.error_nested", "no cancel item was refused")
    single = [s for s in answers if len([i for i in s.params.get("orders", "").split(",")
                                         if i.strip()]) == 1]
    if single:
        unwrapped = isinstance(single[0].json, dict)
        f.set("shapes.cancel.unwrap_single", unwrapped)
        f.trait("cancel.shape", "object" if unwrapped else "list")
    else:
        f.unseen("shapes.cancel.unwrap_single", "no cancel of one id was answered")


# --- the request budget --------------------------------------------------------------------


def _when(s: Seen, started: Mapping[int, datetime]) -> datetime | None:
    return started.get(s.index)


def rate_limit_settings(exchanges: Sequence[Seen], started: Mapping[int, datetime],
                        f: Findings) -> None:
    """A 429's budget: the requests counted in the minute before the first 429.

    Per key when only the key that used its budget up is refused (the fewest requests one key
    made before its first 429); per client address when requests of another key, or without
    a good key, are refused in the same minute (then every request counts).
    """
    refused = [s for s in exchanges if s.status == 429]
    if not refused:
        f.unseen("rate_limit", "no request was refused with HTTP 429")
        return
    first, end = refused[0], _when(refused[0], started)
    # Under a per-key budget, the next request of another key is served as usual.
    other = next((s for s in exchanges if s.index > first.index
                  and s.key_label != first.key_label), None)
    per_ip = (other is not None and other.status == 429 and _close(other, end, started)) or any(
        s.key.value != "valid" for s in refused)

    def counted(s: Seen, before: Seen, stop: datetime | None) -> bool:
        when = _when(s, started)
        routed = s.status != 405 and (s.status != 404 or s.action is not None)
        return (s.index < before.index and s.status != 429 and routed and when is not None
                and stop is not None and stop - when < timedelta(seconds=60))

    budgets: list[int] = []
    if per_ip:
        budgets.append(sum(1 for s in exchanges if counted(s, first, end)))
    else:
        firsts: dict[str | None, Seen] = {}
        for s in refused:
            firsts.setdefault(s.key_label, s)
        for label, stop in firsts.items():
            budgets.append(sum(1 for s in exchanges if s.key_label == label
                               and counted(s, stop, _when(stop, started))))
    budgets = [b for b in budgets if b > 0]
    if budgets:
        f.set("rate_limit", {"per_minute": min(budgets), "scope": "ip" if per_ip else "key"})
    else:
        f.unseen("rate_limit", "requests were refused with HTTP 429, but the budget could not "
                 "be counted from the requests before")


def _close(s: Seen, end: datetime | None, started: Mapping[int, datetime]) -> bool:
    when = _when(s, started)
    return end is not None and when is not None and when - end < timedelta(seconds=60)


def dripfeed_settings(exchanges: Sequence[Seen], observations: Sequence[Observation],
                      f: Findings) -> None:
    """Whether drip-feed is taken at all: an accepted drip-feed add says yes; refusals of
    drip-feed as such, with no flag in the catalogue to blame, say no."""
    drip = [s for s in exchanges if s.action == "add" and s.params.get("runs")]
    if any(s.answered for s in drip):
        f.set("services.takes_dripfeed", True)
    elif any(o.code is E.DRIPFEED_NOT_SUPPORTED for o in observations) and (
        "dripfeed" not in f.settings.get("services.fields", ())
    ):
        f.set("services.takes_dripfeed", False)
    else:
        f.unseen("services.takes_dripfeed", "no drip-feed add was accepted, nor refused for "
                 "drip-feed itself")
