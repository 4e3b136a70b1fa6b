"""Fixtures for the state-layer tests: a panel on a manual clock and a way to mint tenants."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from mockpanel.state import ManualClock, PanelState, StateConfig, Tenant

MakeTenant = Callable[..., Tenant]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def panel(clock: ManualClock) -> PanelState:
    return PanelState(StateConfig(), clock)


@pytest.fixture
def make_tenant(panel: PanelState) -> MakeTenant:
    def make(balance: str = "100", currency: str | None = None) -> Tenant:
        tenant, _key = panel.create_tenant(Decimal(balance), currency)
        return tenant

    return make


@pytest.fixture
def tenant(make_tenant: MakeTenant) -> Tenant:
    return make_tenant()
