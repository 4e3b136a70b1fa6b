"""The client suite's scenarios: each sets a condition up on the mock (a fault, an outcome, a
dialect's shape), calls the adapter, and judges the clauses it concerns from both sides: what
the library returned or raised, and what the panel's journal shows it sent."""

from __future__ import annotations

from clientcert.scenarios.base import Observation, Scenario
from clientcert.scenarios.errors import BATCH_ERRORS, TOP_LEVEL_ERRORS
from clientcert.scenarios.faults import BROKEN_ANSWERS, NO_RESEND, RATE_LIMIT, SLOW_PANEL
from clientcert.scenarios.labels import LABELS
from clientcert.scenarios.numbers import COUNTS_AND_IDS, MONEY
from clientcert.scenarios.shapes import CANCEL, REFILL, STATUS_WORDS
from clientcert.scenarios.types import ORDER_TYPES

__all__ = ["SCENARIOS", "Observation", "Scenario", "by_name"]

SCENARIOS: tuple[Scenario, ...] = (
    TOP_LEVEL_ERRORS, BATCH_ERRORS, MONEY, COUNTS_AND_IDS, CANCEL, REFILL, STATUS_WORDS,
    NO_RESEND, RATE_LIMIT, BROKEN_ANSWERS, SLOW_PANEL, LABELS, ORDER_TYPES,
)


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(f"no scenario {name!r}; known: {', '.join(s.name for s in SCENARIOS)}")
