"""Every action form in every profile, in-process: the answer validates against the lenient
contract (and, for ``reference`` and ``perfectpanel``, is canonical); an action a profile does
not offer answers that profile's unknown-action (or missing-parameter) error instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from harness.contract import is_canonical, validate
from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES, Handler, Profile
from mockpanel.wire.actions import Call
from mockpanel.wire.render import Reply

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel, Panel


CANONICAL_PROFILES = frozenset({"reference", "perfectpanel"})
UNKNOWN = "999999999"  # never issued: numeric ids start at five digits, alphanumeric are letters


def _multi_status_action(profile: Profile) -> str | None:
    """The action that answers ``orders=`` with a multi-status, if any."""
    if Handler.STATUS in profile.shapes.batch and profile.offers(Handler.STATUS):
        return profile.action_for(Handler.STATUS)
    return profile.action_for(Handler.STATUS_MULTI)


async def _services(panel: Panel, key: str) -> tuple[int, Any]:
    return await panel.api(key=key, action="services")


async def _balance(panel: Panel, key: str) -> tuple[int, Any]:
    return await panel.api(key=key, action="balance")


async def _add(panel: Panel, key: str) -> tuple[int, Any]:
    return await panel.api(key=key, action="add", service="1", link="https://x.test/a",
                           quantity="1000")


async def _status(panel: Panel, key: str) -> tuple[int, Any]:
    order = await panel.place(key)
    await panel.force(order, "Partial", remains=157)
    return await panel.api(key=key, action="status", order=order)


async def _status_multi(panel: Panel, key: str) -> tuple[int, Any]:
    running, pending = await panel.place(key), await panel.place(key)
    await panel.force(running, "In progress", remains=400)
    action = _multi_status_action(panel.profile) or "status"
    status, body = await panel.api(
        key=key, action=action, orders=f"{running}, {pending},{UNKNOWN},,{running}"
    )
    if status == 200:
        assert list(body) == [running, pending, UNKNOWN]  # trimmed, deduplicated, in order
        unknown = body[UNKNOWN]
        message = unknown if isinstance(unknown, str) else unknown["error"]
        assert message == panel.expected_error(ErrorCode.UNKNOWN_ORDER, order=UNKNOWN)[1]["error"]
    return status, body


async def _cancel(panel: Panel, key: str) -> tuple[int, Any]:
    order = await panel.place(key)
    if panel.profile.shapes.cancel.unwrap_single:
        return await panel.api(key=key, action="cancel", orders=order)
    return await panel.api(key=key, action="cancel", orders=f"{order},{UNKNOWN}")


async def _refill(panel: Panel, key: str) -> tuple[int, Any]:
    order = await panel.place(key)
    await panel.force(order, "Completed")
    return await panel.api(key=key, action="refill", order=order)


async def _refill_multi(panel: Panel, key: str) -> tuple[int, Any]:
    order = await panel.place(key)
    await panel.force(order, "Completed")
    return await panel.api(key=key, action="refill", orders=f"{order},{UNKNOWN}")


async def _refill_status(panel: Panel, key: str) -> tuple[int, Any]:
    refill = await panel.refill_of(key, await panel.place(key))
    return await panel.api(key=key, action="refill_status", refill=refill)


async def _refill_status_multi(panel: Panel, key: str) -> tuple[int, Any]:
    refill = await panel.refill_of(key, await panel.place(key))
    await panel.control("POST", f"/refills/{refill}/outcome", {"status": "Rejected"})
    return await panel.api(key=key, action="refill_status", refills=f"{refill},{UNKNOWN}")


Scenario = Callable[["Panel", str], Awaitable[tuple[int, Any]]]


def _batched(handler: Handler) -> Callable[[Profile], bool]:
    return lambda p: p.offers(handler) and handler in p.shapes.batch


# form -> (how to exercise it, whether the profile offers it)
FORMS: dict[str, tuple[Scenario, Callable[[Profile], bool]]] = {
    "services": (_services, lambda p: p.offers(Handler.SERVICES)),
    "balance": (_balance, lambda p: p.offers(Handler.BALANCE)),
    "add": (_add, lambda p: p.offers(Handler.ADD)),
    "status": (_status, lambda p: p.offers(Handler.STATUS)),
    "status-multi": (_status_multi, lambda p: _multi_status_action(p) is not None),
    "cancel": (_cancel, lambda p: p.offers(Handler.CANCEL)),
    "refill": (_refill, lambda p: p.offers(Handler.REFILL)),
    "refill-multi": (_refill_multi, _batched(Handler.REFILL)),
    "refill_status": (_refill_status, lambda p: p.offers(Handler.REFILL_STATUS)),
    "refill_status-multi": (_refill_status_multi, _batched(Handler.REFILL_STATUS)),
}


async def _refused(panel: Panel, key: str, form: str) -> None:
    """A form the profile lacks: unknown action, or (single form only) a missing id param."""
    action = form.split("-")[0]
    if panel.profile.offers(Handler(action)):
        many, one = ("refills", "refill") if action == "refill_status" else ("orders", "order")
        answer = await panel.api(key=key, action=action, **{many: "1,2"})
        assert answer == panel.expected_error(ErrorCode.MISSING_PARAM, param=one)
    else:
        answer = await panel.api(key=key, action=action)
        assert answer == panel.expected_error(ErrorCode.UNKNOWN_ACTION, action=action)
    assert validate("error", "response", answer[1]) == []


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_every_form_in_every_profile(make_panel: MakePanel, name: str, form: str) -> None:
    panel = await make_panel(name)
    key = await panel.tenant()
    scenario, offered = FORMS[form]
    if not offered(panel.profile):
        await _refused(panel, key, form)
        return
    status, body = await scenario(panel, key)
    created = form in ("add", "refill")
    assert status == (panel.profile.wire.create_status if created else 200), body
    assert validate(form, "response", body) == [], body
    if name in CANONICAL_PROFILES:
        assert is_canonical(form, body), body


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_unknown_and_missing_action(make_panel: MakePanel, name: str) -> None:
    panel = await make_panel(name)
    key = await panel.tenant()
    assert await panel.api(key=key, action="nope") == panel.expected_error(
        ErrorCode.UNKNOWN_ACTION, action="nope"
    )
    assert await panel.api(key=key) == panel.expected_error(ErrorCode.MISSING_ACTION)
    assert await panel.api(key=key, action="") == panel.expected_error(ErrorCode.MISSING_ACTION)


@pytest.mark.parametrize("name", sorted(PROFILES))
async def test_missing_and_wrong_key(make_panel: MakePanel, name: str) -> None:
    panel = await make_panel(name)
    await panel.tenant()
    missing = await panel.api(action="balance")
    wrong = await panel.api(key="not-a-key", action="balance")
    assert missing == panel.expected_error(ErrorCode.MISSING_KEY)
    assert wrong == panel.expected_error(ErrorCode.INVALID_KEY)
    for _, body in (missing, wrong):
        assert validate("error", "response", body) == []
        if name in CANONICAL_PROFILES:
            assert is_canonical("error", body)


async def test_multi_status_names_each_vendor_way(make_panel: MakePanel) -> None:
    """smmpremium's ``orders`` and extended's ``multiStatus`` are multi-status; their ``status``
    takes one ``order`` only, while the reference ``status`` takes ``orders`` too."""
    for name, action in (("smmpremium", "orders"), ("extended", "multiStatus")):
        panel = await make_panel(name)
        key = await panel.tenant()
        order = await panel.place(key)
        status, body = await panel.api(key=key, action=action, orders=order)
        assert status == 200
        assert set(body) == {order}
        assert await panel.api(key=key, action="status", orders=order) == panel.expected_error(
            ErrorCode.MISSING_PARAM, param="order"
        )
    reference = await make_panel("reference")
    key = await reference.tenant()
    order = await reference.place(key)
    status, body = await reference.api(key=key, action="status", orders=order)
    assert status == 200
    assert set(body) == {order}
    assert (await reference.api(key=key, action="orders", orders=order))[1] == (
        reference.expected_error(ErrorCode.UNKNOWN_ACTION, action="orders")[1]
    )


async def test_batch_over_the_limit_is_refused_whole(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant()
    ids = ",".join(str(n) for n in range(1, 102))
    assert await panel.api(key=key, action="status", orders=ids) == panel.expected_error(
        ErrorCode.TOO_MANY_IDS, limit=100
    )
    exactly = ",".join(str(n) for n in range(1, 101))
    status, body = await panel.api(key=key, action="status", orders=exactly)
    assert status == 200
    assert len(body) == 100
    assert all(item == {"error": "Incorrect order ID"} for item in body.values())


@pytest.mark.parametrize("orders", [" , ,", "12;34", "1,<script>", "x" * 65])
async def test_batch_ids_must_be_letters_and_digits(make_panel: MakePanel, orders: str) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant()
    status, body = await panel.api(key=key, action="status", orders=orders)
    assert status == 200
    assert body["error"].startswith("Incorrect request:")
    assert "orders" in body["error"]


async def test_other_tenants_orders_look_unknown(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    alice, bob = await panel.tenant(), await panel.tenant()
    order = await panel.place(alice)
    assert await panel.api(key=bob, action="status", order=order) == panel.expected_error(
        ErrorCode.UNKNOWN_ORDER, order=order
    )
    _, body = await panel.api(key=bob, action="cancel", orders=order)
    assert body == [{"order": int(order), "cancel": {"error": "Incorrect order ID"}}]
    assert (await panel.api(key=alice, action="status", order=order))[1]["status"] == "Pending"


async def test_not_cancellable_is_an_item_error_and_keeps_money(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant()
    order = await panel.place(key)
    await panel.force(order, "In progress")
    before = await panel.balance(key)
    status, body = await panel.api(key=key, action="cancel", orders=order)
    assert status == 200
    assert body == [{"order": int(order), "cancel": {"error": "The order cannot be canceled"}}]
    assert await panel.balance(key) == before


async def test_smmhub_cancels_in_progress_orders(make_panel: MakePanel) -> None:
    panel = await make_panel("smmhub")
    key = await panel.tenant()
    order = await panel.place(key)
    await panel.force(order, "In progress")
    status, body = await panel.api(key=key, action="cancel", orders=order)
    assert (status, body) == (200, [{"order": int(order), "cancel": 1}])


async def test_status_words_follow_the_profile(make_panel: MakePanel) -> None:
    smmapi = await make_panel("smmapi")
    key = await smmapi.tenant()
    order = await smmapi.place(key)
    await smmapi.force(order, "In progress")
    assert (await smmapi.api(key=key, action="status", order=order))[1]["status"] == "Inprogress"

    smmserver = await make_panel("smmserver")
    key = await smmserver.tenant()
    order = await smmserver.place(key)
    await smmserver.force(order, "Canceled")
    body = (await smmserver.api(key=key, action="status", order=order))[1]
    assert body["status"] == "Cancelled"
    refill = await smmserver.refill_of(key, await smmserver.place(key))
    await smmserver.control("POST", f"/refills/{refill}/outcome", {"status": "Rejected"})
    body = (await smmserver.api(key=key, action="refill_status", refill=refill))[1]
    assert body == {"status": "Cancelled"}


async def test_smartpanel_serves_api_v1_by_get_as_pretty_text_html(make_panel: MakePanel) -> None:
    panel = await make_panel("smartpanel")
    key = await panel.tenant("12.5")
    response = await panel.client.get("/api/v1", params={"key": key, "action": "balance"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    text = await response.text()
    assert text == (
        '{\n    "status": "success",\n    "balance": "12.50000",\n    "currency": "USD"\n}'
    )


async def test_get_is_not_routed_where_the_profile_takes_no_query(make_panel: MakePanel) -> None:
    panel = await make_panel("perfectpanel")
    key = await panel.tenant()
    response = await panel.client.get("/api/v2", params={"key": key, "action": "balance"})
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "Method Not Allowed"}


async def test_trailing_slash_path_is_the_same_api(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("3")
    response = await panel.client.post("/api/v2/", data={"key": key, "action": "balance"})
    assert await response.json() == {"balance": "3.00000", "currency": "USD"}


async def test_ids_sent_as_zero_or_zero_padded_are_echoed_as_text(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant()
    status, body = await panel.api(key=key, action="refill", orders="0,007")
    assert status == 200
    assert body == [
        {"order": "0", "refill": {"error": "Incorrect order ID"}},
        {"order": "007", "refill": {"error": "Incorrect order ID"}},
    ]
    assert validate("refill-multi", "response", body) == []


async def test_extended_refills_one_completed_order_and_refuses_the_rest(
    make_panel: MakePanel,
) -> None:
    """Seed 004: "Status / cancel / refill on an existing subscription still work normally
    through the API"; refill takes one ``order`` (the profile has no batch forms)."""
    panel = await make_panel("extended")
    key = await panel.tenant()
    done, running = await panel.place(key), await panel.place(key)
    await panel.force(done, "Completed")
    status, body = await panel.api(key=key, action="refill", order=done)
    assert status == 200
    assert set(body) == {"refill"}
    assert validate("refill", "response", body) == []
    assert await panel.api(key=key, action="refill", order=running) == panel.expected_error(
        ErrorCode.ORDER_NOT_COMPLETED, order=running, status="Pending"
    )
    assert panel.expected_error(ErrorCode.ORDER_NOT_COMPLETED)[0] == 400
    assert await panel.api(key=key, action="refill", order=UNKNOWN) == panel.expected_error(
        ErrorCode.UNKNOWN_ORDER, order=UNKNOWN
    )
    # no refill_status in seed 004: the misspelling hint does not point at "refill"
    status, body = await panel.api(key=key, action="refill_status", refill="1")
    assert (status, body) == panel.expected_error(ErrorCode.UNKNOWN_ACTION, action="refill_status")


def test_a_call_and_its_reply_are_immutable() -> None:
    reply = Reply({"balance": "1.00"})
    assert (reply.status, reply.headers) == (200, ())
    with pytest.raises(AttributeError):
        reply.status = 500  # type: ignore[misc]
    assert reply._replace(status=429).status == 429
    call = Call(None, None, None, {})  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        call.params = {"key": "x"}  # type: ignore[misc]
