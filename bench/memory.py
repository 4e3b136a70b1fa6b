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
import subprocess
import sys
import tracemalloc
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.figures import Figure, Target, Unit
from bench.settings import REPO, Settings

__all__ = ["MODES", "TARGET", "measure", "rss_bytes", "run"]

MODES = ("tracemalloc", "rss")
TARGET = Target("<=", 1024.0)  # the ceiling; its aim is half of it
_KEY = "bench-memory-key"


def rss_bytes(status: Path = Path("/proc/self/status")) -> int:
    """This process's resident set size now (Linux ``VmRSS``)."""
    for line in status.read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS line in {status}")


def measure(orders: int, mode: str) -> dict[str, Any]:
    """Place ``orders`` orders in a fresh reference panel; bytes before, after, per order."""
    # Imported here so the interpreter's baseline is taken with mockpanel already loaded
    # but no panel built: only the panel and its orders are in the delta.
    from bench.filled import build_app, fill
    from mockpanel.wire.keys import STATE

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    app = build_app(_KEY, Decimal("1000000000.00"), "bench-memory-token", 0)
    state = app[STATE]
    tenant = state.authenticate(_KEY)
    assert tenant is not None
    fill(state, tenant, 1)  # first-use allocations (caches, interned strings) are not per order
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    else:
        before = rss_bytes()
    fill(state, tenant, orders)
    gc.collect()
    if mode == "tracemalloc":
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    else:
        after = rss_bytes()
    return {
        "mode": mode,
        "orders": orders,
        "before": before,
        "after": after,
        "per_order": (after - before) / orders,
    }


def _in_child(settings: Settings, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [settings.python, "-m", "bench.memory", "--orders", str(settings.orders), "--mode", mode],
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
        result = _in_child(settings, mode)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--mode", choices=MODES, required=True)
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error(f"--orders must be >= 1, got {args.orders}")
    print(json.dumps(measure(args.orders, args.mode)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
