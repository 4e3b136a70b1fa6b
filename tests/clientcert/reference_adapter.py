"""The example adapter: the reference client (tests/clientcert/reference_client.py) behind
:class:`clientcert.ClientAdapter`. Each method is one call of the library, its value
returned and its exceptions left to propagate; nothing is retried, parsed or caught here.

Run it: ``pytest --client-adapter=tests.clientcert.reference_adapter:make``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clientcert import AdapterSettings, OrderRequest
from tests.clientcert.reference_client import ReferenceClient

__all__ = ["ReferenceAdapter", "make"]


class ReferenceAdapter:
    def __init__(self, client: ReferenceClient) -> None:
        self.client = client

    def balance(self) -> object:
        return self.client.balance()

    def services(self) -> object:
        return self.client.services()

    def add(self, order: OrderRequest) -> object:
        return self.client.add(order.service, order.link, order.quantity, **dict(order.extras))

    def status(self, order: Any) -> object:
        return self.client.status(order)

    def multi_status(self, orders: Sequence[Any]) -> object:
        return self.client.multi_status(orders)

    def cancel(self, orders: Sequence[Any]) -> object:
        return self.client.cancel(orders)

    def refill(self, order: Any) -> object:
        return self.client.refill(order)

    def refill_status(self, refill: Any) -> object:
        return self.client.refill_status(refill)

    def close(self) -> None:
        pass


def make(settings: AdapterSettings) -> ReferenceAdapter:
    """The factory ``--client-adapter`` names."""
    return ReferenceAdapter(ReferenceClient(settings.url, settings.key, settings.timeout))
