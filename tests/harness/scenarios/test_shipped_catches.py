"""Shipped scenarios against a panel with one rule broken: the scenario's own step catches it.

The panel is the independent legit panel of the conformance corpus (``legit_ledger.py`` behind
``legit_wire.py``, in process, manual clock and control API) with one deliberate flaw, so each
case shows the step that was added for it failing the clause it guards, and the same scenario
passing on the unbroken panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from harness.base.redaction import Secret
from harness.judging.verdicts import Verdict
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.conformance.harness_runs import control_url
from tests.conformance.legit_ledger import Books, Clock, Rules
from tests.conformance.legit_wire import Wire, serving
from tests.harness.scenarios.test_runner import play, scenario_file, verdict

KEY = "legit-main-key-R4t8"
SECOND = "legit-second-key-W2n6"
TOKEN = "legit-control-token-P9c1"


@contextmanager
def legit_run(flaw: str | None) -> Iterator[HarnessRun]:
    books = Books(Rules(flaws=frozenset({flaw} if flaw else set())), Clock(manual=True))
    books.open_tenant(Decimal(100), key=KEY)
    books.open_tenant(Decimal(1), key=SECOND)
    with serving(Wire(), books, TOKEN) as url:
        yield HarnessRun(PanelConfig(
            url=url, key=Secret(KEY, "main key"), second_key=Secret(SECOND, "second key"),
            max_spend=Decimal(5), control_url=control_url(url),
            control_token=Secret(TOKEN, "control token"), request_rate=1000.0,
            order_timeout=30.0,
        ))


@pytest.mark.parametrize(
    ("name", "flaw", "clause", "step"),
    [
        # A Partial order whose remains the provider's late report rewrites a day on.
        ("partial-refunds", "partial-remains-updated-late", "LIFE-004",
         "a day later the order still reads Partial, with the same remains"),
        # A refill that finds the order by id alone: another key refills a completed order.
        ("isolation-refills", "refill-ignores-owner", "ISO-004",
         "the second key cannot refill it"),
    ],
)
def test_the_scenario_step_fails_the_flawed_panel(
    name: str, flaw: str, clause: str, step: str
) -> None:
    scenario = scenario_file(name)
    with legit_run(None) as run:
        assert play(run, scenario) is None
        assert verdict(run, clause) is Verdict.PASS
    with legit_run(flaw) as run:
        failure = play(run, scenario)
    assert failure is not None
    assert failure.clause == clause
    assert failure.step is not None
    assert failure.step.name == step
