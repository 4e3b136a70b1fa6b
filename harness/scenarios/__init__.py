"""Declarative YAML scenarios: the package's public names, re-exported from its modules.

A scenario file (``scenarios/<name>.yaml``, checked by ``schemas/scenario.schema.json``) names
the clauses it checks, what the run must allow (``needs``), services picked from the live
catalogue by selectors, and steps: API requests, control API calls, polls and pauses. Every
assertion cites a clause. The plugin's judge records the verdicts in the run's book next to
the Python suite's, so one summary and one report cover both.

The modules, each using only those above it::

    expressions  a tiny Decimal language, parsed by hand (no eval): names, + - * /, parentheses,
                 and (for ``that``) one comparison; and text with ``${expression}`` templates
    model        the frozen dataclasses of a loaded scenario
    loader       :func:`load_scenario`: YAML, the schema, then the semantic checks
    assertions   judging a step's assertions (:class:`ScenarioFailure` when one breaks), and
                 the JSON-pointer and per-id readers of answers
    runner       :class:`ScenarioRunner`, which runs the steps through a
                 harness.panel.driver.Panel, within the run's :class:`ScenarioSettings`

The runner is handed the panel, the settings, the judge and the time seams; it never sees the
run. The pytest items that run scenario files, and the wiring of a runner to the run, live a
layer up, in ``run/scenario_items.py``.

Exceptions::

    ScenarioError          a file is not a valid scenario (names the file and the JSON pointer)
    ExpressionError        an expression outside the grammar, or one that cannot be evaluated
    ScenarioFailure        a CheckFailure that knows the scenario step it happened in
    ScenarioRuntimeError   the scenario cannot go on for a reason that is not the panel's fault
"""

from __future__ import annotations

from harness.scenarios.assertions import ScenarioFailure
from harness.scenarios.expressions import (
    Expression,
    ExpressionError,
    Template,
    parse_expression,
    parse_template,
)
from harness.scenarios.loader import SCHEMA_ID, ScenarioError, load_file, load_scenario
from harness.scenarios.model import Actor, ControlStep, DeltaCheck, Need, RequestStep, Scenario
from harness.scenarios.runner import ScenarioRunner, ScenarioRuntimeError, ScenarioSettings

__all__ = [
    "SCHEMA_ID",
    "Actor",
    "ControlStep",
    "DeltaCheck",
    "Expression",
    "ExpressionError",
    "Need",
    "RequestStep",
    "Scenario",
    "ScenarioError",
    "ScenarioFailure",
    "ScenarioRunner",
    "ScenarioRuntimeError",
    "ScenarioSettings",
    "Template",
    "load_file",
    "load_scenario",
    "parse_expression",
    "parse_template",
]
