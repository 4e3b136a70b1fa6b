"""Figures, verdicts, the table and the saved result that ``--compare`` reads back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.figures import Figure, Target, Unit, Verdict, load_values, median, render_table


@pytest.mark.parametrize(
    ("target", "value", "verdict"),
    [
        (Target(">=", 0.75), 0.75, Verdict.OK),
        (Target(">=", 0.75), 0.7499, Verdict.MISS),
        (Target("<=", 1024.0), 1024.0, Verdict.OK),
        (Target("<=", 1024.0), 1025.0, Verdict.MISS),
        (None, 3.0, Verdict.INFO),
        (Target(">=", 0.75), None, Verdict.PENDING),
    ],
)
def test_verdict_follows_target(
    target: Target | None, value: float | None, verdict: Verdict
) -> None:
    figure = Figure("x", "x", value, Unit.RATIO, target)
    assert figure.verdict is verdict
    assert figure.to_json()["verdict"] == verdict.value


def test_median_of_nothing_is_an_error() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_table_has_one_row_per_figure_and_the_verdicts() -> None:
    figures = [
        Figure("throughput.add", "add throughput / bare", 0.61, Unit.RATIO, Target(">=", 0.65)),
        Figure("memory.rss", "memory per order", 480.4, Unit.BYTES_PER_ORDER, Target("<=", 1024)),
        Figure("conformance.n2", "suite -n 2", None, Unit.SECONDS, None, "pending: refused"),
    ]
    lines = render_table(figures).splitlines()
    assert lines[0].split() == ["figure", "measured", "target", "verdict", "detail"]
    assert len(lines) == 2 + len(figures)
    assert "0.61" in lines[2]
    assert ">= 0.65" in lines[2]
    assert "MISS" in lines[2]
    assert "480 B/order" in lines[3]
    assert "OK" in lines[3]
    assert "PENDING" in lines[4]
    assert lines[4].endswith("pending: refused")


def test_compare_column_reads_an_earlier_result(tmp_path: Path) -> None:
    earlier = [
        Figure("throughput.add", "add throughput / bare", 0.5, Unit.RATIO),
        Figure("conformance.n2", "suite -n 2", None, Unit.SECONDS),
    ]
    saved = tmp_path / "before.json"
    saved.write_text(json.dumps({"figures": [f.to_json() for f in earlier]}), encoding="utf-8")
    before = load_values(saved)
    assert before == {"throughput.add": 0.5}  # unmeasured figures have nothing to compare
    now = [
        Figure("throughput.add", "add throughput / bare", 0.7, Unit.RATIO),
        Figure("growth.status", "growth", 0.9, Unit.RATIO),
    ]
    header, _, add_row, growth_row = render_table(now, before).splitlines()
    assert header.split()[:3] == ["figure", "measured", "before"]
    assert re.search(r"add throughput / bare\s+0\.70\s+0\.50\s", add_row)
    assert re.search(r"growth\s+0\.90\s+-\s", growth_row)


def test_a_file_that_is_not_a_result_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"no": "figures"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a bench result"):
        load_values(bad)
    with pytest.raises(ValueError, match="not a bench result"):
        load_values(tmp_path / "missing.json")
