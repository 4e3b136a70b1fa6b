"""The adapter: the one thing an SDK author writes to have a client library certified.

An adapter performs the standard operations with the library under test and hands back
**what the library returned**, or lets **what it raised** propagate. It must stay a thin
translation: no retries, no parsing of the library's raw answers, no catching of its errors
(the suite judges exactly those). An operation the library does not offer raises
:class:`NotImplementedError`; the clauses that need it are then N/A ("feature not offered").

The factory named by ``--client-adapter=module:factory`` is called once per trial with
:class:`AdapterSettings`: the panel's API URL, a fresh key, and the timeout the suite expects
the library to use (configure the library with it where it allows; the suite's slow-panel
clause judges the library against that timeout).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "OPERATIONS",
    "AdapterFactory",
    "AdapterSettings",
    "ClientAdapter",
    "OrderRequest",
]

#: The standard operations, in the order a reader meets them.
OPERATIONS = (
    "balance", "services", "add", "status", "multi_status", "cancel", "refill", "refill_status",
)


@dataclass(frozen=True, slots=True)
class AdapterSettings:
    """What a factory needs to point a library at the mock panel."""

    url: str
    """The API endpoint, ``http://127.0.0.1:PORT/api/v2``."""
    key: str = field(repr=False)
    """The API key of a fresh tenant (a secret: the suite checks the library never shows it)."""
    timeout: float
    """Seconds the library should wait for an answer before giving up."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order to place: the catalogue's service id (as the panel listed it), a link, a
    quantity, the service type label (``Default``, ...) and any type-specific fields."""

    service: Any
    link: str
    quantity: int | None
    type: str = "Default"
    extras: tuple[tuple[str, str], ...] = ()


@runtime_checkable
class ClientAdapter(Protocol):
    """The standard operations over one library instance. Ids are passed back exactly as the
    library returned them (a string, an int, an alphanumeric code...)."""

    def balance(self) -> object: ...

    def services(self) -> object: ...

    def add(self, order: OrderRequest) -> object: ...

    def status(self, order: Any) -> object: ...

    def multi_status(self, orders: Sequence[Any]) -> object: ...

    def cancel(self, orders: Sequence[Any]) -> object: ...

    def refill(self, order: Any) -> object: ...

    def refill_status(self, refill: Any) -> object: ...

    def close(self) -> None: ...


AdapterFactory = Callable[[AdapterSettings], ClientAdapter]
"""``module:factory`` in ``--client-adapter``: settings in, a ready adapter out."""
