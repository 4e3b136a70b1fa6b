"""The journal ring buffer: bounded, redacted, filterable, never reusing a sequence number."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from mockpanel.wire.journal import REDACTED, DeliveryOutcome, FaultNote, Journal

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel


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
        "faults": [],
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


def _delivery(journal: Journal, tenant: str, attempt: int, outcome: DeliveryOutcome) -> None:
    journal.record_delivery(time=1.0, tenant=tenant, order="7", url="http://127.0.0.1:9/h",
                            attempt=attempt, status=500, error=None, payload={"order_id": 7},
                            outcome=outcome)


def test_exchanges_and_deliveries_share_one_bounded_buffer_and_one_sequence() -> None:
    journal = Journal(3)
    _record(journal, "t1", 0)
    _delivery(journal, "t1", 1, DeliveryOutcome.RETRYING)
    _record(journal, "t2", 1)
    _delivery(journal, "t2", 2, DeliveryOutcome.GAVE_UP)
    assert len(journal) == 3  # the first exchange fell out
    assert [e.seq for e in journal.entries()] == [3]
    assert [d.seq for d in journal.deliveries()] == [2, 4]
    assert [d.seq for d in journal.deliveries("t2")] == [4]
    assert journal.entries("t1") == ()
    assert journal.deliveries("t2")[0].to_json() == {
        "seq": 4, "time": 1.0, "tenant": "t2", "order": "7", "url": "http://127.0.0.1:9/h",
        "attempt": 2, "status": 500, "error": None, "payload": {"order_id": 7},
        "outcome": "gave_up",
    }


def test_an_exchange_records_its_faults_and_a_dropped_answer() -> None:
    journal = Journal(5)
    entry = journal.record(time=0.0, tenant="t1", action="add", params={"action": "add"},
                           status=None, response={"order": 1},
                           faults=(FaultNote(3, "reset", after=True),))
    assert entry.to_json()["status"] is None
    assert entry.to_json()["faults"] == [{"rule": 3, "fault": "reset", "after": True}]


async def test_the_panels_journal_is_bounded_by_journal_size_with_a_tenant_view(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel("reference", journal_size=4)
    first, second = await panel.tenant(), await panel.tenant()
    for key in (first, second, first, second, first, second):
        await panel.api(key=key, action="balance")
    _, everything = await panel.control("GET", "/journal")
    assert [entry["seq"] for entry in everything["exchanges"]] == [3, 4, 5, 6]
    assert everything["webhooks"] == []
    tenants = {entry["tenant"] for entry in everything["exchanges"]}
    assert len(tenants) == 2
    one = sorted(tenants)[0]
    _, mine = await panel.control("GET", f"/journal?tenant={one}")
    assert [entry["tenant"] for entry in mine["exchanges"]] == [one, one]
    assert first not in json.dumps(everything, default=str)
    assert second not in json.dumps(everything, default=str)


def test_a_noted_exchange_reads_back_as_the_recorded_one_without_its_key() -> None:
    noted, recorded = Journal(5), Journal(5)
    fields = {"key": "secret-key-1", "action": "balance", "x": "1"}
    faults = (FaultNote(1, "delay"),)
    noted.note(2.0, "t1", "balance", fields, 200, {"balance": "1.00"}, faults)
    recorded.record(time=2.0, tenant="t1", action="balance", params=fields, status=200,
                    response={"balance": "1.00"}, faults=faults)
    for journal in (noted, recorded):
        _delivery(journal, "t1", 1, DeliveryOutcome.DELIVERED)
    assert "secret-key-1" not in repr(noted._entries)  # redacted before it is buffered
    assert noted.entries() == recorded.entries()
    assert [e.seq for e in noted.entries()] == [1]
    assert noted.deliveries()[0].seq == 2
    assert dict(noted.entries("t1")[0].params) == {"key": REDACTED, "action": "balance", "x": "1"}
    assert fields["key"] == "secret-key-1"  # the caller's fields are not touched
