"""Throughput and p99 of ``balance``, ``status``, ``add`` and a 100-id status, against bare.

One ``mockpanel serve`` (journal on, manual clock) and one bare handler run side by side on
the server core; every load is sent to both with the same body, so each ratio compares the
mock's work with aiohttp's own cost of answering that very request.

The throughput ratios held to the targets come from the two servers loaded together, sharing
the core (:mod:`bench.series`); the same ratios measured one server at a time are reported
beside them, and p99 is always measured one at a time. A second bare handler, loaded together
with the first, is the control: its ratio would be 1.00 with an exact method, and how far it
lands from 1.00 is the error to allow every other ratio.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any

from bench.client import BenchClientError, post_form
from bench.figures import Figure, Target
from bench.panel import Secrets, bare_argv, cheapest_add, expect, form, mock_argv, place_orders
from bench.procs import serve
from bench.series import Contender, Job, p99_figure, ratio_figure, run_jobs
from bench.settings import Settings
from bench.wrk import Load

__all__ = ["MULTI_IDS", "TARGETS", "run"]

MULTI_IDS = 100
# Throughput of the mock over the bare handler's, from the issue (journal on).
TARGETS: Mapping[str, Target | None] = {
    "balance": Target(">=", 0.75),
    "status": Target(">=", 0.75),
    "add": Target(">=", 0.65),
    "status-multi-100": None,
}


def _multi_ok(answer: Any) -> bool:
    return (
        isinstance(answer, dict)
        and len(answer) == MULTI_IDS
        and all(isinstance(item, dict) and "status" in item for item in answer.values())
    )


def _loads(url: str, key: str) -> dict[str, tuple[dict[str, str], Callable[[Any], bool]]]:
    """Each action's form fields and the test its answer must pass; orders placed first."""
    add = cheapest_add(url, key)
    (one,) = place_orders(url, add, 1)
    many = place_orders(url, add, MULTI_IDS)
    return {
        "balance": ({"key": key, "action": "balance"}, lambda a: "balance" in a),
        "status": ({"key": key, "action": "status", "order": one}, lambda a: "status" in a),
        "add": (add, lambda a: "order" in a),
        "status-multi-100": (
            {"key": key, "action": "status", "orders": ",".join(many)},
            _multi_ok,
        ),
    }


def _verifier(url: str, fields: dict[str, str], ok: Callable[[Any], bool]) -> Callable[[], None]:
    def verify() -> None:
        status, answer = post_form(url, fields)
        if status != 200 or not isinstance(answer, dict) or not ok(answer):
            raise BenchClientError(f"{fields['action']} answered wrongly: {status} {answer}")

    return verify


CONTROL = "control"


def run(settings: Settings) -> list[Figure]:
    keys = Secrets.fresh()
    with ExitStack() as stack:
        mock = stack.enter_context(serve(mock_argv(settings, keys)))
        bare = stack.enter_context(serve(bare_argv(settings)))
        expect(bare.api_url, {"key": "k", "action": "balance"}, "balance")
        jobs = []
        if settings.together:
            twin = stack.enter_context(serve(bare_argv(settings)))
            control = Load(form({"key": "k", "action": "balance"}))
            pair = (Contender("bare", bare.api_url), Contender("twin", twin.api_url))
            jobs.append(Job(CONTROL, control, pair, alone=False))
        for name, (fields, ok) in _loads(mock.api_url, keys.key).items():
            verify = _verifier(mock.api_url, fields, ok)
            verify()
            jobs.append(
                Job(
                    name,
                    Load(form(fields)),
                    (Contender("mock", mock.api_url, verify), Contender("bare", bare.api_url)),
                )
            )
        results = run_jobs(settings, jobs)
    figures = []
    # The targets are held to the ratios measured together (when they were); the ratios
    # measured one at a time are reported beside them.
    modes = [(settings.together, "", "", True)]
    if settings.together:
        modes.append((False, ".alone", ", one at a time", False))
    for together, id_suffix, name_suffix, held in modes:
        for name, target in TARGETS.items():
            figures.append(
                ratio_figure(
                    results,
                    name,
                    "mock",
                    "bare",
                    figure_id=f"throughput.{name}{id_suffix}",
                    name=f"{name} throughput / bare{name_suffix}",
                    target=target if held else None,
                    together=together,
                )
            )
    if settings.together:
        figures.append(
            ratio_figure(
                results,
                CONTROL,
                "twin",
                "bare",
                figure_id="throughput.control",
                name="bare / bare (control: 1.00 if exact)",
                target=None,
                together=True,
            )
        )
    for name in TARGETS:
        figures.append(
            p99_figure(
                results, name, "mock", "bare", figure_id=f"p99.{name}", name=f"{name} p99 / bare"
            )
        )
    return figures
