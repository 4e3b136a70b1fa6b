"""The ledger: one account per tenant, exact debits and credits, never below zero.

A debit checks and subtracts in one step and refuses with ``INSUFFICIENT_FUNDS`` having
changed nothing, which is what makes "check funds, then charge" atomic for the facade. Each
account keeps its opening balance and running totals, so ``balance == opening - debited +
credited`` can be checked at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state.money import at_places, check_amount, quantize

__all__ = ["Account", "Ledger"]

_ZERO = Decimal(0)  # (a Decimal compares with a Decimal faster than with an int)


@dataclass(frozen=True, slots=True)
class Account:
    """An account's figures at one instant."""

    opening: Decimal
    debited: Decimal
    credited: Decimal
    balance: Decimal


@dataclass(slots=True)
class _Figures:
    """An account's running figures, changed in place by every movement (an order debits one:
    a new frozen :class:`Account` per movement would cost four ``object.__setattr__`` calls);
    callers only ever get an :class:`Account` copy."""

    opening: Decimal
    debited: Decimal
    credited: Decimal
    balance: Decimal


def _not_a_movement(places: int) -> ValueError:
    return ValueError(f"a movement must be a positive amount at {places} places")


class Ledger:
    """Accounts keyed by tenant id, all amounts at ``places`` decimals."""

    __slots__ = ("_accounts", "_places")

    def __init__(self, places: int) -> None:
        self._places = places
        self._accounts: dict[str, _Figures] = {}

    def open(self, account: str, balance: Decimal) -> None:
        """Open ``account`` with ``balance`` (finite, >= 0, at most ``places`` decimals)."""
        if account in self._accounts:
            raise ValueError(f"account {account!r} already exists")
        opening = check_amount(balance, self._places)
        zero = quantize(Decimal(0), self._places)
        self._accounts[account] = _Figures(opening, zero, zero, opening)

    def restore(self, account: str, figures: Account) -> None:
        """Reopen ``account`` with figures read back from a state file, checked for consistency."""
        if account in self._accounts:
            raise ValueError(f"account {account!r} already exists")
        amounts = (figures.opening, figures.debited, figures.credited, figures.balance)
        for amount in amounts:
            check_amount(amount, self._places)
        if figures.opening - figures.debited + figures.credited != figures.balance:
            raise ValueError(f"account {account!r}: balance != opening - debited + credited")
        self._accounts[account] = _Figures(*amounts)

    def account(self, account: str) -> Account:
        """The figures of ``account``; ``KeyError`` if it was never opened."""
        figures = self._accounts[account]
        return Account(figures.opening, figures.debited, figures.credited, figures.balance)

    def balance(self, account: str) -> Decimal:
        return self._accounts[account].balance

    def _amount(self, amount: Decimal) -> Decimal:
        if not at_places(amount, self._places) or amount <= _ZERO:
            raise _not_a_movement(self._places)
        return amount

    def debit(self, account: str, amount: Decimal) -> Decimal:
        """Take ``amount``; ``INSUFFICIENT_FUNDS`` (needed, balance) if it would go negative."""
        if not at_places(amount, self._places) or amount <= _ZERO:  # (_amount inline: per add)
            raise _not_a_movement(self._places)
        figures = self._accounts[account]
        if amount > figures.balance:
            raise DomainError(ErrorCode.INSUFFICIENT_FUNDS, needed=amount, balance=figures.balance)
        figures.debited += amount
        figures.balance -= amount
        return figures.balance

    def credit(self, account: str, amount: Decimal) -> Decimal:
        """Give back ``amount`` (a refund)."""
        amount = self._amount(amount)
        figures = self._accounts[account]
        figures.credited += amount
        figures.balance += amount
        return figures.balance
