"""The spend guard: nothing that can cost money is sent without a reservation under the cap.

Every request that can spend (an ``add``) must present a :class:`Reservation` taken from the
:class:`SpendGuard` for the wallet it uses; the HTTP client refuses to send it otherwise, so the
cap holds structurally, not by the suite's good manners. With a cap of 0 every reservation is
refused, hence no ``add`` at all, whatever the wallet. Above 0, wallets minted through a control
API hold sandbox money: they are accounted separately and not held to the cap.

What the run spent is measured from balance deltas (opening minus closing balance of every
wallet that spent), never assumed from the charges the panel claims.

Under pytest-xdist (``harness.run.xdist``) a guard may be given a :class:`SpendLedger`, so that
the cap holds across workers; :meth:`SpendGuard.export` and :meth:`SpendGuard.merge` carry a
worker's spend to the controller, which reports the run as a whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from harness.base.errors import SpendRefused
from harness.base.redaction import Secret

__all__ = [
    "Reservation",
    "SpendGuard",
    "SpendLedger",
    "SpendRefused",
    "SpendReport",
    "Wallet",
]


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

    @property
    def known(self) -> bool:
        """Whether every wallet that spent was measured: otherwise ``spent`` covers only the
        measured ones and the run's real spend is unknown."""
        return not self.unmeasured

    def line(self) -> str:
        counted = (f"{self.requests} spending request(s), {self.refused} refused by the cap")
        if self.known:
            text = f"spent {self.spent} of cap {self.cap} (measured from balances; {counted})"
        else:
            # A wallet with no closing balance may have spent anything up to what was
            # committed: printing the measured part alone would read as the whole spend.
            measured = f"; {self.spent} measured on the others" if self.spent else ""
            bound = f"; {self.committed} committed under the cap" if self.committed else ""
            text = (f"spent unknown of cap {self.cap} (closing balance not measured for "
                    f"{', '.join(self.unmeasured)}{measured}{bound}; {counted})")
        if self.sandbox_spent:
            text += f"; sandbox money spent {self.sandbox_spent}"
        return text


class SpendLedger(Protocol):
    """Commitments of the other processes of a parallel run (``harness.run.xdist``)."""

    def others(self) -> Decimal: ...

    def claim(self, total: Decimal, cap: Decimal) -> bool: ...

    def publish(self, total: Decimal) -> None: ...


@dataclass(slots=True)
class _Balances:
    """One wallet's opening and closing balances, with when they were read (epoch seconds)."""

    label: str
    sandbox: bool
    opening: Decimal
    opened_at: float
    closing: Decimal | None = None
    closed_at: float | None = None

    def fold(self, other: _Balances) -> None:
        """Keep the earliest opening and the latest closing (a real wallet shared by workers)."""
        if other.opened_at < self.opened_at:
            self.opening, self.opened_at = other.opening, other.opened_at
        if other.closed_at is not None and (
            self.closed_at is None or other.closed_at > self.closed_at
        ):
            self.closing, self.closed_at = other.closing, other.closed_at


class SpendGuard:
    """Reservations against the cap, and opening/closing balances of every wallet that spent."""

    def __init__(
        self,
        cap: Decimal,
        *,
        ledger: SpendLedger | None = None,
        before_spending: Callable[[Wallet], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if cap < 0:
            raise ValueError("the spend cap cannot be negative")
        self.cap = cap
        self._ledger = ledger
        self._before_spending = before_spending
        self._clock = clock
        self._reservations: list[Reservation] = []
        self._opening: dict[Wallet, Decimal] = {}
        self._closing: dict[Wallet, Decimal] = {}
        self._times: dict[Wallet, list[float | None]] = {}
        self._refused = 0
        # What other processes reported (a controller merging its workers' exports).
        self._merged_committed = Decimal(0)
        self._merged_requests = 0
        self._merged_refused = 0
        self._merged_wallets: dict[str, _Balances] = {}

    @property
    def _own_committed(self) -> Decimal:
        return sum(
            (r.committed for r in self._reservations if not r.wallet.sandbox), Decimal(0)
        )

    @property
    def committed(self) -> Decimal:
        """What this guard's reservations (and any merged worker's) hold against the cap."""
        return self._own_committed + self._merged_committed

    @property
    def remaining(self) -> Decimal:
        others = self._ledger.others() if self._ledger is not None else Decimal(0)
        return max(self.cap - self.committed - others, Decimal(0))

    def can_spend(self, wallet: Wallet) -> bool:
        """Whether any spending on ``wallet`` is possible at all (false with a cap of 0)."""
        return self.cap > 0 and (wallet.sandbox or self.remaining > 0)

    def open(self, wallet: Wallet, balance: Decimal) -> None:
        """Record ``wallet``'s balance before its first spending request (first call wins)."""
        if wallet not in self._opening:
            self._opening[wallet] = balance
            self._times[wallet] = [self._clock(), None]

    def close(self, wallet: Wallet, balance: Decimal) -> None:
        """Record ``wallet``'s balance at the end of the run (last call wins)."""
        self._closing[wallet] = balance
        now = self._clock()
        self._times.setdefault(wallet, [now, None])[1] = now

    def wallets(self) -> tuple[Wallet, ...]:
        """Wallets with an opening balance, in the order they were opened."""
        return tuple(self._opening)

    def reserve(self, wallet: Wallet, worst_case: Decimal) -> Reservation:
        """Reserve the worst case of one spending request, or raise :class:`SpendRefused`."""
        if worst_case < 0:
            raise ValueError("a worst case cannot be negative")
        if wallet not in self._opening:
            raise RuntimeError(f"open {wallet.label} with its balance before spending from it")
        if self.cap == 0 or (not wallet.sandbox and not self._fits(worst_case)):
            self._refused += 1
            raise SpendRefused(worst_case, self.remaining)
        if self._before_spending is not None:
            # Every order starts with a reservation: a parallel run shares the clock from here.
            self._before_spending(wallet)
        reservation = Reservation(wallet, worst_case)
        self._reservations.append(reservation)
        return reservation

    def _fits(self, worst_case: Decimal) -> bool:
        total = self._own_committed + worst_case
        if self._ledger is not None:
            return self._ledger.claim(total, self.cap)  # atomically against the other workers
        return self.committed + worst_case <= self.cap

    def settle(self, reservation: Reservation, debited: Decimal, *, accepted: bool) -> None:
        """Record what a request really took (a balance delta) and whether it was accepted.

        An accepted order keeps its worst case committed (its charge may still grow until it
        ends); a refused request frees it, keeping only what it really took.
        """
        reservation.measured = debited
        reservation.accepted = accepted
        if self._ledger is not None and not reservation.wallet.sandbox:
            self._ledger.publish(self._own_committed)

    def _own_balances(self) -> list[_Balances]:
        rows = []
        for wallet, opening in self._opening.items():
            opened_at, closed_at = self._times[wallet]
            assert opened_at is not None
            rows.append(_Balances(wallet.label, wallet.sandbox, opening, opened_at,
                                  self._closing.get(wallet), closed_at))
        return rows

    def export(self) -> dict[str, object]:
        """This guard's own spend, JSON-serialisable (money as decimal strings), for
        :meth:`merge` in the controller of a parallel run."""
        return {
            "committed": str(self._own_committed),
            "requests": sum(1 for r in self._reservations if not r.wallet.sandbox),
            "refused": self._refused,
            "wallets": [
                {"label": b.label, "sandbox": b.sandbox, "opening": str(b.opening),
                 "opened_at": b.opened_at,
                 "closing": None if b.closing is None else str(b.closing),
                 "closed_at": b.closed_at}
                for b in self._own_balances()
            ],
        }

    def merge(self, exported: Mapping[str, object], *, origin: str) -> None:
        """Add a worker's :meth:`export`. A real wallet shared by workers is measured from its
        earliest opening to its latest closing balance (never counted twice); a sandbox
        wallet is the worker's own (``origin`` keeps equal labels of two workers apart)."""
        self._merged_committed += Decimal(str(exported["committed"]))
        self._merged_requests += int(str(exported["requests"]))
        self._merged_refused += int(str(exported["refused"]))
        wallets = exported["wallets"]
        if not isinstance(wallets, list):
            raise ValueError("exported wallets must be a list")
        for raw in wallets:
            closing = raw["closing"]
            row = _Balances(str(raw["label"]), bool(raw["sandbox"]), Decimal(raw["opening"]),
                            float(raw["opened_at"]),
                            None if closing is None else Decimal(closing),
                            None if raw["closed_at"] is None else float(raw["closed_at"]))
            self._fold_into(self._merged_wallets, row, origin)

    @staticmethod
    def _fold_into(rows: dict[str, _Balances], row: _Balances, origin: str) -> None:
        key = f"{origin}/{row.label}" if row.sandbox else row.label
        if key in rows:
            rows[key].fold(row)
        else:
            rows[key] = row

    def report(self) -> SpendReport:
        rows = {key: replace(row) for key, row in self._merged_wallets.items()}
        for row in self._own_balances():
            self._fold_into(rows, row, "self")
        spent = Decimal(0)
        sandbox = Decimal(0)
        unmeasured: list[str] = []
        for row in rows.values():
            if row.closing is None:
                unmeasured.append(row.label)
                continue
            if row.sandbox:
                sandbox += row.opening - row.closing
            else:
                spent += row.opening - row.closing
        return SpendReport(
            cap=self.cap,
            committed=self.committed,
            spent=spent,
            sandbox_spent=sandbox,
            requests=sum(1 for r in self._reservations if not r.wallet.sandbox)
            + self._merged_requests,
            refused=self._refused + self._merged_refused,
            unmeasured=tuple(unmeasured),
        )
