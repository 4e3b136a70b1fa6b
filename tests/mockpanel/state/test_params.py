"""``add``: every service type's parameters and price, and every refusal, with exact money.

The ``link`` check has a shortcut and a reference twin (``MOCKPANEL_NO_SHORTCUTS``): its tests
run on both, and :class:`TestShortcutMatchesReference` holds them to each other. So does the
order a request places (``new_order``): its test runs on both twins and pins every field.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import ManualClock, PanelState, ServiceType, StateConfig, Tenant
from mockpanel.state.money import SharedAmounts
from mockpanel.state.orders import Order, OrderStatus, Outcome
from mockpanel.state.params import (
    OrderRequest,
    is_link_reference,
    is_link_shortcut,
    new_order_reference,
    new_order_shortcut,
    validate_add,
)

MakeTenant = Callable[..., Tenant]

LINK = "https://instagram.com/p/abc"

# (service id, params, expected quantity, expected charge) -- one or more per type.
VALID_ORDERS: list[tuple[int, dict[str, str], int, str]] = [
    (1, {"link": LINK, "quantity": "1000"}, 1000, "0.90000"),
    (1, {"link": LINK, "quantity": "333"}, 333, "0.29970"),
    (2, {"link": "http://tiktok.com/v/1", "quantity": "10"}, 10, "0.00001"),
    (6, {"link": LINK}, 1000, "4.99000"),  # Package: fixed quantity, flat price
    (7, {"link": LINK, "comments": "nice\r\ngreat\n\n  \nwow\nlove it\ncool"}, 5, "0.04000"),
    (8, {"link": LINK, "comments": "one\ntwo\nthree"}, 3, "3.50000"),  # flat package
    (9, {"link": LINK, "quantity": "100", "keywords": "smm\npanel"}, 100, "0.12000"),
    (10, {"link": LINK, "quantity": "100", "usernames": "u1\nu2"}, 100, "0.18000"),
    (11, {"link": LINK, "quantity": "200", "usernames": "a, b", "hashtags": "#x"}, 200, "0.44000"),
    (12, {"link": LINK, "usernames": "a\nb\nc\nd"}, 4, "0.01200"),
    (13, {"link": LINK, "quantity": "150", "hashtag": "#sun"}, 150, "0.24000"),
    (14, {"link": LINK, "quantity": "100", "username": "star"}, 100, "0.20000"),
    (15, {"link": LINK, "quantity": "100", "media": "https://instagram.com/p/x"}, 100, "0.20000"),
    (16, {"link": LINK, "quantity": "20", "username": "owner"}, 20, "0.01500"),
    (17, {"link": LINK, "username": "owner", "comments": "hi\nthere"}, 2, "0.01200"),
    (18, {"link": LINK, "quantity": "100", "answer_number": "2"}, 100, "0.03500"),
    (19, {"link": LINK, "quantity": "100", "groups": "@g1\n@g2"}, 100, "0.50000"),
    (
        21,
        {"link": "https://site.test", "quantity": "500", "country": "US", "device": "5",
         "type_of_traffic": "3"},
        500,
        "0.05000",
    ),
    (
        21,
        {"link": "https://site.test", "quantity": "1000", "country": "US", "device": "1",
         "type_of_traffic": "1", "google_keyword": "buy followers"},
        1000,
        "0.10000",
    ),
]


def place(panel: PanelState, tenant: Tenant, service: int | str, **params: str) -> Any:
    return panel.place_order(tenant, str(service), params)


@pytest.mark.parametrize(("service", "params", "quantity", "charge"), VALID_ORDERS)
def test_every_type_is_priced_exactly_and_debited_exactly(
    panel: PanelState,
    tenant: Tenant,
    service: int,
    params: dict[str, str],
    quantity: int,
    charge: str,
) -> None:
    order = panel.place_order(tenant, str(service), {"key": "k", "action": "add", **params})
    assert order.quantity == quantity
    assert order.charge == Decimal(charge)
    assert str(order.charge) == charge
    assert panel.balance(tenant) == Decimal("100") - Decimal(charge)
    assert panel.order(tenant, order.id).charge == Decimal(charge)


def test_valid_orders_cover_every_type_the_api_accepts() -> None:
    config = StateConfig()
    by_id = {service.id: service.type for service in config.catalog}
    covered = {by_id[service] for service, *_ in VALID_ORDERS}
    assert covered == set(ServiceType) - {ServiceType.SUBSCRIPTIONS}


def test_dripfeed_charges_runs_times_quantity(panel: PanelState, tenant: Tenant) -> None:
    order = place(panel, tenant, 1, link=LINK, quantity="100", runs="5", interval="10")
    assert (order.quantity, order.runs, order.interval) == (500, 5, 10)
    assert order.charge == Decimal("0.45000")
    assert panel.balance(tenant) == Decimal("99.55000")


def test_dripfeed_with_one_run_is_allowed(panel: PanelState, tenant: Tenant) -> None:
    order = place(panel, tenant, 1, link=LINK, quantity="100", runs="1", interval="60")
    assert (order.quantity, order.runs, order.charge) == (100, 1, Decimal("0.09000"))


def test_dripfeed_total_is_checked_against_min_and_max(panel: PanelState, tenant: Tenant) -> None:
    with pytest.raises(DomainError) as high:
        place(panel, tenant, 1, link=LINK, quantity="5000", runs="3", interval="10")
    assert (high.value.code, high.value.params) == (
        ErrorCode.QUANTITY_TOO_HIGH, {"max": 10_000, "quantity": 15_000}
    )
    with pytest.raises(DomainError) as low:
        place(panel, tenant, 1, link=LINK, quantity="20", runs="2", interval="10")
    assert (low.value.code, low.value.params) == (
        ErrorCode.QUANTITY_TOO_LOW, {"min": 50, "quantity": 40}
    )
    # a per-run quantity below min is fine when the total reaches it
    assert place(panel, tenant, 1, link=LINK, quantity="25", runs="2", interval="5").quantity == 50


def test_line_types_ignore_a_sent_quantity(panel: PanelState, tenant: Tenant) -> None:
    order = place(panel, tenant, 12, link=LINK, usernames="a\nb", quantity="999")
    assert order.quantity == 2


def test_exactly_the_whole_balance_can_be_spent(
    panel: PanelState, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant("0.90000")
    place(panel, tenant, 1, link=LINK, quantity="1000")
    assert panel.balance(tenant) == Decimal("0")


def test_insufficient_funds_reports_need_and_balance(
    panel: PanelState, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant("0.5")
    with pytest.raises(DomainError) as caught:
        place(panel, tenant, 1, link=LINK, quantity="1000")
    assert caught.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert caught.value.params == {"needed": Decimal("0.90000"), "balance": Decimal("0.50000")}
    assert panel.balance(tenant) == Decimal("0.5")
    assert panel.orders(tenant) == ()


def test_a_charge_that_would_round_to_zero_is_refused_with_the_least_billable_quantity() -> None:
    panel = PanelState(StateConfig(money_places=2), ManualClock())
    tenant, _ = panel.create_tenant(Decimal("10"))
    with pytest.raises(DomainError) as caught:
        place(panel, tenant, 2, link=LINK, quantity="10")
    assert caught.value.code is ErrorCode.QUANTITY_TOO_LOW
    assert caught.value.params == {"min": 5000, "quantity": 10}
    assert place(panel, tenant, 2, link=LINK, quantity="5000").charge == Decimal("0.01")
    assert panel.balance(tenant) == Decimal("9.99")


# (service, params, code, params of the error)
REFUSALS: list[tuple[str, dict[str, str], ErrorCode, dict[str, Any]]] = [
    ("", {"link": LINK, "quantity": "100"}, ErrorCode.MISSING_PARAM, {"param": "service"}),
    ("abc", {"link": LINK, "quantity": "100"}, ErrorCode.UNKNOWN_SERVICE, {"service": "abc"}),
    ("999", {"link": LINK, "quantity": "100"}, ErrorCode.UNKNOWN_SERVICE, {"service": "999"}),
    ("-1", {"link": LINK, "quantity": "100"}, ErrorCode.UNKNOWN_SERVICE, {"service": "-1"}),
    ("1.0", {"link": LINK, "quantity": "100"}, ErrorCode.UNKNOWN_SERVICE, {"service": "1.0"}),
    ("20", {"username": "me", "min": "10", "max": "20", "delay": "0"},
     ErrorCode.SUBSCRIPTION_NOT_VIA_API, {"service": 20}),
    ("1", {"quantity": "100"}, ErrorCode.MISSING_PARAM, {"param": "link"}),
    ("1", {"link": "", "quantity": "100"}, ErrorCode.MISSING_PARAM, {"param": "link"}),
    ("1", {"link": LINK}, ErrorCode.MISSING_PARAM, {"param": "quantity"}),
    ("1", {"link": "ftp://x.test/a", "quantity": "100"}, ErrorCode.INVALID_LINK,
     {"param": "link", "value": "ftp://x.test/a"}),
    ("1", {"link": "instagram.com/me", "quantity": "100"}, ErrorCode.INVALID_LINK,
     {"param": "link", "value": "instagram.com/me"}),
    ("1", {"link": "https://", "quantity": "100"}, ErrorCode.INVALID_LINK,
     {"param": "link", "value": "https://"}),
    ("1", {"link": "https://a b.test", "quantity": "100"}, ErrorCode.INVALID_LINK,
     {"param": "link", "value": "https://a b.test"}),
    ("1", {"link": "http://[::1", "quantity": "100"}, ErrorCode.INVALID_LINK,
     {"param": "link", "value": "http://[::1"}),
    *[
        ("1", {"link": LINK, "quantity": bad}, ErrorCode.INVALID_PARAM,
         {"param": "quantity", "value": bad})
        for bad in ("abc", "-5", "0", "1.5", " 100", "100 ", "1e3", "1000000001", "٣٠٠", "+100")
    ],
    ("18", {"link": LINK, "quantity": "100", "answer_number": "0"}, ErrorCode.INVALID_PARAM,
     {"param": "answer_number", "value": "0"}),
    ("18", {"link": LINK, "quantity": "100"}, ErrorCode.MISSING_PARAM, {"param": "answer_number"}),
    ("15", {"link": LINK, "quantity": "100", "media": "not a url"}, ErrorCode.INVALID_PARAM,
     {"param": "media", "value": "not a url"}),
    ("14", {"link": LINK, "quantity": "100", "username": "   "}, ErrorCode.INVALID_PARAM,
     {"param": "username", "value": "   "}),
    ("7", {"link": LINK, "comments": "\n  \r\n"}, ErrorCode.INVALID_PARAM,
     {"param": "comments", "value": "\n  \r\n"}),
    ("21", {"link": LINK, "quantity": "500", "country": "US", "device": "6",
            "type_of_traffic": "3"}, ErrorCode.INVALID_PARAM, {"param": "device", "value": "6"}),
    ("21", {"link": LINK, "quantity": "500", "country": "US", "device": "1",
            "type_of_traffic": "1"}, ErrorCode.MISSING_PARAM, {"param": "google_keyword"}),
    ("21", {"link": LINK, "quantity": "500", "country": "US", "device": "1",
            "type_of_traffic": "2", "referring_url": "nope"}, ErrorCode.INVALID_PARAM,
     {"param": "referring_url", "value": "nope"}),
    ("1", {"link": LINK, "quantity": "100", "runs": "5"}, ErrorCode.MISSING_PARAM,
     {"param": "interval"}),
    ("1", {"link": LINK, "quantity": "100", "interval": "5"}, ErrorCode.MISSING_PARAM,
     {"param": "runs"}),
    ("1", {"link": LINK, "quantity": "100", "runs": "0", "interval": "5"},
     ErrorCode.INVALID_PARAM, {"param": "runs", "value": "0"}),
    ("1", {"link": LINK, "quantity": "100", "runs": "2", "interval": "x"},
     ErrorCode.INVALID_PARAM, {"param": "interval", "value": "x"}),
    ("2", {"link": LINK, "quantity": "100", "runs": "2", "interval": "5"},
     ErrorCode.DRIPFEED_NOT_SUPPORTED, {"service": 2}),
    ("9", {"link": LINK, "quantity": "100", "keywords": "k", "runs": "2"},
     ErrorCode.DRIPFEED_NOT_SUPPORTED, {"service": 9}),
    ("1", {"link": LINK, "quantity": "49"}, ErrorCode.QUANTITY_TOO_LOW,
     {"min": 50, "quantity": 49}),
    ("1", {"link": LINK, "quantity": "10001"}, ErrorCode.QUANTITY_TOO_HIGH,
     {"max": 10_000, "quantity": 10_001}),
    ("7", {"link": LINK, "comments": "a\nb\nc\nd"}, ErrorCode.QUANTITY_TOO_LOW,
     {"min": 5, "quantity": 4}),
    ("1", {"link": LINK + "?mock_outcome=explode", "quantity": "100"}, ErrorCode.INVALID_PARAM,
     {"param": "mock_outcome", "value": "explode"}),
    ("1", {"link": LINK + "?mock_outcome=partial&mock_remains=-3", "quantity": "100"},
     ErrorCode.INVALID_PARAM, {"param": "mock_remains", "value": "-3"}),
    ("1", {"link": LINK, "quantity": "10000"}, ErrorCode.INSUFFICIENT_FUNDS,
     {"needed": Decimal("9.00000"), "balance": Decimal("5.00000")}),
    # precedence: service before params, params before bounds, bounds before funds
    ("999", {"link": "bad", "quantity": "x"}, ErrorCode.UNKNOWN_SERVICE, {"service": "999"}),
    ("1", {"link": "bad", "quantity": "x"}, ErrorCode.INVALID_LINK,
     {"param": "link", "value": "bad"}),
    ("1", {"link": LINK + "?mock_outcome=nope", "quantity": "1"}, ErrorCode.INVALID_PARAM,
     {"param": "mock_outcome", "value": "nope"}),
    ("1", {"link": LINK, "quantity": "10", "runs": "2"}, ErrorCode.MISSING_PARAM,
     {"param": "interval"}),
    ("1", {"link": LINK + "?mock_outcome=nope", "quantity": "100", "runs": "2"},
     ErrorCode.MISSING_PARAM, {"param": "interval"}),
    ("2", {"link": LINK, "quantity": "x", "runs": "2", "interval": "1"},
     ErrorCode.INVALID_PARAM, {"param": "quantity", "value": "x"}),
    ("1", {"link": LINK, "quantity": "20000"}, ErrorCode.QUANTITY_TOO_HIGH,
     {"max": 10_000, "quantity": 20_000}),
]


@pytest.mark.parametrize(("service", "params", "code", "error_params"), REFUSALS)
def test_refusals_name_the_problem_and_change_nothing(
    panel: PanelState,
    make_tenant: MakeTenant,
    service: str,
    params: dict[str, str],
    code: ErrorCode,
    error_params: dict[str, Any],
) -> None:
    tenant = make_tenant("5")
    before = panel.snapshot()
    with pytest.raises(DomainError) as caught:
        panel.place_order(tenant, service, params)
    assert caught.value.code is code
    assert caught.value.params == error_params
    assert panel.snapshot() == before
    # not even an id was used up: the next order gets the id a fresh panel gives first
    fresh = PanelState(StateConfig(), ManualClock())
    fresh_tenant, _ = fresh.create_tenant(Decimal("5"))
    expected_id = place(fresh, fresh_tenant, 2, link=LINK, quantity="10").id
    assert place(panel, tenant, 2, link=LINK, quantity="10").id == expected_id


def test_long_bad_values_are_shortened_in_the_error(panel: PanelState, tenant: Tenant) -> None:
    with pytest.raises(DomainError) as caught:
        place(panel, tenant, 1, link=LINK, quantity="9" * 5000)
    assert caught.value.params["param"] == "quantity"
    assert len(caught.value.params["value"]) < 100


def test_every_request_field_comes_from_its_own_value() -> None:
    # validate_add builds its OrderRequest from a tuple in field order: distinct values
    # everywhere, so a swapped pair of positions cannot compare equal.
    catalog = {service.id: service for service in StateConfig().catalog}
    link = f"{LINK}?mock_outcome=partial&mock_remains=7"
    sent = {"link": link, "quantity": "100", "runs": "5", "interval": "30"}
    request = validate_add(catalog, "1", sent, SharedAmounts(5))
    assert request == OrderRequest(
        service=catalog[1],
        link=link,
        quantity=500,
        runs=5,
        interval=30,
        charge=Decimal("0.45000"),
        planned=Outcome(OrderStatus.PARTIAL, 7),
        charge_units=45000,
    )
    values = [getattr(request, name) for name in OrderRequest._fields]
    assert len({repr(value) for value in values}) == len(values)


@pytest.mark.parametrize(
    "new_order", [new_order_reference, new_order_shortcut], ids=["reference", "shortcut"]
)
def test_every_order_field_comes_from_its_own_value(new_order: Callable[..., Order]) -> None:
    # The shortcut unpacks the request and builds the order by position, in each one's field
    # order: distinct values everywhere, so a swapped pair of positions cannot compare equal.
    catalog = {service.id: service for service in StateConfig().catalog}
    request = OrderRequest(
        service=catalog[1],
        link=f"{LINK}?mock_outcome=partial&mock_remains=7",
        quantity=500,
        runs=5,
        interval=30,
        charge=Decimal("0.45000"),
        planned=Outcome(OrderStatus.PARTIAL, 7),
        charge_units=45000,
    )
    order = new_order(
        request,
        order_id="16001",
        tenant_id="t7",
        currency="EUR",
        created_at=12.5,
        refunded=Decimal("0.00000"),
    )
    assert order == Order(
        id="16001",
        tenant_id="t7",
        service=catalog[1],
        link=request.link,
        quantity=500,
        charge=Decimal("0.45000"),
        currency="EUR",
        runs=5,
        interval=30,
        created_at=12.5,
        planned=Outcome(OrderStatus.PARTIAL, 7),
        remains=500,  # nothing delivered yet
        refunded=Decimal("0.00000"),
        status=OrderStatus.PENDING,
    )
    placed = [getattr(order, name) for name in ("id", "tenant_id", "service", "link", "quantity",
                                                "charge", "currency", "runs", "interval",
                                                "created_at", "planned", "refunded")]
    assert len({repr(value) for value in placed}) == len(placed)


LINK_CHECKS = pytest.mark.parametrize(
    "is_link", [is_link_reference, is_link_shortcut], ids=["reference", "shortcut"]
)


@LINK_CHECKS
@pytest.mark.parametrize(
    "value",
    ["https://example.test/b", "http://a.b:8080", "HTTPS://Example.test/b", "Http://a.b:8080/x?y=1",
     "https://[::1]/x", "https://user@host/x"],
)
def test_http_links_with_a_host_are_links(is_link: Callable[[str], bool], value: str) -> None:
    assert is_link(value)


@LINK_CHECKS
@pytest.mark.parametrize(
    "value",
    ["", "example.test/b", "ftp://x.test/a", "https:///path", "https://exa mple.test/",
     "https://example.test/\n", "https://[::1/x"],
)
def test_anything_else_is_not_a_link(is_link: Callable[[str], bool], value: str) -> None:
    assert not is_link(value)


_LINK_PIECES = st.sampled_from(
    ["http", "https", "HTTPS", "ftp", ":", "//", "/", "?", "#", "@", "[", "]", ".", "-", "a",
     "example", "test", "80", "99999", " ", "\t", "\n", "%", "é", "\u200b", "::1", "x=1", ""]
)


class TestShortcutMatchesReference:
    """``is_link_shortcut`` takes a plain link by a regular expression, and every other value
    to the full check: it must accept exactly what ``is_link_reference`` accepts."""

    @given(st.lists(_LINK_PIECES, max_size=12).map("".join))
    @example("https://example.test/b")
    @example("http://a.b:8080")
    @example("https://.")
    @example("https://host:123456/x")
    @example("https://[::1]/x")
    @example("https://user@host/x")
    @example("https://exa mple.test/")
    @example("https://example.test/\n")
    @example("https:///path")
    @example("HTTPS://Example.test/b")
    @example("Http://a.b:8080")
    def test_link_pieces(self, value: str) -> None:
        assert is_link_shortcut(value) == is_link_reference(value)

    @given(st.text(max_size=40))
    def test_any_text(self, value: str) -> None:
        assert is_link_shortcut(value) == is_link_reference(value)
