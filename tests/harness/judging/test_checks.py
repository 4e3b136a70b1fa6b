"""Every registered check fails on a crafted bad exchange and passes a good one."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from harness import contract
from harness.base import values
from harness.base.exchange import Exchange, SentRequest
from harness.judging.checks import (
    DEFAULT_REGISTRY,
    NO_FACTS,
    Applies,
    CheckFailure,
    ErrorKind,
    Facts,
    Grade,
    Registry,
    answer_kind,
    check,
    expect_error,
    expect_success,
)


def ex(
    form: str | None,
    body: object,
    *,
    status: int | None = 200,
    ctype: str = "application/json",
    params: tuple[tuple[str, str], ...] = (),
    method: str = "POST",
    text: str | None = None,
    transport_error: str | None = None,
) -> Exchange:
    """An exchange as the client would record it."""
    if text is None:
        text = json.dumps(body, default=str)
        parsed, json_error = body, None
    else:
        parsed, json_error = None, "JSONDecodeError: not JSON"
    request = SentRequest(method, dict(params).get("action"), form, params, "main key",
                          "application/x-www-form-urlencoded", "")
    headers = () if status is None else (("Content-Type", ctype),)
    return Exchange(1, "http://127.0.0.1/api/v2", request, status, headers, text, parsed,
                    json_error if transport_error is None else "no response", transport_error,
                    0.0)


STATUS = {"charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157",
          "currency": "USD"}
SERVICE = {"service": 1, "name": "F", "type": "Default", "category": "C", "rate": "0.90",
           "min": "50", "max": "10000", "refill": True, "cancel": True}
ERROR = {"error": "Incorrect order ID"}


@dataclass(frozen=True)
class Case:
    good: Exchange
    bad: Exchange
    facts: Facts = NO_FACTS


def previous(body: dict[str, object]) -> Facts:
    return Facts(previous=ex("status", body))


CASES: dict[str, Case] = {
    "answered": Case(ex(None, {}), ex(None, None, status=None, transport_error="reset")),
    "json_body": Case(ex(None, {}), ex(None, None, text="<html>oops</html>")),
    "no_server_error": Case(ex(None, ERROR, status=404), ex(None, ERROR, status=502)),
    "json_content_type": Case(ex(None, {}, ctype="application/json; charset=utf-8"),
                              ex(None, {}, ctype="text/html")),
    "error_envelope": Case(ex(None, ERROR), ex(None, {"error": ""}, status=400)),
    "error_status": Case(ex(None, ERROR, status=401), ex(None, ERROR, status=201)),
    "error_status_canonical": Case(ex(None, ERROR), ex(None, ERROR, status=400)),
    "error_status_meaning": Case(ex(None, ERROR, status=401), ex(None, ERROR, status=404),
                                 Facts(error_kind=ErrorKind.AUTH)),
    "error_without_success_fields": Case(ex(None, ERROR),
                                         ex(None, {"error": "x", "order": 5})),
    "services_fields": Case(ex("services", [SERVICE]),
                            ex("services", [{k: v for k, v in SERVICE.items() if k != "rate"}])),
    "services_min_max": Case(ex("services", [SERVICE]),
                             ex("services", [{**SERVICE, "min": "500", "max": "50"}])),
    "services_rate": Case(ex("services", [SERVICE]), ex("services", [{**SERVICE, "rate": "-1"}])),
    "services_unique": Case(ex("services", [SERVICE, {**SERVICE, "service": 2}]),
                            ex("services", [SERVICE, SERVICE])),
    "services_flags": Case(ex("services", [SERVICE]),
                           ex("services", [{k: v for k, v in SERVICE.items() if k != "cancel"}])),
    "services_type": Case(ex("services", [SERVICE]),
                          ex("services", [{**SERVICE, "type": "default"}])),
    "services_canonical_types": Case(ex("services", [SERVICE]),
                                     ex("services", [{**SERVICE, "min": 50}])),
    "balance_non_negative": Case(ex("balance", {"balance": "1.5", "currency": "USD"}),
                                 ex("balance", {"balance": "-0.01", "currency": "USD"})),
    "balance_currency": Case(ex("balance", {"balance": "1.5", "currency": "INR"}),
                             ex("balance", {"balance": "1.5", "currency": "usd"})),
    "balance_is_a_string": Case(ex("balance", {"balance": "1.5", "currency": "USD"}),
                                ex("balance", {"balance": Decimal("1.5"), "currency": "USD"})),
    "money_is_decimal": Case(ex("status", STATUS),
                             ex("status", {**STATUS, "charge": Decimal("0.30000000000000004")})),
    "order_id_is_an_integer": Case(ex("add", {"order": 23501}), ex("add", {"order": "K7M2X9"})),
    "status_word_known": Case(ex("status", {**STATUS, "status": "Cancelled"}),
                              ex("status", {**STATUS, "status": "Shipped"})),
    "status_word_canonical": Case(ex("status", STATUS),
                                  ex("status", {**STATUS, "status": "Inprogress"})),
    "remains_in_range": Case(ex("status", STATUS), ex("status", {**STATUS, "remains": "Unknown"})),
    "remains_within_quantity": Case(ex("status", STATUS), ex("status", {**STATUS,
                                                                        "remains": "158"}),
                                    Facts(quantity=157)),
    "start_count_count": Case(ex("status", STATUS), ex("status", {**STATUS, "start_count": -1})),
    "status_numbers_are_strings": Case(ex("status", STATUS), ex("status", {**STATUS,
                                                                           "remains": 157})),
    "status_never_backwards": Case(ex("status", {**STATUS, "status": "In progress"}),
                                   ex("status", {**STATUS, "status": "Pending"}),
                                   previous({**STATUS, "status": "In progress"})),
    "remains_never_grows": Case(ex("status", STATUS), ex("status", {**STATUS, "remains": "200"}),
                                previous({**STATUS, "remains": "157"})),
    "terminal_is_final": Case(ex("status", STATUS), ex("status", {**STATUS, "remains": "100"}),
                              previous(STATUS)),
    "multi_status_keys": Case(
        ex("status-multi", {"1": STATUS, "10": ERROR}, params=(("orders", "1,10"),)),
        ex("status-multi", {"1": STATUS}, params=(("orders", "1,10"),)),
    ),
    "multi_status_error_objects": Case(ex("status-multi", {"10": ERROR}),
                                       ex("status-multi", {"10": "Incorrect order ID"})),
    "batch_items_name_orders": Case(
        ex("cancel", [{"order": 9, "cancel": 1}], params=(("orders", "9"),)),
        ex("cancel", [{"order": 8, "cancel": 1}], params=(("orders", "9"),)),
    ),
    "batch_items_name_refills": Case(
        ex("refill_status-multi", [{"refill": 1, "status": "Completed"}],
           params=(("refills", "1"),)),
        ex("refill_status-multi", [{"status": "Completed"}], params=(("refills", "1"),)),
    ),
    "cancel_one_item_per_id": Case(
        ex("cancel", [{"order": 9, "cancel": 1}, {"order": 2, "cancel": ERROR}],
           params=(("orders", "9,2"),)),
        ex("cancel", [{"order": 9, "cancel": 1}], params=(("orders", "9,2"),)),
    ),
    "cancel_ack_is_one": Case(ex("cancel", [{"order": 9, "cancel": 1}, {"order": 2,
                                                                        "cancel": ERROR}]),
                              ex("cancel", [{"order": 9, "cancel": {"status": "success"}}])),
    "refill_id_is_a_string": Case(ex("refill", {"refill": "1"}), ex("refill", {"refill": 1})),
    "refill_status_canonical": Case(ex("refill_status", {"status": "Rejected"}),
                                    ex("refill_status", {"status": "Cancelled"})),
}

# Per form: a canonical payload, one off the lenient schema, one lenient but not canonical.
SCHEMA_CASES: dict[str, tuple[object, object, object]] = {
    "services": ([SERVICE], [{"service": 1}], [{**SERVICE, "service": "1"}]),
    "balance": ({"balance": "1.5", "currency": "USD"}, {"balance": "-1", "currency": "USD"},
                {"balance": Decimal("1.5"), "currency": "USD"}),
    "add": ({"order": 23501}, {"order": -1}, {"order": "23501"}),
    "status": (STATUS, {**STATUS, "status": "Shipped"}, {**STATUS, "charge": Decimal("0.2")}),
    "status-multi": ({"1": STATUS, "10": ERROR}, [STATUS], {"10": "Incorrect order ID"}),
    "cancel": ([{"order": 9, "cancel": 1}], [{"cancel": 1}],
               [{"order": 9, "cancel": {"status": "success"}}]),
    "refill": ({"refill": "1"}, {"refill": -3}, {"refill": 1}),
    "refill-multi": ([{"order": 1, "refill": 1}, {"order": 3, "refill": ERROR}],
                     [{"refill": 1}], [{"order": 1, "refill": "1"}]),
    "refill_status": ({"status": "Completed"}, {"status": "Shipped"}, {"status": "Cancelled"}),
    "refill_status-multi": ([{"refill": 1, "status": "Completed"}], [{"status": "Completed"}],
                            [{"refill": 1, "status": "Cancelled"}]),
}


def test_every_registered_check_has_a_case() -> None:
    schema_checks = {f"{kind}_{form.replace('-', '_')}" for form in SCHEMA_CASES
                     for kind in ("schema", "canonical")}
    assert {c.name for c in DEFAULT_REGISTRY} == set(CASES) | schema_checks


def test_every_check_cites_a_known_clause() -> None:
    known = contract.clauses()
    for item in DEFAULT_REGISTRY:
        assert item.clause in known, item.name
        level = known[item.clause].level
        assert item.grade is Grade.FAIL or level != "MUST" or item.clause == "GEN-005", item.name


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_passes_the_good_and_fails_the_bad(name: str) -> None:
    item = DEFAULT_REGISTRY[name]
    case = CASES[name]
    assert item.relevant(case.good, case.facts)
    item(case.good, case.facts)
    assert item.relevant(case.bad, case.facts), "the bad exchange must be in the check's scope"
    with pytest.raises(CheckFailure) as info:
        item(case.bad, case.facts)
    assert info.value.clause == item.clause
    assert info.value.grade is item.grade
    assert info.value.exchanges == (case.bad,)


@pytest.mark.parametrize("form", sorted(SCHEMA_CASES))
def test_schema_checks(form: str) -> None:
    good, off_contract, variant = SCHEMA_CASES[form]
    lenient = DEFAULT_REGISTRY[f"schema_{form.replace('-', '_')}"]
    canonical = DEFAULT_REGISTRY[f"canonical_{form.replace('-', '_')}"]
    for item in (lenient, canonical):
        item(ex(form, good))
    with pytest.raises(CheckFailure) as failed:
        lenient(ex(form, off_contract))
    assert failed.value.grade is Grade.FAIL
    lenient(ex(form, variant))
    with pytest.raises(CheckFailure) as deviated:
        canonical(ex(form, variant))
    assert deviated.value.grade is Grade.NON_STRICT
    assert deviated.value.clause == "GEN-005"
    canonical(ex(form, off_contract))  # off the lenient schema is the MUST check's business


def test_checks_needing_facts_stay_out_without_them() -> None:
    for name in ("remains_within_quantity", "status_never_backwards", "error_status_meaning"):
        assert not DEFAULT_REGISTRY[name].relevant(CASES[name].bad, NO_FACTS)


def test_success_checks_skip_errors_and_the_reverse() -> None:
    error = ex("balance", {"error": "Invalid API key"})
    assert not DEFAULT_REGISTRY["balance_currency"].relevant(error, NO_FACTS)
    assert not DEFAULT_REGISTRY["error_envelope"].relevant(ex("balance", {"balance": "1"}),
                                                           NO_FACTS)


def test_the_method_probes_are_not_graded_as_api_errors() -> None:
    probe = ex(None, {"error": "Method Not Allowed"}, status=405, method="PUT")
    DEFAULT_REGISTRY["error_status_canonical"](probe)
    DEFAULT_REGISTRY["error_status_meaning"](probe, Facts(error_kind=ErrorKind.AUTH))


def test_answer_kind() -> None:
    assert answer_kind(ex(None, {"balance": "1"})) is Applies.SUCCESS
    assert answer_kind(ex(None, ERROR)) is Applies.ERROR
    assert answer_kind(ex(None, {"x": 1}, status=404)) is Applies.ERROR
    assert answer_kind(ex("cancel", {"order": 2, "error": "x"})) is Applies.SUCCESS
    assert answer_kind(ex(None, None, text="<html>")) is None
    assert answer_kind(ex(None, None, text="<html>", status=502)) is Applies.ERROR


def test_registry_runs_every_relevant_check_and_reports_failures() -> None:
    results = DEFAULT_REGISTRY.run(ex("balance", {"balance": "1.5", "currency": "usd"}))
    failed = {r.check.name for r in results if r.failure is not None}
    passed = {r.check.name for r in results if r.failure is None}
    assert failed == {"balance_currency", "canonical_balance"}
    assert {"json_body", "no_server_error", "schema_balance", "balance_non_negative"} <= passed
    assert not any(r.check.needs for r in results)


def test_registries_are_immutable_and_names_unique() -> None:
    @check("GEN-002", "dummy")
    def json_body(exchange: Exchange, facts: Facts) -> None:
        """A second check with a taken name."""

    with pytest.raises(ValueError, match="json_body"):
        DEFAULT_REGISTRY.merged(Registry([json_body]))
    extra = DEFAULT_REGISTRY.merged(Registry([replace(json_body, name="extra")]))
    assert len(extra) == len(DEFAULT_REGISTRY) + 1
    assert "extra" not in {c.name for c in
                                                                          DEFAULT_REGISTRY}


def test_expectations() -> None:
    assert expect_error(ex(None, ERROR), "ERR-005", "refused") == "Incorrect order ID"
    with pytest.raises(CheckFailure) as accepted:
        expect_error(ex(None, {"balance": "1"}), "ERR-005", "refused")
    assert accepted.value.clause == "ERR-005"
    assert expect_success(ex(None, {"balance": "1"}), "BAL-001", "ok") == {"balance": "1"}
    with pytest.raises(CheckFailure):
        expect_success(ex(None, None, text="<html>"), "BAL-001", "ok")


def test_status_spellings_cover_the_contract_vocabulary() -> None:
    common = contract.registry().contents(contract.BASE_URI + "common.json")["$defs"]
    assert set(common["order_status"]["enum"]) == values.order_spellings()
    assert set(common["refill_status"]["enum"]) == values.refill_spellings()
    assert {s.value for s in values.OrderStatus} == set(common["order_status_canonical"]["enum"])
