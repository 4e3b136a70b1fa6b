"""Memory per stored order: N orders placed through ``PanelState.place_order``, measured two ways.

``tracemalloc`` counts exactly the Python allocations that stay alive; the RSS delta is what
the operating system sees (allocator slack and fragmentation included). Each way runs in a
fresh interpreter (``python -m bench.memory --mode ...``), because tracing slows everything
and anything allocated before would blur the other measurement. Per order = delta / N.
"""

from __future__ import annotations

import argparse
import gc
import json
import linecache
import subprocess
import sys
import tracemalloc
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.figures import Figure, Target, Unit
from bench.settings import REPO, Settings

__all__ = ["MODES", "TARGET", "breakdown", "measure", "rss_bytes", "run"]

MODES = ("tracemalloc", "rss")
TARGET = Target("<=", 1024.0)  # the ceiling; its aim is half of it
_KEY = "bench-memory-key"


def rss_bytes(status: Path = Path("/proc/self/status")) -> int:
    """This process's resident set size now (Linux ``VmRSS``)."""
    for line in status.read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS line in {status}")


def measure(orders: int, mode: str, breakdown: int = 0) -> dict[str, Any]:
    """Place ``orders`` orders in a fresh reference panel; bytes before, after, per order.

    With ``breakdown`` (tracemalloc only) also the allocation sites that grew most, as
    ``[bytes per order, "file:line"]`` pairs: where an order's bytes go.
    """
    # Imported here so the interpreter's baseline is taken with mockpanel already loaded
    # but no panel built: only the panel and its orders are in the delta.
    from bench.filled import build_app, fill
    from mockpanel.wire.keys import STATE

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if breakdown and mode != "tracemalloc":
        raise ValueError("a breakdown needs mode 'tracemalloc'")
    app = build_app(_KEY, Decimal("1000000000.00"), "bench-memory-token", 0)
    state = app[STATE]
    tenant = state.authenticate(_KEY)
    assert tenant is not None
    fill(state, tenant, 1)  # first-use allocations (caches, interned strings) are not per order
    gc.collect()
    sites: list[list[Any]] = []
    if mode == "tracemalloc":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        start = tracemalloc.take_snapshot() if breakdown else None
    else:
        before = rss_bytes()
    fill(state, tenant, orders)
    gc.collect()
    if mode == "tracemalloc":
        after = tracemalloc.get_traced_memory()[0]
        if start is not None:
            grown = tracemalloc.take_snapshot().compare_to(start, "lineno")
            for stat in grown[:breakdown]:
                frame = stat.traceback[0]
                code = linecache.getline(frame.filename, frame.lineno).strip()[:60]
                where = f"{_short(frame.filename)}:{frame.lineno}  {code}"
                sites.append([stat.size_diff / orders, where])
        tracemalloc.stop()
    else:
        after = rss_bytes()
    return {
        "mode": mode,
        "orders": orders,
        "before": before,
        "after": after,
        "per_order": (after - before) / orders,
        "sites": sites,
    }


def _short(filename: str) -> str:
    """``.../site-packages/mockpanel/state/orders.py`` -> ``mockpanel/state/orders.py``."""
    parts = Path(filename).parts
    for anchor in ("mockpanel", "bench"):
        if anchor in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(anchor) - 1 :])
    return Path(filename).name


def _in_child(settings: Settings, mode: str, orders: int, breakdown: int = 0) -> dict[str, Any]:
    done = subprocess.run(
        [
            settings.python,
            "-m",
            "bench.memory",
            "--orders",
            str(orders),
            "--mode",
            mode,
            "--breakdown",
            str(breakdown),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.memory --mode {mode} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(settings: Settings) -> list[Figure]:
    figures = []
    for mode in MODES:
        result = _in_child(settings, mode, settings.orders)
        delta_mib = (result["after"] - result["before"]) / 2**20
        figures.append(
            Figure(
                f"memory.{mode}",
                f"memory per order at {settings.orders} orders ({mode})",
                float(result["per_order"]),
                Unit.BYTES_PER_ORDER,
                TARGET,
                f"{delta_mib:.1f} MiB for {result['orders']} orders",
            )
        )
    return figures


def breakdown(settings: Settings, orders: int = 20_000, top: int = 10) -> str:
    """Where an order's bytes go: the allocation sites that grew most over ``orders`` orders."""
    result = _in_child(settings, "tracemalloc", min(orders, settings.orders), top)
    lines = [
        f"memory per order by allocation site (tracemalloc, {result['orders']} orders, "
        f"{result['per_order']:.0f} B/order in all):"
    ]
    lines += [f"    {size:7.1f} B  {site}" for size, site in result["sites"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="also the N allocation sites that grew most (tracemalloc only)",
    )
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error(f"--orders must be >= 1, got {args.orders}")
    if args.breakdown < 0:
        parser.error(f"--breakdown must be >= 0, got {args.breakdown}")
    try:
        result = measure(args.orders, args.mode, args.breakdown)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
