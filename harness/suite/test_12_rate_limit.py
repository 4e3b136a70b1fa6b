"""Rate limiting (RATE): only with an advertised limit (``--panel-rate-limit``); runs last,
because it exhausts a key's budget on purpose. 429 ``Retry-After`` is not honoured here; the
wait for RATE-005 passes on the panel's clock when a control API drives it."""

from __future__ import annotations

import pytest

from harness import (
    SANDBOX_BALANCE,
    Applies,
    CheckFailure,
    Exchange,
    Grade,
    Judge,
    NaReason,
    NotApplicable,
    Panel,
    Secret,
    answer_kind,
    require,
)

RETRY_BOUND = 120.0  # seconds the test waits for a Retry-After at most
WITHIN_LIMIT = 30  # requests sent at the politeness pace that must all be served


def _throttled(exchange: Exchange) -> bool:
    return exchange.status == 429 or answer_kind(exchange) is Applies.ERROR


def _balance(panel: Panel, key: Secret, *, polite: bool) -> Exchange:
    return panel.call("balance", {"action": "balance"}, key, honour_429=False, polite=polite)


def _fresh_key(panel: Panel) -> Secret:
    """A key whose budget nothing else has used: a new tenant, or the main key."""
    return panel.control.mint_tenant(SANDBOX_BALANCE) if panel.controlled else panel.main_key()


@pytest.mark.clause("RATE-001", "RATE-002", "RATE-003", "RATE-004", "RATE-005", "RATE-006")
def test_rate_limit(panel: Panel, judge: Judge) -> None:
    limit = panel.settings.rate_limit
    if limit is None:
        raise NotApplicable(NaReason.NO_RATE_LIMIT)
    key = _fresh_key(panel)
    for _ in range(min(max(limit // 2, 1), WITHIN_LIMIT)):
        exchange = _balance(panel, key, polite=True)
        require(not _throttled(exchange), "RATE-001", "requests within the limit are served",
                f"HTTP {exchange.status} {exchange.error_message!r}", [exchange])

    refused = None
    for _ in range(limit + 10):
        exchange = _balance(panel, key, polite=False)
        if _throttled(exchange):
            refused = exchange
            break
    if refused is None:
        raise CheckFailure("RATE-002", "requests over the limit are refused",
                           f"{limit + 10} quick requests were all served")
    if refused.status != 429:
        judge.record_failure(CheckFailure("RATE-003", "throttled requests get HTTP 429",
                                          f"HTTP {refused.status}", Grade.FAIL, [refused]))
    retry_after = refused.header("Retry-After")
    if refused.status == 429:
        require(retry_after is not None and retry_after.strip().isdigit(), "RATE-004",
                "a 429 carries a numeric Retry-After", f"Retry-After {retry_after!r}",
                [refused])
    else:
        judge.not_applicable("RATE-004", NaReason.NOT_OFFERED, "throttling without HTTP 429")

    try:
        other = panel.second_wallet().key
    except NotApplicable as missing:
        judge.not_applicable("RATE-006", missing.reason)
    else:
        served = _balance(panel, other, polite=False)
        if _throttled(served):
            judge.record_failure(CheckFailure("RATE-006", "the limit is counted per key",
                                              "another key was throttled too", Grade.FAIL,
                                              [served]))

    wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else 60.0
    if wait > RETRY_BOUND:
        judge.not_applicable("RATE-005", NaReason.TIMEOUT, f"Retry-After {wait:g}s")
        return
    panel.wait(wait)
    again = _balance(panel, key, polite=True)
    require(not _throttled(again), "RATE-005", "after Retry-After the key is served again",
            f"HTTP {again.status} after waiting {wait:g}s", [again])
