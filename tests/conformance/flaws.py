"""Flawed panels: the independent panel of ``legit_panels.py`` with one rule broken.

The broken-panels matrix (``broken_panels.py``) breaks the mock; these break a panel written
apart from it (``legit_ledger.py`` behind ``legit_wire.py``), so that detection never depends
on the mock's internals. Each :class:`FlawedPanel` is the ``perfectpanel-classic`` row with one
*flaw*: a name the panel's books (``Rules.flaws``) or wire (``Wire.flaws``) act on, and nothing
else. The flaw names live with the code that acts on them: :data:`LEDGER_FLAWS` in
``legit_ledger.py`` and :data:`WIRE_FLAWS` in ``legit_wire.py``.

Run one by hand::

    LEGIT_PANEL_KEYS='k1=500.00,k2=1.00' LEGIT_PANEL_FLAW=NAME \\
        python -m tests.conformance.legit_panels serve perfectpanel-classic
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BASE_PANEL", "FlawedPanel"]

BASE_PANEL = "perfectpanel-classic"
"""The correct panel every flaw is applied to (it certifies black-box and controlled)."""


@dataclass(frozen=True, slots=True)
class FlawedPanel:
    """One flaw and what the harness must say about a panel that has it."""

    name: str
    """The flaw, as ``Rules.flaws`` / ``Wire.flaws`` name it."""
    defect: str
    """The defect in a reader's words."""
    catches: tuple[str, ...]
    """The clauses the harness must FAIL it under (each the clause the flaw breaks)."""
    caught_by: tuple[str, ...]
    """Harness tests or scenarios whose FAIL evidence shows the flaw."""
    also_fails: tuple[str, ...] = ()
    """Clauses the flaw breaks by its nature too: asserted FAIL as well."""
    crosstalk: tuple[tuple[str, str], ...] = ()
    """Clauses that may move (FAIL, or away from the unbroken run's verdict) although the flaw
    does not break them, each with why the check is not specific yet."""
    controlled: bool = False
    """Run with the control API (a manual clock) instead of black-box."""
