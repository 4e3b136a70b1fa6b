"""JSON-ready renderings of state views: money as fixed-point strings, enums as their values.

Used by :meth:`PanelState.snapshot` and available to the wire layer (control API, webhooks)
so every JSON rendering of an order or refill agrees. Nothing here ever sees an API key.
"""

from __future__ import annotations

from typing import Any

from mockpanel.state.money import format_money
from mockpanel.state.orders import OrderView
from mockpanel.state.refills import RefillView

__all__ = ["order_json", "refill_json"]


def order_json(view: OrderView, places: int) -> dict[str, Any]:
    """``view`` as plain JSON types; ``charge``/``refunded`` as strings with ``places`` decimals."""
    return {
        "id": view.id,
        "tenant_id": view.tenant_id,
        "service_id": view.service_id,
        "service_type": view.service_type.value,
        "link": view.link,
        "quantity": view.quantity,
        "charge": format_money(view.charge, places),
        "refunded": format_money(view.refunded, places),
        "status": view.status.value,
        "start_count": view.start_count,
        "remains": view.remains,
        "currency": view.currency,
        "runs": view.runs,
        "interval": view.interval,
        "created_at": view.created_at,
        "finished_at": view.finished_at,
    }


def refill_json(view: RefillView) -> dict[str, Any]:
    """``view`` as plain JSON types."""
    return {
        "id": view.id,
        "tenant_id": view.tenant_id,
        "order_id": view.order_id,
        "status": view.status.value,
        "created_at": view.created_at,
        "finished_at": view.finished_at,
    }
