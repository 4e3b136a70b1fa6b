"""The plan printed before the first test: how many tests, how many requests, how long at the
current pace, and the most the run can spend.

A vendor certifying a live panel pays for a run in requests against a rate limit (60 a minute
on some panels) and in money: they should know both before anything is sent. The expected
requests are, for each selected test, what it cost the last run against the same panel in the
same mode (kept in pytest's cache, ``.pytest_cache``), else the estimate shipped in
``request_estimates.json`` (measured against the mock's ``smmhub`` profile, a catalogue like the
seeds'), else :data:`UNKNOWN_TEST` for a test neither knows; the line says which. Requests the
run already sent (pre-flight, the dialect fingerprint) are counted in. The duration is those
requests at the pace the harness keeps now: its politeness limit, or the panel's limit when it
is lower (``--panel-rate-limit``, or what the panel's headers taught so far); order lifecycles
a black-box run waits for come on top. The worst-case spend is the spend cap: the spend guard
never lets reservations exceed it, whatever the selected tests would like to spend.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files

import pytest

from harness.run.config import Mode, PanelConfig
from harness.run.tally import RequestTally
from harness.wire.pacing import advertised_pace

__all__ = [
    "CACHE_KEY",
    "STRICTEST_LIMIT",
    "UNKNOWN_TEST",
    "Plan",
    "PlanPlugin",
    "current_pace",
    "estimates",
    "make_plan",
    "run_kind",
    "test_name",
]

CACHE_KEY = "smm_harness/requests"
STRICTEST_LIMIT = 60
"""Requests a minute of the strictest limit the seeds publish (seed 002): the duration is also
given at this pace while the run knows no limit of the panel (none advertised, none seen)."""
UNKNOWN_TEST = 3
"""Requests assumed for a test that neither the last run nor the estimates know (a new test, a
user's own scenario): about what a test of the suite sends."""
_ESTIMATES = "request_estimates.json"
_KINDS = ("read-only", "spend", "spend-second-key")


def test_name(nodeid: str) -> str:
    """``file.py::test[param]`` without folders (the suite may be installed anywhere)."""
    return nodeid.rsplit("/", 1)[-1]


def _function(name: str) -> str:
    return name.split("[", 1)[0]


def run_kind(config: PanelConfig) -> str:
    """Which column of the estimates fits the run: what it may spend decides most requests."""
    if config.max_spend <= 0 and config.mode is Mode.BLACK_BOX:
        return "read-only"
    if config.second_key is None and config.mode is Mode.BLACK_BOX:
        return "spend"
    return "spend-second-key"  # a controlled run mints its second accounts


def estimates(kind: str) -> tuple[dict[str, float], int]:
    """The shipped estimate of each test function (``file.py::test``, per test item) for a run
    of ``kind``, and of the requests after the last test (closing balances)."""
    data = json.loads(files("harness.run").joinpath(_ESTIMATES).read_text(encoding="utf-8"))
    column = list(data["columns"]).index(kind)
    tests = {str(name): float(row[column]) for name, row in data["tests"].items()}
    return tests, int(data["after_tests"][column])


def current_pace(config: PanelConfig, panel_pace: float | None = None) -> float:
    """Requests per second the run keeps now: the politeness limit, or the panel's limit when
    it is lower (``panel_pace``, what the pacer knows; else 90 % of ``--panel-rate-limit``)."""
    rates = [config.request_rate]
    if panel_pace is not None:
        rates.append(panel_pace)
    elif config.rate_limit is not None:
        rates.append(advertised_pace(config.rate_limit))
    return min(r for r in rates if r > 0)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run is about to cost."""

    tests: int
    requests: int
    source: str
    """Where the per-test counts come from (the last run, the shipped estimates, or both)."""
    pace: float
    """Requests per second."""
    spend: Decimal
    spend_basis: str
    waits_for_orders: bool
    limit_known: bool = True
    """Whether the pace reflects a limit of the panel (advertised, or seen in its answers)."""

    @property
    def seconds(self) -> float:
        return self.requests / self.pace

    def line(self) -> str:
        waits = "; order lifecycles come on top" if self.waits_for_orders else ""
        strictest = advertised_pace(STRICTEST_LIMIT)
        if not self.limit_known and self.pace > strictest:
            waits += (f" (no limit of the panel known yet: at {STRICTEST_LIMIT}/min, a limit "
                      f"live panels publish, about {_duration(self.requests / strictest)})")
        return (
            f"smm-harness: plan: {self.tests} tests, about {self.requests} requests "
            f"({self.source}), about {_duration(self.seconds)} at {_rate(self.pace)}{waits}; "
            f"worst-case spend {self.spend} ({self.spend_basis})"
        )


def make_plan(
    config: PanelConfig,
    nodeids: Sequence[str],
    *,
    sent: int,
    measured: Mapping[str, int] | None = None,
    panel_pace: float | None = None,
) -> Plan:
    """The plan of a run about to run ``nodeids`` having sent ``sent`` requests already.

    ``measured`` is the last run's count per test name (:func:`test_name`), if one is known."""
    measured = measured or {}
    table, after = estimates(run_kind(config))
    from_last = from_table = 0
    total = sent + after
    for nodeid in nodeids:
        name = test_name(nodeid)
        if name in measured:
            total += measured[name]
            from_last += 1
        else:
            total += math.ceil(table.get(_function(name), UNKNOWN_TEST))
            from_table += 1
    if from_table == 0 and nodeids:
        source = "as counted in the last run against this panel"
    elif from_last == 0:
        source = "estimated from the suite's counts against the mock"
    else:
        source = (f"{from_last} tests as counted in the last run, {from_table} estimated "
                  "from the suite's counts against the mock")
    if config.mode is Mode.CONTROLLED:
        spend, basis = Decimal(0), "orders are paid by sandbox tenants of the control API"
    elif config.max_spend <= 0:
        spend, basis = Decimal(0), "read-only: nothing that can cost money is sent"
    else:
        spend, basis = config.max_spend, "the spend cap, --panel-max-spend"
    return Plan(
        tests=len(nodeids),
        requests=total,
        source=source,
        pace=current_pace(config, panel_pace),
        spend=spend,
        spend_basis=basis,
        waits_for_orders=config.mode is Mode.BLACK_BOX and config.max_spend > 0,
        limit_known=panel_pace is not None or config.rate_limit is not None
        or config.mode is Mode.CONTROLLED,
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _rate(per_second: float) -> str:
    per_minute = per_second * 60
    if per_minute >= 6000:
        return f"{per_second:g} requests/s"
    return f"{per_minute:.3g} requests/min"


class PlanPlugin:
    """Prints the plan when collection ends (before the first test) and keeps what each test
    cost for the next run's plan."""

    NAME = "smm_harness_plan"

    def __init__(self, config: PanelConfig, tally: RequestTally,
                 pacer: object | None = None) -> None:
        self.config = config
        self.tally = tally
        self._pacer = pacer  # the run's harness.wire.pacing.Pacer: its pace is the panel's limit
        self._printed = False

    def _cache_slot(self) -> str:
        return f"{self.config.display_url} {run_kind(self.config)} {self.config.mode.value}"

    def _measured(self, pytest_config: pytest.Config) -> dict[str, int]:
        cache = getattr(pytest_config, "cache", None)
        if cache is None:
            return {}
        known = cache.get(CACHE_KEY, {})
        slot = known.get(self._cache_slot()) if isinstance(known, dict) else None
        if not isinstance(slot, dict):
            return {}
        return {str(k): int(v) for k, v in slot.items() if isinstance(v, int)}

    @pytest.hookimpl(trylast=True)  # after deselection: the items that will run
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._print(session.config, [item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        """Under pytest-xdist the controller collects nothing: every worker reports the same
        test ids, and the first report makes the plan."""
        config = getattr(node, "config", None)
        if isinstance(config, pytest.Config) and not self._printed:
            self._print(config, ids)

    def _print(self, pytest_config: pytest.Config, nodeids: Sequence[str]) -> None:
        reporter = pytest_config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or not nodeids:
            return
        pace = getattr(self._pacer, "pace", None)
        plan = make_plan(
            self.config, nodeids, sent=self.tally.total, measured=self._measured(pytest_config),
            panel_pace=pace if isinstance(pace, float) else None,
        )
        reporter.write_line(plan.line())
        self._printed = True

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Keep each test's count for the next run's plan, unless the run was cut short (an
        interrupted run's counts say nothing of a whole one)."""
        cache = getattr(session.config, "cache", None)
        if cache is None or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return
        counts = self.tally.by_test()
        if not counts:
            return
        known = cache.get(CACHE_KEY, {})
        known = known if isinstance(known, dict) else {}
        slot = dict(known.get(self._cache_slot(), {}))
        slot.update({test_name(nodeid): count for nodeid, count in counts.items()})
        known[self._cache_slot()] = slot
        cache.set(CACHE_KEY, known)


# ---------------------------------------------------------------------------------------------
# the shipped estimates, from measured runs


def estimates_from_reports(reports: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The ``request_estimates.json`` document from three ``report.json`` records of the whole
    suite against the mock's ``smmhub`` profile: read-only, with a spend cap, and with a spend
    cap and a second key (in :data:`_KINDS` order). Each test function gets its mean count
    per test item; ``after_tests`` is what was sent after the last test."""
    if len(reports) != len(_KINDS):
        raise ValueError(f"expected {len(_KINDS)} reports: {', '.join(_KINDS)}")
    per_kind: list[dict[str, list[int]]] = []
    after: list[int] = []
    for record in reports:
        requests = record["requests"]
        assert isinstance(requests, Mapping)
        functions: dict[str, list[int]] = {}
        for row in requests["by_test"]:
            functions.setdefault(_function(test_name(row["test"])), []).append(row["requests"])
        per_kind.append(functions)
        after.append(int(requests["outside_tests"]["after"]))
    names = sorted(set().union(*per_kind))
    rows = {name: [round(sum(k.get(name, [0])) / len(k.get(name, [0])), 2) for k in per_kind]
            for name in names}
    return {
        "about": "Requests per test item of each suite function against mockpanel's smmhub "
                 "profile (python -m harness.run.plan READ_ONLY SPEND SPEND_SECOND_KEY, from "
                 "three report.json files); after_tests: requests after the last test.",
        "columns": list(_KINDS),
        "after_tests": after,
        "tests": rows,
    }


if __name__ == "__main__":  # pragma: no cover - a maintenance tool
    import sys
    from pathlib import Path

    loaded = [json.loads(Path(path).read_text(encoding="utf-8")) for path in sys.argv[1:]]
    json.dump(estimates_from_reports(loaded), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
