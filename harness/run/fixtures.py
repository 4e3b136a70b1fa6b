"""Fixtures of the shipped suite, registered as a plugin only while the harness is active."""

from __future__ import annotations

import pytest

from harness.base.redaction import Secret
from harness.judging.judge import Judge
from harness.panel.catalog import Catalog
from harness.panel.driver import Panel
from harness.run.session import RUN_KEY, HarnessRun


@pytest.fixture(scope="session")
def harness_run(pytestconfig: pytest.Config) -> HarnessRun:
    """The run: client, control API, spend guard and verdict book."""
    return pytestconfig.stash[RUN_KEY]


@pytest.fixture(scope="session")
def panel(harness_run: HarnessRun) -> Panel:
    """The panel under test, through the driver."""
    return harness_run.panel


@pytest.fixture
def judge(harness_run: HarnessRun) -> Judge:
    """The running test's judge (the plugin opens one per test)."""
    judge = harness_run.judge
    if judge is None:
        raise RuntimeError("no judge: the harness plugin opens one per test during setup")
    return judge


@pytest.fixture
def main_key(panel: Panel) -> Secret:
    """The key of the account under test."""
    return panel.main_key()


@pytest.fixture
def catalog(panel: Panel) -> Catalog:
    """The services the panel offers (read once per run)."""
    return panel.catalog()
