"""The wire tests' in-process panel is :mod:`tests.fixtures.inprocess` (its ``make_panel``
fixture is loaded for every test by the root ``conftest.py``). The names below keep the wire
tests' ``TYPE_CHECKING`` imports from this module working until they import from there."""

from __future__ import annotations

from tests.fixtures.constants import DEFAULT_SERVICE, LINK, TOKEN
from tests.fixtures.inprocess import InProcessPanel as Panel
from tests.fixtures.inprocess import MakePanel, loads

__all__ = ["DEFAULT_SERVICE", "LINK", "TOKEN", "MakePanel", "Panel", "loads"]
