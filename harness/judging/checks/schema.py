"""Schema checks: each form's answer against its lenient schema and its canonical one.

The lenient schema of each form cites the form's MUST clause; the canonical schema cites
GEN-005 (a dialect variant is NON-STRICT). The SHOULD clauses about one detail of the canonical
shape (ADD-002, BAL-003, STATUS-007, ...) have checks of their own, in
:mod:`harness.judging.checks.canonical`.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness import contract
from harness.base.exchange import Exchange
from harness.judging.checks.core import (
    Applies,
    Check,
    Facts,
    Grade,
    Registry,
    broken,
    schema_problem,
)

__all__ = ["CANONICAL_CLAUSE", "CHECKS", "SCHEMA_CLAUSES"]


SCHEMA_CLAUSES: Mapping[str, str] = {
    "services": "SVC-001",
    "balance": "BAL-001",
    "add": "ADD-001",
    "status": "STATUS-001",
    "status-multi": "MSTATUS-001",
    "cancel": "CANCEL-001",
    "refill": "REFILL-001",
    "refill-multi": "REFILL-007",
    "refill_status": "RSTATUS-001",
    "refill_status-multi": "RSTATUS-003",
}
CANONICAL_CLAUSE = "GEN-005"


def _lenient(clause: str, form: str) -> Check:
    def fn(exchange: Exchange, facts: Facts) -> None:
        problem = schema_problem(form, exchange.json)
        if problem:
            broken(problem)

    fn.__name__ = f"schema_{form.replace('-', '_')}"
    return Check(fn.__name__, clause, f"{form} answer matches the contract", fn,
                 frozenset({form}), Applies.SUCCESS)


def _canonical(form: str) -> Check:
    def fn(exchange: Exchange, facts: Facts) -> None:
        if contract.is_canonical(form, exchange.json):
            return
        if contract.validate(form, "response", exchange.json):
            return  # off the lenient schema: that is the MUST clause's failure, not a variant
        broken(f"a dialect variant: {schema_problem(form, exchange.json, 'canonical')}")

    fn.__name__ = f"canonical_{form.replace('-', '_')}"
    return Check(fn.__name__, CANONICAL_CLAUSE, f"{form} answer has the canonical shape", fn,
                 frozenset({form}), Applies.SUCCESS, Grade.NON_STRICT)


CHECKS = Registry(
    [_lenient(clause, form) for form, clause in SCHEMA_CLAUSES.items()]
    + [_canonical(form) for form in SCHEMA_CLAUSES]
)
