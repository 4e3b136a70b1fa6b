"""Processing on the wire: smmpro (seed 001) and smmhub (seed 002) list it among their status
values, so an order placed with ``mock_outcome=processing`` answers ``"status": "Processing"``
while it works, single and in a batch; a dialect whose seed never lists it refuses the link;
and the harness reads the word as In progress (its rank, never a backwards step)."""

from __future__ import annotations

import pytest

from harness.base import values
from tests.fixtures.inprocess import MakePanel

LINK = "https://x.test/p"


@pytest.mark.parametrize("profile", ["smmpro", "smmhub"])
async def test_the_seeds_dialects_show_processing_then_completed(
    make_panel: MakePanel, profile: str
) -> None:
    panel = await make_panel(profile)
    key = await panel.tenant("100")
    status, body = await panel.api(key=key, action="add", service="1",
                                   link=f"{LINK}?mock_outcome=processing", quantity="1000")
    assert status == 200, body
    order = str(body["order"])
    plain = await panel.place(key)
    await panel.advance(3)
    _, single = await panel.api(key=key, action="status", order=order)
    assert single["status"] == "Processing"
    _, batch = await panel.api(key=key, action="status", orders=f"{order},{plain}")
    assert (batch[order]["status"], batch[plain]["status"]) == ("Processing", "In progress")
    assert values.order_status("Processing") is values.OrderStatus.PROCESSING
    assert values.OrderStatus.PROCESSING.rank == values.OrderStatus.IN_PROGRESS.rank
    await panel.advance(30)
    _, single = await panel.api(key=key, action="status", order=order)
    assert single["status"] == "Completed"


async def test_the_control_outcome_in_progress_shows_the_providers_word(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel("smmhub")
    key = await panel.tenant("100")
    _, body = await panel.api(key=key, action="add", service="1",
                              link=f"{LINK}?mock_outcome=processing", quantity="1000")
    order = str(body["order"])
    forced = await panel.force(order, "In progress", remains=300)
    assert (forced["status"], forced["remains"]) == ("Processing", 300)
    _, single = await panel.api(key=key, action="status", order=order)
    assert (single["status"], str(single["remains"])) == ("Processing", "300")


@pytest.mark.parametrize("profile", ["reference", "extended", "smmapi"])
async def test_a_dialect_whose_seed_never_lists_it_refuses_the_link(
    make_panel: MakePanel, profile: str
) -> None:
    panel = await make_panel(profile)
    key = await panel.tenant("100")
    before = await panel.balance(key)
    _, services = await panel.api(key=key, action="services")
    service = str(services[0]["service"])
    status, body = await panel.api(key=key, action="add", service=service,
                                   link=f"{LINK}?mock_outcome=processing", quantity="1000")
    assert "error" in body, (status, body)
    assert await panel.balance(key) == before
    assert await panel.orders() == []


async def test_the_control_api_cannot_force_the_word_itself_and_changes_nothing(
    make_panel: MakePanel,
) -> None:
    """No record is ever Processing (it is the In-progress state in a provider's word): asked
    for directly, the control API refuses cleanly; the order stays as it was."""
    panel = await make_panel("smmpro")
    key = await panel.tenant("100")
    order = await panel.place(key)
    status, body = await panel.control("POST", f"/orders/{order}/outcome",
                                       {"status": "Processing"})
    assert 400 <= status < 500, body
    assert "Processing" in body["error"]
    _, single = await panel.api(key=key, action="status", order=order)
    assert single["status"] == "Pending"
