"""What one bench run measures with: durations, repetitions, sizes, cores and the interpreter.

One frozen value handed to every group, so a run is described (and recorded in its JSON
result) in one place; ``--quick`` is just another instance of it.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["REPO", "Pinning", "Settings", "quick_settings"]

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Pinning:
    """The core the servers run on and the core the load generator runs on (None: unpinned).

    Pinning needs ``taskset`` and both cores in this process's affinity set; otherwise the
    run goes ahead unpinned and the result says so.
    """

    server_core: int | None
    client_core: int | None

    @classmethod
    def detect(cls, server_core: int = 0, client_core: int = 1) -> Pinning:
        available = os.sched_getaffinity(0)
        usable = shutil.which("taskset") and {server_core, client_core} <= available
        if usable and server_core != client_core:
            return cls(server_core, client_core)
        return cls(None, None)

    @property
    def pinned(self) -> bool:
        return self.server_core is not None

    def server(self) -> list[str]:
        """The command prefix that runs a server on its core."""
        return [] if self.server_core is None else ["taskset", "-c", str(self.server_core)]

    def client(self) -> list[str]:
        """The command prefix that runs a load generator on its core."""
        return [] if self.client_core is None else ["taskset", "-c", str(self.client_core)]

    def anywhere(self) -> list[str]:
        """The command prefix that lets a process use every core again (the pinned runner's
        children inherit its single core otherwise)."""
        if self.client_core is None:
            return []
        return ["taskset", "-c", f"0-{(os.cpu_count() or 1) - 1}"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Knobs of a run. Durations are whole seconds (wrk's resolution)."""

    duration: int = 5  # seconds of each measured wrk run
    warmup: int = 2  # seconds of the unmeasured wrk run before the first repetition
    reps: int = 5  # measured repetitions per figure; the median is reported
    connections: int = 32
    orders: int = 200_000  # stored orders for the growth and memory figures
    startup_runs: int = 10
    conformance_clauses: tuple[str, ...] = ()  # empty: the full suite
    # Throughput ratios from servers sharing the core at once (bench/series.py); False: only
    # one server at a time, as the latency figures always are.
    together: bool = True
    python: str = sys.executable
    pinning: Pinning = field(default_factory=Pinning.detect)

    def __post_init__(self) -> None:
        for name in ("duration", "reps", "connections", "orders", "startup_runs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup must be a whole number >= 0, got {self.warmup!r}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["conformance_clauses"] = list(self.conformance_clauses)
        return data


def quick_settings(pinning: Pinning | None = None) -> Settings:
    """Tiny parameters: every script runs end to end in seconds; the figures mean nothing."""
    return Settings(
        duration=1,
        warmup=0,
        reps=1,
        connections=4,
        orders=2000,
        startup_runs=1,
        conformance_clauses=("SVC-*",),
        pinning=Pinning.detect() if pinning is None else pinning,
    )
