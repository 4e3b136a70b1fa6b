"""Adapter for ``lytics-smm-demo`` 0.1.1 (PyPI; module ``lytics``, over ``requests``). Its
URL is the module global ``lytics.main.api_url``, pointed at the mock for the trial. It
offers no timeout setting and no cancel; ``services`` returns the catalogue as JSON text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lytics.main
from lytics import Lytics

from clientcert import AdapterSettings, OrderRequest

_ORIGINAL = lytics.main.api_url


class LyticsAdapter:
    def __init__(self, settings: AdapterSettings) -> None:
        lytics.main.api_url = settings.url
        self.client = Lytics(settings.key)

    def balance(self) -> object:
        return self.client.balance()

    def services(self) -> object:
        return self.client.services()

    def add(self, order: OrderRequest) -> object:
        return self.client.order(order.service, link=order.link, quantity=order.quantity,
                                 **dict(order.extras))

    def status(self, order: Any) -> object:
        return self.client.status(order)

    def multi_status(self, orders: Sequence[Any]) -> object:
        return self.client.multi_status(list(orders))

    def cancel(self, orders: Sequence[Any]) -> object:
        raise NotImplementedError

    def refill(self, order: Any) -> object:
        return self.client.refill(order)

    def refill_status(self, refill: Any) -> object:
        return self.client.refill_status(refill)

    def close(self) -> None:
        lytics.main.api_url = _ORIGINAL


def make(settings: AdapterSettings) -> LyticsAdapter:
    return LyticsAdapter(settings)
