"""Progress lines: what the run waits for, how long so far, the deadline; when they are shown
(live on a terminal, sparse in a log, once a minute under -q) with a fake terminal and clock."""

from __future__ import annotations

import pytest

from harness.base.progress import LIVE, LOG, QUIET, TICK, Progress, cadence_for, duration


class FakeTerminal:
    """Remembers every line as (text, replaced)."""

    def __init__(self, *, quiet: bool = False, interactive: bool = True) -> None:
        self.quiet = quiet
        self.interactive = interactive
        self.lines: list[tuple[str, bool]] = []

    def show(self, text: str, *, replace: bool) -> None:
        self.lines.append((text, replace))

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.lines]


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def progress_on(terminal: FakeTerminal | None) -> tuple[Progress, FakeTime]:
    fake = FakeTime()
    return Progress(terminal, clock=fake.clock), fake


def test_the_cadence_follows_the_terminal() -> None:
    assert cadence_for(FakeTerminal()) is LIVE
    assert cadence_for(FakeTerminal(interactive=False)) is LOG
    assert cadence_for(FakeTerminal(quiet=True)) is QUIET
    assert cadence_for(FakeTerminal(quiet=True, interactive=False)) is QUIET


def test_durations_are_short() -> None:
    assert [duration(s) for s in (0, 7.4, 59.6, 125, 3725)] == ["0s", "7s", "1m00s", "2m05s",
                                                                  "1h02m"]


def test_a_long_wait_shows_what_how_long_and_the_deadline_live_in_place() -> None:
    terminal = FakeTerminal()
    progress, fake = progress_on(terminal)
    progress.begin_test("/site-packages/harness/suite/test_07_status.py::test_follow[1]")
    since = fake.now
    progress.sleep(120, fake.sleep, what="order 42 to finish (status Pending)", since=since,
                   deadline=since + 120)
    assert sum(fake.slept) == 120
    assert max(fake.slept) <= TICK  # cut into ticks so that the line keeps moving
    texts = terminal.texts
    # Nothing before 5 s; then at most one update every 5 s.
    assert texts[0] == ("smm-harness: 5s waiting for order 42 to finish (status Pending) "
                        "(gives up in 1m55s) - test_07_status.py::test_follow[1]")
    assert len(texts) == len(range(5, 120, 5))
    assert texts[-1].startswith("smm-harness: 1m55s waiting for order 42")
    assert "(gives up in 5s)" in texts[-1]
    # The first line is new, every later one rewrites it.
    assert [replaced for _, replaced in terminal.lines] == [False] + [True] * (len(texts) - 1)


def test_a_short_wait_shows_nothing() -> None:
    terminal = FakeTerminal()
    progress, fake = progress_on(terminal)
    progress.begin_test("test_x.py::test_y")
    progress.sleep(4.5, fake.sleep, what="order 1 to finish")
    assert terminal.lines == []
    assert fake.slept == [4.5]


def test_a_log_gets_a_new_line_every_30_seconds() -> None:
    terminal = FakeTerminal(interactive=False)
    progress, fake = progress_on(terminal)
    since = fake.now
    progress.sleep(100, fake.sleep, what="the panel's rate limit", since=since)
    assert terminal.texts == [f"smm-harness: {s} waiting for the panel's rate limit"
                              for s in ("10s", "40s", "1m10s")]
    assert not any(replaced for _, replaced in terminal.lines)


def test_quiet_runs_wait_a_minute_then_print_one_line_a_minute() -> None:
    terminal = FakeTerminal(quiet=True)
    progress, fake = progress_on(terminal)
    progress.sleep(59, fake.sleep, what="order 7 to finish")
    assert terminal.lines == []  # CI stays quiet for a wait under a minute
    progress.sleep(600, fake.sleep, what="order 7 to finish")
    # ... but is never ten minutes silent: one line a minute, each on its own line.
    assert len(terminal.lines) == 9
    assert terminal.texts[0] == "smm-harness: 1m00s waiting for order 7 to finish"
    assert terminal.texts[-1] == "smm-harness: 9m00s waiting for order 7 to finish"
    assert not any(replaced for _, replaced in terminal.lines)


def test_a_new_test_starts_a_new_line() -> None:
    terminal = FakeTerminal()
    progress, fake = progress_on(terminal)
    progress.begin_test("test_a.py::test_one")
    progress.sleep(12, fake.sleep, what="x", since=fake.now)
    progress.begin_test("test_a.py::test_two")  # pytest wrote the first test's result since
    progress.sleep(12, fake.sleep, what="y", since=fake.now)
    assert terminal.lines == [
        ("smm-harness: 5s waiting for x - test_a.py::test_one", False),
        ("smm-harness: 10s waiting for x - test_a.py::test_one", True),
        ("smm-harness: 5s waiting for y - test_a.py::test_two", False),
        ("smm-harness: 10s waiting for y - test_a.py::test_two", True),
    ]


def test_the_callers_clock_measures_the_wait() -> None:
    # The scenario runner keeps time on its own (injectable) clock: elapsed and deadline are
    # read on it; how often lines appear follows the progress clock.
    terminal = FakeTerminal()
    progress, fake = progress_on(terminal)
    progress.waiting("refill 3 to finish", since=0.0, deadline=90.0, now=30.0)
    assert terminal.texts == ["smm-harness: 30s waiting for refill 3 to finish "
                              "(gives up in 1m00s)"]
    progress.waiting("refill 3 to finish", since=0.0, deadline=90.0, now=31.0)
    assert len(terminal.lines) == 1  # the progress clock has not moved: no update yet
    fake.now += 5
    progress.waiting("refill 3 to finish", since=0.0, deadline=90.0, now=36.0)
    assert terminal.lines[-1] == ("smm-harness: 36s waiting for refill 3 to finish "
                                  "(gives up in 54s)", True)


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_nothing_to_sleep_sleeps_not(seconds: float) -> None:
    progress, fake = progress_on(FakeTerminal())
    progress.sleep(seconds, fake.sleep, what="x")
    assert fake.slept == []


def test_without_a_terminal_a_sleep_is_one_sleep() -> None:
    # Controlled and unit-test runs: no terminal, so a simulated clock sees one sleep per wait.
    progress, fake = progress_on(None)
    progress.sleep(60, fake.sleep, what="a pause")
    assert fake.slept == [60]


# ---------------------------------------------------------------------------------------------
# through pytest's terminal reporter


CONFTEST = """
from harness.base.progress import Progress
from harness.run.progress_pytest import TerminalProgress

NOW = [0.0]
PROGRESS = Progress(clock=lambda: NOW[0])


def pytest_configure(config):
    config.pluginmanager.register(TerminalProgress(PROGRESS), "progress-under-test")
"""

PANEL_TEST = """
from conftest import NOW, PROGRESS

def nap(seconds):
    NOW[0] += seconds

def test_long(request):
    PROGRESS.begin_test(request.node.nodeid)
    print("the test's own output")
    PROGRESS.sleep(130, nap, what="order 9 to finish", since=0.0, deadline=200.0)
    PROGRESS.begin_test(None)

def test_after():
    pass
"""


def test_lines_reach_the_terminal_not_the_captured_output(clean: pytest.Pytester) -> None:
    clean.makeconftest(CONFTEST)
    clean.makepyfile(test_waits=PANEL_TEST)
    result = clean.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    lines = [line for line in result.outlines if "smm-harness:" in line]
    # Not a terminal: a line every 30 s once the wait has lasted 10 s.
    assert lines == [f"smm-harness: {waited} waiting for order 9 to finish (gives up in {left})"
                     " - test_waits.py::test_long"
                     for waited, left in (("10s", "3m10s"), ("40s", "2m40s"),
                                          ("1m10s", "2m10s"), ("1m40s", "1m40s"))]
    # Each line stands alone, and the test's result goes on its file's row after them.
    after = result.outlines[result.outlines.index(lines[-1]) + 1]
    assert after.startswith("test_waits.py ..")
    assert "the test's own output" not in result.stdout.str()  # still captured


def test_quiet_runs_print_a_line_a_minute(clean: pytest.Pytester) -> None:
    clean.makeconftest(CONFTEST)
    clean.makepyfile(test_waits=PANEL_TEST)
    result = clean.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    lines = [line for line in result.outlines if "smm-harness:" in line]
    assert [line.split(" - ")[0] for line in lines] == [
        "smm-harness: 1m00s waiting for order 9 to finish (gives up in 2m20s)",
        "smm-harness: 2m00s waiting for order 9 to finish (gives up in 1m20s)"]
    # -q's dots never run into a progress line.
    assert all(line.startswith("smm-harness:") for line in lines)
