"""The layering rules import-linter cannot state (its contracts in ``pyproject.toml`` cover the
imports between the project's own modules): the mock's state layer loads no aiohttp, and the
test suite imports its helpers as packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures.constants import REPO


def test_state_layer_imports_no_wire_or_profiles() -> None:
    probe = (
        "import sys, mockpanel.state\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'aiohttp'"
        " or m.startswith(('mockpanel.wire', 'mockpanel.profiles'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_every_test_folder_is_a_package() -> None:
    """Helpers are imported as ``tests.<folder>.<module>``, never through ``sys.path``."""
    folders = {p.parent for p in Path(__file__).parent.rglob("*.py")}
    loose = [folder for folder in folders if not (folder / "__init__.py").is_file()]
    assert sorted(str(folder.relative_to(REPO)) for folder in loose) == []
