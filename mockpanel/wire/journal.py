"""The journal: a bounded ring buffer of what the panel did, for tests to inspect afterwards.

Two kinds of record share one buffer (and one sequence of numbers, so their order is known):

- :class:`Exchange`: one API request and its answer: action, decoded parameters, the HTTP
  status sent (``None`` when a fault dropped the connection), the panel's JSON answer (``None``
  when a fault answered before the action ran; with an ``after`` fault, the answer the client
  never got intact), the faults that hit it, and who it was (the tenant id, or ``None`` when
  the key was missing or wrong).
- :class:`Delivery`: one webhook delivery attempt: order, URL, attempt number, the receiver's
  HTTP status or the error, and whether it was delivered, will be retried, or was given up.

The API key itself never enters the journal: its value is replaced by :data:`REDACTED` before
recording. The buffer holds the last ``size`` records of both kinds together.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from mockpanel.wire.jsontext import Json

__all__ = [
    "REDACTED",
    "Delivery",
    "DeliveryOutcome",
    "Exchange",
    "FaultNote",
    "Journal",
]

REDACTED = "[redacted]"
_SECRET_FIELD = "key"  # the API key: the only secret a request carries
R = TypeVar("R", "Exchange", "Delivery")


@dataclass(frozen=True, slots=True)
class FaultNote:
    """A fault rule that hit an exchange: its id, its kind, and whether it ran after the
    action (the action's effects happened, the client did not hear of them)."""

    rule: int
    fault: str
    after: bool = False

    def to_json(self) -> dict[str, Json]:
        return {"rule": self.rule, "fault": self.fault, "after": self.after}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the answer the mock gave it (``status`` None: no answer was sent)."""

    seq: int
    time: float
    tenant: str | None
    action: str | None
    params: Mapping[str, str]
    status: int | None
    response: Json
    faults: tuple[FaultNote, ...] = ()

    def to_json(self) -> dict[str, Json]:
        return {
            "seq": self.seq,
            "time": self.time,
            "tenant": self.tenant,
            "action": self.action,
            "params": dict(self.params),
            "status": self.status,
            "response": self.response,
            "faults": [note.to_json() for note in self.faults],
        }


class DeliveryOutcome(StrEnum):
    """What became of one webhook delivery attempt."""

    DELIVERED = "delivered"  # the receiver answered 2xx
    RETRYING = "retrying"  # it failed; another attempt follows after a backoff
    GAVE_UP = "gave_up"  # it failed and was the last attempt allowed


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook POST: to whom, about which order, and how the receiver took it."""

    seq: int
    time: float
    tenant: str
    order: str
    url: str
    attempt: int
    status: int | None  # the receiver's HTTP status; None when no answer came
    error: str | None  # why no answer came (connection refused, timeout)
    payload: Json
    outcome: DeliveryOutcome

    def to_json(self) -> dict[str, Json]:
        return {
            "seq": self.seq,
            "time": self.time,
            "tenant": self.tenant,
            "order": self.order,
            "url": self.url,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "payload": self.payload,
            "outcome": self.outcome.value,
        }


# An exchange noted by the API view but not yet built: Exchange's fields in order, the params
# already redacted (the key never waits in the buffer) but not yet wrapped read-only.
_Noted = tuple[
    int, float, "str | None", "str | None", dict[str, str], "int | None", Json,
    tuple[FaultNote, ...],
]


class Journal:
    """The last ``size`` records, oldest first; sequence numbers never repeat, even on clear.

    The API view notes each exchange as a plain tuple (:meth:`note`); it becomes an
    :class:`Exchange` only when someone reads the journal, which most requests never see.
    """

    __slots__ = ("_entries", "_seq")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1, got {size}")
        self._entries: deque[Exchange | Delivery | _Noted] = deque(maxlen=size)
        self._seq = itertools.count(1)  # never reset: numbers stay unique across clear()

    def note(
        self,
        time: float,
        tenant: str | None,
        action: str | None,
        params: Mapping[str, str],
        status: int | None,
        response: Json,
        faults: tuple[FaultNote, ...] = (),
        /,
    ) -> None:
        """:meth:`record` without building the :class:`Exchange` now (the per-request path,
        so its arguments are positional, in :class:`Exchange`'s field order)."""
        fields = dict(params)
        if _SECRET_FIELD in fields:
            fields[_SECRET_FIELD] = REDACTED
        self._entries.append(
            (next(self._seq), time, tenant, action, fields, status, response, faults)
        )

    def record(
        self,
        *,
        time: float,
        tenant: str | None,
        action: str | None,
        params: Mapping[str, str],
        status: int | None,
        response: Json,
        faults: tuple[FaultNote, ...] = (),
    ) -> Exchange:
        """Append an exchange (redacting ``params``), dropping the oldest record when full."""
        self.note(time, tenant, action, params, status, response, faults)
        noted = self._entries[-1]
        assert isinstance(noted, tuple)  # what note() just appended
        entry = _built(noted)
        self._entries[-1] = entry
        return entry

    def record_delivery(
        self,
        *,
        time: float,
        tenant: str,
        order: str,
        url: str,
        attempt: int,
        status: int | None,
        error: str | None,
        payload: Json,
        outcome: DeliveryOutcome,
    ) -> Delivery:
        """Append a webhook delivery attempt, dropping the oldest record when full."""
        entry = Delivery(
            next(self._seq), time, tenant, order, url, attempt, status, error, payload, outcome
        )
        self._entries.append(entry)
        return entry

    def entries(self, tenant: str | None = None) -> tuple[Exchange, ...]:
        """Every kept exchange, or only ``tenant``'s when one is given."""
        return self._of(Exchange, tenant)

    def deliveries(self, tenant: str | None = None) -> tuple[Delivery, ...]:
        """Every kept webhook delivery attempt, or only those for ``tenant``'s orders."""
        return self._of(Delivery, tenant)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _of(self, kind: type[R], tenant: str | None) -> tuple[R, ...]:
        self._build_noted()
        return tuple(
            entry
            for entry in self._entries
            if isinstance(entry, kind) and (tenant is None or entry.tenant == tenant)
        )

    def _build_noted(self) -> None:
        """Turn every noted tuple into its :class:`Exchange`, in place and in order."""
        if any(type(entry) is tuple for entry in self._entries):
            self._entries = deque(
                (_built(entry) if isinstance(entry, tuple) else entry for entry in self._entries),
                maxlen=self._entries.maxlen,
            )


def _built(noted: _Noted) -> Exchange:
    seq, time, tenant, action, params, status, response, faults = noted
    return Exchange(seq, time, tenant, action, MappingProxyType(params), status, response, faults)
