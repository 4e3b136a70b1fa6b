"""The mock panel as a bench uses it: how to start it, fresh secrets, and the orders a load needs.

Every bench server gets a fresh random key and control token; they go to the mock on its
command line (as ``mockpanel serve`` takes them) or in the environment, and never into any
output of the bench.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from bench.client import BenchClientError, post_form
from bench.settings import Settings

__all__ = [
    "BALANCE",
    "Secrets",
    "bare_argv",
    "cheapest_add",
    "expect",
    "form",
    "mock_argv",
    "place_orders",
]

# Large enough that the cheapest order, placed for minutes at full speed, never runs it dry.
BALANCE = "1000000000.00"


@dataclass(frozen=True, slots=True)
class Secrets:
    """A bench tenant's API key and the control token; never shown in a repr."""

    key: str
    token: str

    @classmethod
    def fresh(cls) -> Secrets:
        return cls(secrets.token_hex(16), secrets.token_hex(16))

    def __repr__(self) -> str:
        return "Secrets(key=***, token=***)"


def mock_argv(settings: Settings, keys: Secrets, port: int = 0) -> list[str]:
    """``mockpanel serve`` as the issue describes it: journal on, manual clock, control API."""
    return [
        *settings.pinning.server(),
        settings.python,
        "-m",
        "mockpanel",
        "serve",
        "--port",
        str(port),
        "--key",
        f"{keys.key}={BALANCE}",
        "--control-token",
        keys.token,
        "--clock",
        "manual",
    ]


def bare_argv(settings: Settings, port: int = 0) -> list[str]:
    return [*settings.pinning.server(), settings.python, "-m", "bench.bare", "--port", str(port)]


def form(fields: dict[str, str]) -> str:
    return urlencode(fields)


def expect(url: str, fields: dict[str, str], what: str) -> Any:
    """POST ``fields``; the JSON answer, which must be an object holding ``what``."""
    status, answer = post_form(url, fields)
    if status != 200 or not isinstance(answer, dict) or what not in answer:
        action = fields.get("action", "?")
        raise BenchClientError(f"{action}: expected {what!r} with HTTP 200, got {status} {answer}")
    return answer


def cheapest_add(url: str, key: str) -> dict[str, str]:
    """The fields of the cheapest ``add`` the panel offers: a Default service at its minimum."""
    status, services = post_form(url, {"key": key, "action": "services"})
    if status != 200 or not isinstance(services, list):
        raise BenchClientError(f"services: expected a list, got {status} {services}")
    candidates = [
        (Decimal(str(item["rate"])) * int(item["min"]), str(item["service"]), str(item["min"]))
        for item in services
        if isinstance(item, dict) and item.get("type") == "Default"
    ]
    if not candidates:
        raise BenchClientError("services: the panel offers no Default service")
    _, service, quantity = min(candidates, key=lambda c: c[0])  # cost = rate * min / 1000
    return {
        "key": key,
        "action": "add",
        "service": service,
        "link": "https://example.test/bench",
        "quantity": quantity,
    }


def place_orders(url: str, add: dict[str, str], count: int) -> list[str]:
    """Place ``count`` orders with the ``add`` fields; their ids."""
    return [str(expect(url, add, "order")["order"]) for _ in range(count)]
