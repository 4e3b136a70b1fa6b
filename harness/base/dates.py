"""How every file the harness writes spells a moment: UTC, whole seconds, a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc_iso"]


def utc_iso(moment: datetime) -> str:
    """``2026-12-07T23:26:41Z``; a naive moment is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
