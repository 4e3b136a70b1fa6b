"""What every test of the project shares: no ``PANEL_*`` setting of the developer's shell may
leak into a test, and the ``clean`` pytester that harness runs start from."""

from __future__ import annotations

import pytest

from harness.config import OPTIONS

#: The ini every pytester run of the harness writes (its async fixtures' loop scope, pinned).
PYTESTER_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture(autouse=True)
def _no_panel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)


@pytest.fixture
def clean(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory with the harness's ini (modules using it load ``pytester``)."""
    pytester.makeini(PYTESTER_INI)
    return pytester
