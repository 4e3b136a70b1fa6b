"""The v2 contract as data: schemas, clauses and the canonical dialect (no network, no pytest).

``harness.contract.validate(...)`` and ``harness.contract.clauses()`` are the documented entry
points; everything here is read from ``schemas/`` through :mod:`harness.contract.resources`.
"""

from __future__ import annotations

from harness.contract.schemas import (
    BASE_URI,
    CANONICAL_FORMS,
    FORMS,
    REQUEST_FORMS,
    RESPONSE_FORMS,
    Basis,
    Citation,
    Clause,
    ContractError,
    Direction,
    Violation,
    clauses,
    contract_hash,
    forms,
    is_canonical,
    registry,
    schema,
    schema_documents,
    service_types,
    validate,
)

__all__ = [
    "BASE_URI",
    "CANONICAL_FORMS",
    "FORMS",
    "REQUEST_FORMS",
    "RESPONSE_FORMS",
    "Basis",
    "Citation",
    "Clause",
    "ContractError",
    "Direction",
    "Violation",
    "clauses",
    "contract_hash",
    "forms",
    "is_canonical",
    "registry",
    "schema",
    "schema_documents",
    "service_types",
    "validate",
]
