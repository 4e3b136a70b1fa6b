"""Figures of a bench run: a value, its target, the verdict, and the table and JSON they make.

Every figure has a stable ``id`` so two runs (before and after an optimisation) can be put
side by side with ``--compare``; ``detail`` keeps the absolute numbers behind a ratio for the
curious, while the table's ``measured`` column is what the targets are about.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Figure",
    "Target",
    "Unit",
    "Verdict",
    "format_value",
    "load_values",
    "median",
    "render_table",
]


class Verdict(StrEnum):
    OK = "OK"
    MISS = "MISS"
    INFO = "info"  # measured, but the issue sets no target for it
    PENDING = "PENDING"  # could not be measured today; ``detail`` says why


class Unit(StrEnum):
    RATIO = "ratio"
    BYTES_PER_ORDER = "B/order"
    SECONDS = "s"
    MICROSECONDS = "us"


@dataclass(frozen=True, slots=True)
class Target:
    op: Literal[">=", "<="]
    bound: float

    def met(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Figure:
    id: str
    name: str
    value: float | None  # None when it could not be measured
    unit: Unit
    target: Target | None = None
    detail: str = ""

    @property
    def verdict(self) -> Verdict:
        if self.value is None:
            return Verdict.PENDING
        if self.target is None:
            return Verdict.INFO
        return Verdict.OK if self.target.met(self.value) else Verdict.MISS

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "unit": self.unit.value,
            "target": None if self.target is None else str(self.target),
            "verdict": self.verdict.value,
            "detail": self.detail,
        }


def median(values: Iterable[float]) -> float:
    """The median; ``ValueError`` for no values (a figure made of nothing is a bug)."""
    items = list(values)
    if not items:
        raise ValueError("median of no values")
    return float(statistics.median(items))


def format_value(value: float | None, unit: Unit) -> str:
    if value is None:
        return "-"
    match unit:
        case Unit.RATIO:
            return f"{value:.2f}"
        case Unit.BYTES_PER_ORDER:
            return f"{value:.0f} B/order"
        case Unit.SECONDS:
            return f"{value:.1f} s"
        case Unit.MICROSECONDS:
            return f"{value:.0f} us"


def _target_text(figure: Figure) -> str:
    if figure.target is None:
        return "-"
    bound = format_value(figure.target.bound, figure.unit)
    return f"{figure.target.op} {bound}"


def render_table(figures: Sequence[Figure], before: Mapping[str, float] | None = None) -> str:
    """The run as one plain-text table; with ``before`` (id -> value) a column for that run."""
    header = ["figure", "measured", "target", "verdict", "detail"]
    if before is not None:
        header.insert(2, "before")
    rows = [header]
    for figure in figures:
        row = [
            figure.name,
            format_value(figure.value, figure.unit),
            _target_text(figure),
            figure.verdict.value,
            figure.detail,
        ]
        if before is not None:
            row.insert(2, format_value(before.get(figure.id), figure.unit))
        rows.append(row)
    widths = [max(len(row[col]) for row in rows) for col in range(len(header) - 1)]
    lines = []
    for position, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if position == 0:
            lines.append("  ".join("-" * width for width in [*widths, len("detail")]))
    return "\n".join(lines)


def load_values(path: Path) -> dict[str, float]:
    """The measured value of every figure in a saved result (for ``--compare``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        figures = document["figures"]
        return {
            str(item["id"]): float(item["value"])
            for item in figures
            if item.get("value") is not None
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a bench result file: {exc}") from None
