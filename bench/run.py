"""The bench runner: every figure of issue 7 in one command, printed as one table and saved.

``python -m bench`` (or ``bench/run.sh``) runs the groups in order, prints the table
(figure, measured, target, verdict, detail) and the profile hotspots, and writes
``<out>/latest.json`` plus a dated copy, so a later run can be put beside it with
``--compare``. Exit status: 0 when every figure was measured (misses included), 1 when a group
failed, 2 on bad usage or missing tools, 3 with ``--fail-on-miss`` when a target was missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import conformance, growth, memory, profiling, startup, tenants, throughput
from bench.figures import Figure, Unit, Verdict, load_values, render_table
from bench.settings import REPO, Pinning, Settings, quick_settings
from bench.wrk import WrkMissing, find_wrk

__all__ = ["GROUPS", "build_parser", "main"]

GROUPS: dict[str, Callable[[Settings], list[Figure]]] = {
    "throughput": throughput.run,
    "startup": startup.run,
    "tenants": tenants.run,
    "growth": growth.run,
    "memory": memory.run,
    "conformance": conformance.run,
}
PROFILE = "profile"  # not a figure group: hotspots for the optimiser
_NEEDS_WRK = frozenset({"throughput", "tenants", "growth", PROFILE})


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    names = [*GROUPS, PROFILE]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the mock panel against a bare aiohttp handler (issue 7).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny parameters: checks that everything runs; the figures mean nothing",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=names,
        metavar="GROUP",
        help=f"run only these groups ({', '.join(names)})",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        choices=names,
        default=[],
        metavar="GROUP",
        help="leave these groups out",
    )
    parser.add_argument("--duration", type=_positive, help="seconds per measured wrk run (5)")
    parser.add_argument("--warmup", type=_non_negative, help="seconds of warm-up per server (2)")
    parser.add_argument("--reps", type=_positive, help="repetitions per figure, median (5)")
    parser.add_argument("--connections", type=_positive, help="wrk connections (32)")
    parser.add_argument("--orders", type=_positive, help="stored orders for growth/memory (200000)")
    parser.add_argument("--startup-runs", type=_positive, help="spawns per server for startup (10)")
    parser.add_argument(
        "--alone",
        action="store_true",
        help="ratios from servers measured one at a time only, not sharing the core together",
    )
    parser.add_argument("--server-core", type=_non_negative, default=0)
    parser.add_argument("--client-core", type=_non_negative, default=1)
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results",
        help="where results and profiles are written (bench/results)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="RESULT.json",
        help="add a 'before' column from an earlier run's JSON result",
    )
    parser.add_argument(
        "--fail-on-miss", action="store_true", help="exit 3 when any figure misses its target"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    pinning = Pinning.detect(args.server_core, args.client_core)
    base = quick_settings(pinning) if args.quick else Settings(pinning=pinning)
    overrides = {
        name: getattr(args, name)
        for name in ("duration", "warmup", "reps", "connections", "orders", "startup_runs")
        if getattr(args, name) is not None
    }
    return replace(base, **overrides, together=not args.alone)


def _groups(args: argparse.Namespace) -> list[str]:
    chosen = args.only or [*GROUPS, PROFILE]
    return [name for name in chosen if name not in args.skip]


def _revision() -> str:
    """The commit measured, ``+dirty`` when the tree has changes (read-only git calls)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain") else "")


def _machine(settings: Settings) -> dict[str, Any]:
    wrk = "wrk not installed"
    if shutil.which("wrk"):
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk = (done.stdout or done.stderr).split("\n", 1)[0].split(" Copyright")[0].strip()
    return {
        "revision": _revision(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "aiohttp": version("aiohttp"),
        "wrk": wrk,
        "pinning": {
            "server_core": settings.pinning.server_core,
            "client_core": settings.pinning.client_core,
        },
    }


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _failed(group: str, error: BaseException) -> Figure:
    detail = f"failed: {type(error).__name__}: {error}".replace("\n", " ")[:300]
    return Figure(f"{group}.error", f"{group} (group failed)", None, Unit.RATIO, None, detail)


def _profile(settings: Settings, out: Path) -> str:
    spots = profiling.profile_actions(settings, out / "profiles")
    sections = [profiling.render_hotspots(spot) for spot in spots]
    sections.append(memory.breakdown(settings))
    imports = profiling.import_times(settings)
    sections.append(
        "startup imports (python -X importtime -c 'import mockpanel.cli', self time by "
        "package, best of 3):\n"
        + "\n".join(f"    {seconds * 1000:7.1f} ms  {name}" for name, seconds in imports)
    )
    return "\n\n".join(sections)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = _settings(args)
        before = None if args.compare is None else load_values(args.compare)
    except ValueError as exc:
        parser.error(str(exc))
    groups = _groups(args)
    if not groups:
        parser.error("--skip left no group to run")
    if _NEEDS_WRK.intersection(groups):
        try:
            find_wrk()
        except WrkMissing as exc:
            _say(f"bench: {exc}")
            return 2
    affinity = os.sched_getaffinity(0)
    if settings.pinning.client_core is not None:
        # The runner and anything it starts unpinned (pytest) stay off the server's core.
        os.sched_setaffinity(0, {settings.pinning.client_core})
    else:
        _say("bench: cannot pin (needs taskset and two cores); running unpinned")
    try:
        return _run(args, settings, groups, before)
    finally:
        os.sched_setaffinity(0, affinity)


def _run(
    args: argparse.Namespace,
    settings: Settings,
    groups: list[str],
    before: dict[str, float] | None,
) -> int:
    started = dt.datetime.now(dt.UTC)
    command = " ".join(["python -m bench", *map(shlex.quote, args.argv)])
    machine = _machine(settings)
    figures: list[Figure] = []
    hotspots = ""
    failed = False
    for group in groups:
        _say(f"bench: {group} ...")
        group_started = time.perf_counter()
        try:
            if group == PROFILE:
                hotspots = _profile(settings, args.out)
            else:
                figures.extend(GROUPS[group](settings))
        except Exception as exc:  # one broken group must not cost the others' figures
            failed = True
            _say(traceback.format_exc())
            figures.append(_failed(group, exc))
        _say(f"bench: {group} took {time.perf_counter() - group_started:.0f} s")

    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    table = render_table(figures, before)
    header = (
        f"bench: {started:%Y-%m-%d %H:%M} UTC, `{command}`, revision {machine['revision']}\n"
        f"machine: {machine['cpus']} cpus, load {machine['load_average']} at start / "
        f"{machine['load_average_end']} at end, Python "
        f"{machine['python']}, aiohttp {machine['aiohttp']}, {machine['wrk']}; server core "
        f"{settings.pinning.server_core}, client core {settings.pinning.client_core}\n"
        f"settings: {settings.duration} s x {settings.reps} reps (median), warm-up "
        f"{settings.warmup} s, {settings.connections} connections, {settings.orders} orders"
    )
    print(header)
    print()
    print(table)
    if hotspots:
        print()
        print(hotspots)
    _save(args.out, started, command, machine, settings, figures, header, table, hotspots)
    if failed:
        return 1
    if args.fail_on_miss and any(f.verdict is Verdict.MISS for f in figures):
        return 3
    return 0


def _save(
    out: Path,
    started: dt.datetime,
    command: str,
    machine: dict[str, Any],
    settings: Settings,
    figures: list[Figure],
    header: str,
    table: str,
    hotspots: str,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "date": started.isoformat(timespec="seconds"),
        "command": command,
        "machine": machine,
        "settings": settings.to_json(),
        "figures": [figure.to_json() for figure in figures],
        "hotspots": hotspots,
    }
    text = json.dumps(document, indent=2) + "\n"
    (out / f"result-{started:%Y%m%d-%H%M%S}.json").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(text, encoding="utf-8")
    report = "\n\n".join(part for part in (header, table, hotspots) if part) + "\n"
    (out / "latest.txt").write_text(report, encoding="utf-8")
    _say(f"bench: results in {out / 'latest.json'} and {out / 'latest.txt'}")
