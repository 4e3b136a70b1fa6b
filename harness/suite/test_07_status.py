"""Order status, single and multi (STATUS, MSTATUS), and id batches (BATCH)."""

from __future__ import annotations

from typing import NoReturn

import pytest

from harness import (
    Applies,
    ErrorKind,
    Judge,
    NaReason,
    NotApplicable,
    Panel,
    Secret,
    answer_kind,
    contract,
    expect_success,
    multi_status_aliases,
    require,
    values,
)


def _members(exchange_body: object) -> dict[str, object]:
    return exchange_body if isinstance(exchange_body, dict) else {}


def _rank(word: object) -> int | None:
    status = values.order_status(word)
    return None if status is None else status.rank


def _between(low: int | None, middle: int | None, high: int | None) -> bool:
    """``low <= middle <= high``, all known."""
    return low is not None and middle is not None and high is not None and low <= middle <= high


def _is_item_error(item: object) -> bool:
    return isinstance(item, str) or (isinstance(item, dict) and "error" in item)


@pytest.mark.clause("STATUS-005")
def test_unknown_order_is_an_error(panel: Panel, judge: Judge, main_key: Secret) -> None:
    # The dialect fingerprint asked exactly this before the first test: its answer is judged.
    exchange = (panel.asked_before("status", main_key)
                or panel.status(main_key, panel.never_issued()))
    judge.expect_error(exchange, "STATUS-005", "status of a never-issued id is refused",
                       ErrorKind.NOT_FOUND)


@pytest.mark.clause("STATUS-006")
@pytest.mark.parametrize("order", [None, "", "-1", "1;2"], ids=["none", "empty", "-1", "1;2"])
def test_status_needs_a_usable_id(
    panel: Panel, judge: Judge, main_key: Secret, order: str | None
) -> None:
    params = {"action": "status"} if order is None else {"action": "status", "order": order}
    exchange = panel.call("status", params, main_key)
    judge.expect_error(exchange, "STATUS-006", f"status with order={order!r} is refused")


@pytest.mark.clause("MSTATUS-001", "MSTATUS-004", "BATCH-004")
def test_multi_status_of_unknown_ids(panel: Panel, main_key: Secret) -> None:
    ids = [panel.never_issued() for _ in range(3)]
    exchange = panel.multi_status(main_key, ids)
    body = expect_success(exchange, "BATCH-004", "unknown ids are per-id errors, not one error")
    members = _members(body)
    for order_id in ids:
        require(_is_item_error(members.get(order_id)), "BATCH-004",
                "each unknown id gets its own error item",
                f"member {order_id}: {members.get(order_id)!r}", [exchange])


@pytest.mark.clause("MSTATUS-002", "MSTATUS-003")
def test_multi_status_keeps_unknown_ids_and_agrees_with_status(panel: Panel) -> None:
    panel.multi_status_action() or _not_offered()
    service, quantity = panel.cheapest_default()
    spec = panel.default_order(service, quantity)
    wallet = panel.spending_wallet(panel.worst_case(spec.price))
    order = panel.place(wallet, spec)
    unknown = panel.never_issued()
    single_before, before = panel.read_status(wallet.key, order)
    exchange = panel.multi_status(wallet.key, [order.id, unknown])
    single_after, after = panel.read_status(wallet.key, order)
    body = expect_success(exchange, "MSTATUS-002", "a mixed multi-status is answered per id")
    members = _members(body)
    require(_is_item_error(members.get(unknown)), "MSTATUS-002",
            "an unknown id in a multi-status gets a per-id error",
            f"member {unknown}: {members.get(unknown)!r}", [exchange])
    own = members.get(order.id)
    require(isinstance(own, dict) and "error" not in own, "MSTATUS-002",
            "the own order is reported normally", f"member {order.id}: {own!r}", [exchange])
    assert isinstance(own, dict)
    for field in ("status", "charge", "remains"):
        if field not in own:
            continue
        # The order may move on between the three reads (a real clock): the multi-status
        # member agrees when it lies between the single reads around it.
        if field == "status":
            ranks = [_rank(s.get("status")) for s in (before, own, after)]
            if None in ranks:
                continue  # a word of no dialect: STATUS-002's failure, not a disagreement
            agrees = _between(*ranks)
        elif field == "remains":
            agrees = _between(*(values.count(s.get("remains")) for s in (after, own, before)))
        else:
            agrees = str(own.get(field)) in {str(before.get(field)), str(after.get(field))}
        require(agrees, "MSTATUS-003", "multi-status agrees with single status",
                f"{field}: multi {own.get(field)!r}, single {before.get(field)!r} / "
                f"{after.get(field)!r}", [single_before, exchange, single_after])


@pytest.mark.clause("BATCH-001")
def test_a_batch_of_100_ids_is_answered(panel: Panel, main_key: Secret) -> None:
    ids = list(dict.fromkeys(panel.never_issued() for _ in range(100)))
    exchange = panel.multi_status(main_key, ids)
    body = expect_success(exchange, "BATCH-001", "a batch of 100 ids is accepted")
    require(len(_members(body)) == len(ids), "BATCH-001", "one member per id",
            f"{len(_members(body))} members for {len(ids)} ids", [exchange])


@pytest.mark.clause("BATCH-002", "BATCH-003")
def test_over_limit_batches(panel: Panel, judge: Judge, main_key: Secret) -> None:
    action = panel.multi_status_action() or _not_offered()
    ids = list(dict.fromkeys(panel.never_issued() for _ in range(101)))
    # No form: the seeds allow "up to 100" ids, so an over-limit batch is outside the
    # multi-status form's domain; its answer is judged here against what may come back.
    exchange = panel.call(None, {"action": action, "orders": ",".join(ids)}, main_key)
    require(exchange.status is not None and exchange.status < 500 and exchange.is_json,
            "BATCH-003", "101 ids never break the panel", f"HTTP {exchange.status}", [exchange])
    huge = ",".join(panel.never_issued() for _ in range(10_000))
    # Only "JSON, below 500" is asked of the flood; validating a 10 000-member answer
    # against the schemas would cost seconds and prove nothing more.
    flood = panel.call(None, {"action": action, "orders": huge}, main_key)
    require(flood.status is not None and flood.status < 500 and flood.is_json, "BATCH-003",
            "10 000 ids never break the panel", f"HTTP {flood.status}", [flood])
    panel.read_balance(main_key)  # and the panel still serves
    if answer_kind(exchange) is Applies.ERROR:
        judge.expect_error(exchange, "BATCH-002", "101 ids are refused as a whole",
                           ErrorKind.BAD_REQUEST)
        return
    members = set(_members(exchange.json))
    require(members in (set(ids[:100]), set(ids)), "BATCH-002",
            "101 ids are refused, or answered for the first 100 or for all",
            f"{len(members)} members, not the first 100 ids nor all 101", [exchange])


@pytest.mark.clause("MSTATUS-005")
def test_multi_status_aliases(panel: Panel, judge: Judge, main_key: Secret) -> None:
    ids = [panel.never_issued(), panel.never_issued()]
    accepted = []
    for action in multi_status_aliases():
        # No form: an alias is optional, so its answer is judged here, under MSTATUS-005.
        exchange = panel.call(None, {"action": action, "orders": ",".join(ids)}, main_key)
        if answer_kind(exchange) is Applies.SUCCESS:
            accepted.append(action)
            off = contract.validate("status-multi", "response", exchange.json)
            require(not off and set(_members(exchange.json)) == set(ids), "MSTATUS-005",
                    f"action={action} answers like status with orders",
                    f"not one member per requested id: {exchange.text[:200]}", [exchange])
    if not accepted:
        judge.not_applicable("MSTATUS-005", NaReason.NOT_OFFERED, "no alias action answers")


def _not_offered() -> NoReturn:
    raise NotApplicable(NaReason.NOT_OFFERED, "no action answers status with orders=")
