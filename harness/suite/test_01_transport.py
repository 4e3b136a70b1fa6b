"""The endpoint itself: one POST URL, JSON answers, reads that change nothing, other methods."""

from __future__ import annotations

import pytest

from harness import (
    Applies,
    Encoding,
    Judge,
    NaReason,
    Panel,
    Secret,
    answer_kind,
    expect_success,
    require,
    values,
)


@pytest.mark.clause("GEN-001", "BAL-001", "BAL-002", "BAL-004", "AUTH-005")
def test_balance_over_a_form_post(panel: Panel, main_key: Secret) -> None:
    # Pre-flight asked exactly this before the first test: its answer is judged here.
    exchange = panel.asked_before("balance", main_key) or panel.balance(main_key)
    require(exchange.status == 200, "GEN-001", "a form POST of balance is answered with 200",
            f"HTTP {exchange.status}", [exchange])
    body = expect_success(exchange, "BAL-001", "balance answers the balance and currency")
    require(isinstance(body, dict) and "balance" in body and "currency" in body, "BAL-001",
            "balance answers the balance and currency", "balance or currency missing", [exchange])
    # The client sends the key in the body only, on a fresh connection, without cookies or
    # authentication headers: an accepted balance is AUTH-005's observation. The amount is
    # judged as every balance read is (readable, not negative, its currency stable), on this
    # same answer: asking again would prove nothing more.
    panel.balance_in(exchange, main_key)


@pytest.mark.clause("GEN-004")
def test_reading_changes_nothing(panel: Panel, main_key: Secret) -> None:
    before = panel.quiet_balance(main_key)
    panel.call("services", {"action": "services"}, main_key)
    panel.status(main_key, panel.never_issued())
    action = panel.multi_status_action()
    if action is not None:
        ids = ",".join(panel.never_issued() for _ in range(3))
        panel.call("status-multi", {"action": action, "orders": ids}, main_key)
    after = panel.read_balance(main_key)
    require(after == before, "GEN-004", "reading actions change nothing",
            f"balance {before} -> {after} after services/status reads")


@pytest.mark.clause("ROBUST-006")
def test_json_request_bodies(panel: Panel, judge: Judge, main_key: Secret) -> None:
    as_form = panel.quiet_balance(main_key)
    exchange = panel.call("balance", {"action": "balance"}, main_key, encoding=Encoding.JSON)
    if answer_kind(exchange) is not Applies.SUCCESS:
        judge.not_applicable("ROBUST-006", NaReason.NOT_OFFERED, "JSON bodies are refused")
        return
    body = exchange.json
    balance = body.get("balance") if isinstance(body, dict) else None
    require(values.signed_money(balance) == as_form, "ROBUST-006",
            "a JSON body is answered like the form body",
            f"balance {balance!r} vs {as_form} over a form body", [exchange])


@pytest.mark.clause("ROBUST-008")
def test_other_methods_leave_the_panel_serving(panel: Panel, main_key: Secret) -> None:
    # No seed says what other methods get: a stock 405 or 501 page, a JSON error or the
    # balance itself are all correct HTTP. The one thing asked is that the panel goes on
    # serving the protocol afterwards: one POST after all three proves it for each (a panel
    # that any of them stops serving fails it), where a POST after each cost three.
    probes = [panel.client.send_raw(b"", content_type=None, method=method)
              for method in ("GET", "PUT", "DELETE")]
    after = panel.balance(main_key)
    answered = ", ".join(f"{p.request.method} (HTTP {p.status})" for p in probes)
    require(answer_kind(after) is Applies.SUCCESS, "ROBUST-008",
            "GET, PUT and DELETE requests leave the panel serving",
            f"after {answered}, balance got HTTP {after.status}", [*probes, after])
