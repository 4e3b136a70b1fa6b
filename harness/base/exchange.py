"""What the harness sent and what it heard: the redacted request and its answer.

An :class:`Exchange` is the value every check judges and every report shows; it holds no key
and no control token (the client builds it from the redacted request, and scrubs the answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

__all__ = ["KEY_SLOT", "Encoding", "Exchange", "SentRequest", "is_spending_action", "parse_json"]

#: Stands for the key inside a raw body template; the client substitutes it when sending.
KEY_SLOT = b"\x00KEY\x00"


class Encoding(Enum):
    """How parameters travel: form body (canonical), JSON body, or GET query string."""

    FORM = "form"
    JSON = "json"
    QUERY = "query"


def is_spending_action(action: str | None) -> bool:
    """``add`` in any case and padding: lenient panels lower-case and strip the action."""
    return action is not None and action.strip().lower() == "add"


def parse_json(text: str) -> tuple[object, str | None]:
    """Parse a JSON document with decimals as :class:`Decimal` (money is never a float).

    Returns ``(value, None)`` or ``(None, reason)``.
    """
    try:
        return json.loads(text, parse_float=Decimal), None
    except (ValueError, RecursionError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


@dataclass(frozen=True, slots=True)
class SentRequest:
    """The redacted description of a request: what evidence shows, never the bytes sent."""

    method: str
    action: str | None
    form: str | None
    params: tuple[tuple[str, str], ...]
    key: str | None
    content_type: str | None
    body: str
    probe: bool = False
    """A request that deliberately leaves the protocol (another method, a hand-made body): it
    is judged by the clause of the test that sent it alone, never by the generic checks."""

    def describe(self) -> str:
        shown = self.body or "&".join(f"{name}={value}" for name, value in self.params)
        return f"{self.method} {self.content_type or '-'} {shown}"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, safe to print: keys and tokens never reach it."""

    seq: int
    url: str
    request: SentRequest
    status: int | None
    headers: tuple[tuple[str, str], ...]
    text: str
    json: object
    json_error: str | None
    transport_error: str | None
    elapsed: float
    """Seconds from sending the (last) request to having its answer, on the run's clock."""
    retries: int = 0
    started_at: float | None = None
    """Wall-clock time (seconds since the epoch) the answered request was sent, for
    recordings (``--panel-record``); ``None`` for an exchange made up by hand."""

    @property
    def form(self) -> str | None:
        return self.request.form

    @property
    def is_json(self) -> bool:
        return self.transport_error is None and self.json_error is None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.request.params if k == name), None)

    @property
    def error_message(self) -> str | None:
        """The ``error`` string of an error envelope, else ``None``."""
        if self.is_json and isinstance(self.json, dict):
            message = self.json.get("error")
            if isinstance(message, str):
                return message
        return None

    def evidence(self, limit: int = 1500) -> str:
        """Request and response in a few lines, bounded to ``limit`` characters of body."""
        head = f"#{self.seq} {self.request.describe()}"[: limit // 2]
        if self.transport_error is not None:
            answer = f"-> no HTTP answer: {self.transport_error}"
        else:
            body = self.text if len(self.text) <= limit else self.text[:limit] + "...(truncated)"
            ctype = self.header("Content-Type") or "-"
            answer = f"-> HTTP {self.status} {ctype} {body}"
        return f"{head}\n{answer}"
