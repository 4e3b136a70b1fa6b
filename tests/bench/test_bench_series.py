"""Runs alone and together: which wrk runs happen, at once or in turn, and the ratios they make."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from bench import series
from bench.series import Contender, Job, Results, ratio_figure, run_jobs, start_order
from bench.settings import Pinning, Settings
from bench.wrk import Load, WrkResult

UNPINNED = Pinning(None, None)


def _result(rps: float) -> WrkResult:
    return WrkResult(int(rps), 1_000_000, 0, 0, 0, 0, 0, 100, 200, 300)


@dataclass
class FakeWrk:
    """Stands in for wrk: each URL serves at its own rate; every call's time span is kept."""

    rates: dict[str, float]
    seconds: float = 0.25  # long enough for a thread start on a busy machine
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, url: str, load: Load, **_: object) -> WrkResult:
        start = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.spans.append((url, start, time.monotonic()))
        return _result(self.rates[url])


def _overlap(a: tuple[str, float, float], b: tuple[str, float, float]) -> bool:
    return a[1] < b[2] and b[1] < a[2]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeWrk:
    wrk = FakeWrk({"m": 750.0, "b": 1000.0, "t": 1000.0})
    monkeypatch.setattr(series, "run_wrk", wrk)
    return wrk


def _job(**flags: bool) -> Job:
    return Job("load", Load("a=1"), (Contender("mock", "m"), Contender("bare", "b")), **flags)


def test_together_runs_share_the_time_and_alone_runs_do_not(fake: FakeWrk) -> None:
    settings = Settings(reps=2, warmup=0, pinning=UNPINNED)
    results = run_jobs(settings, [_job()])
    assert len(results.of("load", "mock")) == len(results.of("load", "bare")) == 2
    assert len(results.of("load", "mock", together=True)) == 2
    # Per repetition: mock alone, bare alone, then both together.
    spans = fake.spans
    assert len(spans) == 8
    for rep in (spans[:4], spans[4:]):
        alone, together = rep[:2], rep[2:]
        assert not _overlap(*alone)
        assert _overlap(*together)
        assert {url for url, _, _ in together} == {"m", "b"}


def test_the_start_order_is_reversed_every_other_repetition() -> None:
    pair = (Contender("mock", "m"), Contender("bare", "b"))
    assert [[c.label for c in start_order(pair, rep)] for rep in range(3)] == [
        ["mock", "bare"],
        ["bare", "mock"],
        ["mock", "bare"],
    ]


def test_a_job_asks_for_alone_or_together_and_settings_can_forbid_together(
    fake: FakeWrk,
) -> None:
    only_together = run_jobs(Settings(reps=1, warmup=0, pinning=UNPINNED), [_job(alone=False)])
    assert only_together.runs == {}
    assert len(only_together.of("load", "bare", together=True)) == 1

    only_alone = run_jobs(Settings(reps=1, warmup=0, pinning=UNPINNED), [_job(together=False)])
    assert only_alone.together_runs == {}

    # together switched off: a together-only job is still measured, one server at a time.
    forbidden = Settings(reps=1, warmup=0, pinning=UNPINNED, together=False)
    fallback = run_jobs(forbidden, [_job(alone=False)])
    assert fallback.together_runs == {}
    assert len(fallback.of("load", "mock")) == 1
    assert not any(_overlap(a, b) for a in fake.spans[-2:] for b in fake.spans[-2:] if a != b)


def test_every_verifier_runs_after_every_measured_run(fake: FakeWrk) -> None:
    calls: list[str] = []
    job = Job(
        "load",
        Load("a=1"),
        (
            Contender("mock", "m", lambda: calls.append("mock")),
            Contender("bare", "b", lambda: calls.append("bare")),
        ),
    )
    run_jobs(Settings(reps=2, warmup=1, pinning=UNPINNED), [job])
    assert calls.count("mock") == calls.count("bare") == 4  # 2 reps x (alone + together)


def test_ratio_figure_reads_the_runs_it_is_asked_for() -> None:
    results = Results()
    for mock, bare in ((700.0, 1000.0), (800.0, 1000.0), (900.0, 1000.0)):
        results.add("load", "mock", _result(mock))
        results.add("load", "bare", _result(bare))
    for mock, bare in ((760.0, 1000.0), (770.0, 1000.0), (780.0, 1000.0)):
        results.add("load", "mock", _result(mock), together=True)
        results.add("load", "bare", _result(bare), together=True)
    alone = ratio_figure(results, "load", "mock", "bare", figure_id="a", name="a", target=None)
    together = ratio_figure(
        results, "load", "mock", "bare", figure_id="t", name="t", target=None, together=True
    )
    assert alone.value == pytest.approx(0.8)
    assert together.value == pytest.approx(0.77)
    assert "one at a time; ratios 0.70-0.90" in alone.detail
    assert "together on one core; ratios 0.76-0.78" in together.detail
    with pytest.raises(KeyError, match="together"):
        results.of("other", "mock", together=True)
