"""Status throughput once N orders are stored, over the same figure for an empty mock.

Both servers are ``bench.filled`` (the ``mockpanel serve`` app), one with no stored orders and
one with N (200 000 by default), run side by side on the server core; each gets one more order
over the API, and wrk asks for that order's status. The throughput ratio comes from the two
loaded together on the core (:mod:`bench.series`), the p99 ratio from each loaded alone.
"""

from __future__ import annotations

from contextlib import ExitStack

from bench.figures import Figure, Target
from bench.panel import BALANCE, Secrets, cheapest_add, expect, form, place_orders
from bench.procs import serve
from bench.series import Contender, Job, p99_figure, ratio_figure, run_jobs
from bench.settings import Settings
from bench.wrk import Load

__all__ = ["TARGET", "filled_argv", "run"]

TARGET = Target(">=", 0.85)


def filled_argv(settings: Settings, orders: int) -> list[str]:
    return [
        *settings.pinning.server(),
        settings.python,
        "-m",
        "bench.filled",
        "--orders",
        str(orders),
        "--balance",
        BALANCE,
    ]


def run(settings: Settings) -> list[Figure]:
    keys = Secrets.fresh()
    env = {"BENCH_KEY": keys.key, "BENCH_TOKEN": keys.token}
    with ExitStack() as stack:
        contenders = []
        for label, orders in (("empty", 0), ("filled", settings.orders)):
            server = stack.enter_context(serve(filled_argv(settings, orders), env=env))
            (order,) = place_orders(server.api_url, cheapest_add(server.api_url, keys.key), 1)
            fields = {"key": keys.key, "action": "status", "order": order}
            expect(server.api_url, fields, "status")
            # Each server's body names its own order: the ids differ, nothing else does.
            load = Load(form(fields))
            contenders.append(Contender(label, server.api_url, load=load))
        # Every contender brings its own load; the job's is only the default they override.
        results = run_jobs(settings, [Job("status", load, tuple(contenders))])
    return [
        ratio_figure(
            results,
            "status",
            "filled",
            "empty",
            figure_id="growth.status",
            name=f"status throughput, {settings.orders} orders / empty",
            target=TARGET,
            together=settings.together,
        ),
        p99_figure(
            results,
            "status",
            "filled",
            "empty",
            figure_id="growth.status.p99",
            name=f"status p99, {settings.orders} orders / empty",
        ),
    ]
