"""Every module of the project is imported before the first test (``tests/conftest.py``), so
that Hypothesis's pool of local constants, and with it every seeded random run in process, is
the same whatever ran before in the worker (:mod:`tests.fixtures.local_modules`)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.fixtures.constants import REPO
from tests.fixtures.local_modules import LOCAL_PACKAGES, NOT_IMPORTED, import_every_local_module


def _modules_on_disk(package: str) -> set[str]:
    """The module names of ``package``'s files, found by walking its folder (not pkgutil, the
    way the fixture finds them): a module the fixture skipped would be missing here."""
    names = set()
    for path in (REPO / package).rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__main__" or parts[-1].startswith("test_"):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if all((REPO / Path(*parts[:depth]) / "__init__.py").is_file()
               for depth in range(1, len(parts))):
            names.add(".".join(parts))
    return names


def test_every_module_of_the_project_is_imported_before_the_tests() -> None:
    on_disk = set().union(*(_modules_on_disk(package) for package in LOCAL_PACKAGES))
    assert "mockpanel.emulate.infer" in on_disk  # deep in a package few tests import
    assert sorted(on_disk - set(sys.modules) - set(NOT_IMPORTED)) == []
    # What is left out is left out on purpose: it changes the process when imported.
    assert set(NOT_IMPORTED) <= on_disk
    assert not set(NOT_IMPORTED) & set(sys.modules)


def test_the_fixture_names_what_it_imported_and_skips_entry_scripts() -> None:
    names = import_every_local_module(("mockpanel",))
    assert names[0] == "mockpanel"
    assert "mockpanel.state.orders" in names
    assert "mockpanel.__main__" not in names
    assert len(names) == len(set(names))
