"""How to: test your SMM client against the ``mock_panel`` fixture (sync, no setup needed).

Installing smm-conformance registers the fixture. Each test gets a fresh tenant (its own key and
balance) on a mock panel whose clock only moves when the test says so.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mockpanel.pytest_plugin import MockPanelHandle


def test_a_partial_order_refunds_the_undelivered_part(mock_panel: MockPanelHandle) -> None:
    # Your client would POST these; `call` does the same with urllib and returns (status, json).
    status, body = mock_panel.call("add", service=1, link="https://example.test/p/1", quantity=1000)
    assert status == 200
    order = body["order"]
    assert mock_panel.balance() == Decimal("99.10")  # rate 0.90 per 1000

    mock_panel.advance(3)  # seconds on the mock's clock: Pending -> In progress
    assert mock_panel.call("status", order=order)[1]["status"] == "In progress"

    mock_panel.set_outcome(order, "Partial", remains=250)  # the provider under-delivers
    _, state = mock_panel.call("status", order=order)
    assert (state["status"], state["remains"]) == ("Partial", "250")
    assert mock_panel.balance() == Decimal("99.325")  # 250/1000 of 0.90 came back


@pytest.mark.mock_profile("smmpremium", balance="2.00")
def test_pick_a_vendor_dialect_with_a_marker(mock_panel: MockPanelHandle) -> None:
    status, body = mock_panel.call("add", service=1, link="https://example.test/p", quantity=9999)
    # smmpremium refuses with a real HTTP status, in its own currency (INR).
    assert (status, body) == (402, {"error": "Not enough funds on balance"})
    assert mock_panel.balance() == Decimal("2.00")


@pytest.mark.parametrize("mock_panel", ["reference", "smmhub", "smmserver"], indirect=True)
def test_one_client_against_several_dialects(mock_panel: MockPanelHandle) -> None:
    _, body = mock_panel.call("add", service=1, link="https://example.test/p", quantity=100)
    # The order id is an int in most dialects and a string in smmserver's: normalise to str.
    order = str(body["order"])
    _, state = mock_panel.call("status", order=order)
    assert state["status"] == "Pending"
    # Journal: what the mock received from you, with the key redacted.
    assert [entry["action"] for entry in mock_panel.journal()] == ["add", "status"]
