"""Every module of both packages imports alone in a fresh interpreter.

A cycle that happens to work when modules load in the usual order (the plugin first) breaks a
user who imports one module directly; the import-linter contracts in pyproject.toml catch an
upward import between layers, this catches a cycle inside one (aiohttp's
``tests/test_circular_imports.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {"mockpanel.__main__"}  # runs the command line when imported


def _modules() -> list[str]:
    found = []
    for package in ("harness", "mockpanel"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            if name not in SKIPPED:
                found.append(name)
    return found


MODULES = _modules()


def test_the_walk_finds_every_layer() -> None:
    packages = {name.split(".")[1] for name in MODULES if name.count(".") >= 1}
    assert {"base", "contract", "wire", "judging", "panel", "run", "reporting", "state"} <= packages


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c", f"import {module}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
