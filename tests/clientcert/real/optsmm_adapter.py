"""Adapter for ``optsmm`` 1.0.1 (PyPI; asyncio, aiohttp). The library's URL is an instance
attribute (``base_url``), pointed at the mock; it offers no timeout setting, no multi-status
and no refill. Values are passed through; only ``balance``'s ``(amount, currency)`` tuple is
named, so the suite can find the amount."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from optsmm import OptSMM

from clientcert import AdapterSettings, OrderRequest


class OptsmmAdapter:
    def __init__(self, settings: AdapterSettings) -> None:
        self.client = OptSMM(settings.key)
        self.client.base_url = settings.url

    def balance(self) -> object:
        amount, currency = asyncio.run(self.client.balance())
        return {"balance": amount, "currency": currency}

    def services(self) -> object:
        return asyncio.run(self.client.services())

    def add(self, order: OrderRequest) -> object:
        # create_order(service, link, quantity) sends nothing else: a type with other fields
        # (comments, ...) or without a quantity (Package) cannot be ordered with it.
        if order.extras or order.quantity is None:
            raise NotImplementedError(f"optsmm cannot send a {order.type} order")
        return asyncio.run(self.client.create_order(order.service, order.link, order.quantity))

    def status(self, order: Any) -> object:
        return asyncio.run(self.client.order_status(order))

    def multi_status(self, orders: Sequence[Any]) -> object:
        raise NotImplementedError

    def cancel(self, orders: Sequence[Any]) -> object:
        # One order per call: the library's cancel takes a single id.
        return asyncio.run(self.client.order_cancel(orders[0]))

    def refill(self, order: Any) -> object:
        raise NotImplementedError

    def refill_status(self, refill: Any) -> object:
        raise NotImplementedError

    def close(self) -> None:
        pass


def make(settings: AdapterSettings) -> OptsmmAdapter:
    return OptsmmAdapter(settings)
