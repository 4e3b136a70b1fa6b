"""Order records and their views: ``Order.view`` builds its view from a tuple in
``OrderView``'s field order, so every field must land in its place; the view is immutable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mockpanel.state import OrderStatus, OrderView
from mockpanel.state.catalog import default_catalog
from mockpanel.state.orders import Order, Outcome, Progress


def test_every_view_field_comes_from_its_own_order_field() -> None:
    service = default_catalog()[0]
    order = Order(
        id="16001",
        tenant_id="t7",
        service=service,
        link="https://example.test/p",
        quantity=1000,
        charge=Decimal("1.23456"),
        currency="EUR",
        runs=4,
        interval=30,
        created_at=12.5,
        planned=Outcome(OrderStatus.PARTIAL, 100),
        remains=1000,
        refunded=Decimal("0.00007"),
        status=OrderStatus.IN_PROGRESS,
        start_count=4321,
        progress=Progress(started_at=20.0, duration=10.0, start_remains=1000, target=100),
        finished_at=None,
    )
    expected = OrderView(
        id="16001",
        tenant_id="t7",
        service_id=service.id,
        service_type=service.type,
        link="https://example.test/p",
        quantity=1000,
        charge=Decimal("1.23456"),
        refunded=Decimal("0.00007"),
        status=OrderStatus.IN_PROGRESS,
        start_count=4321,
        remains=550,  # half way through the delivery from 1000 down to 100
        currency="EUR",
        runs=4,
        interval=30,
        created_at=12.5,
        finished_at=None,
    )
    assert order.view(25.0) == expected
    # Distinct values everywhere, so a swapped pair of positions cannot compare equal.
    values = [getattr(expected, name) for name in OrderView._fields]
    assert len({repr(value) for value in values}) == len(values)


def _small_order(**changes: Any) -> Order:
    fields: dict[str, Any] = {
        "id": "16002", "tenant_id": "t1", "service": default_catalog()[0], "link": None,
        "quantity": 10, "charge": Decimal("0.01000"), "currency": "USD", "runs": None,
        "interval": None, "created_at": 0.0, "planned": Outcome(OrderStatus.COMPLETED, 0),
        "remains": 10, "refunded": Decimal("0.00000"),
    }  # fmt: skip
    return Order(**(fields | changes))


def test_a_finished_order_shows_when_it_finished() -> None:
    order = _small_order(
        remains=0, status=OrderStatus.COMPLETED, start_count=5, finished_at=99.0
    )
    view = order.view(100.0)
    assert (view.status, view.remains, view.finished_at, view.link) == (
        OrderStatus.COMPLETED, 0, 99.0, None
    )


def test_a_view_cannot_be_changed_only_copied() -> None:
    view = _small_order().view(0.0)
    with pytest.raises(AttributeError):
        view.status = OrderStatus.CANCELED  # type: ignore[misc]
    copy = view._replace(status=OrderStatus.CANCELED)
    assert (view.status, copy.status) == (OrderStatus.PENDING, OrderStatus.CANCELED)
