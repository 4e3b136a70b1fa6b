"""Drip-feed judged end to end on catalogues that flag no service (issue 22).

Seed 002 (the mock's ``smmhub`` profile) documents ``runs``/``interval`` on ``add`` with no
``dripfeed`` flag in its catalogue: a whole harness run must judge the DRIP clauses there (the
probe proves a service), grade the missing flag NON-STRICT under SVC-010, keep them N/A with
the reason when the spend cap cannot pay for the probe; and on small fake panels, fail DRIP-001
when ``runs`` are silently ignored and leave them N/A when ``runs`` are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from harness.plugin import SUITE_DIR
from tests.conformance.harness_runs import (
    Keys,
    Verdicts,
    mint_key,
    read_verdicts,
    run_harness,
    seeded,
    serve_profile,
    summary_of,
)
from tests.fixtures.fakepanel import KEY, FakePanel, serve

DRIP = ["--panel-clause=DRIP-*", "--panel-clause=SVC-010"]
JUDGED = ("DRIP-001", "DRIP-002", "DRIP-003", "DRIP-005")


def _smmhub(pytester: pytest.Pytester, *, max_spend: str, controlled: bool,
            ) -> tuple[Verdicts, pytest.RunResult]:
    keys = Keys()
    with serve_profile("smmhub", keys, Decimal("100")) as url:
        mint_key(url, keys.token, keys.second, Decimal("1"))
        result = run_harness(pytester, url, keys, max_spend=max_spend, controlled=controlled,
                             extra=[*DRIP, "-rs"])
    return read_verdicts(result.outlines), result


def test_smmhub_s_drip_feed_is_judged_and_its_missing_flag_deviates(
    pytester: pytest.Pytester,
) -> None:
    verdicts, result = _smmhub(pytester, max_spend="5", controlled=True)
    summary = summary_of(result.outlines)
    assert {clause: verdicts.verdict(clause) for clause in JUDGED} == dict.fromkeys(
        JUDGED, "PASS"), summary
    assert verdicts.verdict("SVC-010") == "NON-STRICT", summary
    assert "yet no catalogue item states a dripfeed flag" in verdicts.rows["SVC-010"][2]
    assert verdicts.failed() == set(), summary


def test_a_cap_below_the_cheapest_drip_feed_order_keeps_them_not_applicable(
    pytester: pytest.Pytester,
) -> None:
    # Black-box (no control API): the cap binds the main key's real money. smmhub keeps 5
    # decimals; its cheapest drip-feed probe (2 runs of 20 at 0.001 per 1000) costs 0.00004.
    verdicts, result = _smmhub(pytester, max_spend="0.00003", controlled=False)
    summary = summary_of(result.outlines)
    for clause in (*JUDGED, "SVC-010"):
        assert verdicts.verdict(clause) == "N/A", summary
        assert verdicts.rows[clause][2].startswith("not allowed by the spend cap"), summary
    result.stdout.fnmatch_lines(["*not allowed by the spend cap: no service states dripfeed: "
                                 "true; a drip-feed probe on service * needs up to 0.00004, "
                                 "and the cap leaves 0.00003*"])
    [requests] = [line for line in result.outlines if line.startswith("requests:")]
    assert " add " not in requests, requests  # the probe was never sent


@dataclass
class _Flagless(FakePanel):
    """The fake panel with a catalogue that states no dripfeed flag; ``refuse_runs``: an add
    with ``runs`` is refused (drip-feed not offered), else it is placed as a plain order of
    ``quantity`` (FakePanel reads no ``runs``): the defect DRIP-001 must catch."""

    refuse_runs: bool = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(parse_qsl((await request.read()).decode("utf-8", "replace")))
        if params.get("key") == KEY and params.get("action") == "services":
            return web.json_response([
                {"service": 1, "name": "Followers", "type": "Default", "category": "Test",
                 "rate": "0.90", "min": "50", "max": "10000", "refill": False,
                 "cancel": True},
            ])
        if params.get("action") == "add" and "runs" in params and self.refuse_runs:
            return self.error("Drip-feed is not available for this service")
        return await super().handle(request)


def _fake_run(clean: pytest.Pytester, panel: FakePanel) -> tuple[Verdicts, pytest.RunResult]:
    with serve(panel) as url:
        result = clean.runpytest_inprocess(
            str(SUITE_DIR), f"--panel-url={url}", f"--panel-key={KEY}",
            "--panel-request-rate=1000", "--panel-max-spend=5", "-rs", *DRIP, *seeded([]))
    return read_verdicts(result.outlines), result


def test_a_flagless_panel_that_ignores_runs_fails_drip_001(clean: pytest.Pytester) -> None:
    panel = _Flagless()
    verdicts, result = _fake_run(clean, panel)
    summary = summary_of(result.outlines)
    assert verdicts.verdict("DRIP-001") == "NON-STRICT", summary  # a SHOULD's failure
    assert verdicts.rows["DRIP-001"][2].startswith(
        "2 runs of 50: debited 0.04, expected 0.09, the price of one plain order of 50"), summary
    # No proof of drip-feed: the other clauses are not judged on a plain order.
    for clause in ("DRIP-002", "DRIP-003", "DRIP-005", "SVC-010"):
        assert verdicts.verdict(clause) == "N/A", summary
        assert verdicts.rows[clause][2].startswith("blocked by DRIP-001"), summary
    drip_adds = [body for body in panel.bodies if b"action=add" in body and b"runs=" in body]
    assert len(drip_adds) == 1, "the probe's order is DRIP-001's: one drip-feed add"


def test_a_flagless_panel_that_refuses_runs_leaves_drip_feed_not_applicable(
    clean: pytest.Pytester,
) -> None:
    verdicts, result = _fake_run(clean, _Flagless(refuse_runs=True))
    summary = summary_of(result.outlines)
    for clause in (*JUDGED, "SVC-010"):
        assert verdicts.verdict(clause) == "N/A", summary
        assert verdicts.rows[clause][2].startswith("feature not offered"), summary
    result.stdout.fnmatch_lines(["*feature not offered: no service states dripfeed: true; "
                                 "service 1 refused it: 'Drip-feed is not available for this "
                                 "service'*"])
    assert verdicts.failed() == set(), summary
