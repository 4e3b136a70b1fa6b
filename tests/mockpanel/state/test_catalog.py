"""The catalogue: every type is present and described by data; services validate themselves."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from mockpanel.state import (
    PARAM_SPECS,
    TYPE_RULES,
    PricingRule,
    QuantitySource,
    Service,
    ServiceType,
    StateConfig,
    default_catalog,
)


def test_default_catalog_has_every_type_and_unique_ids() -> None:
    catalog = default_catalog()
    assert {service.type for service in catalog} == set(ServiceType)
    assert len({service.id for service in catalog}) == len(catalog)


def test_default_catalog_mixes_the_features_suites_need() -> None:
    catalog = default_catalog()
    for flag in ("refill", "dripfeed", "cancel"):
        assert {getattr(service, flag) for service in catalog} == {True, False}, flag
    cheapest = min(
        (s for s in catalog if s.type is ServiceType.DEFAULT), key=lambda s: s.rate * s.min
    )
    assert cheapest.rate * cheapest.min / 1000 == Decimal("0.00001")


def test_every_type_has_a_rule_and_every_rule_param_has_a_spec() -> None:
    assert set(TYPE_RULES) == set(ServiceType)
    for rule in TYPE_RULES.values():
        for name in (*rule.params, "runs", "interval"):
            assert name in PARAM_SPECS, name
        for cond in rule.conditional:
            assert cond.requires in PARAM_SPECS
        if rule.quantity is QuantitySource.LINES:
            assert rule.lines_param in rule.params


def test_package_types_are_flat_priced() -> None:
    flat = {t for t, rule in TYPE_RULES.items() if rule.pricing is PricingRule.FLAT}
    assert flat == {ServiceType.PACKAGE, ServiceType.CUSTOM_COMMENTS_PACKAGE}


def test_rule_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        TYPE_RULES[ServiceType.DEFAULT] = TYPE_RULES[ServiceType.SEO]  # type: ignore[index]


BASE = Service(1, "Followers", ServiceType.DEFAULT, "Instagram", Decimal("0.9"), 10, 100)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": 0}, "positive"),
        ({"name": " "}, "blank"),
        ({"rate": Decimal(0)}, "rate"),
        ({"rate": Decimal("NaN")}, "rate"),
        ({"min": 0}, "min"),
        ({"min": 200}, "min"),
        ({"max": 10**9 + 1}, "max"),
        ({"type": ServiceType.SEO, "dripfeed": True}, "drip-feed"),
        ({"refill": True, "refill_days": 0}, "refill_days"),
        ({"type": ServiceType.PACKAGE}, "package_quantity"),
        ({"package_quantity": 5}, "package_quantity"),
    ],
)
def test_service_refuses_inconsistent_definitions(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(BASE, **changes)  # type: ignore[arg-type]


def test_a_service_keeps_its_rate_as_an_exact_fraction_through_replace() -> None:
    # add prices from rate_fraction, never from the Decimal: the two must be the same number.
    for service in default_catalog():
        numerator, denominator = service.rate_fraction
        assert Decimal(numerator) / Decimal(denominator) == service.rate
    cheap = replace(default_catalog()[0], rate=Decimal("0.0037"))
    assert cheap.rate_fraction == (37, 10_000)
    assert cheap == replace(cheap, rate=Decimal("0.00370"))  # equal rates, equal services
    assert "rate_fraction" not in repr(cheap)


def test_config_refuses_bad_catalogues_and_settings() -> None:
    with pytest.raises(ValueError, match="unique"):
        StateConfig(catalog=(BASE, BASE))
    with pytest.raises(ValueError, match="non-empty"):
        StateConfig(catalog=())
    cheap_package = Service(
        2, "Pack", ServiceType.PACKAGE, "P", Decimal("0.001"), 1, 1, package_quantity=10
    )
    with pytest.raises(ValueError, match="rounds to zero"):
        StateConfig(catalog=(cheap_package,), money_places=2)
    with pytest.raises(ValueError, match="cancellable"):
        StateConfig(cancellable=frozenset({"Completed"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="currency"):
        StateConfig(default_currency="usd")
    with pytest.raises(ValueError, match="money_places"):
        StateConfig(money_places=13)
    with pytest.raises(ValueError, match="id_style"):
        StateConfig(id_style="uuid")  # type: ignore[arg-type]


def test_chargeable_catalog_raises_minimums_that_would_cost_nothing() -> None:
    from decimal import Decimal

    from mockpanel.state.catalog import chargeable_catalog
    from mockpanel.state.money import per_thousand

    catalog = default_catalog()
    at_five = chargeable_catalog(catalog, 5)
    at_two = chargeable_catalog(catalog, 2)
    cheap_five = next(s for s in at_five if s.id == 2)
    cheap_two = next(s for s in at_two if s.id == 2)
    assert cheap_five.min == 10  # 10 x 0.001 / 1000 = 0.00001: chargeable at five places
    assert cheap_two.min == 5000  # the least quantity worth 0.01 after rounding half up
    assert per_thousand(cheap_two.rate, cheap_two.min, 2) == Decimal("0.01")
    assert per_thousand(cheap_two.rate, cheap_two.min - 1, 2) == 0
    for service in at_two:
        if service.rule.pricing.name == "PER_THOUSAND":
            assert per_thousand(service.rate, service.min, 2) > 0
    # Flat-priced services keep their minimum whatever the precision.
    flat = [s for s in catalog if s.rule.pricing.name == "FLAT"]
    assert all(s in at_two for s in flat)
