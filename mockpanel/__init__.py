"""A stateful mock of an SMM panel API v2, emulating real vendor dialects as profile data."""

from __future__ import annotations

__version__ = "0.1.0"
