"""The false-alarm corpus: correct panels that differ from the mock the way real panels do.

The mirror of ``broken_panels.py``. Each :class:`LegitPanel` is one real family's choice (named,
with where it is documented) made by a panel written apart from ``mockpanel``: its own books
(``legit_ledger.py``, Decimal money) behind a plain ``http.server`` (``legit_wire.py``). Every
variation is data, a :class:`~legit_ledger.Rules` or :class:`~legit_wire.Wire` field; each row
changes a few fields of the same correct panel, so a verdict that differs between two rows
comes from the named choice. A harness that fails any MUST clause on one of them raises a
false alarm: ``test_legit.py`` runs the whole suite against each, black-box (and controlled
where the row has a control API), and asserts that none does.

Run one on a free port (it prints its API URL, then serves until stdin closes)::

    LEGIT_PANEL_KEYS='k1=500.00,k2=1.00' python tests/conformance/legit_panels.py serve NAME

(``LEGIT_PANEL_CONTROL_TOKEN=...`` as well for a controlled run: a manual clock and the control
API at ``/_mock``), and regenerate ``LEGIT.md`` with ``python tests/conformance/legit_panels.py
table > tests/conformance/LEGIT.md``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from tests.conformance.legit_ledger import (
    DAY,
    LEDGER_FLAWS,
    Books,
    Clock,
    IdStyle,
    QuantitySyntax,
    Rules,
    Status,
)
from tests.conformance.legit_wire import (
    WIRE_FLAWS,
    CancelShape,
    FlagStyle,
    HttpStatuses,
    IdJson,
    MiB,
    MoneyStyle,
    OtherMethods,
    OverLimit,
    PendingCount,
    Wire,
    serving,
)

__all__ = ["LEGIT_PANELS", "LegitPanel", "by_name", "legit_table", "open_books", "with_flaw"]


@dataclass(frozen=True, slots=True)
class LegitPanel:
    """One correct panel of a real family, and where its behaviour is documented."""

    name: str
    family: str  # the real panels it copies
    variation: str  # what it does that the mock does not (what a harness must accept)
    sources: tuple[str, ...]  # seed files and protocol-variants.md sections stating it
    rules: Rules = field(default_factory=Rules)
    wire: Wire = field(default_factory=Wire)
    control: bool = False  # offers the sandbox control API (a controlled run is made too)


_PP = "classic PerfectPanel clone"  # the family every row starts from (seed 003)

LEGIT_PANELS: tuple[LegitPanel, ...] = (
    LegitPanel(
        "perfectpanel-classic",
        f"{_PP} as seed 003 documents it (cheapsmmbd, JAP's page)",
        "the corpus's baseline: canonical shapes, money at 5 places rounded half-up, errors "
        "as HTTP 200 envelopes, a batch over 100 ids refused, PUT and DELETE reaching the API "
        "script (which finds no fields), orders finishing on their own timer",
        ("seeds/003", "protocol-variants.md §1, §2"),
        control=True,
    ),
    LegitPanel(
        "stock-501-for-put-delete",
        "a panel behind a web server that implements only GET and POST (Python's "
        "http.server here; Apache's 501 Method Not Implemented alike)",
        "PUT and DELETE get the server's stock HTML 501 Not Implemented page; GET and POST "
        "reach the API",
        ("issue 16: 'a stock HTTP server's 501 Not Implemented page ... is correct HTTP'",
         "RFC 9110 §15.6.2"),
        wire=Wire(other_methods=OtherMethods.STOCK_501),
    ),
    LegitPanel(
        "flask-405-page",
        "Python/Flask reseller API (protocol-variants FLASK, idx:69381409440): a route for "
        "GET and POST reading request.values or a JSON body",
        "PUT and DELETE get Werkzeug's stock HTML 405 Method Not Allowed page; GET query "
        "strings and JSON bodies are read like forms",
        ("protocol-variants.md §1 (Method: FLASK request.values or JSON)",),
        wire=Wire(other_methods=OtherMethods.HTML_405, query_params=True, json_bodies=True),
    ),
    LegitPanel(
        "batch-truncated-at-100",
        f"{_PP} that enforces the documented 'up to 100 IDs' by answering the first 100",
        "multi-status, cancel and multi refill of more than 100 ids answer the first 100 "
        "(array_slice), not an error",
        ("seeds/001 'up to 100'", "seeds/002 'max 100'", "seeds/003 'up to 100 IDs'"),
        wire=Wire(over_limit=OverLimit.TRUNCATE),
    ),
    LegitPanel(
        "batch-answered-whole",
        "SmartPanel, Mona and UZS scripts, which do not enforce the batch size",
        "a batch of any size, 10 000 ids included, is answered id by id",
        ("protocol-variants.md §1 (Batch size: servers rarely enforce it [V SP, MONA, UZS])",),
        wire=Wire(over_limit=OverLimit.WHOLE),
    ),
    LegitPanel(
        "four-mib-body-answered",
        "a PHP panel with PHP's default post_max_size of 8M",
        "a 4 MiB form body is parsed and answered normally (a balance request with a long "
        "extra field gets the balance)",
        ("issue 16: 'PHP accepts 8 MB by default, and answering it normally harms no one'",),
        wire=Wire(max_body=8 * MiB),
    ),
    LegitPanel(
        "four-places-half-even",
        "Python reseller API keeping money as Decimal at 4 places (FLASK's 4-dp balance); "
        "Decimal.quantize rounds half-even by default",
        "money kept and printed with 4 decimals, charges and refunds rounded half-even",
        ("protocol-variants.md §2 (balance: FLASK 4-dp string)",
         "issue 16: 'Panels round (PHP floats, 2-decimal INR wallets, half-even, truncation)'"),
        rules=Rules(places=4, rounding=ROUND_HALF_EVEN),
        control=True,
    ),
    LegitPanel(
        "seven-places-truncated",
        "a PHP panel computing money with bcmath at scale 7 (bcmul and bcdiv truncate); "
        "TGLUX: the panel 'keeps money at seven decimal places'",
        "money kept and printed with 7 decimals, charges and refunds truncated (rounded down)",
        ("protocol-variants.md §4 (balance: 7-dp in TGLUX's words)",
         "issue 16: 'half-even, truncation'"),
        rules=Rules(places=7, rounding=ROUND_DOWN),
        control=True,
    ),
    LegitPanel(
        "start-count-null-while-pending",
        "Laravel clone (LAR-BRL/LAR-VND family): start_count is a nullable column, "
        "serialized as null until the provider reports it",
        "a Pending order's start_count is null",
        ("issue 16: 'start_count: null on a Pending order (the count is unknown until "
         "delivery starts)'",),
        wire=Wire(pending_count=PendingCount.NULL),
    ),
    LegitPanel(
        "start-count-zero-while-pending",
        "Python/Flask reseller API (FLASK: start_count defaults to 0)",
        "a Pending order's start_count is 0, the real count once delivery starts",
        ("protocol-variants.md §2 (status: FLASK start_count default 0)",),
        wire=Wire(pending_count=PendingCount.ZERO),
    ),
    LegitPanel(
        "flags-as-true-false-strings",
        "a PHP panel printing flags kept as ENUM('true','false') columns as they are",
        "services say \"refill\": \"true\", \"cancel\": \"false\", \"dripfeed\": \"true\"",
        ("protocol-variants.md §9.3 (booleans as 1/0/\"1\"/\"0\"/\"yes\"/\"no\")",
         "issue 16: 'a service flag \"refill\": \"true\" (PHP prints flags as strings)'"),
        wire=Wire(flags=FlagStyle.WORDS),
    ),
    LegitPanel(
        "smartpanel-api-v1",
        "SmartPanel (aliabbasbeing/smm-panel-script, the codecanyon CodeIgniter script)",
        "served at /api/v1; raw database rows (service ids and flags as strings \"1\"/\"0\", "
        "type \"default\"); add and balance also say \"status\": \"success\"; parameters "
        "read from the query string too ($_REQUEST); an unknown id in a multi-status is the "
        "bare string \"Incorrect order ID\"",
        ("protocol-variants.md §1 (Endpoint: SP serves /api/v1)",
         "protocol-variants.md §2 (services: SP raw DB rows; multi status: SP bare string)",
         "protocol-variants.md §4 (refill/cancel/dripfeed: SP raw DB flag)"),
        wire=Wire(path="/api/v1", query_params=True, service_ids=IdJson.STRING,
                  flags=FlagStyle.STR01, service_type="default", success_marker=True,
                  bare_string_errors=True),
    ),
    LegitPanel(
        "json-as-text-html",
        "TR 'SMMApi' script (benshandd/BoostedSMM: print_r(json_encode(...)) with no header) "
        "and SmartPanel's echo_json_string (JSON_PRETTY_PRINT): PHP's default text/html",
        "every answer is pretty-printed JSON labelled text/html, after two stray newlines "
        "(a blank line before <?php in an included file)",
        ("protocol-variants.md §1 (Response type: SP pretty-printed, text/html; TR print_r)",
         "protocol-variants.md §9.5 (panels 'sometimes return text/html even for JSON')"),
        wire=Wire(content_type="text/html; charset=UTF-8", prefix="\n\n", indent=4),
    ),
    LegitPanel(
        "dripfeed-interval-zero",
        "SmartPanel drip-feed, whose interval list {0,5,10,15,30,60,90} starts at 0",
        "a drip-feed order with interval=0 (runs back to back) is accepted",
        ("protocol-variants.md §5 (Drip-feed semantics: SP interval ∈ {0,5,10,15,30,60,90})",),
        rules=Rules(interval_min=0),
    ),
    LegitPanel(
        "dripfeed-max-per-run",
        f"{_PP} whose drip-feed form reads quantity as the amount of each run ('Runs to "
        "deliver') and holds each run to min/max",
        "runs x quantity above the service's max is accepted (and charged on the total) when "
        "each run is within min/max",
        ("seeds/002, 003, 004: quantity 'Needed quantity', runs 'Runs to deliver'; no seed "
         "caps the total",
         "issue 16: 'DRIP-002 (runs x quantity checked against max)' is a MUST without source"),
        rules=Rules(drip_total_checked=False),
    ),
    LegitPanel(
        "quantity-exponent-read",
        "a PHP panel validating quantity with is_numeric() and casting it with (int) "
        "(PHP >= 7.1 reads \"1e3\" as 1000)",
        "quantity=1e3 is read as 1000 and charged for 1000 (fractions are truncated, then "
        "held to min/max)",
        ("issue 16: '`quantity=1e3` (read as 1000 and charged for 1000)'",),
        rules=Rules(quantity_syntax=QuantitySyntax.PHP_NUMERIC),
    ),
    LegitPanel(
        "cancel-only-while-pending",
        "DOC-CANCEL (idx:56962078584): cancel only for Pending orders, refunded "
        "automatically; the provider takes orders within half a second",
        "a cancel is refused as soon as the order is In progress (0.5 s after the add; "
        "delivery then takes 3 s)",
        ("protocol-variants.md §2 (cancel: DOC-CANCEL only Pending cancellable)",
         "protocol-variants.md §9.7 ('some panels allow cancel only while Pending')",
         "seeds/000 'the upstream provider may have already started, in which case the cancel "
         "is rejected'"),
        rules=Rules(cancellable=frozenset({Status.PENDING}), pending_seconds=0.5,
                    progress_seconds=3.0),
        control=True,
    ),
    LegitPanel(
        "refill-within-one-day",
        f"{_PP} whose refill warranty lasts one day after completion",
        "a refill is accepted for 24 hours after the order completed, then refused "
        "('Refill period has expired')",
        ("seeds/002 'Refill not available: ... the lifetime window has expired'",),
        rules=Rules(refill_days=1),
        control=True,
    ),
    LegitPanel(
        "refill-cooldown-24h",
        "Laravel panel LAR-BRL (App\\Http\\Controllers\\Api\\ApiController)",
        "a refill is refused for 24 hours after completion ('The order was completed or "
        "refill was requested less than 24 hours ago')",
        ("protocol-variants.md §6 (LAR-BRL refill rules, 422)",),
        rules=Rules(refill_cooldown=DAY),
        control=True,
    ),
    LegitPanel(
        "laravel-422",
        "Laravel panel LAR-BRL (BRL wallet): validation and business errors as HTTP 422, "
        "auth as 401, a created order or refill as 201",
        "errors with HTTP 422/401, add and refill answered 201, JSON bodies read "
        "($request->all()), money at 2 places; PUT, DELETE and GET get Laravel's JSON 405 "
        "{\"message\": ...} (the harness asks for JSON)",
        ("protocol-variants.md §1 (HTTP status on error: LAR-BRL 422, 201, 401)",
         "protocol-variants.md §10 (error HTTP status: 4xx per error)"),
        rules=Rules(places=2, currency="BRL"),
        wire=Wire(statuses=HttpStatuses(bad_request=422, auth=401, funds=422, not_found=422,
                                        created=201),
                  json_bodies=True, other_methods=OtherMethods.JSON_405),
        control=True,
    ),
    LegitPanel(
        "string-order-ids",
        "SMMSERVER / SMMPSTORE family ({\"order\": \"23501\"})",
        "order ids are JSON strings of digits everywhere (add, cancel items)",
        ("protocol-variants.md §2 (add: {\"order\":\"23501\"} string [D SMMSERVER])",),
        wire=Wire(order_ids=IdJson.STRING),
    ),
    LegitPanel(
        "smmpremium-seed-000",
        "smmpremium.in as seed 000 documents it",
        "INR wallet at 2 places; order ids like K7M2X9 and refill ids like R88421; "
        "multi-status only through action=orders; cancel answered {\"order\": ..., "
        "\"cancel\": {\"status\": \"success\"}}; errors with HTTP 400/401/402/404; "
        "start_count left out while Pending; min/max and counts as numbers; JSON bodies read",
        ("seeds/000",),
        rules=Rules(places=2, currency="INR", ids=IdStyle.ALNUM),
        wire=Wire(statuses=HttpStatuses(bad_request=400, auth=401, funds=402, not_found=404),
                  json_bodies=True, order_ids=IdJson.STRING, multi_actions=("orders",),
                  cancel_shape=CancelShape.SUCCESS, pending_count=PendingCount.ABSENT,
                  counts_as_strings=False),
        control=True,
    ),
    LegitPanel(
        "php-floats",
        "a PHP panel script printing floats: DECIMAL(15,5) columns sent through "
        "json_encode((float) ...)",
        "money is a JSON number with only the digits it needs (500.0, 499.99087), counts are "
        "JSON integers",
        ("protocol-variants.md §4 (balance number: FOLLOWERAN, panel-rip; charge floats: "
         "FLASK, SMMSERVER)", "seeds/001 add's \"charge\": 4.20"),
        wire=Wire(money=MoneyStyle.FLOAT, counts_as_strings=False),
    ),
    LegitPanel(
        "any-link-accepted",
        "SmartPanel and TR scripts, which refuse only an empty link ('Bad Link') and leave "
        "the link to the provider",
        "any non-empty link is accepted (\"not a url\", \"ftp://...\") and charged",
        ("protocol-variants.md §6 (Bad link / Bad Link: empty link)",
         "issue 16: 'a link that is not http(s) (one seed)'"),
        rules=Rules(link_needs_http=False),
    ),
    LegitPanel(
        "provider-partials",
        f"{_PP} whose provider cannot finish every order",
        "every third order of an account ends Partial on its own, two fifths of it "
        "undelivered and refunded (charge * remains / quantity at 5 places, half-up)",
        ("seeds/000 'Partial: Provider could not finish, remaining was refunded'",
         "seeds/002 'We refund partials automatically'"),
        rules=Rules(partial_every=3),
    ),
    LegitPanel(
        "no-cancel-no-refill",
        "SmartPanel's original API (aliabbasbeing/smm-panel-script api.php: services, add, "
        "status, balance; refill came with a fork)",
        "cancel, refill and refill_status are answered like any unknown action (the error "
        "envelope)",
        ("protocol-variants.md §0 (SP, SP-REFILL: a fork adds refill / refill_status)",
         "protocol-variants.md §2 (unknown action: SP 'This action is Invalid')"),
        wire=Wire(actions=frozenset({"services", "balance", "add", "status"})),
    ),
    LegitPanel(
        "one-active-order-per-link",
        "Laravel and TR panels (LAR-BRL, LAR-VND, TR) that refuse a second order on a link "
        "while one is running",
        "an add for a link with an order still Pending or In progress is refused ('You have "
        "active order with this link'), which also keeps a retried add from charging twice",
        ("protocol-variants.md §6 (duplicate active link: LAR-BRL 422, TR, LAR-VND)",
         "protocol-variants.md §8 ('Panels also block a second order on the same link while "
         "one is active')"),
        rules=Rules(one_active_per_link=True),
    ),
)


def by_name(name: str) -> LegitPanel:
    for panel in LEGIT_PANELS:
        if panel.name == name:
            return panel
    raise KeyError(f"no legit panel {name!r}")


def with_flaw(panel: LegitPanel, flaw: str) -> LegitPanel:
    """``panel`` with one deliberate defect (``flaws.py``): its books and its wire both hear
    of it, and the one that knows the name acts on it."""
    return replace(panel, rules=replace(panel.rules, flaws=frozenset({flaw})),
                   wire=replace(panel.wire, flaws=frozenset({flaw})))


def open_books(panel: LegitPanel, keys: tuple[tuple[str, Decimal], ...], *,
               controlled: bool) -> Books:
    """The panel's books holding ``keys``; a controlled panel's clock is manual."""
    books = Books(panel.rules, Clock(manual=controlled))
    for key, balance in keys:
        books.open_tenant(balance, key=key)
    return books


def legit_table() -> str:
    """The Markdown of ``LEGIT.md``, generated from :data:`LEGIT_PANELS`."""
    lines = [
        "# The legit-panels matrix (the false-alarm corpus)",
        "",
        "Generated from `tests/conformance/legit_panels.py` (`python "
        "tests/conformance/legit_panels.py table`); `tests/conformance/test_legit.py` runs",
        "the harness against each panel and fails if this file is out of date. Each panel is",
        "correct and copies one real family's choice; none is the mock: each keeps its own",
        "books (`legit_ledger.py`: Decimal money, no overdraft, one refund per cancel, partial",
        "refund charge * remains / quantity at its precision, keys isolated) behind a plain",
        "`http.server` (`legit_wire.py`), and orders finish on their own timer. The harness",
        "must FAIL no MUST clause on any of them: black-box (a spend cap and",
        "`--panel-second-key`), and controlled as well where the panel offers the control API.",
        "",
        "| panel | family | variation (what the harness must accept) | documented in | modes |",
        "|---|---|---|---|---|",
    ]
    for panel in LEGIT_PANELS:
        modes = "black-box, controlled" if panel.control else "black-box"
        sources = "<br>".join(panel.sources)
        lines.append(f"| `{panel.name}` | {panel.family} | {panel.variation} | {sources} | "
                     f"{modes} |")
    return "\n".join(lines) + "\n"


def _keys(text: str) -> tuple[tuple[str, Decimal], ...]:
    pairs = []
    for item in text.split(","):
        key, _, balance = item.rpartition("=")
        pairs.append((key, Decimal(balance)))
    return tuple(pairs)


def main(argv: list[str]) -> int:
    if argv[:1] == ["table"]:
        sys.stdout.write(legit_table())
        return 0
    if len(argv) == 2 and argv[0] == "serve":
        panel = by_name(argv[1])
        token = os.environ.get("LEGIT_PANEL_CONTROL_TOKEN") or None
        if token is not None and not panel.control:
            print(f"{panel.name} offers no control API", file=sys.stderr)
            return 2
        flaw = os.environ.get("LEGIT_PANEL_FLAW") or None
        if flaw is not None:
            if flaw not in LEDGER_FLAWS | WIRE_FLAWS:
                print(f"no flaw {flaw!r}", file=sys.stderr)
                return 2
            panel = with_flaw(panel, flaw)
        books = open_books(panel, _keys(os.environ["LEGIT_PANEL_KEYS"]),
                           controlled=token is not None)
        with serving(panel.wire, books, token) as url:
            print(url, flush=True)
            sys.stdin.read()  # serve until the parent closes our stdin (or goes away)
        return 0
    print("usage: legit_panels.py table | serve NAME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
