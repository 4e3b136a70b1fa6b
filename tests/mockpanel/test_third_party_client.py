"""A real SMM client from PyPI driven against the mock: ``babismm`` (import name ``smm``).

babismm 1.0.1 is a ``requests`` client that POSTs form bodies to ``/api/v2`` and covers every
canonical action, so it exercises the mock the way resellers' code does. Each step checks the
client's result against the mock's own record of the exchange (the journal) and its state.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from smm import SMM, SMMAPIError, SMMNetworkError

from mockpanel.pytest_plugin import MockPanelHandle

LINK = "https://example.test/reel/1"
UNKNOWN = 987654321


def _last_exchange(panel: MockPanelHandle) -> dict[str, object]:
    return panel.journal()[-1]


@pytest.mark.parametrize("mock_panel", ["reference", "perfectpanel", "smmhub"], indirect=True)
def test_babismm_round_trip(mock_panel: MockPanelHandle) -> None:
    with SMM(mock_panel.url, mock_panel.key) as client:
        balance = client.get_balance()
        assert balance == {"balance": "100.00000", "currency": "USD"}

        services = client.get_services()
        assert services == mock_panel.call("services")[1]
        assert {item["service"] for item in services} >= {1, 2}

        added = client.add_order(service=1, link=LINK, quantity=1000)
        order = added["order"]
        sent = _last_exchange(mock_panel)
        assert sent["params"] == {
            "key": "[redacted]",
            "action": "add",
            "service": "1",
            "link": LINK,
            "quantity": "1000",
        }
        assert sent["response"] == added
        assert Decimal(client.get_balance()["balance"]) == mock_panel.balance() == Decimal("99.1")

        status = client.get_status(order)
        assert status == mock_panel.call("status", order=order)[1]
        assert (status["status"], status["charge"], status["remains"]) == (
            "Pending",
            "0.90000",
            "1000",
        )

        several = client.get_multi_status([order, UNKNOWN])
        assert several[str(order)] == status
        assert several[str(UNKNOWN)] == {"error": "Incorrect order ID"}

        assert client.cancel_orders([order]) == [{"order": order, "cancel": 1}]
        assert mock_panel.balance() == Decimal("100")
        assert client.get_status(order)["status"] == "Canceled"

        done = client.add_order(service=1, link=LINK, quantity=500)["order"]
        mock_panel.set_outcome(done, "Completed")
        refill = client.create_refill(done)["refill"]
        assert client.get_refill_status(refill) == {"status": "Pending"}
        mock_panel.set_refill_outcome(refill, "Completed")
        assert client.get_refill_status(refill) == {"status": "Completed"}

        listed = client.create_multi_refill([done, UNKNOWN])
        assert listed[0]["order"] == done
        assert isinstance(listed[0]["refill"], int)
        assert listed[1] == {"order": UNKNOWN, "refill": {"error": "Incorrect order ID"}}
        statuses = client.get_multi_refill_status([refill, listed[0]["refill"]])
        assert [item["status"] for item in statuses] == ["Completed", "Pending"]
        assert mock_panel.balance() == Decimal("99.55")  # only the 500 order is charged


def test_babismm_sees_refusals_as_api_errors_and_nothing_is_charged(
    mock_panel: MockPanelHandle,
) -> None:
    with SMM(mock_panel.url, mock_panel.key) as client:
        with pytest.raises(SMMAPIError, match=r"^Quantity less than minimal 50$"):
            client.add_order(service=1, link=LINK, quantity=1)
        with pytest.raises(SMMAPIError, match=r"^Incorrect service ID$"):
            client.add_order(service=999, link=LINK, quantity=100)
        with pytest.raises(SMMAPIError, match=r"^Incorrect order ID$"):
            client.get_status(UNKNOWN)
    assert mock_panel.balance() == Decimal("100")
    with (
        SMM(mock_panel.url, "not-a-key") as stranger,
        pytest.raises(SMMAPIError, match=r"^Invalid API key$"),
    ):
        stranger.get_balance()


@pytest.mark.mock_profile("smmpremium")
def test_babismm_loses_the_message_on_a_4xx_panel(mock_panel: MockPanelHandle) -> None:
    # protocol-variants.md section 9: clients that raise_for_status lose a 4xx panel's message.
    with SMM(mock_panel.url, "not-a-key") as stranger, pytest.raises(SMMNetworkError) as caught:
        stranger.get_balance()
    assert "401" in str(caught.value)
    assert caught.value.response is not None
    assert caught.value.response.json() == {"error": "Invalid API key"}
    with SMM(mock_panel.url, mock_panel.key) as client:
        assert client.get_balance() == {"balance": "100.00", "currency": "INR"}
        order = client.add_order(service=1, link=LINK, quantity=1000)["order"]
        assert isinstance(order, str)
        assert order.isalnum()  # alphanumeric ids (seed 000)
        assert client.cancel_orders([order]) == {"order": order, "cancel": {"status": "success"}}
