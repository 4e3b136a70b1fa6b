"""The pytest side of :mod:`harness.base.progress`: progress lines through the terminal reporter.

A progress line is the harness's, not the test's: it is written with output capture suspended
(as pytest's own live logging does), through the terminal reporter, so that it neither lands
in a test's captured output nor breaks the rows of results:

- at the default verbosity a line is left open (a live update can rewrite it) and the
  reporter is told to start its next line afresh; when the test's result letter is due, the
  row of the test file is started again, so the letter lands after its file name;
- under ``-q`` (no file names, dots only) each line ends at once, on a line of its own.

:class:`TerminalProgress` is registered by the plugin for a run; xdist workers have no
terminal (their output is not shown), so they attach none and stay silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import pytest

from harness.base.progress import Progress

__all__ = ["PytestTerminal", "TerminalProgress"]

# What pytest itself stores in ``TerminalReporter.currentfspath`` to say "the current line is
# not a test file's row": the next row or line starts on a new line.
_NOT_A_ROW = -2


class _Writer(Protocol):
    @property
    def width_of_current_line(self) -> int: ...

    @property
    def fullwidth(self) -> int: ...


class _Capture(Protocol):
    def global_and_fixture_disabled(self) -> AbstractContextManager[None]: ...


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class PytestTerminal:
    """A :class:`~harness.base.progress.Terminal` on pytest's terminal reporter, looked up when a
    line is due (it registers after the harness configures)."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._open = False  # our line is the last one, not ended

    def _reporter(self) -> pytest.TerminalReporter | None:
        reporter = self._config.pluginmanager.get_plugin("terminalreporter")
        return reporter if isinstance(reporter, pytest.TerminalReporter) else None

    def _suspended(self) -> AbstractContextManager[None]:
        capture: _Capture | None = self._config.pluginmanager.get_plugin("capturemanager")
        return capture.global_and_fixture_disabled() if capture is not None else _nothing()

    @property
    def quiet(self) -> bool:
        return self._config.get_verbosity() < 0

    @property
    def interactive(self) -> bool:
        reporter = self._reporter()
        return reporter is not None and bool(reporter.isatty())

    def show(self, text: str, *, replace: bool) -> None:
        reporter = self._reporter()
        if reporter is None:
            return
        writer: _Writer = self._config.get_terminal_writer()
        if reporter.isatty():
            text = text[: max(writer.fullwidth - 1, 20)]  # a wrapped line cannot be rewritten
        with self._suspended():
            if replace and self._open:
                reporter.rewrite(text, erase=True)
                reporter.flush()
                return
            reporter.ensure_newline()
            if writer.width_of_current_line:  # a row of -q dots (ensure_newline skips those)
                reporter.write("\n")
            if self.quiet:
                reporter.write_line(text)  # -q writes its dots wherever the cursor is
                self._open = False
            else:
                reporter.write(text, flush=True)
                reporter.currentfspath = _NOT_A_ROW
                self._open = True

    def resume_row(self, nodeid: str) -> None:
        """Before pytest writes a test's result: end an open line of ours and start the test
        file's row again (at the default verbosity the letter is written where the cursor is;
        ``-v`` starts its own line, and ``-q`` lines are ended already)."""
        if not self._open:
            return
        self._open = False
        reporter = self._reporter()
        if reporter is None or not reporter.showfspath or reporter.verbosity > 0:
            return
        with self._suspended():
            reporter.currentfspath = None  # the row starts on a new line, after ours
            reporter.write_fspath_result(nodeid, "")


class TerminalProgress:
    """The pytest plugin attaching a run's :class:`~harness.base.progress.Progress` to the
    terminal."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.terminal: PytestTerminal | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        if not hasattr(config, "workerinput"):
            self.terminal = PytestTerminal(config)
            self.progress.terminal = self.terminal

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.terminal is not None:
            self.terminal.resume_row(report.nodeid)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.progress.terminal = None
        self.terminal = None
