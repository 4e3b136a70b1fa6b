"""Malformed input (ROBUST): never a 5xx, always a JSON error, never money moved.

Bodies are written by hand; ``KEY_SLOT`` stands where the client puts the key, so the key never
appears in the recorded request. Bodies that mention ``add`` can spend on a lenient panel and
are reserved like any order.
"""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest

from harness import (
    KEY_SLOT,
    Applies,
    Catalog,
    Judge,
    Panel,
    Secret,
    answer_kind,
    require,
    server_broke,
    values,
)

FORM = "application/x-www-form-urlencoded"
K = b"key=" + KEY_SLOT

# Bodies a panel cannot act on: each must get the JSON error envelope.
UNUSABLE = {
    "random-bytes": bytes(random.Random(2024).randrange(256) for _ in range(200)),
    "only-separators": b"=&&&=&=",
    "bad-percent": K + b"&action=%%%zz",
    "no-action-unknown-fields": K + b"&foo=1&bar=2",
    "huge-order-id": K + b"&action=status&order=" + b"9" * 200,
    "negative-order-id": K + b"&action=status&order=-5",
}
# Bodies a panel may act on or refuse: each must be answered without a 5xx, with JSON.
TOLERATED = {
    "repeated-action": K + b"&action=balance&action=services",
    "unknown-fields": K + b"&action=balance&unknown_field=1&another=two",
    "trailing-garbage": K + b"&action=balance&&&",
}


@pytest.mark.clause("ROBUST-001", "ROBUST-002")
@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_bodies_get_an_error(panel: Panel, judge: Judge, main_key: Secret,
                                      name: str) -> None:
    exchange = panel.client.send_raw(UNUSABLE[name], content_type=FORM, key=main_key)
    # A probe: this test's clauses alone judge the answer (a 5xx is ROBUST-001's failure, any
    # other non-refusal ROBUST-002's), never the generic checks as well.
    require(not server_broke(exchange) and exchange.transport_error is None, "ROBUST-001",
            f"a {name} body is answered below 500",
            exchange.transport_error or f"HTTP {exchange.status}", [exchange])
    judge.expect_error(exchange, "ROBUST-002", f"a {name} body gets the JSON error envelope")


@pytest.mark.clause("ROBUST-001")
@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_odd_bodies_never_break_the_panel(panel: Panel, main_key: Secret, name: str) -> None:
    exchange = panel.client.send_raw(TOLERATED[name], content_type=FORM, key=main_key)
    require(exchange.status is not None and exchange.status < 500 and exchange.is_json,
            "ROBUST-001", f"a {name} body is answered without a 5xx",
            f"HTTP {exchange.status}", [exchange])


@pytest.mark.clause("ROBUST-003")
@pytest.mark.parametrize(
    "body",
    [K + b"&action=balance&comment=\xff\xfe\xfd", K + b"&action=status&order=%FF%FE",
     K + b"&action=\xc3\x28"],
    ids=["raw-bytes", "percent-encoded", "bad-sequence-in-action"],
)
def test_invalid_utf8(panel: Panel, main_key: Secret, body: bytes) -> None:
    exchange = panel.client.send_raw(body, content_type=FORM, key=main_key)
    require(exchange.status is not None and exchange.status < 500 and exchange.is_json,
            "ROBUST-003", "invalid UTF-8 is answered without a 5xx",
            f"HTTP {exchange.status}", [exchange])


@pytest.mark.clause("ROBUST-004")
def test_oversized_body(panel: Panel, main_key: Secret) -> None:
    # PHP reads bodies up to 8 MB by default, so answering a 4 MiB body normally harms no one;
    # refusing it (413, an error envelope) is as good. What is not: a 5xx, a dropped
    # connection, or a panel that stops serving.
    body = K + b"&action=balance&link=https://example.com/" + b"a" * (4 * 1024 * 1024)
    exchange = panel.client.send_raw(body, content_type=FORM, key=main_key)
    require(exchange.transport_error is None and not server_broke(exchange), "ROBUST-004",
            "a 4 MiB body gets an answer below 500",
            exchange.transport_error or f"HTTP {exchange.status}", [exchange])
    after = panel.balance(main_key)
    require(answer_kind(after) is Applies.SUCCESS, "ROBUST-004",
            "the panel keeps serving after a 4 MiB body", f"balance got HTTP {after.status}",
            [exchange, after])


@pytest.mark.clause("ROBUST-005")
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", K + b"&action=balance"),
        ("application/xml", b"<request><action>balance</action></request>"),
        ("application/json", b'{"action": "balance", "key": "' + KEY_SLOT + b'"}'),
        ("multipart/form-data", b"--x\r\n\r\nbalance\r\n--x--"),
    ],
    ids=["text-plain", "xml", "json", "multipart-without-boundary"],
)
def test_unexpected_content_types(
    panel: Panel, main_key: Secret, content_type: str, body: bytes
) -> None:
    exchange = panel.client.send_raw(body, content_type=content_type, key=main_key)
    require(exchange.status is not None and exchange.status < 500 and exchange.is_json,
            "ROBUST-005", f"a {content_type} body is answered without a 5xx",
            f"HTTP {exchange.status}", [exchange])


_OUT_OF_RANGE = [str(2**64 + 1), "-1", "12ab!", "1e400"]


@pytest.mark.clause("ROBUST-007")
@pytest.mark.parametrize("value", _OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("action", "field"),
    [("status", "order"), ("status", "orders"), ("refill", "order"),
     ("refill_status", "refill")],
)
def test_out_of_range_ids(
    panel: Panel, main_key: Secret, action: str, field: str, value: str
) -> None:
    if action != "status":
        # An optional action that crashes on any id is ROBUST-001's (blocked by it), not this.
        panel.require_offered(action, {field: panel.never_issued()})
    # A probe, as the other odd bodies here: ROBUST-007 alone judges the answer, a 5xx
    # included (the clause's own words). Sent as a protocol request, a 5xx would be
    # ROBUST-001's alone and this test would read the crash as a refusal.
    body = K + f"&action={action}&{field}={quote(value)}".encode()
    exchange = panel.client.send_raw(body, content_type=FORM, key=main_key)
    require(exchange.transport_error is None and not server_broke(exchange), "ROBUST-007",
            f"{field}={value!r} is answered below 500",
            exchange.transport_error or f"HTTP {exchange.status}", [exchange])
    kind = answer_kind(exchange)
    per_id_errors = kind is Applies.SUCCESS and isinstance(exchange.json, dict) and all(
        isinstance(item, str) or (isinstance(item, dict) and "error" in item)
        for item in exchange.json.values()
    )
    require(kind is Applies.ERROR or per_id_errors, "ROBUST-007",
            f"{field}={value!r} is refused", f"HTTP {exchange.status}", [exchange])


@pytest.mark.clause("ROBUST-009", "MONEY-004")
def test_malformed_orders_change_no_money(panel: Panel, catalog: Catalog) -> None:
    service, quantity = panel.cheapest_default()
    link = panel.link()
    bodies = [
        {"service": "abc", "link": link, "quantity": str(quantity)},
        {"service": str(2**70), "link": link, "quantity": str(quantity)},
        {"service": service.id, "link": link, "quantity": "-5"},
        {"service": service.id, "link": link, "quantity": "1e309"},
        {"service": service.id, "link": link, "quantity": str(quantity), "runs": "-3",
         "interval": "abc"},
    ]
    worst = max(catalog.most_expensive(quantity), service.price(service.max))
    # One attempt at a time: a refused attempt frees its reservation for the next one.
    wallet = panel.spending_wallet(panel.worst_case(worst))
    start = panel.quiet_balance(wallet.key)  # the wallet's own read, back to back
    for params in bodies:
        attempt = panel.attempt(wallet, params, worst)
        panel.expect_refused(attempt, "ROBUST-009", f"a malformed add {params} is refused")
        body = attempt.exchange.json
        require(not (isinstance(body, dict) and values.id_text(body.get("order"))), "ROBUST-009",
                "no order was created", f"answer {body!r}", [attempt.exchange])
    end = panel.read_balance(wallet.key)
    require(end == start, "ROBUST-009", "malformed requests change no money",
            f"balance {start} -> {end}")
