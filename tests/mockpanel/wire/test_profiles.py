"""The profile registry: complete, read-only, validated, and faithful to each seed's facts."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from mockpanel.errors import ErrorCode
from mockpanel.profiles import (
    PROFILES,
    REFERENCE,
    CancelAck,
    Encoding,
    ErrorSpec,
    Handler,
    ItemError,
    NumberStyle,
    RateLimit,
    Wire,
    get_profile,
)
from mockpanel.state import OrderStatus, ServiceType

# Every parameter any ErrorCode carries (see mockpanel/errors.py), with a sample value.
ALL_PARAMS = {
    "detail": "d", "limit": 1, "encoding": "text/plain", "accepted": "a", "action": "x",
    "param": "order", "value": "v", "retry_after": 5, "service": "9", "type": "SEO",
    "min": 50, "max": 100, "quantity": 7, "needed": "1.00", "balance": "0.50",
    "order": "23501", "status": "Pending", "refill": "1",
}


def test_registry_has_reference_the_seed_profiles_and_three_more_dialects() -> None:
    seeds = {"perfectpanel", "smmpremium", "smmpro", "smmhub", "extended"}
    assert {"reference", *seeds} <= set(PROFILES)
    assert len(set(PROFILES) - seeds - {"reference"}) >= 3
    assert all(PROFILES[name].name == name for name in PROFILES)


def test_registry_is_read_only() -> None:
    assert isinstance(PROFILES, MappingProxyType)
    with pytest.raises(TypeError):
        PROFILES["mine"] = REFERENCE  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        REFERENCE.name = "other"  # type: ignore[misc]


def test_get_profile_names_the_known_ones() -> None:
    assert get_profile("smmhub") is PROFILES["smmhub"]
    with pytest.raises(KeyError, match="known profiles: extended, laravel"):
        get_profile("nope")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_is_described_on_one_line(name: str) -> None:
    profile = PROFILES[name]
    assert profile.summary.strip() == profile.summary
    assert "\n" not in profile.summary
    assert 0 < len(profile.summary) <= 100
    assert profile.source


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_error_is_worded_and_fills_its_template(name: str) -> None:
    profile = PROFILES[name]
    assert set(profile.errors) == set(ErrorCode)
    for code, spec in profile.errors.items():
        text = spec.message.format_map(ALL_PARAMS)
        assert text.strip(), code
        assert "{" not in text, code
        assert spec.status == 200 or 400 <= spec.status <= 499


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profiles_are_hashable_values(name: str) -> None:
    profile = PROFILES[name]
    assert hash(profile) == hash(dataclasses.replace(profile))
    assert profile == dataclasses.replace(profile)


def test_only_reference_and_perfectpanel_are_canonical_shaped_everywhere() -> None:
    perfect = PROFILES["perfectpanel"]
    differing = {
        f.name for f in dataclasses.fields(REFERENCE)
        if getattr(REFERENCE, f.name) != getattr(perfect, f.name)
    }
    assert differing == {"name", "summary", "source", "wire", "services"}
    assert perfect.wire.encodings == frozenset({Encoding.FORM})
    assert "dripfeed" not in perfect.services.fields
    assert "dripfeed" in REFERENCE.services.fields
    assert REFERENCE.wire.encodings == frozenset(Encoding)
    assert REFERENCE.services.types == frozenset(ServiceType)
    # Errors are HTTP 200, except throttling, which the web server answers with a 429.
    assert {code for code, spec in REFERENCE.errors.items() if spec.status != 200} == {
        ErrorCode.RATE_LIMITED
    }
    assert REFERENCE.errors[ErrorCode.RATE_LIMITED] == ErrorSpec("Rate limit exceeded", 429)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_throttles_with_429_in_its_own_words(name: str) -> None:
    spec = PROFILES[name].errors[ErrorCode.RATE_LIMITED]
    assert spec.status == 429
    assert spec.message.strip()


# The actions each seed document describes (see /work/shared/seeds): seed 003 shows no cancel
# section but its catalogue advertises "cancel": true, so perfectpanel keeps the canonical
# cancel; seed 004 offers refill because "refill on an existing subscription still works".
SEED_ACTIONS = {
    "perfectpanel": {"services", "add", "status", "cancel", "refill", "refill_status", "balance"},
    "smmpremium": {
        "services", "balance", "add", "status", "orders", "cancel", "refill", "refill_status"
    },
    "smmpro": {"services", "add", "status", "refill", "balance"},
    "smmhub": {"services", "add", "status", "cancel", "refill", "refill_status", "balance"},
    "extended": {"balance", "services", "add", "status", "multiStatus", "cancel", "refill"},
}


@pytest.mark.parametrize("name", sorted(SEED_ACTIONS))
def test_seed_profiles_offer_exactly_their_documents_actions(name: str) -> None:
    assert set(PROFILES[name].actions) == SEED_ACTIONS[name]


def test_only_the_seed_that_documents_webhooks_sends_them() -> None:
    assert {name for name, profile in PROFILES.items() if profile.webhooks} == {"extended"}
    assert PROFILES["extended"].numbers.webhook is NumberStyle.NUMBER


def test_seed_facts() -> None:
    premium = PROFILES["smmpremium"]
    assert (premium.currency, premium.money_places, premium.id_style) == ("INR", 2, "alphanumeric")
    assert premium.actions["orders"] is Handler.STATUS_MULTI
    assert premium.shapes.cancel.ack is CancelAck.SUCCESS
    assert premium.shapes.cancel.unwrap_single
    assert {premium.errors[c].status for c in (ErrorCode.INVALID_KEY, ErrorCode.MISSING_KEY)} == {
        401
    }
    assert premium.errors[ErrorCode.INSUFFICIENT_FUNDS].status == 402
    assert premium.errors[ErrorCode.UNKNOWN_ORDER].status == 404
    assert premium.rate_limit == RateLimit(100, "key")

    pro = PROFILES["smmpro"]
    assert pro.shapes.add_fields == ("status", "charge", "start_count", "remains", "currency")
    assert pro.shapes.multi_status_fields == ("charge", "status", "remains")

    hub = PROFILES["smmhub"]
    assert hub.wire.encodings == frozenset({Encoding.FORM})
    assert hub.errors[ErrorCode.INSUFFICIENT_FUNDS].message == "Insufficient balance"
    assert hub.rate_limit == RateLimit(60, "key")
    assert OrderStatus.IN_PROGRESS in hub.cancellable

    extended = PROFILES["extended"]
    assert extended.actions["multiStatus"] is Handler.STATUS_MULTI
    assert extended.numbers.service_id is NumberStyle.STRING
    assert not extended.shapes.cancel.error_nested
    assert extended.webhooks
    assert extended.rate_limit == RateLimit(1000, "ip")
    assert extended.actions["refill"] is Handler.REFILL
    assert ServiceType.SUBSCRIPTIONS in extended.services.types

    smart = PROFILES["smartpanel"]
    assert "/api/v1" in smart.wire.paths
    assert Encoding.QUERY in smart.wire.encodings
    assert smart.shapes.status_item_error is ItemError.STRING
    assert smart.shapes.wrappers[Handler.BALANCE] == (("status", "success"),)

    laravel = PROFILES["laravel"]
    assert (laravel.wire.create_status, laravel.currency) == (201, "BRL")
    assert laravel.errors[ErrorCode.QUANTITY_TOO_LOW].status == 422
    assert laravel.errors[ErrorCode.INVALID_KEY].status == 401

    assert PROFILES["smmapi"].order_words[OrderStatus.IN_PROGRESS] == "Inprogress"
    assert PROFILES["smmserver"].order_words[OrderStatus.CANCELED] == "Cancelled"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"errors": MappingProxyType({})}, "no wording for"),
        (
            {"errors": MappingProxyType(
                {**REFERENCE.errors, ErrorCode.BAD_REQUEST: ErrorSpec("Oops", 500)}
            )},
            "errors may only use 200 or 4xx",
        ),
        (
            {"errors": MappingProxyType(
                {**REFERENCE.errors, ErrorCode.BAD_REQUEST: ErrorSpec("Bad {0} {", 200)}
            )},
            "is not a template",
        ),
        ({"currency": "usd"}, "currency"),
        ({"money_places": 9}, "money_places"),
        ({"wire": Wire(paths=("api/v2",))}, "paths"),
        ({"wire": Wire(paths=("/api/v2/",))}, "paths"),
        ({"wire": Wire(create_status=302)}, "create_status"),
        ({"wire": Wire(encodings=frozenset())}, "encoding"),
        ({"actions": MappingProxyType({})}, "no actions"),
        ({"rate_limit": RateLimit(0, "key")}, "per_minute"),
        ({"rate_limit": RateLimit(10, "host")}, "scope"),  # type: ignore[arg-type]
    ],
)
def test_a_broken_profile_is_refused_at_construction(
    change: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        dataclasses.replace(REFERENCE, **change)  # type: ignore[arg-type]
