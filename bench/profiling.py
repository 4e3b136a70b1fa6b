"""Where the mock spends its time under load: py-spy samples of ``add``, ``status`` and the
100-id ``status``.

The mock runs on the server core; py-spy and wrk run on the client core. py-spy pauses the
mock for each sample (``--nonblocking`` was tried: it tears stacks apart, so the inclusive
figures came out wrong); at 250 samples/s that costs the mock a few per cent of throughput.
The collapsed stacks are kept (``<out>/profiles/<action>.collapsed``, loadable by speedscope
or flamegraph.pl) and summarised three ways: self time by function, self time by package, and
inclusive time of the mock's own functions.
A startup import profile (``python -X importtime``) is summarised too. This is the input of
the optimiser; it sets no target.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.panel import Secrets, cheapest_add, form, mock_argv, place_orders
from bench.procs import serve
from bench.settings import Settings
from bench.throughput import MULTI_IDS
from bench.wrk import Load, run_wrk

__all__ = [
    "Hotspots",
    "import_times",
    "parse_collapsed",
    "profile_actions",
    "py_spy",
    "render_hotspots",
    "summarise",
]

_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# The process's entry frames (inclusive ~100%, no request work of their own).
_ENTRY_FILES = frozenset({"mockpanel/__main__.py", "mockpanel/cli.py", "mockpanel/server.py"})
_ATTACH_SECONDS = 1.0  # py-spy needs a moment to attach before the load starts
TOP = 12


@dataclass(frozen=True, slots=True)
class Hotspots:
    """One profile's summary: shares of the samples, largest first."""

    action: str
    samples: int
    self_functions: tuple[tuple[str, float], ...]
    self_packages: tuple[tuple[str, float], ...]
    mock_inclusive: tuple[tuple[str, float], ...]


def py_spy(python: str) -> str | None:
    """py-spy next to ``python`` (installed in its virtualenv), else on the PATH."""
    beside = Path(python).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def parse_collapsed(text: str) -> list[tuple[tuple[str, ...], int]]:
    """Collapsed stacks (``frame;frame;frame count`` per line) as (frames, count) pairs."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            stacks.append((tuple(stack.split(";")), int(count)))
    return stacks


def _package(frame: str) -> str:
    """The top-level package of a frame's file (``aiohttp``, ``mockpanel``, ``asyncio``...)."""
    match = _FRAME.match(frame)
    if match is None:
        return "?"
    path = match.group("file")
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if head else path


def _file(frame: str) -> str:
    match = _FRAME.match(frame)
    return "" if match is None else match.group("file")


def _function(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    return f"{match.group('function')} ({match.group('file')})"


def _top(counter: Counter[str], total: int) -> tuple[tuple[str, float], ...]:
    return tuple((name, count / total) for name, count in counter.most_common(TOP))


def summarise(action: str, stacks: Iterable[tuple[tuple[str, ...], int]]) -> Hotspots:
    """Self time per function and per package, and inclusive time per mockpanel function."""
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    mock: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        if not frames:
            continue
        total += count
        own[_function(frames[-1])] += count
        packages[_package(frames[-1])] += count
        mine = {
            _function(f)
            for f in frames
            if _package(f) == "mockpanel" and _file(f) not in _ENTRY_FILES
        }
        for name in mine:
            mock[name] += count
    if total == 0:
        raise ValueError(f"the {action} profile holds no samples")
    return Hotspots(action, total, _top(own, total), _top(packages, total), _top(mock, total))


def render_hotspots(spots: Hotspots) -> str:
    def block(title: str, rows: Sequence[tuple[str, float]]) -> list[str]:
        return [f"  {title}:", *(f"    {share:6.1%}  {name}" for name, share in rows)]

    return "\n".join(
        [
            f"{spots.action}: {spots.samples} samples (busy time only)",
            *block("self time by function", spots.self_functions),
            *block("self time by package", spots.self_packages),
            *block("inclusive time of mockpanel functions", spots.mock_inclusive),
        ]
    )


def _record(spy: str, pid: int, output: Path, settings: Settings, url: str, load: Load) -> None:
    command = [
        *settings.pinning.client(),
        spy,
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--function",
        "--rate",
        "250",
        "--output",
        str(output),
    ]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(_ATTACH_SECONDS)
        run_wrk(
            url,
            load,
            duration=settings.duration,
            connections=settings.connections,
            pinning=settings.pinning,
        )
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        _, error = recorder.communicate(timeout=60)
    if not output.exists():
        raise RuntimeError(f"py-spy wrote no profile: {error.decode(errors='replace')[-2000:]}")


def profile_actions(settings: Settings, out: Path) -> list[Hotspots]:
    """Profile ``add``, ``status`` and a 100-id status under wrk load; stacks go to ``out``."""
    spy = py_spy(settings.python)
    if spy is None:
        raise RuntimeError("py-spy is not installed; `.venv/bin/pip install py-spy`")
    out.mkdir(parents=True, exist_ok=True)
    keys = Secrets.fresh()
    summaries = []
    with serve(mock_argv(settings, keys)) as mock:
        add = cheapest_add(mock.api_url, keys.key)
        orders = place_orders(mock.api_url, add, MULTI_IDS)
        loads = {
            "add": Load(form(add)),
            "status": Load(form({"key": keys.key, "action": "status", "order": orders[0]})),
            "status-multi-100": Load(
                form({"key": keys.key, "action": "status", "orders": ",".join(orders)})
            ),
        }
        for action, load in loads.items():
            path = out / f"{action}.collapsed"
            _record(spy, mock.pid, path, settings, mock.api_url, load)
            stacks = parse_collapsed(path.read_text(encoding="utf-8"))
            summaries.append(summarise(action, stacks))
    return summaries


def import_times(
    settings: Settings, module: str = "mockpanel.cli", runs: int = 3
) -> list[tuple[str, float]]:
    """Seconds spent importing ``module``, by top-level package (self times summed), slowest
    first: what ``mockpanel serve`` pays before it can listen. Each package's figure is its
    best of ``runs`` fresh interpreters, so one stall on a busy machine does not count."""
    best: dict[str, int] = {}
    for _ in range(runs):
        done = subprocess.run(
            [settings.python, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        )
        totals: Counter[str] = Counter()
        for line in done.stderr.splitlines():
            # "import time:  self [us] | cumulative | imported package", nested ones indented
            parts = line.removeprefix("import time:").split("|")
            if len(parts) != 3 or not parts[0].strip().isdigit():
                continue
            totals[parts[2].strip().split(".")[0]] += int(parts[0])
        for name, micros in totals.items():
            best[name] = min(best.get(name, micros), micros)
    slowest = sorted(best.items(), key=lambda item: item[1], reverse=True)[:TOP]
    return [(name, micros / 1e6) for name, micros in slowest]
