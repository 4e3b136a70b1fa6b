"""Adapter for ``pyliphemus`` 0.0.2 (PyPI; BigSMM wrapper over ``requests``). Its URL
``https://bigsmm.ru/api/v2/`` is written into every call, so the adapter gives the library a
``requests`` stand-in that sends the same request to the mock instead (the host is the only
thing changed). It offers no timeout setting, no refill; its cancel returns nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pyliphemus.api
import requests
from pyliphemus.api import PyLiphemAPI

from clientcert import AdapterSettings, OrderRequest

_LIBRARY_URL = "https://bigsmm.ru/api/v2/"


class PyliphemusAdapter:
    def __init__(self, settings: AdapterSettings) -> None:
        self.key = settings.key
        self.client = PyLiphemAPI(settings.key)
        target = settings.url.rstrip("/") + "/"

        def get(url: str, **kwargs: Any) -> requests.Response:
            return requests.get(url.replace(_LIBRARY_URL, target, 1), **kwargs)

        pyliphemus.api.requests = SimpleNamespace(get=get)  # type: ignore[attr-defined]

    def balance(self) -> object:
        return asyncio.run(self.client.check_balance(self.key))

    def services(self) -> object:
        return asyncio.run(self.client.service_list())

    def add(self, order: OrderRequest) -> object:
        # add_order(action, key, service, quantity, link) sends nothing else: a type with
        # other fields (comments, ...) or without a quantity (Package) cannot be ordered.
        if order.extras or order.quantity is None:
            raise NotImplementedError(f"pyliphemus cannot send a {order.type} order")
        return asyncio.run(self.client.add_order("add", self.key, order.service,
                                                 order.quantity, order.link))

    def status(self, order: Any) -> object:
        return asyncio.run(self.client.order_status(self.key, order))

    def multi_status(self, orders: Sequence[Any]) -> object:
        return asyncio.run(self.client.order_status_mass(self.key, list(orders)))

    def cancel(self, orders: Sequence[Any]) -> object:
        return asyncio.run(self.client.order_cancel(self.key, orders[0]))

    def refill(self, order: Any) -> object:
        raise NotImplementedError

    def refill_status(self, refill: Any) -> object:
        raise NotImplementedError

    def close(self) -> None:
        pyliphemus.api.requests = requests  # type: ignore[attr-defined]


def make(settings: AdapterSettings) -> PyliphemusAdapter:
    return PyliphemusAdapter(settings)
