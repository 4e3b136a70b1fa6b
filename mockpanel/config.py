"""The mock panel's configuration: one frozen :class:`MockConfig`, checked when it is built.

Everything ``create_app`` needs (profile, starting keys, control token, clock, limits) is here,
so the CLI, the pytest fixtures and tests all describe a panel the same way. A bad value fails
here with a ``ValueError`` that names the field; no message ever repeats an API key or the
control token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

from mockpanel.profiles import PROFILES, Profile, RateLimit
from mockpanel.state import LifecycleTimings

__all__ = ["MockConfig", "webhook_url_problem"]

_MAX_URL = 2048


def _is_token_text(text: object) -> bool:
    return (
        isinstance(text, str)
        and bool(text)
        and text.isprintable()
        and not any(ch.isspace() for ch in text)
    )


def webhook_url_problem(url: object) -> str | None:
    """Why ``url`` cannot be a webhook URL (an absolute http(s) URL with a host), or None."""
    if not _is_token_text(url) or not isinstance(url, str) or len(url) > _MAX_URL:
        return f"must be an http(s) URL of at most {_MAX_URL} printable characters, no spaces"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL with a host"
    return None


def _url_origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: its path and query may hold a receiver's secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _positive_seconds(value: object, high: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= high
    )


@dataclass(frozen=True, slots=True)
class MockConfig:
    """How to build one mock panel.

    ``keys`` are the tenants created at start (and again after ``POST /_mock/reset``), each an
    API key with its opening balance in the profile's currency. ``max_body_bytes`` bounds every
    request body; a larger one is answered with the profile's ``BODY_TOO_LARGE`` error.

    ``rate_limit`` is the profile's published budget (``"profile"``), none (``"off"``), or a
    :class:`RateLimit` for this run. ``webhook_url`` receives every order status change
    (profiles that send webhooks only), retried ``webhook_attempts`` times in all, waiting
    ``webhook_backoff`` seconds before the first retry and twice as long before each next one.
    """

    # A built-in profile's name, or a Profile itself (one loaded from a file: --profile-file).
    profile: str | Profile = "reference"
    keys: tuple[tuple[str, Decimal], ...] = ()
    control_token: str | None = None
    clock: Literal["real", "manual"] = "real"
    seed: int = 0
    journal_size: int = 1000
    max_body_bytes: int = 65536
    timings: LifecycleTimings = field(default_factory=LifecycleTimings)
    # SQLite file keeping the state across restarts (None: in memory). On a restart, keys it
    # already holds keep their balance and orders; the balance in ``keys`` is for new keys only.
    state_file: str | None = None
    rate_limit: RateLimit | Literal["profile", "off"] = "profile"
    webhook_url: str | None = None
    webhook_attempts: int = 5
    webhook_backoff: float = 1.0
    webhook_timeout: float = 10.0
    # HAR 1.2 file recording every API request and its answer (None: no recording), for an
    # SDK author debugging their client; API keys never reach it (mockpanel.wire.recorder).
    record: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.profile, Profile) and self.profile not in PROFILES:
            raise ValueError(
                f"unknown profile {self.profile!r}; known profiles: {', '.join(sorted(PROFILES))}"
            )
        places = self.dialect.money_places
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
                    f"decimal places of profile {self.profile_name!r}"
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
        if self.state_file is not None and not (
            isinstance(self.state_file, str) and self.state_file.strip()
        ):
            raise ValueError("state_file must be a non-empty path")
        if self.record is not None and not (
            isinstance(self.record, str) and self.record.strip() and "\0" not in self.record
        ):
            raise ValueError("record must be a non-empty file path")
        if not isinstance(self.rate_limit, RateLimit) and self.rate_limit not in ("profile", "off"):
            raise ValueError(
                f"rate_limit must be a RateLimit, 'profile' or 'off', got {self.rate_limit!r}"
            )
        if isinstance(self.rate_limit, RateLimit) and (
            isinstance(self.rate_limit.per_minute, bool)
            or not isinstance(self.rate_limit.per_minute, int)
            or self.rate_limit.per_minute < 1
            or self.rate_limit.scope not in ("key", "ip")
        ):
            raise ValueError("rate_limit needs per_minute >= 1 and scope 'key' or 'ip'")
        if self.webhook_url is not None:
            problem = webhook_url_problem(self.webhook_url)
            if problem is not None:
                raise ValueError(f"webhook_url {problem}")
            if not self.dialect.webhooks:
                raise ValueError(f"profile {self.profile_name!r} does not send webhooks")
        attempts = self.webhook_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 20:
            raise ValueError(f"webhook_attempts must be an int in 1..20, got {attempts!r}")
        if not _positive_seconds(self.webhook_backoff, 300.0):
            raise ValueError(
                f"webhook_backoff must be 0..300 seconds, got {self.webhook_backoff!r}"
            )
        if not _positive_seconds(self.webhook_timeout, 300.0) or self.webhook_timeout == 0:
            raise ValueError(
                f"webhook_timeout must be more than 0 and at most 300 seconds, "
                f"got {self.webhook_timeout!r}"
            )

    @property
    def dialect(self) -> Profile:
        """The profile itself: the built-in one named, or the one given."""
        return self.profile if isinstance(self.profile, Profile) else PROFILES[self.profile]

    @property
    def profile_name(self) -> str:
        """The profile's name, for messages, thread names and reprs."""
        return self.dialect.name

    def __repr__(self) -> str:
        # Keys and the control token are secrets: reprs end up in logs and assertion messages.
        token = "None" if self.control_token is None else "'***'"
        hook = None if self.webhook_url is None else _url_origin(self.webhook_url) + "/..."
        return (
            f"MockConfig(profile={self.profile_name!r}, keys=<{len(self.keys)} keys>, "
            f"control_token={token}, clock={self.clock!r}, seed={self.seed}, "
            f"journal_size={self.journal_size}, max_body_bytes={self.max_body_bytes}, "
            f"timings={self.timings!r}, rate_limit={self.rate_limit!r}, "
            f"webhook_url={hook!r}, record={self.record!r})"
        )
