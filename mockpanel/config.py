"""The mock panel's configuration: one frozen :class:`MockConfig`, checked when it is built.

Everything ``create_app`` needs (profile, starting keys, control token, clock, limits) is here,
so the CLI, the pytest fixtures and tests all describe a panel the same way. A bad value fails
here with a ``ValueError`` that names the field; no message ever repeats an API key or the
control token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from mockpanel.profiles import PROFILES
from mockpanel.state import LifecycleTimings

__all__ = ["MockConfig"]


def _is_token_text(text: object) -> bool:
    return (
        isinstance(text, str)
        and bool(text)
        and text.isprintable()
        and not any(ch.isspace() for ch in text)
    )


@dataclass(frozen=True, slots=True)
class MockConfig:
    """How to build one mock panel.

    ``keys`` are the tenants created at start (and again after ``POST /_mock/reset``), each an
    API key with its opening balance in the profile's currency. ``max_body_bytes`` bounds every
    request body; a larger one is answered with the profile's ``BODY_TOO_LARGE`` error.
    """

    profile: str = "reference"
    keys: tuple[tuple[str, Decimal], ...] = ()
    control_token: str | None = None
    clock: Literal["real", "manual"] = "real"
    seed: int = 0
    journal_size: int = 1000
    max_body_bytes: int = 65536
    timings: LifecycleTimings = field(default_factory=LifecycleTimings)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(
                f"unknown profile {self.profile!r}; known profiles: {', '.join(sorted(PROFILES))}"
            )
        places = PROFILES[self.profile].money_places
        seen: set[str] = set()
        for position, entry in enumerate(self.keys, start=1):
            if not (isinstance(entry, tuple) and len(entry) == 2):
                raise ValueError(f"keys[{position}] must be a (key, balance) pair")
            key, balance = entry
            if not _is_token_text(key):
                raise ValueError(f"keys[{position}]: a key must be non-empty printable text "
                                 "without whitespace")
            if key in seen:
                raise ValueError(f"keys[{position}] repeats an earlier key")
            seen.add(key)
            if not isinstance(balance, Decimal) or not balance.is_finite() or balance < 0:
                raise ValueError(f"keys[{position}]: the balance must be a finite Decimal >= 0")
            if balance != balance.quantize(Decimal(1).scaleb(-places)):
                raise ValueError(
                    f"keys[{position}]: the balance {balance} has more than the {places} "
                    f"decimal places of profile {self.profile!r}"
                )
        if self.control_token is not None and not _is_token_text(self.control_token):
            raise ValueError("control_token must be non-empty printable text without whitespace")
        if self.clock not in ("real", "manual"):
            raise ValueError(f"clock must be 'real' or 'manual', got {self.clock!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int, got {self.seed!r}")
        for name in ("journal_size", "max_body_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not isinstance(self.timings, LifecycleTimings):
            raise ValueError("timings must be a LifecycleTimings")

    def __repr__(self) -> str:
        # Keys and the control token are secrets: reprs end up in logs and assertion messages.
        token = "None" if self.control_token is None else "'***'"
        return (
            f"MockConfig(profile={self.profile!r}, keys=<{len(self.keys)} keys>, "
            f"control_token={token}, clock={self.clock!r}, seed={self.seed}, "
            f"journal_size={self.journal_size}, max_body_bytes={self.max_body_bytes}, "
            f"timings={self.timings!r})"
        )
