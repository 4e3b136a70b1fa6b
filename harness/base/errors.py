"""The harness's exceptions: one tree, so a caller can catch what it means.

Failures of the panel are not exceptions of this tree: they are
:class:`~harness.judging.checks.CheckFailure` (an ``AssertionError``, so pytest reports a failed
test), and a test that cannot apply is :class:`~harness.judging.judge.NotApplicable`. Everything
below is the harness's own trouble, or the panel's refusal to be tested::

    HarnessError
    ├── TransportError        the request got no HTTP answer
    ├── Throttled             the panel kept a request throttled longer than the harness waits
    ├── ControlError          the mock's control API refused a request or could not be reached
    ├── SpendRefused          a request's worst case does not fit under --panel-max-spend
    ├── SpendGateError        a spending request without a valid reservation (a harness bug)
    ├── PreflightFailed       (run.preflight) the panel cannot be certified as configured
    ├── PanelUnusable         (interop.st_panel) the same, met by a Schemathesis run
    ├── ScenarioRuntimeError  (scenarios.runner) a scenario cannot go on, not the panel's fault
    └── DataError             a data file or expression is invalid (also a ValueError)
        ├── ContractError     (contract.schemas) a contract file
        ├── DialectDataError  (contract.dialects) dialects.yaml
        ├── OpenAPIBuildError (contract.openapi) a schema that cannot be embedded
        ├── ScenarioError     (scenarios.loader) a scenario file
        └── ExpressionError   (scenarios.expressions) a scenario expression
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "ControlError",
    "DataError",
    "HarnessError",
    "SpendGateError",
    "SpendRefused",
    "Throttled",
    "TransportError",
]


class HarnessError(Exception):
    """Anything the harness raises on purpose."""


class DataError(HarnessError, ValueError):
    """A data file or an expression the harness reads is invalid."""


class TransportError(HarnessError):
    """The request got no HTTP answer: refused, reset, timed out, or an unreadable response."""


class Throttled(HarnessError):
    """The panel kept a request throttled longer than the harness may wait: the test cannot
    judge anything, and no clause is blamed for the harness's own patience."""


class ControlError(HarnessError):
    """The control API refused a request or could not be reached."""


class SpendRefused(HarnessError):
    """The worst case of a request does not fit under ``--panel-max-spend``."""

    def __init__(self, needed: Decimal, remaining: Decimal) -> None:
        super().__init__(
            f"not allowed by the spend cap: needs up to {needed}, {remaining} left under the cap"
        )
        self.needed = needed
        self.remaining = remaining


class SpendGateError(HarnessError, RuntimeError):
    """A request that can spend was about to go out without a valid reservation (a harness bug)."""
