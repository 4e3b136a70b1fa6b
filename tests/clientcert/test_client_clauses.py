"""schemas/client_clauses.yaml: loaded by the panel clauses' loader and schema, every quote
found in its source, and ids that never collide with the panel clauses."""

from __future__ import annotations

import re
from pathlib import Path

from clientcert.clauses import client_clauses
from harness import contract

SOURCES = Path(__file__).resolve().parents[2] / "schemas" / "sources"


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_quote_is_in_its_source() -> None:
    for clause in client_clauses().values():
        documents = {c.document for c in clause.evidence}
        assert set(clause.sources) == documents, clause.id
        for citation in clause.evidence:
            source = _flat((SOURCES / citation.document).read_text(encoding="utf-8"))
            assert _flat(citation.quote) in source, f"{clause.id}: {citation.quote!r}"


def test_ids_are_client_ids_and_do_not_collide_with_panel_clauses() -> None:
    ids = list(client_clauses())
    assert all(re.fullmatch(r"CLIENT-\d{3}", cid) for cid in ids)
    assert not set(ids) & set(contract.clauses())
    assert len(ids) >= 13
