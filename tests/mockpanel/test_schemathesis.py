"""Schemathesis, fed the generated OpenAPI document, against the mock in every profile.

The document gives each action a virtual path ``/api/v2#<form>``. HTTP clients never send a
URL fragment (``requests`` puts only ``PreparedRequest.path_url`` on the request line), so every
case lands on the one real endpoint, ``/api/v2``; the tests below check that rather than trust
it. Generated keys would only ever meet ``Invalid API key``, so each case carries the fixture
tenant's real key and reaches the action's own code. A run is honest only if it ran: every
operation must have been exercised and every request must appear in the mock's journal.

This is Schemathesis from Python; ``test_st_run.py`` runs the ``st`` CLI with the shipped
configuration and hooks, as README shows it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from harness.contract.openapi import API_PATH, build_openapi
from harness.interop.st_refusal import smm_refusal
from mockpanel.profiles import PROFILES
from mockpanel.pytest_plugin import MockPanelHandle

# Per operation and profile: 10 operations x 10 profiles x this stays well under a minute.
EXAMPLES_PER_OPERATION = 6
# The checks of harness/schemathesis.toml that judge one answer: server errors, the response
# schemas, and the protocol's refusals (HTTP 200 with the error envelope, or a 4xx).
CHECKS = [not_a_server_error, response_schema_conformance, smm_refusal]


@pytest.fixture(scope="module")
def openapi_schema() -> Any:
    return schemathesis.openapi.from_dict(build_openapi())


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _with_key(key: str) -> Any:
    def put(case: Any) -> Any:
        case.body["key"] = key
        return case

    return put


def _exercise(
    operation: Any, panel: MockPanelHandle, executed: Counter[str], actions: set[str]
) -> None:
    """Run the generated cases of one operation against ``panel``, counting what was sent."""
    profile = PROFILES[panel.profile]

    @given(case=operation.as_strategy().map(_with_key(panel.key)))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: CI failures reproduce locally
        phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no slow "explain" phase
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: Any) -> None:
        response = case.call(base_url=panel.base_url, timeout=30)
        executed[operation.label] += 1
        actions.add(case.body["action"])
        assert response.request.path_url == API_PATH
        sent_type = response.headers["content-type"][0]
        assert sent_type.split(";")[0] == profile.wire.content_type.split(";")[0]
        if "json" not in sent_type:
            # SmartPanel-style panels print JSON under PHP's default text/html; clients parse
            # it as JSON anyway. Without the shipped hooks' text/html deserializer Schemathesis
            # skips such bodies, so we relabel it to have the body validated.
            response.headers["content-type"] = ["application/json"]
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failures:
            # Its "Reproduce with: curl ..." line holds the form body, key included.
            raise AssertionError(str(failures).replace(panel.key, "[redacted]")) from None

    run()


@pytest.mark.parametrize("mock_panel", sorted(PROFILES), indirect=True)
def test_generated_requests_meet_the_contract(
    mock_panel: MockPanelHandle, openapi_schema: Any
) -> None:
    operations = _operations(openapi_schema)
    executed: Counter[str] = Counter()
    actions_sent: set[str] = set()
    for operation in operations:
        _exercise(operation, mock_panel, executed, actions_sent)

    assert set(executed) == {operation.label for operation in operations}
    assert len(executed) == 10
    assert min(executed.values()) >= 1
    journal = mock_panel.journal()
    assert len(journal) == sum(executed.values()), "a request missed /api/v2 or the tenant"
    assert {entry["action"] for entry in journal} == actions_sent
    assert actions_sent >= {
        "services",
        "add",
        "status",
        "cancel",
        "refill",
        "refill_status",
        "balance",
    }


def test_the_fragment_never_reaches_the_wire(
    mock_panel: MockPanelHandle, openapi_schema: Any
) -> None:
    for operation in _operations(openapi_schema):
        assert operation.path.startswith(API_PATH + "#")
        case = operation.Case(body={"key": mock_panel.key, "action": "balance"})
        response = case.call(base_url=mock_panel.base_url, timeout=30)
        assert response.request.url.endswith(operation.path)  # requests keeps it in .url ...
        assert response.request.path_url == API_PATH  # ... but sends only the path
        assert response.status_code == 200
    assert [entry["action"] for entry in mock_panel.journal()] == ["balance"] * 10
