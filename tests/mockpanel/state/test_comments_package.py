"""Seed 004's Custom Comments Package: its add form, its price, and its refund at completion.

"username, min, max, delay, posts optional (defaults to 1), old_posts optional, expiry optional
(YYYY-MM-DD). Total quantity is computed server-side as posts x max; charge is billed at the
upper bound and the undelivered slice is pro-rata refunded at completion."
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import (
    ManualClock,
    OrderStatus,
    PanelState,
    Service,
    ServiceType,
    StateConfig,
    default_catalog,
)
from mockpanel.state.catalog import AddForm, PricingRule, QuantitySource
from mockpanel.state.tenants import Tenant

CCP = ServiceType.CUSTOM_COMMENTS_PACKAGE
SERVICE = "8"
RATE = Decimal("8")  # the per-post service's rate per 1000 comments
# The seed's parameters, as a client following its table would send them.
SEED_REQUEST = {"username": "mychannel", "min": "10", "max": "20", "delay": "30", "posts": "3"}
LIFETIME = 20.0  # more than the default timings' Pending + In progress


def per_post_config() -> StateConfig:
    return StateConfig(catalog=default_catalog({CCP: AddForm.PER_POST}))


@pytest.fixture
def seed_panel(clock: ManualClock) -> PanelState:
    return PanelState(per_post_config(), clock)


@pytest.fixture
def buyer(seed_panel: PanelState) -> Tenant:
    tenant, _ = seed_panel.create_tenant(Decimal("100"))
    return tenant


def test_the_profile_form_replaces_the_standard_service_under_the_same_id() -> None:
    standard = {s.id: s for s in default_catalog()}[8]
    per_post = {s.id: s for s in default_catalog({CCP: AddForm.PER_POST})}[8]
    assert standard.form is AddForm.STANDARD
    assert per_post.form is AddForm.PER_POST
    assert standard.rule.params == ("link", "comments")
    assert standard.rule.pricing is PricingRule.FLAT
    assert per_post.rule.params == ("username", "min", "max", "delay")
    assert per_post.rule.quantity is QuantitySource.PER_POST
    assert per_post.rule.pricing is PricingRule.PER_THOUSAND
    # Every other service is the same object either way.
    assert [s for s in default_catalog() if s.id != 8] == [
        s for s in default_catalog({CCP: AddForm.PER_POST}) if s.id != 8
    ]


def test_a_type_without_that_form_is_refused() -> None:
    with pytest.raises(ValueError, match="no 'per_post' form"):
        Service(99, "x", ServiceType.DEFAULT, "c", Decimal("1"), 1, 10, form=AddForm.PER_POST)


def test_the_seed_request_orders_posts_times_max_billed_per_1000(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    view = seed_panel.place_order(buyer, SERVICE, SEED_REQUEST)
    assert view.quantity == 3 * 20
    assert view.charge == Decimal("0.48000")  # 8 * 60 / 1000, exact
    assert str(view.charge) == "0.48000"
    assert (view.status, view.remains, view.link) == (OrderStatus.PENDING, 60, None)
    assert seed_panel.balance(buyer) == Decimal("99.52000")


def test_posts_defaults_to_one_and_optional_fields_are_taken(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    one = seed_panel.place_order(
        buyer, SERVICE, {"username": "me", "min": "10", "max": "20", "delay": "0"}
    )
    assert one.quantity == 20
    full = seed_panel.place_order(
        buyer,
        SERVICE,
        {**SEED_REQUEST, "old_posts": "1", "expiry": "2028-02-29", "posts": ""},  # "" = absent
    )
    assert full.quantity == 20  # posts left empty: its default, 1


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"min": "10", "max": "20", "delay": "5"}, ErrorCode.MISSING_PARAM, "username"),
        ({"username": "me", "max": "20", "delay": "5"}, ErrorCode.MISSING_PARAM, "min"),
        ({"username": "me", "min": "10", "delay": "5"}, ErrorCode.MISSING_PARAM, "max"),
        ({"username": "me", "min": "10", "max": "20"}, ErrorCode.MISSING_PARAM, "delay"),
        ({"username": " ", "min": "10", "max": "20", "delay": "5"}, ErrorCode.INVALID_PARAM,
         "username"),
        ({"username": "me", "min": "0", "max": "20", "delay": "5"}, ErrorCode.INVALID_PARAM,
         "min"),
        ({"username": "me", "min": "-1", "max": "20", "delay": "5"}, ErrorCode.INVALID_PARAM,
         "min"),
        ({"username": "me", "min": "1.5", "max": "20", "delay": "5"}, ErrorCode.INVALID_PARAM,
         "min"),
        ({"username": "me", "min": "10", "max": "ten", "delay": "5"}, ErrorCode.INVALID_PARAM,
         "max"),
        ({"username": "me", "min": "21", "max": "20", "delay": "5"}, ErrorCode.INVALID_PARAM,
         "max"),
        ({"username": "me", "min": "10", "max": "20", "delay": "-5"}, ErrorCode.INVALID_PARAM,
         "delay"),
        ({"username": "me", "min": "10", "max": "20", "delay": "5", "posts": "0"},
         ErrorCode.INVALID_PARAM, "posts"),
        ({"username": "me", "min": "10", "max": "20", "delay": "5", "posts": "2",
          "old_posts": "3"}, ErrorCode.INVALID_PARAM, "old_posts"),
        ({"username": "me", "min": "10", "max": "20", "delay": "5", "old_posts": "x"},
         ErrorCode.INVALID_PARAM, "old_posts"),
        ({"username": "me", "min": "10", "max": "20", "delay": "5", "expiry": "2026-02-30"},
         ErrorCode.INVALID_PARAM, "expiry"),
        ({"username": "me", "min": "10", "max": "20", "delay": "5", "expiry": "2026-2-3"},
         ErrorCode.INVALID_PARAM, "expiry"),
        ({"username": "me", "min": "10", "max": "20", "delay": "5", "expiry": "03/02/2026"},
         ErrorCode.INVALID_PARAM, "expiry"),
        # The classic form is not this dialect's: the seed's first parameter is missing.
        ({"link": "https://x.test/p", "comments": "a\nb"}, ErrorCode.MISSING_PARAM, "username"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    seed_panel: PanelState, buyer: Tenant, params: dict[str, str], code: ErrorCode, param: str
) -> None:
    before = seed_panel.snapshot()
    with pytest.raises(DomainError) as refused:
        seed_panel.place_order(buyer, SERVICE, params)
    assert refused.value.code is code
    assert refused.value.params["param"] == param
    assert seed_panel.snapshot() == before


def test_min_above_max_says_why(seed_panel: PanelState, buyer: Tenant) -> None:
    with pytest.raises(DomainError) as refused:
        seed_panel.place_order(buyer, SERVICE, {**SEED_REQUEST, "min": "25"})
    assert refused.value.params["detail"] == "min (25) must not exceed max (20)"


def test_old_posts_up_to_posts_and_any_whole_delay_are_accepted(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    for extra in ({"old_posts": "0"}, {"old_posts": "3"}, {"delay": "7"}, {"delay": "0"}):
        view = seed_panel.place_order(buyer, SERVICE, {**SEED_REQUEST, **extra})
        assert view.quantity == 60


def test_the_total_is_held_to_the_service_bounds(seed_panel: PanelState, buyer: Tenant) -> None:
    with pytest.raises(DomainError) as high:
        seed_panel.place_order(buyer, SERVICE, {**SEED_REQUEST, "posts": "1001"})  # 20020
    assert high.value.code is ErrorCode.QUANTITY_TOO_HIGH
    with pytest.raises(DomainError) as low:
        seed_panel.place_order(buyer, SERVICE, {**SEED_REQUEST, "min": "1", "max": "5",
                                                 "posts": "1"})
    assert low.value.code is ErrorCode.QUANTITY_TOO_LOW
    assert seed_panel.orders(buyer) == ()


def test_funds_are_checked_against_the_upper_bound(seed_panel: PanelState) -> None:
    poor, _ = seed_panel.create_tenant(Decimal("0.47999"))
    with pytest.raises(DomainError) as refused:
        seed_panel.place_order(poor, SERVICE, SEED_REQUEST)  # costs 0.48000
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert seed_panel.balance(poor) == Decimal("0.47999")


def test_completion_refunds_the_undelivered_slice_pro_rata_once(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    order = seed_panel.place_order(buyer, SERVICE, SEED_REQUEST)
    seed_panel.advance_clock(3)
    running = seed_panel.order(buyer, order.id)
    assert running.status is OrderStatus.IN_PROGRESS
    seed_panel.advance_clock(LIFETIME)
    done = seed_panel.order(buyer, order.id)
    # (10 + 20) // 2 = 15 comments on each of 3 posts: 45 of the 60 billed delivered.
    assert (done.status, done.remains) == (OrderStatus.PARTIAL, 15)
    assert done.refunded == Decimal("0.12000")  # 0.48 * 15 / 60
    assert seed_panel.balance(buyer) == Decimal("99.64000")
    seed_panel.advance_clock(10 * LIFETIME)
    assert seed_panel.balance(buyer) == Decimal("99.64000")
    tenant = seed_panel.snapshot()["tenants"][0]
    assert (tenant["debited"], tenant["credited"]) == ("0.48000", "0.12000")


def test_min_equal_to_max_delivers_everything_and_refunds_nothing(
    seed_panel: PanelState, buyer: Tenant
) -> None:
    order = seed_panel.place_order(buyer, SERVICE, {**SEED_REQUEST, "min": "20"})
    seed_panel.advance_clock(LIFETIME)
    done = seed_panel.order(buyer, order.id)
    assert (done.status, done.remains, done.refunded) == (
        OrderStatus.COMPLETED, 0, Decimal("0.00000")
    )
    assert seed_panel.balance(buyer) == Decimal("99.52000")


def test_the_control_api_sets_what_was_delivered(seed_panel: PanelState, buyer: Tenant) -> None:
    partial = seed_panel.place_order(buyer, SERVICE, SEED_REQUEST)
    seed_panel.set_order_outcome(partial.id, OrderStatus.PARTIAL, remains=6)
    assert seed_panel.order(buyer, partial.id).refunded == Decimal("0.04800")  # 0.48 * 6 / 60
    complete = seed_panel.place_order(buyer, SERVICE, SEED_REQUEST)
    seed_panel.set_order_outcome(complete.id, OrderStatus.COMPLETED)
    seed_panel.advance_clock(LIFETIME)  # its planned Partial is void: no refund comes later
    view = seed_panel.order(buyer, complete.id)
    assert (view.status, view.remains, view.refunded) == (
        OrderStatus.COMPLETED, 0, Decimal("0.00000")
    )
    assert seed_panel.balance(buyer) == Decimal("100") - 2 * Decimal("0.48") + Decimal("0.048")


def test_the_classic_form_stays_where_the_standard_catalogue_is_used(panel: PanelState) -> None:
    tenant, _ = panel.create_tenant(Decimal("100"))
    classic = panel.place_order(
        tenant, SERVICE, {"link": "https://x.test/p", "comments": "one\ntwo\n\nthree"}
    )
    assert (classic.quantity, classic.charge) == (3, Decimal("3.50000"))  # flat rate
    with pytest.raises(DomainError) as refused:
        panel.place_order(tenant, SERVICE, SEED_REQUEST)
    assert refused.value.params["param"] == "link"


def test_a_request_carrying_both_forms_is_priced_by_the_panels_form(
    panel: PanelState, seed_panel: PanelState, buyer: Tenant
) -> None:
    both = {"link": "https://x.test/p", "comments": "a\nb", **SEED_REQUEST}
    tenant, _ = panel.create_tenant(Decimal("100"))
    assert panel.place_order(tenant, SERVICE, both).charge == Decimal("3.50000")
    assert seed_panel.place_order(buyer, SERVICE, both).charge == Decimal("0.48000")


def test_the_refund_at_completion_survives_a_restart_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    clock = ManualClock()
    first = PanelState.open(path, per_post_config(), clock, keys=[("k" * 32, Decimal("100"))])
    tenant = first.authenticate("k" * 32)
    assert tenant is not None
    order = first.place_order(tenant, SERVICE, SEED_REQUEST)
    first.advance_clock(3)
    first.close()

    second = PanelState.open(path, per_post_config(), ManualClock())
    tenant = second.authenticate("k" * 32)
    assert tenant is not None
    assert second.order(tenant, order.id).status is OrderStatus.IN_PROGRESS
    second.advance_clock(LIFETIME)
    assert second.order(tenant, order.id).remains == 15
    assert second.balance(tenant) == Decimal("99.64000")
    second.close()

    third = PanelState.open(path, per_post_config(), ManualClock())
    tenant = third.authenticate("k" * 32)
    assert tenant is not None
    third.advance_clock(LIFETIME)
    view = third.order(tenant, order.id)
    assert (view.status, view.remains, view.refunded) == (
        OrderStatus.PARTIAL, 15, Decimal("0.12000")
    )
    assert third.balance(tenant) == Decimal("99.64000")
    third.close()
