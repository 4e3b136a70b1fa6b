"""The cost of minting a tenant through the control API (``POST /_mock/tenants``), against bare.

wrk posts ``{"balance": "100.00"}`` with the Bearer token to the mock and the same body to the
bare handler, interleaved; the figure is the throughput ratio, and ``detail`` turns the mock's
throughput into server time per mint (one core, so 1 / throughput), which the design card
wants "well under a millisecond".
"""

from __future__ import annotations

import json
from contextlib import ExitStack

from bench.client import BenchClientError, post_json
from bench.figures import Figure, Target, Unit, median
from bench.panel import Secrets, bare_argv, expect, mock_argv
from bench.procs import serve
from bench.series import Contender, Job, ratio_figure, run_jobs
from bench.settings import Settings
from bench.wrk import JSON_TYPE, Load

__all__ = ["BODY", "MINT_TARGET_US", "run"]

BODY = {"balance": "100.00"}
MINT_TARGET_US = 1000.0  # DESIGN.md: a fresh tenant per test "in well under a millisecond"


def run(settings: Settings) -> list[Figure]:
    keys = Secrets.fresh()
    with ExitStack() as stack:
        mock = stack.enter_context(serve(mock_argv(settings, keys)))
        bare = stack.enter_context(serve(bare_argv(settings)))
        expect(bare.api_url, {"key": "k", "action": "balance"}, "balance")
        tenants_url = mock.base_url + "/_mock/tenants"

        def verify() -> None:
            status, answer = post_json(tenants_url, BODY, keys.token)
            if status != 201 or not isinstance(answer, dict) or "key" not in answer:
                raise BenchClientError(f"/_mock/tenants answered {status} {answer.get('error')}")

        verify()
        load = Load(json.dumps(BODY), JSON_TYPE, f"Bearer {keys.token}")
        job = Job(
            "mint",
            load,
            (Contender("mock", tenants_url, verify), Contender("bare", bare.api_url)),
            together=False,  # the time per call is only meaningful with the core to itself
        )
        results = run_jobs(settings, [job])
    ratio = ratio_figure(
        results,
        "mint",
        "mock",
        "bare",
        figure_id="tenants.mint",
        name="tenant mint throughput / bare",
        target=None,
    )
    per_call = median(1e6 / run.rps for run in results.of("mint", "mock"))
    return [
        ratio,
        Figure(
            "tenants.mint.us",
            "tenant mint, server time per call",
            per_call,
            Unit.MICROSECONDS,
            Target("<=", MINT_TARGET_US),
            "1 / throughput on one core; target from DESIGN.md",
        ),
    ]
