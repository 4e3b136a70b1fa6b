"""Suspending a tenant through the control API (seed 000: "| 403 | Account suspended | Contact
support. |"): every API request of the tenant, reads included, gets its profile's refusal and
changes nothing; resuming gives the account back as it was; the routes are guarded, idempotent
and answer a clear 404 for an unknown tenant.

The expected refusals come from the golden table (:mod:`tests.fixtures.error_replies`), never
from the renderer under test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel, Panel

from tests.fixtures.constants import DEFAULT_SERVICE, LINK


async def _tenant_row(panel: Panel, tenant: str) -> dict[str, Any]:
    status, state = await panel.control("GET", "/state")
    assert status == 200, state
    rows = [row for row in state["tenants"] if row["id"] == tenant]
    assert len(rows) == 1, state["tenants"]
    return dict(rows[0])


async def _suspend(panel: Panel, tenant: str, verb: str = "suspend") -> tuple[int, Any]:
    return await panel.control("POST", f"/tenants/{tenant}/{verb}")


def _every_request(order_id: str) -> list[dict[str, str]]:
    """One plausible request per field shape an action may take; suspension is decided before
    any of them is read, so each must be refused the same way."""
    return [
        {"action": "services"},
        {"action": "balance"},
        {"action": "add", "service": DEFAULT_SERVICE, "link": LINK, "quantity": "1000"},
        {"action": "status", "order": order_id},
        {"action": "status", "orders": order_id},
        {"action": "orders", "orders": order_id},
        {"action": "multiStatus", "orders": order_id},
        {"action": "cancel", "orders": order_id},
        {"action": "refill", "order": order_id},
        {"action": "refill_status", "refill": "1"},
        {"action": "no_such_action"},  # refused as suspended, not as an unknown action
        {},  # no action at all: the account is refused first
    ]


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_a_suspended_tenant_is_refused_everything_in_its_profiles_words(
    make_panel: MakePanel, profile: str
) -> None:
    panel = await make_panel(profile)
    key, tenant = await panel.open_tenant("50")
    other = await panel.tenant("50")
    order_id = await panel.place(key)
    before = await _tenant_row(panel, tenant)

    status, body = await _suspend(panel, tenant)
    assert (status, body) == (200, {"tenant": tenant, "suspended": True, "changed": True})

    expected = panel.expected_error(ErrorCode.ACCOUNT_SUSPENDED)
    for fields in _every_request(order_id):
        assert await panel.api(key=key, **fields) == expected, fields

    after = await _tenant_row(panel, tenant)
    assert after["suspended"] is True
    assert {k: v for k, v in after.items() if k != "suspended"} == {
        k: v for k, v in before.items() if k != "suspended"
    }  # no debit, no order, no refill: the account is exactly as it was
    # Another tenant of the same panel is untouched; a wrong key is still a wrong key.
    assert await panel.balance(other) == Decimal("50")
    assert await panel.api(key="not-a-key", action="balance") == panel.expected_error(
        ErrorCode.INVALID_KEY
    )

    status, body = await _suspend(panel, tenant, "resume")
    assert (status, body) == (200, {"tenant": tenant, "suspended": False, "changed": True})
    assert await panel.balance(key) == Decimal(before["balance"])
    assert await panel.place(key)  # and it may spend again
    assert (await _tenant_row(panel, tenant))["suspended"] is False


async def test_smmpremium_answers_the_seeds_403() -> None:
    """Seed 000's table, as data: the one profile whose seed states the refusal."""
    spec = PROFILES["smmpremium"].errors[ErrorCode.ACCOUNT_SUSPENDED]
    assert (spec.status, spec.message) == (403, "Account suspended")


async def test_suspend_and_resume_are_idempotent(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpremium")
    key, tenant = await panel.open_tenant()
    assert (await _suspend(panel, tenant))[1]["changed"] is True
    assert await _suspend(panel, tenant) == (
        200, {"tenant": tenant, "suspended": True, "changed": False}
    )
    assert (await panel.api(key=key, action="balance"))[0] == 403
    assert (await _suspend(panel, tenant, "resume"))[1]["changed"] is True
    assert await _suspend(panel, tenant, "resume") == (
        200, {"tenant": tenant, "suspended": False, "changed": False}
    )
    assert await panel.balance(key) == Decimal("1000")


@pytest.mark.parametrize("verb", ["suspend", "resume"])
async def test_an_unknown_tenant_is_a_clear_404(make_panel: MakePanel, verb: str) -> None:
    panel = await make_panel()
    await panel.open_tenant()
    for tenant in ("t999", "nobody", "%20"):
        status, body = await _suspend(panel, tenant, verb)
        assert status == 404
        assert body == {"error": f"no tenant {tenant.replace('%20', ' ')}"}


async def test_a_body_with_fields_is_refused_and_changes_nothing(make_panel: MakePanel) -> None:
    panel = await make_panel()
    key, tenant = await panel.open_tenant()
    status, body = await panel.control("POST", f"/tenants/{tenant}/suspend", {"for": "ever"})
    assert status == 400
    assert body["field"] == "for"
    assert await panel.balance(key) == Decimal("1000")  # not suspended
    assert await panel.control("POST", f"/tenants/{tenant}/suspend", {}) == (
        200, {"tenant": tenant, "suspended": True, "changed": True}
    )


@pytest.mark.parametrize("verb", ["suspend", "resume"])
async def test_the_routes_need_the_control_token(make_panel: MakePanel, verb: str) -> None:
    panel = await make_panel()
    key, tenant = await panel.open_tenant()
    url = f"/_mock/tenants/{tenant}/{verb}"
    response = await panel.client.post(url)
    assert response.status == 401
    response = await panel.client.post(url, headers={"Authorization": "Bearer wrong"})
    assert response.status == 403
    assert await panel.balance(key) == Decimal("1000")  # a refused control call did nothing
    assert (await _tenant_row(panel, tenant))["suspended"] is False


async def test_orders_in_flight_run_on_and_the_control_plane_may_finish_them(
    make_panel: MakePanel,
) -> None:
    """Suspension stops the tenant, not the panel: its order still completes on the clock and
    an outcome forced through the control API still refunds it."""
    panel = await make_panel()
    key, tenant = await panel.open_tenant("100")
    running = await panel.place(key)
    partial = await panel.place(key)
    await _suspend(panel, tenant)
    await panel.force(partial, "Partial", remains=500)  # 0.90 * 1000 / 1000, half refunded
    await panel.advance(60)
    status, state = await panel.control("GET", "/state")
    assert status == 200
    statuses = {o["id"]: o["status"] for o in state["orders"]}
    assert statuses[running] == "Completed"
    assert statuses[partial] == "Partial"
    assert (await _tenant_row(panel, tenant))["balance"] == "98.65000"  # 100 - 0.9 - 0.45
    assert (await panel.api(key=key, action="balance"))[1] == {"error": "Account suspended"}


async def test_reset_forgets_a_suspension(make_panel: MakePanel) -> None:
    panel = await make_panel(keys=(("fixed-key", Decimal("10")),))
    status, state = await panel.control("GET", "/state")
    assert status == 200
    tenant = state["tenants"][0]["id"]
    await _suspend(panel, tenant)
    assert (await panel.api(key="fixed-key", action="balance"))[1] == {
        "error": "Account suspended"
    }
    assert (await panel.control("POST", "/reset"))[0] == 200
    assert await panel.balance("fixed-key") == Decimal("10")
