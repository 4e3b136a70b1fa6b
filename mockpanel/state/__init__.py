"""The mock panel's domain state: money, clock, catalogue, ledger, orders, refills, tenants.

Plain synchronous Python: no aiohttp, no profiles, no vendor wording. The wire layer talks to
:class:`PanelState` only; refusals are :class:`mockpanel.errors.DomainError` with an abstract
code, control-plane misuse is ``KeyError`` (unknown id), :class:`InvalidTransition` (a
``ValueError``: a move the declared transitions forbid) or ``ValueError`` (bad numbers).
"""

from __future__ import annotations

from mockpanel.state.catalog import (
    MAX_COUNT,
    PARAM_SPECS,
    TYPE_RULES,
    ParamKind,
    ParamSpec,
    PricingRule,
    QuantitySource,
    Service,
    ServiceType,
    TypeRule,
    default_catalog,
)
from mockpanel.state.clock import Clock, ClockKind, ManualClock, RealClock, make_clock
from mockpanel.state.config import LifecycleTimings, StateConfig
from mockpanel.state.magic import MagicOutcome
from mockpanel.state.money import format_money, parse_money
from mockpanel.state.orders import FINAL_ORDER_STATUSES, ORDER_TRANSITIONS, OrderStatus, OrderView
from mockpanel.state.panel import OrderListener, PanelState
from mockpanel.state.persistence import StateFileError, StoreError
from mockpanel.state.refills import (
    FINAL_REFILL_STATUSES,
    REFILL_TRANSITIONS,
    RefillStatus,
    RefillView,
)
from mockpanel.state.snapshot import order_json, refill_json
from mockpanel.state.tenants import Tenant
from mockpanel.state.transitions import InvalidTransition

__all__ = [
    "FINAL_ORDER_STATUSES",
    "FINAL_REFILL_STATUSES",
    "MAX_COUNT",
    "ORDER_TRANSITIONS",
    "PARAM_SPECS",
    "REFILL_TRANSITIONS",
    "TYPE_RULES",
    "Clock",
    "ClockKind",
    "InvalidTransition",
    "LifecycleTimings",
    "MagicOutcome",
    "ManualClock",
    "OrderListener",
    "OrderStatus",
    "OrderView",
    "PanelState",
    "ParamKind",
    "ParamSpec",
    "PricingRule",
    "QuantitySource",
    "RealClock",
    "RefillStatus",
    "RefillView",
    "Service",
    "ServiceType",
    "StateConfig",
    "StateFileError",
    "StoreError",
    "Tenant",
    "TypeRule",
    "default_catalog",
    "format_money",
    "make_clock",
    "order_json",
    "parse_money",
    "refill_json",
]
