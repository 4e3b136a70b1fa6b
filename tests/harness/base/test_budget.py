"""The spend guard: reservations under the cap, sandbox wallets, spend measured from balances,
and a cap of 0 that sends no add at all, to a conforming panel or a broken one."""

from __future__ import annotations

import re
import urllib.parse
from decimal import Decimal

import pytest

from harness.base.budget import SpendGuard, Wallet
from harness.base.errors import SpendRefused
from harness.base.redaction import Secret
from harness.run.config import OPTIONS
from tests.fixtures.fakepanel import KEY, SECOND_KEY, Defects, FakePanel, serve

MAIN = Wallet(Secret("k", "main key"))
SANDBOX = Wallet(Secret("t", "tenant t1"), sandbox=True)


def opened(cap: str, *wallets: Wallet) -> SpendGuard:
    guard = SpendGuard(Decimal(cap))
    for wallet in wallets or (MAIN,):
        guard.open(wallet, Decimal(100))
    return guard


def test_a_cap_of_zero_refuses_every_reservation_even_a_free_one() -> None:
    guard = opened("0")
    for amount in ("0", "0.01", "5"):
        with pytest.raises(SpendRefused, match="spend cap"):
            guard.reserve(MAIN, Decimal(amount))
    assert not guard.can_spend(MAIN)
    assert guard.report().refused == 3
    assert guard.report().requests == 0


def test_reservations_add_up_to_the_cap() -> None:
    guard = opened("1.00")
    guard.reserve(MAIN, Decimal("0.60"))
    guard.reserve(MAIN, Decimal("0.40"))
    assert guard.remaining == Decimal(0)
    with pytest.raises(SpendRefused) as refused:
        guard.reserve(MAIN, Decimal("0.01"))
    assert refused.value.needed == Decimal("0.01")
    assert refused.value.remaining == Decimal(0)


def test_a_refused_request_frees_its_reservation_an_accepted_one_keeps_it() -> None:
    guard = opened("1.00")
    refused = guard.reserve(MAIN, Decimal("0.80"))
    guard.settle(refused, Decimal(0), accepted=False)
    assert guard.remaining == Decimal("1.00")
    accepted = guard.reserve(MAIN, Decimal("0.80"))
    guard.settle(accepted, Decimal("0.50"), accepted=True)
    assert guard.remaining == Decimal("0.20")


def test_a_debit_above_the_worst_case_still_counts() -> None:
    guard = opened("1.00")
    overcharged = guard.reserve(MAIN, Decimal("0.10"))
    guard.settle(overcharged, Decimal("0.70"), accepted=True)
    assert guard.committed == Decimal("0.70")
    with pytest.raises(SpendRefused):
        guard.reserve(MAIN, Decimal("0.31"))


def test_sandbox_wallets_are_not_held_to_a_cap_above_zero() -> None:
    guard = opened("0.01", MAIN, SANDBOX)
    guard.reserve(SANDBOX, Decimal(50))
    assert guard.can_spend(SANDBOX)
    assert guard.committed == Decimal(0)
    with pytest.raises(SpendRefused):
        guard.reserve(MAIN, Decimal("0.02"))


def test_a_cap_of_zero_refuses_every_wallet_sandbox_included() -> None:
    """"With --panel-max-spend 0 nothing that could cost money is sent": no add at all."""
    guard = opened("0", MAIN, SANDBOX)
    for wallet in (MAIN, SANDBOX):
        assert not guard.can_spend(wallet)
        with pytest.raises(SpendRefused):
            guard.reserve(wallet, Decimal("0.00001"))
    assert guard.report().requests == 0


def test_a_wallet_must_be_opened_before_spending() -> None:
    guard = SpendGuard(Decimal(5))
    with pytest.raises(RuntimeError, match="open"):
        guard.reserve(MAIN, Decimal(1))
    with pytest.raises(ValueError, match="negative"):
        SpendGuard(Decimal(-1))
    with pytest.raises(ValueError, match="negative"):
        opened("5").reserve(MAIN, Decimal(-1))


def test_spend_is_measured_from_balances_not_from_reservations() -> None:
    guard = SpendGuard(Decimal(10))
    guard.open(MAIN, Decimal("20.00"))
    guard.open(MAIN, Decimal("5.00"))  # the first opening balance wins
    guard.open(SANDBOX, Decimal("100"))
    guard.reserve(MAIN, Decimal("3.00"))
    guard.close(MAIN, Decimal("18.75"))
    guard.close(SANDBOX, Decimal("99"))
    report = guard.report()
    assert report.spent == Decimal("1.25")
    assert report.sandbox_spent == Decimal(1)
    assert report.committed == Decimal("3.00")
    assert "spent 1.25 of cap 10" in report.line()
    unclosed = SpendGuard(Decimal(1))
    unclosed.open(MAIN, Decimal(1))
    assert unclosed.report().unmeasured == ("main key",)


def _run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, panel: FakePanel,
               *args: str) -> pytest.RunResult:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    with serve(panel) as url:
        return pytester.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", f"--panel-second-key={SECOND_KEY}",
            "--panel-request-rate=1000", *args,
        )


_ASKS_FOR_ADD = re.compile(r'"?action"?\s*[=:]\s*"?\s*add\b')


def _asks_for_add(body: bytes) -> bool:
    """Whether ``body`` asks for the add action, as a form or as JSON, in any case or spacing.
    (Not a bare ``b"add"`` search: a random wrong key such as ``wronge0cb...9add5...`` is hex.)"""
    text = urllib.parse.unquote_plus(body.decode("utf-8", "replace")).lower()
    return _ASKS_FOR_ADD.search(text) is not None


@pytest.mark.parametrize(
    ("body", "asks"),
    [
        (b"key=k&action=add&service=1", True),
        (b"action=%20ADD&key=k", True),
        (b'{"key": "k", "action": "Add"}', True),
        (b"key=wronge0cb3bb0d6bc9add5c738f87&action=status&order=1", False),
        (b"key=k&action=address", False),
    ],
)
def test_the_add_detector_reads_the_action_not_any_text(body: bytes, asks: bool) -> None:
    assert _asks_for_add(body) is asks


@pytest.mark.parametrize(
    "defects",
    [Defects(), Defects(accept_any_key=True, unknown_action_html=True, errors_as_400=True)],
    ids=["conforming", "broken"],
)
def test_with_a_cap_of_zero_no_add_is_ever_sent(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, defects: Defects
) -> None:
    panel = FakePanel(defects=defects)
    result = _run_suite(pytester, monkeypatch, panel)  # --panel-max-spend defaults to 0
    assert panel.bodies, "the suite talked to the panel"
    assert "add" not in panel.actions
    assert not any(_asks_for_add(body) for body in panel.bodies)
    assert panel.balances[KEY] == Decimal("10.00")
    result.stdout.fnmatch_lines(["*not allowed by the spend cap*", "spent 0* of cap 0 *"])


def test_with_a_budget_orders_are_cancelled_and_the_spend_measured(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = FakePanel()
    result = _run_suite(pytester, monkeypatch, panel, "--panel-max-spend=0.10")
    assert panel.orders, "some orders fitted the budget"
    assert set(panel.orders) == panel.cancelled  # every order was cancelled, so refunded
    assert panel.balances == {KEY: Decimal("10.00"), SECOND_KEY: Decimal("1.00")}
    result.stdout.fnmatch_lines(["spent 0.00 of cap 0.10 *"])


def test_the_cap_bounds_what_a_panel_that_never_refunds_can_take(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = FakePanel()
    panel.cancel = lambda key, order_id: {"order": order_id,  # type: ignore[method-assign]
                                          "cancel": {"error": "Cannot cancel"}}
    result = _run_suite(pytester, monkeypatch, panel, "--panel-max-spend=0.10")
    spent = Decimal("11.00") - panel.balances[KEY] - panel.balances[SECOND_KEY]
    assert Decimal(0) < spent <= Decimal("0.10")
    result.stdout.fnmatch_lines([f"spent {spent} of cap 0.10 *"])
