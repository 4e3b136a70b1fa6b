"""smmhub words a refused cancel by the order's state, as seed 002 shows it:

    curl ... -d "action=cancel" -d "orders=1832047,1832048"
    [
    { "order": 1832047, "cancel": 1 },
    { "order": 1832048, "cancel": { "error": "Order already completed" } }
    ]

The wording is data (``ErrorSpec.by_status``), so the other profiles keep theirs and a profile
may not name a status that does not exist.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from mockpanel.errors import ErrorCode
from mockpanel.profiles import REFERENCE, SMMHUB, ErrorSpec
from mockpanel.state import OrderStatus

if TYPE_CHECKING:
    from tests.fixtures.inprocess import MakePanel


async def test_the_seeds_cancel_example(make_panel: MakePanel) -> None:
    panel = await make_panel("smmhub")
    key = await panel.tenant()
    pending, completed = await panel.place(key), await panel.place(key)
    await panel.force(completed, "Completed")
    status, body = await panel.api(key=key, action="cancel", orders=f"{pending},{completed}")
    assert status == 200
    assert body == [
        {"order": int(pending), "cancel": 1},
        {"order": int(completed), "cancel": {"error": "Order already completed"}},
    ]


@pytest.mark.parametrize(("outcome", "extra"), [("Partial", {"remains": 10}), ("Canceled", {})])
async def test_other_finished_orders_keep_the_general_wording(
    make_panel: MakePanel, outcome: str, extra: dict[str, int]
) -> None:
    """Seed 002 words only the completed case; a Partial or Canceled order is not "already
    completed", so it gets the profile's general refusal (golden table)."""
    panel = await make_panel("smmhub")
    key = await panel.tenant()
    order = await panel.place(key)
    await panel.force(order, outcome, **extra)
    status, body = await panel.api(key=key, action="cancel", orders=order)
    _, expected = panel.expected_error(ErrorCode.ORDER_NOT_CANCELLABLE)
    assert (status, body) == (200, [{"order": int(order), "cancel": expected}])
    assert expected == {"error": "Order cannot be canceled"}


async def test_another_profile_is_not_touched(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant()
    order = await panel.place(key)
    await panel.force(order, "Completed")
    _, body = await panel.api(key=key, action="cancel", orders=order)
    assert body == [{"order": int(order), "cancel": {"error": "The order cannot be canceled"}}]


def test_the_template_follows_the_status_parameter() -> None:
    spec = SMMHUB.errors[ErrorCode.ORDER_NOT_CANCELLABLE]
    assert spec.template({"order": "1", "status": OrderStatus.COMPLETED}) == (
        "Order already completed"
    )
    assert spec.template({"order": "1", "status": OrderStatus.PARTIAL}) == (
        "Order cannot be canceled"
    )
    assert spec.template({}) == "Order cannot be canceled"  # no status: the general wording
    plain = ErrorSpec("Refused {order}")
    assert plain.template({"status": "Completed"}) == "Refused {order}"


@pytest.mark.parametrize(
    ("by_status", "problem"),
    [
        ((("Finished", "Order already completed"),), "'Finished' is not an order status"),
        ((("Completed", "Order {0} done"),), "is not a template of named {fields}"),
    ],
)
def test_a_profile_with_a_bad_status_wording_is_refused(
    by_status: tuple[tuple[str, str], ...], problem: str
) -> None:
    errors = dict(REFERENCE.errors)
    errors[ErrorCode.ORDER_NOT_CANCELLABLE] = ErrorSpec("No", 200, (), by_status)
    with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        replace(REFERENCE, name="broken", errors=errors)
