"""MockConfig: defaults, every refusal names its field, and secrets never show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mockpanel.config import MockConfig
from mockpanel.state import LifecycleTimings


def test_defaults() -> None:
    config = MockConfig()
    assert (config.profile, config.keys, config.control_token, config.clock) == (
        "reference", (), None, "real"
    )
    assert (config.seed, config.journal_size, config.max_body_bytes) == (0, 1000, 65536)
    assert config.timings == LifecycleTimings()


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"profile": "nope"}, "unknown profile 'nope'; known profiles: extended"),
        ({"keys": (("sekrit", Decimal(1)), ("sekrit", Decimal(2)))}, r"keys\[2\] repeats"),
        ({"keys": (("has space", Decimal(1)),)}, "a key must be"),
        ({"keys": (("", Decimal(1)),)}, "a key must be"),
        ({"keys": (("sekrit", Decimal(-1)),)}, "finite Decimal >= 0"),
        ({"keys": (("sekrit", 1.5),)}, "finite Decimal >= 0"),
        ({"keys": (("sekrit", Decimal("NaN")),)}, "finite Decimal >= 0"),
        ({"keys": (("sekrit",),)}, "pair"),
        ({"profile": "smmpremium", "keys": (("sekrit", Decimal("1.001")),)}, "2 decimal places"),
        ({"control_token": ""}, "control_token"),
        ({"control_token": "a b"}, "control_token"),
        ({"clock": "fast"}, "clock"),
        ({"seed": True}, "seed"),
        ({"journal_size": 0}, "journal_size"),
        ({"max_body_bytes": -5}, "max_body_bytes"),
        ({"timings": {"order_pending": 1}}, "timings"),
    ],
)
def test_bad_values_are_refused_without_echoing_secrets(
    kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as raised:
        MockConfig(**kwargs)
    assert "sekrit" not in str(raised.value)


def test_repr_hides_keys_and_token() -> None:
    config = MockConfig(keys=(("sekrit-key", Decimal(5)),), control_token="sekrit-token")
    text = repr(config)
    assert "sekrit" not in text
    assert "keys=<1 keys>" in text
    assert "control_token='***'" in text
