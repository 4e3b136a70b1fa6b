"""Seed 004 on the wire (profile ``extended``): the Custom Comments Package form as the seed
documents it, and the Done / Failed status words, shown by the mock and accepted by the
harness (leniently: NON-STRICT under STATUS-003, never a FAIL)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from harness.base.exchange import Exchange, SentRequest
from harness.judging.checks import DEFAULT_REGISTRY, Grade
from harness.panel.ledger_model import Ledger
from mockpanel.errors import ErrorCode
from tests.fixtures.inprocess import MakePanel

LINK = "https://x.test/p"
SEED_REQUEST = {"username": "mychannel", "min": "10", "max": "20", "delay": "30", "posts": "3"}


def exchange(form: str, body: Any, order_id: str) -> Exchange:
    """The mock's answer as the harness records it."""
    request = SentRequest("POST", form, form, (("action", form), ("order", order_id)),
                          "main key", "application/x-www-form-urlencoded", "")
    return Exchange(1, "http://127.0.0.1/api/v2", request, 200,
                    (("Content-Type", "application/json"),), json.dumps(body), body, None,
                    None, 0.0)


def failures(form: str, body: Any, order_id: str) -> dict[str, Grade]:
    """Every registered check that objects to the answer, with its grade."""
    results = DEFAULT_REGISTRY.run(exchange(form, body, order_id))
    return {r.clause: r.failure.grade for r in results if r.failure is not None}


async def test_the_seed_request_is_accepted_and_billed_at_the_upper_bound(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel("extended")
    key = await panel.tenant("100")
    _, services = await panel.api(key=key, action="services")
    package = next(s for s in services if s["type"] == "Custom Comments Package")
    assert package["service"] == "8"
    status, body = await panel.api(key=key, action="add", service="8", **SEED_REQUEST)
    assert status == 200, body
    order = str(body["order"])
    status, body = await panel.api(key=key, action="status", order=order)
    assert (body["charge"], body["remains"], body["status"]) == ("0.48000", "60", "Pending")
    assert await panel.balance(key) == Decimal("99.52000")
    await panel.advance(30)
    _, body = await panel.api(key=key, action="status", order=order)
    assert (body["status"], body["remains"]) == ("Partial", "15")
    assert await panel.balance(key) == Decimal("99.64000")  # 0.12000 back: 0.48 * 15 / 60


async def test_the_classic_form_answers_the_seeds_missing_parameter(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel("extended")
    key = await panel.tenant("100")
    reply = await panel.api(key=key, action="add", service="8", link=LINK, comments="a\nb")
    assert reply == panel.expected_error(ErrorCode.MISSING_PARAM, param="username")
    reply = await panel.api(key=key, action="add", service="8", **{**SEED_REQUEST, "min": "30"})
    # The PerfectPanel request-shape wording the profile keeps, with seed 004's HTTP 400.
    assert reply == (400, {"error": "Incorrect request: invalid max"})
    assert await panel.balance(key) == Decimal("100.00000")
    assert await panel.orders() == []


async def test_the_reference_profile_keeps_link_and_comments(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("100")
    status, body = await panel.api(key=key, action="add", service="8", link=LINK,
                                   comments="a\nb")
    assert status == 200, body
    reply = await panel.api(key=key, action="add", service="8", **SEED_REQUEST)
    assert reply == (200, {"error": "Incorrect request: the link parameter is missing"})


async def test_control_outcomes_show_done_and_failed(make_panel: MakePanel) -> None:
    panel = await make_panel("extended")
    key = await panel.tenant("100")
    done, failed = await panel.place(key), await panel.place(key)
    assert (await panel.force(done, "Done"))["status"] == "Done"
    assert (await panel.force(failed, "Failed"))["status"] == "Failed"
    _, body = await panel.api(key=key, action="status", order=done)
    assert (body["status"], body["remains"]) == ("Done", "0")
    _, body = await panel.api(key=key, action="status", order=failed)
    assert (body["status"], body["remains"]) == ("Failed", "1000")
    # Two orders of 0.90: one kept (Done), one refunded in full (Failed).
    assert await panel.balance(key) == Decimal("99.10000")
    _, multi = await panel.api(key=key, action="multiStatus", orders=f"{done},{failed}")
    assert (multi[done]["status"], multi[failed]["status"]) == ("Done", "Failed")


async def test_magic_links_reach_them_through_the_lifecycle(make_panel: MakePanel) -> None:
    panel = await make_panel("extended")
    key = await panel.tenant("100")
    _, body = await panel.api(key=key, action="add", service="1", quantity="1000",
                              link=f"{LINK}?mock_outcome=failed")
    order = str(body["order"])
    await panel.advance(30)
    _, body = await panel.api(key=key, action="status", order=order)
    assert (body["status"], body["remains"]) == ("Failed", "1000")
    assert await panel.balance(key) == Decimal("100.00000")


async def test_a_dialect_without_them_refuses_them(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("100")
    order = await panel.place(key)
    status, body = await panel.control("POST", f"/orders/{order}/outcome", {"status": "Failed"})
    assert status == 400
    assert "'Completed'" in body["error"]
    assert "Failed" not in body["error"]
    reply = await panel.api(key=key, action="add", service="1", quantity="1000",
                            link=f"{LINK}?mock_outcome=done")
    assert reply == (200, {"error": "Incorrect request: invalid mock_outcome"})


async def test_the_harness_accepts_a_panel_saying_done_and_failed(
    make_panel: MakePanel,
) -> None:
    panel = await make_panel("extended")
    key = await panel.tenant("100")
    done, failed = await panel.place(key), await panel.place(key)
    await panel.force(done, "Done")
    await panel.force(failed, "Failed")
    for order in (done, failed):
        _, body = await panel.api(key=key, action="status", order=order)
        # In the vocabulary (STATUS-002 passes); a dialect spelling, so NON-STRICT only: off
        # the canonical spelling (STATUS-003) and so off the canonical schema (GEN-005).
        assert failures("status", body, order) == {
            "STATUS-003": Grade.NON_STRICT, "GEN-005": Grade.NON_STRICT
        }
    # The money each word means is what the harness's model of the account expects.
    ledger = Ledger(Decimal("100.00000"), 5)
    for order in (done, failed):
        assert ledger.placed(order, price=Decimal("0.9"), units=1000,
                             debit=Decimal("0.90000")) == []
    assert ledger.observe(done, "Done", "0") == []
    assert ledger.observe(failed, "Failed", "1000") == []
    assert ledger.check_balance(await panel.balance(key)) == []
    # ... and a panel that kept a Failed order's money would be caught.
    assert [v.clause for v in ledger.check_balance(Decimal("98.20000"))] == ["MONEY-010"]


async def test_the_harness_still_fails_a_word_of_no_dialect(make_panel: MakePanel) -> None:
    panel = await make_panel("extended")
    key = await panel.tenant("100")
    order = await panel.place(key)
    _, body = await panel.api(key=key, action="status", order=order)
    body["status"] = "Finished"
    assert failures("status", body, order)["STATUS-002"] is Grade.FAIL


async def test_a_request_carrying_both_forms_is_accepted_by_both_dialects(
    make_panel: MakePanel,
) -> None:
    """What scenarios/balance-debits.yaml sends, so that it judges either form."""
    both = {"link": LINK, "comments": "a\nb", "username": "conformance", "min": "10",
            "max": "10", "delay": "5"}
    for profile, charge in (("reference", "3.50000"), ("extended", "0.08000")):
        panel = await make_panel(profile)
        key = await panel.tenant("100")
        status, body = await panel.api(key=key, action="add", service="8", **both)
        assert status == 200, (profile, body)
        _, shown = await panel.api(key=key, action="status", order=str(body["order"]))
        assert Decimal("100") - await panel.balance(key) == Decimal(shown["charge"])
        assert shown["charge"] == charge
