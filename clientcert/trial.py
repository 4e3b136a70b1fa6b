"""One trial: a fresh adapter on a fresh tenant, and every call to it timed, caught and
watched for the key (exception texts, log records at DEBUG, what the adapter captured)."""

from __future__ import annotations

import contextlib
import io
import logging
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from clientcert.bench import Bench
from clientcert.protocol import AdapterFactory, AdapterSettings, ClientAdapter

__all__ = ["Call", "NotOffered", "Trial"]


class NotOffered(Exception):
    """The adapter raised NotImplementedError: the library has no such operation."""


@dataclass(frozen=True, slots=True)
class Call:
    """What one adapter call did: its value or its error, and how long it took."""

    operation: str
    value: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0
    secret: str = field(default="", repr=False)
    """The trial's key, masked in :meth:`describe` before any truncation."""

    @property
    def raised(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if self.error is not None:
            text = f"raised {type(self.error).__name__}: {self.error}"
        else:
            text = f"returned {self.value!r}"
        if self.secret:
            text = text.replace(self.secret, "[KEY]")
        return text[:240]


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(self.format(record))


@contextlib.contextmanager
def _captured() -> Iterator[tuple[_Collector, io.StringIO]]:
    """Every log record (root logger at DEBUG) and everything printed, while a call runs."""
    collector = _Collector()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            yield collector, printed
    finally:
        root.removeHandler(collector)
        root.setLevel(level)


@dataclass
class Trial:
    """A bench, the adapter built for it, and the key leaks seen so far."""

    bench: Bench
    adapter: ClientAdapter
    timeout: float
    leaks: list[str] = field(default_factory=list)
    calls: int = 0

    @classmethod
    def open(cls, bench: Bench, factory: AdapterFactory, timeout: float) -> Trial:
        adapter = factory(AdapterSettings(url=bench.url, key=bench.key, timeout=timeout))
        return cls(bench, adapter, timeout)

    def call(self, operation: str, *args: object) -> Call:
        """Run one operation; :class:`NotOffered` if the library has none."""
        method = getattr(self.adapter, operation)
        started = time.monotonic()
        value: Any = None
        error: BaseException | None = None
        with _captured() as (logs, printed):
            try:
                value = method(*args)
            except NotImplementedError:
                raise NotOffered(operation) from None
            except Exception as raised:  # the library's error is what is judged
                error = raised
        elapsed = time.monotonic() - started
        self.calls += 1
        texts = [*logs.lines, printed.getvalue()]
        if error is not None:
            texts.append("".join(traceback.format_exception(error)))
        extra = getattr(self.adapter, "captured_output", None)
        if callable(extra):
            texts.append(str(extra()))
        self._watch(operation, texts)
        return Call(operation, value, error, elapsed, self.bench.key)

    def _watch(self, operation: str, texts: list[str]) -> None:
        key = self.bench.key
        for text in texts:
            if key in text:
                where = text.index(key)
                shown = text[max(0, where - 60):where].replace("\n", " ")
                self.leaks.append(f"{operation}: ...{shown}[KEY]...")
                return

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.adapter.close()
