"""The client clauses (``schemas/client_clauses.yaml``), loaded and validated exactly as the
panel clauses are: same loader, same schema (``clauses.schema.json``), same level rule."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from harness import contract
from harness.contract.resources import schemas_dir

__all__ = ["CLAUSE_FILE", "client_clauses"]

CLAUSE_FILE = "client_clauses.yaml"


@functools.cache
def client_clauses() -> Mapping[str, contract.Clause]:
    """The client clauses by id, in file order (cached; a bad file raises ContractError)."""
    here = schemas_dir()
    return contract.clauses(here / CLAUSE_FILE, schema_source=here / "clauses.schema.json")
