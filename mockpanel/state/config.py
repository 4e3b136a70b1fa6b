"""Configuration of the panel state: catalogue, money places, ids, lifecycle timings.

Validated once, at construction, so a bad configuration fails loudly at start-up instead of
producing a panel that misbehaves later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from mockpanel.state.catalog import PricingRule, Service, default_catalog
from mockpanel.state.money import quantize
from mockpanel.state.orders import CANONICAL_ORDER_STATUSES, OrderStatus
from mockpanel.state.tenants import check_currency

__all__ = ["LifecycleTimings", "StateConfig"]

# Only live statuses can be cancellable; final ones are absorbing.
_CANCELLABLE_AT_MOST = frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS})
MAX_PLACES = 12


@dataclass(frozen=True, slots=True)
class LifecycleTimings:
    """Seconds each timed phase lasts (on the injected clock)."""

    order_pending: float = 2.0
    order_in_progress: float = 8.0
    refill_pending: float = 2.0
    refill_in_progress: float = 8.0

    def __post_init__(self) -> None:
        for name in ("order_pending", "order_in_progress", "refill_pending", "refill_in_progress"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"timings.{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"timings.{name} must be finite and >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class StateConfig:
    """Everything that shapes a :class:`~mockpanel.state.panel.PanelState`."""

    catalog: tuple[Service, ...] = field(default_factory=default_catalog)
    money_places: int = 5  # quantization of every amount (ROUND_HALF_UP)
    id_style: Literal["numeric", "alphanumeric"] = "numeric"
    seed: int = 0
    timings: LifecycleTimings = field(default_factory=LifecycleTimings)
    cancellable: frozenset[OrderStatus] = frozenset({OrderStatus.PENDING})
    default_currency: str = "USD"
    # The order statuses the panel's dialect can show: the canonical five, plus Done and
    # Failed where the profile names them (only then can magic links and the control API
    # end an order with them).
    order_statuses: frozenset[OrderStatus] = CANONICAL_ORDER_STATUSES

    def __post_init__(self) -> None:
        if not isinstance(self.catalog, tuple) or not self.catalog:
            raise ValueError("catalog must be a non-empty tuple of Service")
        ids = [service.id for service in self.catalog]
        if len(set(ids)) != len(ids):
            raise ValueError("catalog service ids must be unique")
        if isinstance(self.money_places, bool) or not 0 <= self.money_places <= MAX_PLACES:
            raise ValueError(f"money_places must be 0..{MAX_PLACES}, got {self.money_places!r}")
        for service in self.catalog:
            flat = service.rule.pricing is PricingRule.FLAT
            if flat and quantize(service.rate, self.money_places) <= 0:
                raise ValueError(
                    f"service {service.id}: flat rate {service.rate} rounds to zero at "
                    f"{self.money_places} places"
                )
        if self.id_style not in ("numeric", "alphanumeric"):
            raise ValueError(f"id_style must be 'numeric' or 'alphanumeric', got {self.id_style!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int, got {self.seed!r}")
        if not self.cancellable <= _CANCELLABLE_AT_MOST:
            raise ValueError("cancellable may only contain Pending and In progress")
        check_currency(self.default_currency)
        if not CANONICAL_ORDER_STATUSES <= self.order_statuses <= frozenset(OrderStatus):
            raise ValueError("order_statuses must hold the five canonical order statuses")
