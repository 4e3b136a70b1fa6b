"""The spend guard: nothing that can cost money is sent without a reservation under the cap.

Every request that can spend (an ``add``) must present a :class:`Reservation` taken from the
:class:`SpendGuard` for the wallet it uses; the HTTP client refuses to send it otherwise, so the
cap holds structurally, not by the suite's good manners. With a cap of 0 every reservation is
refused, hence no ``add`` at all, whatever the wallet. Above 0, wallets minted through a control
API hold sandbox money: they are accounted separately and not held to the cap.

What the run spent is measured from balance deltas (opening minus closing balance of every
wallet that spent), never assumed from the charges the panel claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from harness.redaction import Secret

__all__ = ["Reservation", "SpendGuard", "SpendRefused", "SpendReport", "Wallet"]


class SpendRefused(Exception):
    """The worst case of a request does not fit under ``--panel-max-spend``."""

    def __init__(self, needed: Decimal, remaining: Decimal) -> None:
        super().__init__(
            f"not allowed by the spend cap: needs up to {needed}, {remaining} left under the cap"
        )
        self.needed = needed
        self.remaining = remaining


@dataclass(frozen=True, slots=True)
class Wallet:
    """An account the suite may spend from: a key, and whether its money is sandbox money."""

    key: Secret
    sandbox: bool = False

    @property
    def label(self) -> str:
        return self.key.label


class Reservation:
    """Permission to send one spending request from one wallet, worth at most ``amount``."""

    __slots__ = ("_used", "accepted", "amount", "measured", "wallet")

    def __init__(self, wallet: Wallet, amount: Decimal) -> None:
        self.wallet = wallet
        self.amount = amount
        self.measured: Decimal | None = None
        self.accepted = True
        self._used = False

    def consume(self) -> None:
        """Spend the permission on one request (called by the HTTP client as it sends).

        The request may carry another key than the wallet's (the wrong-key ``add``): what is
        reserved is the wallet's money at risk, whichever key is sent.
        """
        if self._used:
            raise RuntimeError("a reservation covers one request; reserve again")
        self._used = True

    @property
    def committed(self) -> Decimal:
        """What counts against the cap: the worst case until settled; then, for an accepted
        request, the worst case or more if more was debited, and for a refused one, what was
        really debited (normally nothing)."""
        if self.measured is None:
            return self.amount
        return max(self.amount, self.measured) if self.accepted else self.measured

    def __repr__(self) -> str:
        return f"Reservation({self.wallet.label}, {self.amount})"


@dataclass(frozen=True, slots=True)
class SpendReport:
    """The money side of a run, for the terminal summary and the certificate."""

    cap: Decimal
    committed: Decimal
    spent: Decimal
    sandbox_spent: Decimal
    requests: int
    refused: int
    unmeasured: tuple[str, ...]

    def line(self) -> str:
        text = (
            f"spent {self.spent} of cap {self.cap} (measured from balances; "
            f"{self.requests} spending request(s), {self.refused} refused by the cap)"
        )
        if self.sandbox_spent:
            text += f"; sandbox money spent {self.sandbox_spent}"
        if self.unmeasured:
            text += f"; closing balance not measured for {', '.join(self.unmeasured)}"
        return text


class SpendGuard:
    """Reservations against the cap, and opening/closing balances of every wallet that spent."""

    def __init__(self, cap: Decimal) -> None:
        if cap < 0:
            raise ValueError("the spend cap cannot be negative")
        self.cap = cap
        self._reservations: list[Reservation] = []
        self._opening: dict[Wallet, Decimal] = {}
        self._closing: dict[Wallet, Decimal] = {}
        self._refused = 0

    @property
    def committed(self) -> Decimal:
        return sum(
            (r.committed for r in self._reservations if not r.wallet.sandbox), Decimal(0)
        )

    @property
    def remaining(self) -> Decimal:
        return max(self.cap - self.committed, Decimal(0))

    def can_spend(self, wallet: Wallet) -> bool:
        """Whether any spending on ``wallet`` is possible at all (false with a cap of 0)."""
        return self.cap > 0 and (wallet.sandbox or self.remaining > 0)

    def open(self, wallet: Wallet, balance: Decimal) -> None:
        """Record ``wallet``'s balance before its first spending request (first call wins)."""
        self._opening.setdefault(wallet, balance)

    def close(self, wallet: Wallet, balance: Decimal) -> None:
        """Record ``wallet``'s balance at the end of the run (last call wins)."""
        self._closing[wallet] = balance

    def wallets(self) -> tuple[Wallet, ...]:
        """Wallets with an opening balance, in the order they were opened."""
        return tuple(self._opening)

    def reserve(self, wallet: Wallet, worst_case: Decimal) -> Reservation:
        """Reserve the worst case of one spending request, or raise :class:`SpendRefused`."""
        if worst_case < 0:
            raise ValueError("a worst case cannot be negative")
        if wallet not in self._opening:
            raise RuntimeError(f"open {wallet.label} with its balance before spending from it")
        if self.cap == 0 or (not wallet.sandbox and self.committed + worst_case > self.cap):
            self._refused += 1
            raise SpendRefused(worst_case, self.remaining)
        reservation = Reservation(wallet, worst_case)
        self._reservations.append(reservation)
        return reservation

    def settle(self, reservation: Reservation, debited: Decimal, *, accepted: bool) -> None:
        """Record what a request really took (a balance delta) and whether it was accepted.

        An accepted order keeps its worst case committed (its charge may still grow until it
        ends); a refused request frees it, keeping only what it really took.
        """
        reservation.measured = debited
        reservation.accepted = accepted

    def report(self) -> SpendReport:
        spent = Decimal(0)
        sandbox = Decimal(0)
        unmeasured: list[str] = []
        for wallet, opening in self._opening.items():
            closing = self._closing.get(wallet)
            if closing is None:
                unmeasured.append(wallet.label)
                continue
            if wallet.sandbox:
                sandbox += opening - closing
            else:
                spent += opening - closing
        return SpendReport(
            cap=self.cap,
            committed=self.committed,
            spent=spent,
            sandbox_spent=sandbox,
            requests=sum(1 for r in self._reservations if not r.wallet.sandbox),
            refused=self._refused,
            unmeasured=tuple(unmeasured),
        )
