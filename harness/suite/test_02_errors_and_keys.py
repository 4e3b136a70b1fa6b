"""Refusals: unknown or missing actions, and requests without a valid key (ERR, AUTH)."""

from __future__ import annotations

import pytest

from harness import ErrorKind, Judge, Panel, Secret, require


def _wrong_key(panel: Panel) -> Secret:
    return Secret(f"wrong{panel.rng.randrange(16**24):024x}", "wrong key")


@pytest.mark.clause("ERR-005")
def test_unknown_action_is_an_error(panel: Panel, judge: Judge, main_key: Secret) -> None:
    before = panel.quiet_balance(main_key)
    exchange = panel.call(None, {"action": "no_such_action"}, main_key)
    judge.expect_error(exchange, "ERR-005", "an unknown action is refused", ErrorKind.BAD_REQUEST)
    after = panel.read_balance(main_key)
    require(after == before, "ERR-005", "an unknown action performs nothing",
            f"balance {before} -> {after}", [exchange])


@pytest.mark.clause("ERR-006")
@pytest.mark.parametrize("params", [{}, {"action": ""}], ids=["no-action", "empty-action"])
def test_missing_action_is_an_error(
    panel: Panel, judge: Judge, main_key: Secret, params: dict[str, str]
) -> None:
    exchange = panel.call(None, params, main_key)
    judge.expect_error(exchange, "ERR-006", "a missing action is refused", ErrorKind.BAD_REQUEST)


@pytest.mark.clause("AUTH-001")
@pytest.mark.parametrize("action", ["balance", "services"])
def test_no_key_is_refused(panel: Panel, judge: Judge, action: str) -> None:
    exchange = panel.call(action, {"action": action}, None)
    judge.expect_error(exchange, "AUTH-001", "a request without a key is refused", ErrorKind.AUTH)


@pytest.mark.clause("AUTH-002")
@pytest.mark.parametrize(
    "action", ["services", "balance", "status", "cancel", "refill", "refill_status"]
)
def test_wrong_key_is_refused(panel: Panel, judge: Judge, action: str) -> None:
    never = panel.never_issued()
    extra = {"status": {"order": never}, "cancel": {"orders": never},
             "refill": {"order": never}, "refill_status": {"refill": never}}.get(action, {})
    wrong = _wrong_key(panel)
    # The dialect fingerprint asked a balance with a wrong key before the first test: its
    # answer is judged here instead of asking again.
    early = panel.asked_before(action, wrong) if action == "balance" else None
    exchange = early or panel.call(action, {"action": action, **extra}, wrong)
    judge.expect_error(exchange, "AUTH-002", f"{action} with a wrong key is refused",
                       ErrorKind.AUTH)


@pytest.mark.clause("AUTH-003")
def test_empty_key_is_refused(panel: Panel, judge: Judge) -> None:
    empty = panel.call("balance", {"action": "balance", "key": ""}, None)
    judge.expect_error(empty, "AUTH-003", "an empty key is refused", ErrorKind.AUTH)
    blank = panel.call("balance", {"action": "balance"}, Secret("   ", "blank key"))
    judge.expect_error(blank, "AUTH-003", "a blank key is refused", ErrorKind.AUTH)


@pytest.mark.clause("AUTH-004", "MONEY-004")
def test_wrong_key_add_creates_no_order(panel: Panel) -> None:
    service, quantity = panel.cheapest_default()
    spec = panel.default_order(service, quantity)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    attempt = panel.attempt(wallet, spec.form(), spec.price, key=_wrong_key(panel))
    panel.expect_refused(attempt, "AUTH-004", "an add with a wrong key creates no order",
                         ErrorKind.AUTH)
