"""Repeated wrk runs of several servers under the same loads, and their ratios.

Two ways of putting servers side by side, both on the one server core:

- **together** (the throughput verdicts): one wrk per server, all started at once, so the
  servers share the core for the same seconds. Each is single-threaded and always has work
  queued, so the scheduler gives each the same share of the core, and the ratio of their
  throughputs is the ratio of what one request costs each of them. Whatever the machine does
  meanwhile (another guest taking the core, a frequency change, a busy neighbour) hits every
  server at the same moment and cancels out of the ratio. A bare-against-bare control job
  shows the method's own error (``throughput.control``).
- **alone**: each server by itself in turn, interleaved (rep 1: every load on every server,
  then rep 2, ...). Latency is only meaningful this way (a request waits while the other
  server holds the core), and so is an absolute figure such as microseconds per call; its
  ratios are reported as well, but a slow moment of the machine lands on one server only, so
  they move by about 0.1 from run to run on a shared machine.

Each ratio is taken between runs of the same repetition before the median is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.figures import Figure, Target, Unit, median
from bench.settings import Settings
from bench.wrk import Load, WrkResult, run_wrk

__all__ = [
    "Contender",
    "Job",
    "Results",
    "p99_figure",
    "ratio_figure",
    "run_jobs",
    "start_order",
]


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
    alone: bool = True  # also run each contender by itself (latency, absolute figures)
    together: bool = True  # also run all contenders at once (the throughput ratios)


@dataclass(slots=True)
class Results:
    """Every measured run, by job name and contender label, in repetition order; the runs
    made alone and those made together are kept apart."""

    runs: dict[tuple[str, str], list[WrkResult]] = field(default_factory=dict)
    together_runs: dict[tuple[str, str], list[WrkResult]] = field(default_factory=dict)

    def of(self, job: str, label: str, *, together: bool = False) -> list[WrkResult]:
        runs = self.together_runs if together else self.runs
        try:
            return runs[(job, label)]
        except KeyError:
            how = "together" if together else "alone"
            raise KeyError(f"no runs of {label} under {job} ({how})") from None

    def add(self, job: str, label: str, result: WrkResult, *, together: bool = False) -> None:
        runs = self.together_runs if together else self.runs
        runs.setdefault((job, label), []).append(result)

    def paired(
        self, job: str, top: str, bottom: str, *, together: bool = False
    ) -> list[tuple[WrkResult, WrkResult]]:
        return list(
            zip(
                self.of(job, top, together=together),
                self.of(job, bottom, together=together),
                strict=True,
            )
        )


def start_order(contenders: tuple[Contender, ...], rep: int) -> tuple[Contender, ...]:
    """The order to start the together runs of repetition ``rep`` in: wrk processes start a
    few milliseconds apart, and the first has the core to itself meanwhile, so the order is
    reversed every other repetition."""
    return contenders if rep % 2 == 0 else contenders[::-1]


def run_jobs(settings: Settings, jobs: Sequence[Job]) -> Results:
    """Warm every contender up under every load, then run the interleaved repetitions: in
    each, every job alone (each contender in turn) and together (all at once), as the job
    and ``settings.together`` ask."""

    def once(job: Job, contender: Contender, duration: int) -> WrkResult:
        return run_wrk(
            contender.url,
            job.load if contender.load is None else contender.load,
            duration=duration,
            connections=settings.connections,
            pinning=settings.pinning,
        )

    def verify(contenders: Sequence[Contender]) -> None:
        for contender in contenders:
            if contender.verify is not None:
                contender.verify()

    if settings.warmup:
        for job in jobs:
            for contender in job.contenders:
                once(job, contender, settings.warmup)
    results = Results()
    for rep in range(settings.reps):
        for job in jobs:
            if job.alone or not (job.together and settings.together):
                for contender in job.contenders:
                    results.add(job.name, contender.label, once(job, contender, settings.duration))
                    verify([contender])
            if job.together and settings.together:
                order = start_order(job.contenders, rep)
                with ThreadPoolExecutor(len(order)) as pool:
                    started = [pool.submit(once, job, c, settings.duration) for c in order]
                    for contender, future in zip(order, started, strict=True):
                        results.add(job.name, contender.label, future.result(), together=True)
                verify(order)
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
    together: bool = False,
) -> Figure:
    """Throughput of ``top`` over ``bottom``: the median of the per-repetition ratios, with
    their spread in the detail."""
    pairs = results.paired(job, top, bottom, together=together)
    ratios = [a.rps / b.rps for a, b in pairs]
    how = "together on one core" if together else "one at a time"
    return Figure(
        figure_id,
        name,
        median(ratios),
        Unit.RATIO,
        target,
        f"{median(a.rps for a, _ in pairs):.0f} vs {median(b.rps for _, b in pairs):.0f} req/s "
        f"{how}; ratios {min(ratios):.2f}-{max(ratios):.2f}",
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
