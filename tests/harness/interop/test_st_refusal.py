"""The refusal check for Schemathesis (harness.interop.st_refusal).

Each MUST rule is tested both ways: a panel that accepts what the rule says it must refuse is
caught, and a panel that refuses it the way the protocol allows (HTTP 200 with the envelope, or
a 4xx) passes; forms that only SHOULD-level clauses cover are never demanded refused, because a
real panel may accept them. The check itself runs on Schemathesis' own objects: a case of the
generated document and a response carrying the request as sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.config import ChecksConfig
from schemathesis.core.failures import Failure

from harness.contract.openapi import build_openapi
from harness.interop.st_refusal import (
    FORM_MEDIA_TYPE,
    demand,
    form_of,
    judge,
    refused,
    sent_form,
    smm_refusal,
)

KEY = "k-refusal-0123456789"
URL = "http://panel.test/api/v2"
BALANCE = json.dumps({"balance": "10.00", "currency": "USD"}).encode()
ORDER = json.dumps({"order": 23501}).encode()
STATUS = json.dumps({"charge": "0.27819", "start_count": "3572", "status": "Partial",
                     "remains": "157", "currency": "USD"}).encode()
ENVELOPE = json.dumps({"error": "Incorrect request"}).encode()
VALID_ADD = {"key": KEY, "action": "add", "service": "1", "link": "https://example.test/p",
             "quantity": "100"}


# ---- the form a panel reads -----------------------------------------------------------------


def test_sent_form_reads_the_last_value_of_each_field_as_php_does() -> None:
    body = "key=k&action=balance&action=services&note="
    assert sent_form(FORM_MEDIA_TYPE, body) == {"key": "k", "action": "services", "note": ""}
    assert sent_form(f"{FORM_MEDIA_TYPE}; charset=utf-8", body.encode()) == {
        "key": "k", "action": "services", "note": ""}


def test_sent_form_of_a_request_without_a_body_is_empty() -> None:
    assert sent_form(FORM_MEDIA_TYPE, None) == {}
    assert sent_form(None, None) == {}


def test_a_body_of_another_media_type_is_not_a_form() -> None:
    # ROBUST-005 lets a panel refuse or process a JSON or text body: nothing to demand.
    assert sent_form("application/json", b'{"key": "k", "action": "balance"}') is None
    assert sent_form("text/plain", "key=k") is None


@pytest.mark.parametrize(
    ("params", "form"),
    [
        ({"action": "status", "order": "1"}, "status"),
        ({"action": "status", "orders": "1,2"}, "status-multi"),
        ({"action": "status"}, "status"),
        ({"action": "orders", "orders": "1,2"}, "status-multi"),
        ({"action": "multiStatus"}, "status-multi"),
        ({"action": "refill", "orders": "1,2"}, "refill-multi"),
        ({"action": "refill_status", "refills": "1"}, "refill_status-multi"),
        ({"action": " ADD "}, "add"),
        ({"action": "balance"}, "balance"),
        ({"action": "no_such_action"}, None),
        ({}, None),
    ],
)
def test_the_action_names_the_form(params: dict[str, str], form: str | None) -> None:
    assert form_of(params) == form


# ---- what must be refused -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "clause"),
    [
        ({"action": "balance"}, "AUTH-001"),
        ({"key": "", "action": "balance"}, "AUTH-003"),
        ({"key": "  ", "action": "services"}, "AUTH-003"),
        ({"key": KEY}, "ERR-006"),
        ({"key": KEY, "action": ""}, "ERR-006"),
        ({"key": KEY, "action": "no_such_action"}, "ERR-005"),
        ({"key": KEY, "action": "add", "link": "https://example.test/p", "quantity": "100"},
         "ADD-006"),
        ({**VALID_ADD, "service": " "}, "ADD-006"),
        ({**VALID_ADD, "service": "12abc"}, "ROBUST-007"),
        ({**VALID_ADD, "service": "9" * 21}, "ROBUST-007"),
        ({"key": KEY, "action": "add", "service": "1", "quantity": "100"}, "ADD-006"),
        ({"key": KEY, "action": "status"}, "STATUS-006"),
        ({"key": KEY, "action": "status", "order": "-1"}, "STATUS-006"),
        ({"key": KEY, "action": "status", "order": "1;2"}, "STATUS-006"),
        ({"key": KEY, "action": "refill", "order": ""}, "REFILL-004"),
        ({"key": KEY, "action": "refill_status", "refill": "x y"}, "RSTATUS-002"),
        ({"key": KEY, "action": "cancel"}, "ROBUST-002"),
    ],
)
def test_must_clauses_demand_a_refusal(params: dict[str, str], clause: str) -> None:
    found = demand(params)
    assert found is not None
    assert found.clause == clause
    assert KEY not in found.reason


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(VALID_ADD, id="valid add"),
        pytest.param({"key": KEY, "action": "add", "service": "6",
                      "link": "https://example.test/p"}, id="package without quantity"),
        pytest.param({**VALID_ADD, "quantity": "010"}, id="quantity 010 (ADD-007 SHOULD)"),
        pytest.param({**VALID_ADD, "quantity": "1.5"}, id="quantity 1.5 (ADD-007 SHOULD)"),
        pytest.param({**VALID_ADD, "runs": "2"}, id="runs without interval (DRIP-005 SHOULD)"),
        pytest.param({**VALID_ADD, "link": "instagram.com/p"}, id="link without a scheme"),
        pytest.param({"key": KEY, "action": "add", "service": "1", "username": "u",
                      "min": "1"}, id="subscription shape, parameters missing (ADD-012)"),
        pytest.param({**VALID_ADD, "device": "9"}, id="type-specific enum (ADD-013 SHOULD)"),
        pytest.param({"key": KEY, "action": "status", "orders": ",".join(["1"] * 101)},
                     id="101 ids (BATCH-002 SHOULD)"),
        pytest.param({"key": KEY, "action": "cancel", "orders": "1,-2"},
                     id="malformed id in a batch (per-id errors)"),
        pytest.param({"key": KEY, "action": "balance", "extra": "x"}, id="extra field"),
        pytest.param({"key": KEY, "action": "Balance"}, id="action in another case"),
    ],
)
def test_what_a_real_panel_may_accept_is_not_demanded(params: dict[str, str]) -> None:
    assert demand(params) is None


# ---- what counts as a refusal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content", "verdict"),
    [
        (200, ENVELOPE, True),
        (400, ENVELOPE, True),
        (401, b"<html>Unauthorized</html>", True),
        (429, b"", True),
        (200, BALANCE, False),
        (201, ENVELOPE, False),
        (500, ENVELOPE, None),
        (200, b"<html>Login</html>", None),
    ],
)
def test_refusals_are_a_4xx_or_200_with_the_envelope(
    status: int, content: bytes, verdict: bool | None
) -> None:
    assert refused(status, content) is verdict


def test_an_accepted_request_that_had_to_be_refused_is_a_finding() -> None:
    finding = judge({"action": "balance"}, 200, BALANCE)
    assert finding is not None
    assert finding.demand.clause == "AUTH-001"
    assert "success answer of balance" in finding.message


@pytest.mark.parametrize(
    ("status", "content"),
    [(200, ENVELOPE), (400, ENVELOPE), (401, ENVELOPE), (422, ENVELOPE), (404, b"Not Found")],
)
def test_a_refusal_the_protocol_allows_is_no_finding(status: int, content: bytes) -> None:
    assert judge({"key": KEY, "action": "status"}, status, content) is None


def test_a_refusal_with_another_2xx_breaks_err_003() -> None:
    finding = judge({"key": KEY, "action": "status", "order": "-1"}, 201, ENVELOPE)
    assert finding is not None
    assert "ERR-003" in finding.message


def test_a_guessed_action_is_a_finding() -> None:
    finding = judge({"key": KEY, "action": "no_such_action"}, 200, BALANCE)
    assert finding is not None
    assert finding.demand.clause == "ERR-005"


@pytest.mark.parametrize(
    ("status", "content"),
    [
        pytest.param(500, ENVELOPE, id="5xx: not_a_server_error's"),
        pytest.param(200, b"<html>error</html>", id="not JSON: response_schema_conformance's"),
        pytest.param(200, json.dumps({"status": "error"}).encode(),
                     id="neither success nor envelope: response_schema_conformance's"),
    ],
)
def test_answers_other_checks_report_are_left_to_them(status: int, content: bytes) -> None:
    # One defect, one failure: these break other checks of the shipped configuration.
    assert judge({"key": KEY, "action": "status"}, status, content) is None


def test_a_valid_request_may_be_answered_either_way() -> None:
    assert judge(VALID_ADD, 200, ORDER) is None
    assert judge(VALID_ADD, 200, ENVELOPE) is None  # e.g. not enough funds
    assert judge({"key": KEY, "action": "status", "order": "1"}, 200, STATUS) is None


# ---- the check on Schemathesis' objects -----------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> Any:
    # An explicit config: no schemathesis.toml is discovered, no hooks are loaded.
    return schemathesis.openapi.from_dict(build_openapi(), config=schemathesis.Config())


def _context() -> CheckContext:
    return CheckContext(override=None, auth=None, headers=None, config=ChecksConfig(),
                        transport_kwargs=None, response_checks=None)


def _exchange(schema: Any, form: dict[str, str], status: int,
              content: bytes) -> tuple[Any, schemathesis.Response]:
    operation = schema.find_operation_by_id(str(form.get("action", "balance")))
    case = operation.Case(body=dict(form), media_type=FORM_MEDIA_TYPE)
    sent = requests.Request("POST", URL, data=form).prepare()
    response = schemathesis.Response(
        status_code=status, headers={"content-type": ["application/json"]}, content=content,
        request=sent, elapsed=0.01, verify=True)
    return case, response


def test_the_check_fails_a_success_answer_to_a_keyless_request(schema: Any) -> None:
    case, response = _exchange(schema, {"action": "balance"}, 200, BALANCE)
    with pytest.raises(AssertionError, match="AUTH-001"):
        smm_refusal(_context(), response, case)


def test_the_check_fails_an_order_placed_without_a_service(schema: Any) -> None:
    form = {"key": KEY, "action": "add", "link": "https://example.test/p", "quantity": "9"}
    case, response = _exchange(schema, form, 200, ORDER)
    with pytest.raises(AssertionError, match="ADD-006") as raised:
        smm_refusal(_context(), response, case)
    assert KEY not in str(raised.value)


@pytest.mark.parametrize(("status", "content"), [(200, ENVELOPE), (400, ENVELOPE)])
def test_the_check_passes_a_correct_refusal(schema: Any, status: int, content: bytes) -> None:
    case, response = _exchange(schema, {"action": "balance"}, status, content)
    assert smm_refusal(_context(), response, case) is True


def test_a_5xx_to_an_invalid_request_fails_the_shipped_checks_once(schema: Any) -> None:
    case, response = _exchange(schema, {"action": "balance"}, 500, ENVELOPE)
    assert smm_refusal(_context(), response, case) is None
    with pytest.raises(Failure, match="Server error"):
        not_a_server_error(_context(), response, case)


def test_the_check_judges_what_was_sent_not_the_case(schema: Any) -> None:
    # The hooks put the key on the wire only: the case's generated key is no evidence.
    case, _ = _exchange(schema, {"key": "generated", "action": "balance"}, 200, BALANCE)
    sent = requests.Request("POST", URL, data={"action": "balance"}).prepare()
    response = schemathesis.Response(status_code=200, headers={}, content=BALANCE, request=sent,
                                     elapsed=0.01, verify=True)
    with pytest.raises(AssertionError, match="AUTH-001"):
        smm_refusal(_context(), response, case)


def test_the_check_leaves_other_documents_alone() -> None:
    other = schemathesis.openapi.from_dict(
        {"openapi": "3.1.0", "info": {"title": "other", "version": "1"},
         "paths": {"/balance": {"post": {"responses": {"200": {"description": "ok"}}}}}},
        config=schemathesis.Config())
    case = other.find_operation_by_label("POST /balance").Case()
    sent = requests.Request("POST", "http://other.test/balance", data={}).prepare()
    response = schemathesis.Response(status_code=200, headers={}, content=BALANCE, request=sent,
                                     elapsed=0.01, verify=True)
    assert smm_refusal(_context(), response, case) is None
