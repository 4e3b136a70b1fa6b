"""The journal: a bounded ring buffer of API exchanges, for tests to inspect what a client sent.

Each entry keeps what happened on the wire (action, decoded parameters, HTTP status, response
body) and who it was (the tenant id, or ``None`` when the key was missing or wrong). The API key
itself never enters the journal: its value is replaced by :data:`REDACTED` before recording.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mockpanel.wire.jsontext import Json

__all__ = ["REDACTED", "Exchange", "Journal", "redacted"]

REDACTED = "[redacted]"
_SECRET_FIELDS = frozenset({"key"})


def redacted(params: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy of ``params`` with every secret field's value replaced."""
    return MappingProxyType(
        {name: REDACTED if name in _SECRET_FIELDS else value for name, value in params.items()}
    )


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the answer the mock gave it."""

    seq: int
    time: float
    tenant: str | None
    action: str | None
    params: Mapping[str, str]
    status: int
    response: Json

    def to_json(self) -> dict[str, Json]:
        return {
            "seq": self.seq,
            "time": self.time,
            "tenant": self.tenant,
            "action": self.action,
            "params": dict(self.params),
            "status": self.status,
            "response": self.response,
        }


class Journal:
    """The last ``size`` exchanges, oldest first; sequence numbers never repeat, even on clear."""

    __slots__ = ("_entries", "_next_seq")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1, got {size}")
        self._entries: deque[Exchange] = deque(maxlen=size)
        self._next_seq = 1

    def record(
        self,
        *,
        time: float,
        tenant: str | None,
        action: str | None,
        params: Mapping[str, str],
        status: int,
        response: Json,
    ) -> Exchange:
        """Append an exchange (redacting ``params``), dropping the oldest when full."""
        entry = Exchange(self._next_seq, time, tenant, action, redacted(params), status, response)
        self._next_seq += 1
        self._entries.append(entry)
        return entry

    def entries(self, tenant: str | None = None) -> tuple[Exchange, ...]:
        """Every kept exchange, or only ``tenant``'s when one is given."""
        if tenant is None:
            return tuple(self._entries)
        return tuple(entry for entry in self._entries if entry.tenant == tenant)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
