"""The check registry: small pure functions over one exchange that raise a typed failure.

A check receives an :class:`~harness.base.exchange.Exchange` and the :class:`Facts` the caller
knows (the ordered quantity, the previous answer about the same order, the expected kind of
error), and either returns or raises :class:`CheckFailure` naming its clause and grade. Checks do
no I/O. Each is registered with the forms and answer kinds it applies to, so :meth:`Registry.run`
can apply every relevant check to every exchange automatically; pair checks
(``needs=("previous",)``) run only when an earlier answer is supplied. The ``expect_*`` functions
are the outcome expectations of the suite ("this must be refused"): the clause is the caller's.

The modules, each using only :mod:`~harness.judging.checks.core` (and ``harness.base``,
``harness.contract``, ``harness.judging.verdicts``)::

    core          the failure type, Facts, the @check decorator, Registry; shared readers
    schema        each form's answer against its lenient and its canonical schema
    envelope      a JSON answer to every protocol request, no 5xx, the error envelope
    catalogue     the services list
    money         the balance and every amount
    status        order status words, counts, and never going backwards
    batches       one member per requested id
    canonical     the canonical dialect's types and spellings (SHOULD clauses)
    expectations  fail, require, expect_error, expect_success

:data:`DEFAULT_REGISTRY` holds every check, in the order above (schema to canonical) and, within a
family, in definition order: the order results and failures of one exchange come in.

Failure hierarchy::

    CheckFailure          a clause was broken (grade FAIL or NON_STRICT), with its exchanges
    ├── Violation         one the stateful suite's model ledger saw (harness.panel.ledger_model)
    └── ScenarioFailure   one seen in a scenario step (harness.scenarios.assertions)
"""

from __future__ import annotations

from harness.judging.checks import (
    batches,
    canonical,
    catalogue,
    envelope,
    money,
    schema,
    status,
)
from harness.judging.checks.core import (
    NO_FACTS,
    Applies,
    Check,
    CheckFailure,
    CheckResult,
    ErrorKind,
    Facts,
    Grade,
    Registry,
    answer_kind,
    check,
    protocol_request,
    requested_ids,
    server_broke,
    unusable_by,
)
from harness.judging.checks.expectations import expect_error, expect_success, fail, require

__all__ = [
    "DEFAULT_REGISTRY",
    "NO_FACTS",
    "Applies",
    "Check",
    "CheckFailure",
    "CheckResult",
    "ErrorKind",
    "Facts",
    "Grade",
    "Registry",
    "answer_kind",
    "check",
    "expect_error",
    "expect_success",
    "fail",
    "protocol_request",
    "requested_ids",
    "require",
    "server_broke",
    "unusable_by",
]

DEFAULT_REGISTRY = schema.CHECKS.merged(
    envelope.CHECKS,
    catalogue.CHECKS,
    money.CHECKS,
    status.CHECKS,
    batches.CHECKS,
    canonical.CHECKS,
)
