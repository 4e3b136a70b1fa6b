"""Building a panel's state from a :class:`MockConfig` and its profile, and re-seeding it.

Both the app factory and ``POST /_mock/reset`` open the configured tenants, so that step
lives here, once.
"""

from __future__ import annotations

from dataclasses import replace

from mockpanel.config import MockConfig
from mockpanel.profiles import Profile
from mockpanel.state import ManualClock, PanelState, RealClock, StateConfig
from mockpanel.state.catalog import chargeable_catalog
from mockpanel.state.orders import CANONICAL_ORDER_STATUSES

__all__ = ["new_state", "open_tenants", "state_config"]


def state_config(profile: Profile, config: MockConfig) -> StateConfig:
    """The state a profile implies: its service types, money places, ids, currency, cancels."""
    listing = profile.services
    offered = (
        s if listing.takes_dripfeed else replace(s, dripfeed=False)
        for s in listing.catalog
        if s.type in listing.types
    )
    catalog = chargeable_catalog(offered, profile.money_places)
    return StateConfig(
        catalog=catalog,
        money_places=profile.money_places,
        id_style=profile.id_style,
        seed=config.seed,
        timings=config.timings,
        cancellable=profile.cancellable,
        default_currency=profile.currency,
        # A non-canonical status (Done, Failed) exists where the dialect spells it.
        order_statuses=CANONICAL_ORDER_STATUSES | frozenset(profile.order_words),
    )


def open_tenants(state: PanelState, config: MockConfig) -> None:
    """Open one tenant per configured key, with its opening balance."""
    for key, opening in config.keys:
        state.create_tenant(opening, key=key)


def new_state(
    profile: Profile, config: MockConfig, state_type: type[PanelState] = PanelState
) -> PanelState:
    """A fresh panel state for ``config`` with its configured tenants open (``state_type``:
    the test seam of :func:`~mockpanel.wire.app.create_app`)."""
    clock = ManualClock() if config.clock == "manual" else RealClock()
    state = state_type(state_config(profile, config), clock)
    open_tenants(state, config)
    return state
