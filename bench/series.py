"""Repeated, interleaved wrk runs of several servers under the same loads, and their ratios.

Interleaving (rep 1: every load on every server, then rep 2, ...) spreads any drift of the
machine over all contenders alike, and each ratio is taken between runs of the same
repetition before the median is taken, so a slow moment cannot favour one side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.figures import Figure, Target, Unit, median
from bench.settings import Settings
from bench.wrk import Load, WrkResult, run_wrk

__all__ = ["Contender", "Job", "Results", "p99_figure", "ratio_figure", "run_jobs"]


@dataclass(frozen=True, slots=True)
class Contender:
    """A server under load: its label and the URL wrk hammers."""

    label: str
    url: str
    # Called after each measured run; raises if the server now answers wrongly (wrk only
    # sees HTTP status codes, not the JSON).
    verify: Callable[[], None] | None = None
    # This contender's own body for the job (an id only it knows); else the job's load.
    load: Load | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One load sent to several contenders (each may carry its own variant of it)."""

    name: str
    load: Load
    contenders: tuple[Contender, ...]


@dataclass(slots=True)
class Results:
    """Every measured run, by job name and contender label, in repetition order."""

    runs: dict[tuple[str, str], list[WrkResult]] = field(default_factory=dict)

    def of(self, job: str, label: str) -> list[WrkResult]:
        try:
            return self.runs[(job, label)]
        except KeyError:
            raise KeyError(f"no runs of {label} under {job}") from None

    def add(self, job: str, label: str, result: WrkResult) -> None:
        self.runs.setdefault((job, label), []).append(result)

    def paired(self, job: str, top: str, bottom: str) -> list[tuple[WrkResult, WrkResult]]:
        return list(zip(self.of(job, top), self.of(job, bottom), strict=True))


def run_jobs(settings: Settings, jobs: Sequence[Job]) -> Results:
    """Warm every contender up under every load, then run the interleaved repetitions."""

    def once(job: Job, contender: Contender, duration: int) -> WrkResult:
        return run_wrk(
            contender.url,
            job.load if contender.load is None else contender.load,
            duration=duration,
            connections=settings.connections,
            pinning=settings.pinning,
        )

    if settings.warmup:
        for job in jobs:
            for contender in job.contenders:
                once(job, contender, settings.warmup)
    results = Results()
    for _ in range(settings.reps):
        for job in jobs:
            for contender in job.contenders:
                results.add(job.name, contender.label, once(job, contender, settings.duration))
                if contender.verify is not None:
                    contender.verify()
    return results


def ratio_figure(
    results: Results,
    job: str,
    top: str,
    bottom: str,
    *,
    figure_id: str,
    name: str,
    target: Target | None,
) -> Figure:
    """Throughput of ``top`` over ``bottom``: the median of the per-repetition ratios."""
    pairs = results.paired(job, top, bottom)
    return Figure(
        figure_id,
        name,
        median(a.rps / b.rps for a, b in pairs),
        Unit.RATIO,
        target,
        f"{median(a.rps for a, _ in pairs):.0f} vs {median(b.rps for _, b in pairs):.0f} req/s",
    )


def p99_figure(
    results: Results, job: str, top: str, bottom: str, *, figure_id: str, name: str
) -> Figure:
    """p99 latency of ``top`` over ``bottom`` (no target: the issue asks for it reported)."""
    pairs = results.paired(job, top, bottom)
    return Figure(
        figure_id,
        name,
        median(a.p99_us / max(b.p99_us, 1) for a, b in pairs),
        Unit.RATIO,
        None,
        f"p99 {median(a.p99_us for a, _ in pairs) / 1000:.2f} vs "
        f"{median(b.p99_us for _, b in pairs) / 1000:.2f} ms",
    )
