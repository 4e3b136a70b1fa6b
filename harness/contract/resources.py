"""Where the contract data lives: inside the installed wheel, or beside the source checkout.

The wheel carries ``schemas/`` and ``scenarios/`` under ``harness/_data`` (see pyproject's
force-include); a source checkout or an editable install has them at the repository's top
level. Everything that reads contract files goes through :func:`data_dir` so both layouts work.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["data_dir", "scenarios_dir", "schemas_dir"]

_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]  # harness/contract/ -> the checkout


def data_dir(name: str) -> Traversable:
    """Return the ``schemas`` or ``scenarios`` folder, preferring the packaged copy."""
    packaged = files("harness").joinpath("_data", name)
    if packaged.is_dir():
        return packaged
    checkout = _CHECKOUT_ROOT / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"contract data folder {name!r} is neither packaged nor in a checkout")


def schemas_dir() -> Traversable:
    """The contract: JSON Schemas under ``v2/`` and ``clauses.yaml``."""
    return data_dir("schemas")


def scenarios_dir() -> Traversable:
    """The YAML scenario suites."""
    return data_dir("scenarios")
