"""The ledger: one account per tenant, exact debits and credits, never below zero.

A debit checks and subtracts in one step and refuses with ``INSUFFICIENT_FUNDS`` having
changed nothing, which is what makes "check funds, then charge" atomic for the facade. Each
account keeps its opening balance and running totals, so ``balance == opening - debited +
credited`` can be checked at any time.

Amounts come in and go out as ``Decimal`` at the ledger's places; inside, they are kept as
whole numbers of money steps (``10**-places`` each), which is just as exact. An ``add`` debits
in steps (:meth:`Ledger.debit_units`, its price is computed in steps), so placing an order
runs no ``Decimal`` operation at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state.money import at_places, check_amount, from_units, to_units

__all__ = ["Account", "Ledger"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Account:
    """An account's figures at one instant."""

    opening: Decimal
    debited: Decimal
    credited: Decimal
    balance: Decimal


@dataclass(slots=True)
class _Figures:
    """An account's running figures in money steps, changed in place by every movement;
    callers only ever get ``Decimal`` copies. ``shown`` is the balance as a ``Decimal``, built
    on the first read after a movement and kept until the next (a balance is read far more
    often than it changes)."""

    opening: int
    debited: int
    credited: int
    balance: int
    shown: Decimal | None = None


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
        opening = to_units(check_amount(balance, self._places), self._places)
        self._accounts[account] = _Figures(opening, 0, 0, opening)

    def restore(self, account: str, figures: Account) -> None:
        """Reopen ``account`` with figures read back from a state file, checked for consistency."""
        if account in self._accounts:
            raise ValueError(f"account {account!r} already exists")
        opening, debited, credited, balance = (
            to_units(check_amount(amount, self._places), self._places)
            for amount in (figures.opening, figures.debited, figures.credited, figures.balance)
        )
        if opening - debited + credited != balance:
            raise ValueError(f"account {account!r}: balance != opening - debited + credited")
        self._accounts[account] = _Figures(opening, debited, credited, balance)

    def account(self, account: str) -> Account:
        """The figures of ``account``; ``KeyError`` if it was never opened."""
        figures, places = self._accounts[account], self._places
        return Account(
            from_units(figures.opening, places),
            from_units(figures.debited, places),
            from_units(figures.credited, places),
            self.balance(account),
        )

    def balance(self, account: str) -> Decimal:
        figures = self._accounts[account]
        shown = figures.shown
        if shown is None:
            shown = figures.shown = from_units(figures.balance, self._places)
        return shown

    def _units(self, amount: Decimal) -> int:
        """A movement's ``amount`` in steps: positive, finite and at the places, or ValueError."""
        if not at_places(amount, self._places) or amount <= _ZERO:
            raise _not_a_movement(self._places)
        return to_units(amount, self._places)

    def debit(self, account: str, amount: Decimal) -> Decimal:
        """Take ``amount``; ``INSUFFICIENT_FUNDS`` (needed, balance) if it would go negative.
        The new balance."""
        self.debit_units(account, self._units(amount))
        return self.balance(account)

    def debit_units(self, account: str, units: int) -> None:
        """:meth:`debit` of ``units`` money steps (what an ``add`` is priced in)."""
        if type(units) is not int or units <= 0:  # (not bool: a flag is no amount)
            raise _not_a_movement(self._places)
        figures = self._accounts[account]
        if units > figures.balance:
            raise DomainError(
                ErrorCode.INSUFFICIENT_FUNDS,
                needed=from_units(units, self._places),
                balance=self.balance(account),
            )
        figures.debited += units
        figures.balance -= units
        figures.shown = None

    def credit(self, account: str, amount: Decimal) -> Decimal:
        """Give back ``amount`` (a refund). The new balance."""
        units = self._units(amount)
        figures = self._accounts[account]
        figures.credited += units
        figures.balance += units
        figures.shown = None
        return self.balance(account)
