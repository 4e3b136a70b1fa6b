"""What every test of the project shares: the helper modules of ``tests/fixtures`` (loaded here
once, so their fixtures are everywhere and their asserts are rewritten), every module of the
project imported before the first test (:mod:`tests.fixtures.local_modules`: seeded runs do
not depend on what ran before them), no ``PANEL_*`` setting of the developer's shell leaking
into a test, and the ``clean`` pytester that harness runs start from."""

from __future__ import annotations

import pytest

from harness.run.config import OPTIONS
from tests.fixtures.constants import PYTESTER_INI
from tests.fixtures.local_modules import import_every_local_module

pytest_plugins = [
    "pytester",
    "tests.fixtures.fakepanel",
    "tests.fixtures.inprocess",
    "tests.fixtures.plain_http",
    "tests.fixtures.served",
    "tests.fixtures.transports",
]

import_every_local_module()


@pytest.fixture(autouse=True)
def _no_panel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def clean(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory with the harness's ini."""
    pytester.makeini(PYTESTER_INI)
    return pytester
