"""Money and balance checks: the balance is a non-negative decimal in a three-letter currency,
and every amount (balance, charge, rate) is written as an exact plain decimal.
"""

from __future__ import annotations

from decimal import Decimal

from harness.base import values
from harness.base.exchange import Exchange
from harness.judging.checks.core import (
    Applies,
    Facts,
    Registry,
    broken,
    check,
    service_items,
)

__all__ = ["CHECKS"]

_MAX_DECIMALS = 10


def _plain_money(label: str, value: object) -> None:
    """MONEY-008: no exponent, no float residue, no sign."""
    if value is None:
        return
    if values.money(value) is None:
        broken(f"{label} {value!r} is not a plain non-negative decimal")
    if values.decimal_places(value) > _MAX_DECIMALS:
        broken(f"{label} {value!r} has binary-float residue")
    if isinstance(value, Decimal) and "E" in str(value).upper():
        broken(f"{label} {value!r} is written with an exponent")


@check("BAL-002", "the balance is a non-negative decimal", forms=["balance"],
       applies=Applies.SUCCESS)
def balance_non_negative(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if isinstance(body, dict) and "balance" in body and values.money(body["balance"]) is None:
        broken(f"balance {body['balance']!r}")


@check("BAL-004", "currency is a three-letter code", forms=["balance"], applies=Applies.SUCCESS)
def balance_currency(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    currency = body.get("currency") if isinstance(body, dict) else None
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii()
            and currency.isalpha() and currency.isupper()):
        broken(f"currency {currency!r}")


@check("MONEY-008", "money is exact decimal", forms=["balance", "status", "services", "add"],
       applies=Applies.SUCCESS)
def money_is_decimal(exchange: Exchange, facts: Facts) -> None:
    body = exchange.json
    if isinstance(body, dict):
        for name in ("balance", "charge"):
            _plain_money(name, body.get(name))
    for item in service_items(exchange):
        _plain_money(f"rate of service {item.get('service')!r}", item.get("rate"))


CHECKS = Registry.collect(globals())
