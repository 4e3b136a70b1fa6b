"""What the served answers of a recording show of money, numbers and status words.

The balance's currency and places, each id, count and amount as a JSON number or a string, and
the spellings of order and refill statuses; written into the :class:`Findings` as the other
readers of :mod:`mockpanel.emulate.infer_answers` do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

from mockpanel.emulate.infer_answers import (
    Findings,
    answered,
    number_setting,
    places_of,
    style_of,
)
from mockpanel.emulate.infer_candidates import MULTI_ALIASES, canonical_order_status
from mockpanel.emulate.infer_read import Seen
from mockpanel.state import OrderStatus

__all__ = ["money_settings", "numbers_settings", "words_settings"]


# --- money ---------------------------------------------------------------------------------


def money_settings(exchanges: Sequence[Seen], f: Findings) -> int | None:
    """Currency, money places and the balance's number type; returns the places seen."""
    balances = [s.json for s in answered(exchanges, "balance")
                if isinstance(s.json, dict) and "balance" in s.json]
    charges = [item.get("charge") for item in _status_items(exchanges)]
    charges += [s.json.get("charge") for s in answered(exchanges, "add")
                if isinstance(s.json, dict)]
    places = [p for v in [b["balance"] for b in balances] + charges
              if (p := places_of(v)) is not None]
    currencies = Counter(
        c for c in [b.get("currency") for b in balances] + [i.get("currency") for i in
                                                            _status_items(exchanges)]
        if isinstance(c, str) and re.fullmatch("[A-Z]{3}", c)
    )
    if currencies:
        f.set("currency", currencies.most_common(1)[0][0])
    else:
        f.unseen("currency", "no balance or status answer named a currency")
    most = max(places) if places else None
    if most is not None and most <= 8:
        f.set("money_places", most)
    else:
        f.unseen("money_places", "no balance or charge was seen")
    if balances:
        style = style_of(b["balance"] for b in balances)
        f.set("numbers.balance", style)
        first = balances[0]
        f.trait("balance.balance", style)
        f.trait("balance.places", places_of(first["balance"]))
        f.trait("balance.currency", first.get("currency") if isinstance(
            first.get("currency"), str) else None)
        f.trait("balance.extra", sorted(k for k in first if k not in ("balance", "currency")))
    else:
        f.unseen("numbers.balance", "no balance answer was seen")
    return most


def _status_items(exchanges: Sequence[Seen]) -> list[Mapping[str, Any]]:
    """Every order view of a status or multi-status answer."""
    items: list[Mapping[str, Any]] = []
    for s in answered(exchanges, "status", *MULTI_ALIASES):
        body = s.json
        if not isinstance(body, dict):
            continue
        if "status" in body and not isinstance(body.get("status"), dict):
            items.append(body)
        else:
            items.extend(v for v in body.values() if isinstance(v, dict) and "status" in v)
    return items


# --- numbers -------------------------------------------------------------------------------


def _digits(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isdigit())


def numbers_settings(exchanges: Sequence[Seen], f: Findings) -> None:
    """Ids, counts and amounts: a JSON number or a string, field by field."""
    adds = [s.json for s in answered(exchanges, "add") if isinstance(s.json, dict)]
    issued = [a.get("order") for a in adds if a.get("order") is not None]
    listed: list[object] = []
    listed_refills: list[object] = []
    for s in answered(exchanges, "cancel", "refill", "refill_status"):
        items = s.json if isinstance(s.json, list) else [s.json]
        for item in (i for i in items if isinstance(i, dict)):
            if s.action != "refill_status" and _digits(item.get("order")):
                listed.append(item.get("order"))
            if s.action != "cancel" and _digits(item.get("refill")) and isinstance(
                    s.json, list):
                listed_refills.append(item.get("refill"))
    numeric = [v for v in issued if _digits(v)]
    if issued:
        alphanumeric = any(isinstance(v, str) and not v.isdigit() for v in issued)
        f.set("id_style", "alphanumeric" if alphanumeric else "numeric")
    else:
        f.unseen("id_style", "no add was accepted: the style of new order ids was not seen")
    number_setting(f, "numbers.order_id", numeric or listed, "no numeric order id was seen")
    refills = [s.json.get("refill") for s in answered(exchanges, "refill")
               if isinstance(s.json, dict) and "refill" in s.json]
    number_setting(f, "numbers.refill_id", refills, "no single refill was accepted")
    number_setting(f, "numbers.listed_id", listed_refills, "no refill list was seen")
    items = _status_items(exchanges)
    for name in ("charge", "start_count", "remains"):
        number_setting(f, f"numbers.{name}", [i.get(name) for i in items if name in i],
                f"no status answer showed {name}")
    extras = [a.get(n) for a in adds for n in ("charge", "start_count", "remains") if n in a]
    number_setting(f, "numbers.add_extras", extras, "no add answer carried more than the order id")
    pending = [i for i in items if canonical_order_status(i.get("status")) is not None
               and canonical_order_status(i.get("status")) == "Pending"]
    counted = any("start_count" in i for i in items)
    if pending and counted:
        omit = all("start_count" not in i for i in pending)
        f.set("numbers.unknown_start_count", "omit" if omit else "zero")
    else:
        f.unseen("numbers.unknown_start_count", "no Pending order's status was seen beside "
                 "a start_count")
    f.unseen("numbers.webhook", "webhooks are not in a recording of API requests")


# --- status words --------------------------------------------------------------------------


_REFILL_WORDS: Final = {
    "pending": "Pending", "inprogress": "In progress", "processing": "In progress",
    "completed": "Completed", "complete": "Completed", "rejected": "Rejected",
    "canceled": "Rejected", "cancelled": "Rejected",
}


def words_settings(exchanges: Sequence[Seen], f: Findings) -> None:
    """The spellings of order and refill statuses."""
    words = [i.get("status") for i in _status_items(exchanges)]
    spelled: dict[str, str] = {}
    for text in (w for w in words if isinstance(w, str)):
        status = canonical_order_status(text)
        if status is None:
            f.notes.append(f"order status {text[:40]!r} is none the mock knows")
        elif text != status.value or status.value in ("Done", "Failed", "Processing"):
            spelled.setdefault(status.value, text)
    if words:
        f.set("order_words", spelled)
        shown = {canonical_order_status(w) for w in words}
        for status in OrderStatus:
            if status not in shown:
                f.unseen(f"order_words.{status.value}", f"no order was seen {status.value}: "
                         "how the panel spells it is a guess")
    else:
        f.unseen("order_words", "no order status was seen")
    refill_words: list[object] = []
    for s in answered(exchanges, "refill_status"):
        items = s.json if isinstance(s.json, list) else [s.json]
        refill_words.extend(i.get("status") for i in items if isinstance(i, dict))
    spelled = {}
    for text in (w for w in refill_words if isinstance(w, str)):
        canonical = _REFILL_WORDS.get(re.sub(r"[^a-z]", "", text.lower()))
        if canonical is None:
            f.notes.append(f"refill status {text[:40]!r} is none the mock knows")
        elif text != canonical:
            spelled.setdefault(canonical, text)
    if any(isinstance(w, str) for w in refill_words):
        f.set("refill_words", spelled)
        refills_shown = {_REFILL_WORDS.get(re.sub(r"[^a-z]", "", w.lower()))
                         for w in refill_words if isinstance(w, str)}
        for refill_status in ("Pending", "In progress", "Completed", "Rejected"):
            if refill_status not in refills_shown:
                f.unseen(f"refill_words.{refill_status}", f"no refill was seen {refill_status}: "
                         "how the panel spells it is a guess")
    else:
        f.unseen("refill_words", "no refill status was seen")
