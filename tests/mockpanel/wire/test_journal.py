"""The journal ring buffer: bounded, redacted, filterable, never reusing a sequence number."""

from __future__ import annotations

import pytest

from mockpanel.wire.journal import REDACTED, Journal


def _record(journal: Journal, tenant: str | None, n: int) -> None:
    journal.record(time=float(n), tenant=tenant, action="balance",
                   params={"key": f"secret-{n}", "action": "balance"}, status=200,
                   response={"n": n})


def test_keeps_the_last_entries_in_order_and_redacts_keys() -> None:
    journal = Journal(3)
    for n in range(5):
        _record(journal, "t1" if n % 2 else "t2", n)
    entries = journal.entries()
    assert [e.seq for e in entries] == [3, 4, 5]
    assert all(e.params["key"] == REDACTED for e in entries)
    assert "secret" not in repr(entries)
    assert entries[-1].to_json() == {
        "seq": 5, "time": 4.0, "tenant": "t2", "action": "balance",
        "params": {"key": REDACTED, "action": "balance"}, "status": 200, "response": {"n": 4},
    }
    with pytest.raises(TypeError):
        entries[0].params["key"] = "x"  # type: ignore[index]


def test_filters_by_tenant_and_clears_without_reusing_numbers() -> None:
    journal = Journal(10)
    for n in range(4):
        _record(journal, "t1" if n % 2 else None, n)
    assert [e.seq for e in journal.entries("t1")] == [2, 4]
    journal.clear()
    assert len(journal) == 0
    _record(journal, "t1", 9)
    assert [e.seq for e in journal.entries()] == [5]


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Journal(0)
