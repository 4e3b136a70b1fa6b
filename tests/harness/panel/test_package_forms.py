"""Custom Comments Package in both documented forms: priced, reserved and judged fairly.

PerfectPanel-family panels take ``link`` + ``comments`` at a flat rate (protocol-variants.md
section 5); seed 004 takes ``username``, ``min``, ``max``, ``delay``, ``posts`` and bills
``posts * max`` at the upper bound. The harness sends both forms at once, reserves the dearer
price and accepts a charge matching either; a charge matching neither is caught, and a
refusal naming a per-post parameter shows the panel's form rather than a defect.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

from harness import contract
from harness.panel import strategies
from harness.panel.catalog import (
    Catalog,
    OrderSpec,
    Pricing,
    Service,
    cost_if_accepted,
    names_per_post_param,
    worst_case,
)
from mockpanel.config import MockConfig
from mockpanel.server import run_panel

PACKAGE = "Custom Comments Package"
FLAT_LIKE = Service("14", "Comments Package", PACKAGE, Decimal("3.50"), 1, 10)
CHEAP_FLAT = Service("15", "Comments Package [cheap]", PACKAGE, Decimal("0.50"), 10, 20_000)


def _package_order(service: Service, places: int = 2) -> OrderSpec:
    [spec] = strategies.order_examples(Catalog([service]), budget=Decimal(1000), places=places)
    return spec


# ---- the spend guard reserves the dearer pricing --------------------------------------------


def test_a_cheap_package_rate_with_many_comments_reserves_the_per_post_price() -> None:
    # 20000 comments at 0.50 per 1000 cost 10.00 per post; the flat rate is 0.50. Reserving
    # the flat rate alone (what the harness did) would let a seed 004 panel spend 20 x more.
    assert CHEAP_FLAT.charges(20_000) == {Pricing.FLAT: Decimal("0.50"),
                                          Pricing.PER_POST: Decimal("10")}
    assert CHEAP_FLAT.price(20_000) == Decimal("10")
    assert cost_if_accepted(CHEAP_FLAT, 20_000) == Decimal("10")
    assert cost_if_accepted(CHEAP_FLAT, None) == Decimal("10")  # unreadable: at max


def test_a_dear_package_rate_with_few_comments_reserves_the_flat_rate() -> None:
    assert FLAT_LIKE.price(3) == Decimal("3.50")
    assert cost_if_accepted(FLAT_LIKE, 3) == Decimal("3.50")


def test_single_priced_types_keep_their_one_price() -> None:
    package = Service("6", "Package", "Package", Decimal("4.99"), 1, 1)
    default = Service("1", "Followers", "Default", Decimal("0.90"), 50, 10_000)
    assert package.pricings == (Pricing.FLAT,)
    assert not package.metered
    assert cost_if_accepted(package, None) == Decimal("4.99")
    assert default.pricings == (Pricing.PER_1000,)
    assert default.price(1000) == Decimal("0.90")
    assert cost_if_accepted(default, 10**9) == Decimal("90")  # bounded at ten times max


# ---- the order carries both forms -----------------------------------------------------------


def test_a_package_order_sends_both_forms_ordering_the_same_units() -> None:
    spec = _package_order(CHEAP_FLAT)
    params = dict(spec.params)
    lines = [line for line in params["comments"].splitlines() if line.strip()]
    assert spec.units == len(lines) == 20  # the least units whose per-post charge shows
    assert params["link"].startswith(strategies.LINK_BASE)
    assert (params["posts"], params["min"], params["max"]) == ("1", "20", "20")
    assert params["delay"] == strategies.PER_POST_DELAY
    assert params["username"]
    body = {"key": "k", **spec.form()}
    assert contract.validate("add", "request", body) == []
    definition = contract.schema("add", "request")["$defs"]["custom_comments_package"]
    for form in definition["anyOf"]:  # each dialect finds every parameter its form requires
        assert set(form["required"]) <= set(params), form["title"]
    assert spec.price == Decimal("0.50")
    assert spec.prices == {Pricing.FLAT: Decimal("0.50"), Pricing.PER_POST: Decimal("0.01")}
    assert worst_case(spec.price, 2) == Decimal("0.50")


def test_the_budget_admits_a_package_only_at_its_dearer_price() -> None:
    catalog = Catalog([FLAT_LIKE])
    assert strategies.order_examples(catalog, budget=Decimal("3.49"), places=2) == []
    assert len(strategies.order_examples(catalog, budget=Decimal("3.50"), places=2)) == 1
    cheap = Catalog([CHEAP_FLAT])
    # Per post, 20000 comments cost 10.00: a budget of 1.00 caps the units at 2000.
    for spec in strategies.order_examples(cheap, budget=Decimal("1.00"), places=2):
        assert spec.price <= Decimal("1.00")


# ---- the charge: either form's price, not any other -----------------------------------------


def test_the_flat_form_s_charge_is_accepted() -> None:
    spec = _package_order(FLAT_LIKE)
    assert spec.charged(Decimal("3.50"), 2)


def test_the_per_post_form_s_charge_is_accepted_at_the_panel_s_rounding() -> None:
    spec = _package_order(FLAT_LIKE)  # 3 comments: 3.50 * 3 / 1000 = 0.0105
    assert spec.units == 3
    assert spec.charged(Decimal("0.0105"), 4)
    assert spec.charged(Decimal("0.01"), 2)
    assert spec.charged(Decimal("0.02"), 2)  # rounded up: a panel that never undercharges


def test_a_charge_matching_neither_form_is_caught() -> None:
    spec = _package_order(FLAT_LIKE)
    assert not spec.charged(Decimal("0.03"), 2)
    assert not spec.charged(Decimal("3.49"), 2)
    assert not spec.charged(Decimal("7.00"), 2)  # twice the flat rate
    assert spec.describe_prices() == "3.50 (flat) or 0.0105 (per-post)"
    # A plain Package has one price: the per-1000 reading of its units is no excuse.
    package = Service("6", "Package", "Package", Decimal("4.99"), 1, 1)
    [plain] = strategies.order_examples(Catalog([package]), budget=Decimal(10), places=2)
    assert plain.charged(Decimal("4.99"), 2)
    assert not plain.charged(Decimal("0.00499"), 5)


# ---- malformed orders and refusals ---------------------------------------------------------


def test_leaving_out_one_form_s_parameter_is_no_defect_of_a_package() -> None:
    defects = {m.defect for m in strategies.malformed_order_examples(
        Catalog([FLAT_LIKE]), budget=Decimal(100), places=2)}
    # Without link, comments or username the order is still valid in the other form.
    assert not defects & {"missing link", "missing comments", "missing username",
                          "empty link", "empty comments"}
    assert "missing service" in defects
    # A Custom Comments service has one form: its missing comments are still a defect.
    comments = Service("7", "Custom Comments", "Custom Comments", Decimal("8"), 5, 1500)
    defects = {m.defect for m in strategies.malformed_order_examples(
        Catalog([comments]), budget=Decimal(100), places=2)}
    assert {"missing link", "missing comments"} <= defects


def test_a_tolerated_malformed_package_order_may_cost_either_price() -> None:
    tolerated = [m for m in strategies.malformed_order_examples(
        Catalog([FLAT_LIKE]), budget=Decimal(100), places=2) if not m.must_refuse]
    assert tolerated
    for order in tolerated:
        assert order.charges == (Decimal("3.50"), Decimal("0.0105"))
        assert order.worst_case >= Decimal("3.50")


@pytest.mark.parametrize("message", [
    "The username parameter is missing",
    "delay: invalid value 5",
    "Field max is required",
    "Invalid posts",
])
def test_a_refusal_naming_a_per_post_parameter_shows_the_form(message: str) -> None:
    assert names_per_post_param(message)
    assert _package_order(FLAT_LIKE).refusal_shows_form(message)
    # On any other type, the same refusal of a valid order is a refusal.
    default = Service("1", "Followers", "Default", Decimal("0.90"), 50, 10_000)
    [plain] = strategies.order_examples(Catalog([default]), budget=Decimal(10), places=2)
    assert not plain.refusal_shows_form(message)


@pytest.mark.parametrize("message", [
    None, "", "Not enough funds on balance", "Quantity less than minimal 10",
    "Maximum quantity exceeded", "Incorrect service ID", "the link parameter is missing",
])
def test_other_refusals_of_a_package_are_refusals(message: str | None) -> None:
    assert not _package_order(FLAT_LIKE).refusal_shows_form(message)


# ---- the mock's two dialects take the same request ------------------------------------------


@pytest.mark.parametrize(("profile", "pricing"), [("reference", Pricing.FLAT),
                                                   ("extended", Pricing.PER_POST)])
def test_both_mock_dialects_accept_the_two_form_order_at_their_form_s_price(
    profile: str, pricing: Pricing,
) -> None:
    key = "package-forms-key-0001"
    with run_panel(MockConfig(profile=profile, keys=((key, Decimal(100)),),
                              clock="manual")) as mock:
        def call(params: dict[str, str]) -> tuple[int, object]:
            data = urllib.parse.urlencode({"key": key, **params}).encode()
            try:
                with urllib.request.urlopen(urllib.request.Request(mock.url, data=data)) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as error:
                return error.code, json.load(error)

        def balance() -> Decimal:
            _, body = call({"action": "balance"})
            assert isinstance(body, dict)
            return Decimal(body["balance"])

        _, services = call({"action": "services"})
        catalog = Catalog.parse(services)
        exponent = balance().as_tuple().exponent
        assert isinstance(exponent, int)
        places = -exponent
        [spec] = strategies.order_examples(Catalog(catalog.of_type(PACKAGE)),
                                           budget=Decimal(50), places=places)
        before = balance()
        status, answer = call(spec.form())
        debit = before - balance()
        assert mock.failures == ()
    assert status == 200, answer
    assert isinstance(answer, dict)
    assert "order" in answer, answer
    assert spec.charged(debit, places)
    exact = spec.prices[pricing]
    assert debit == exact.quantize(Decimal(1).scaleb(-places)), (debit, spec.prices)
    other = next(p for p in spec.prices if p is not pricing)
    assert debit != spec.prices[other]
