"""Scenario files: the schema, every shipped suite, and the clear refusal of invalid ones (the
message names the file and the JSON pointer of each problem)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from harness import contract
from harness.contract.resources import schemas_dir
from harness.run.scenario_items import scenario_folder, shipped_files
from harness.scenarios import (
    SCHEMA_ID,
    ControlStep,
    DeltaCheck,
    RequestStep,
    ScenarioError,
    load_file,
    load_scenario,
)

SHIPPED = shipped_files()
REQUIRED_SUITES = {
    "balance-debits", "partial-refunds", "drip-feed", "cancel", "refill", "multi-status",
    "isolation", "rate-limit", "bad-input",
}


def schema() -> dict[str, object]:
    document: dict[str, object] = json.loads(
        schemas_dir().joinpath("scenario.schema.json").read_text(encoding="utf-8")
    )
    return document


def test_the_schema_is_a_2020_12_schema_with_its_id() -> None:
    document = schema()
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == SCHEMA_ID == (
        "https://smm-conformance.invalid/schemas/scenario.schema.json"
    )


def test_the_issue_s_suites_are_shipped() -> None:
    assert scenario_folder() is not None
    assert {path.stem for path in SHIPPED} >= REQUIRED_SUITES


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_scenario_validates(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema()).iter_errors(document)) == []
    scenario = load_file(path)
    assert scenario.name == path.stem
    known = contract.clauses()
    assert set(scenario.clauses) <= set(known)
    checked = {a.clause for step in scenario.steps for a in step.expect}
    checked |= {getattr(step, "wait_clause", "") for step in scenario.steps} - {""}
    assert checked == set(scenario.clauses), "every cited clause is checked, and only those"
    for clause in scenario.clauses:
        needs = set(known[clause].needs) - {"none"}
        assert needs <= {n.value for n in scenario.needs}, f"{clause} needs {needs}"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_scenarios_never_hard_code_a_service_id(path: Path) -> None:
    for step in load_file(path).steps:
        if isinstance(step, RequestStep):
            service = dict(step.params).get("service")
            assert service is None or service.literal is None, step.name


def test_spending_steps_and_deltas_are_modelled() -> None:
    cancel = load_file(next(p for p in SHIPPED if p.stem == "cancel"))
    first = cancel.steps[0]
    assert isinstance(first, RequestStep)
    assert first.spends
    assert not first.measure  # the driver measures an add's own balance
    refund_check = cancel.steps[1]
    assert isinstance(refund_check, RequestStep)
    assert refund_check.measure
    partial = load_file(next(p for p in SHIPPED if p.stem == "partial-refunds"))
    control = partial.steps[1]
    assert isinstance(control, ControlStep)
    assert any(isinstance(a, DeltaCheck) for a in control.expect)


VALID = """\
name: example
description: A small scenario that the tests below break one way at a time.
clauses: [ADD-001, MONEY-001, STATUS-001]
needs: [spend]
services:
  cheap: {type: Default}
steps:
  - name: place an order
    action: add
    params: {service: "${cheap.id}", link: "${link}", quantity: "${cheap.quantity}"}
    expect:
      - {outcome: ok, clause: ADD-001}
      - {balance_delta: -charge, clause: MONEY-001}
    capture:
      order: /order
  - name: read it
    action: status
    params: {order: "${order}"}
    expect:
      - {status: [Pending, In progress], clause: STATUS-001}
"""


def test_the_example_itself_is_valid() -> None:
    scenario = load_scenario(VALID, "example.yaml", expected_name="example")
    assert [s.name for s in scenario.steps] == ["place an order", "read it"]


def test_a_request_may_be_asked_again_after_the_clock_moves() -> None:
    text = VALID.replace("    action: status",
                         "    action: status\n    on_refusal: {advance: {seconds: '86460'}}")
    read = load_scenario(text, "example.yaml", expected_name="example").steps[1]
    assert isinstance(read, RequestStep)
    assert read.on_refusal_advance is not None
    assert read.on_refusal_advance.literal == "86460"


@pytest.mark.parametrize(
    ("old", "new", "pointer", "message"),
    [
        ("name: example", "name: [broken", "", "not valid YAML"),
        ("steps:", "stepz:", "", "'steps' is a required property"),
        ("    action: status", "    action: status\n    frobnicate: 1", "/steps/1",
         "'frobnicate' is not one of"),
        ("{outcome: ok, clause: ADD-001}", "{outcome: ok}", "/steps/0/expect/0",
         "'clause' is a required property"),
        ("{outcome: ok, clause: ADD-001}", "{outcome: ok, that: '1 == 1', clause: ADD-001}",
         "/steps/0/expect/0", "is valid under each of"),
        ("{outcome: ok, clause: ADD-001}", "{outcome: maybe, clause: ADD-001}",
         "/steps/0/expect/0/outcome", "'maybe' is not one of"),
        ("needs: [spend]", "needs: [spend, money]", "/needs/1", "'money' is not one of"),
        ("clauses: [ADD-001, MONEY-001, STATUS-001]",
         "clauses: [ADD-001, MONEY-001, STATUS-001, XYZ-999]", "/clauses/3",
         "unknown clause 'XYZ-999'"),
        ("clauses: [ADD-001, MONEY-001, STATUS-001]",
         "clauses: [ADD-001, MONEY-001, STATUS-001, STATUS-005]", "/clauses/3",
         "STATUS-005 is cited but no assertion checks it"),
        ("clauses: [ADD-001, MONEY-001, STATUS-001]", "clauses: [ADD-001, MONEY-001]",
         "/steps/1/expect/0/clause", "STATUS-001 is checked here but not listed"),
        ('{order: "${order}"}', '{order: "${nope}"}', "/steps/1/params/order",
         "unknown name 'nope'"),
        ('{order: "${order}"}', '{order: "${order + }"}', "/steps/1/params/order",
         "ends too early"),
        ("{balance_delta: -charge, clause: MONEY-001}",
         "{balance_delta: -charge *, clause: MONEY-001}", "/steps/0/expect/1/balance_delta",
         "ends too early"),
        ('{order: "${order}"}', '{order: "${charge}"}', "/steps/1/params/order",
         "'charge' is known only in the expect and capture of an add"),
        ('{order: "${order}"}', '{order: "${debit}"}', "/steps/1/params/order",
         "'debit' is only known after the step"),
        ('{order: "${order}"}', '{order: "${cheap}"}', "/steps/1/params/order",
         "a service is used through a field"),
        ("      - {status: [Pending, In progress], clause: STATUS-001}",
         "      - {balance_delta: -charge, clause: STATUS-001}",
         "/steps/1/expect/0", "'charge' is known only in the expect and capture of an add"),
        ("needs: [spend]", "needs: [none]", "/needs", "ADD-001 needs spend"),
        ("needs: [spend]", "needs: [none]", "/steps/0/action", "an add needs 'spend'"),
        ("    action: status", "    action: status\n    as: second", "/steps/1/as",
         "as: second needs 'second-key'"),
        ("    action: status", "    action: status\n    as: fresh", "/steps/1/as",
         "as: fresh needs 'control'"),
        ("    action: add", "    action: ADD", "/steps/0/action",
         "write the add action as 'add'"),
        ("      order: /order", "      order: /order\n      cheap: /x", "/steps/0/capture/cheap",
         "already the name of a service"),
        ("      - {status: [Pending, In progress], clause: STATUS-001}",
         "      - {status: [Pending, In progress], clause: STATUS-001}\n"
         "    capture:\n      order: /order",
         "/steps/1/capture/order", "already captured by step 1"),
        ("name: example", "name: other", "/name", "must be the file name"),
        ("cheap: {type: Default}", "cheap: {type: Defualt}", "/services/cheap/type",
         "unknown service type 'Defualt'"),
        ("status: [Pending, In progress]", "status: [Pending, Finished]",
         "/steps/1/expect/0/status/1", "'Finished' is not a known order status"),
        ('params: {order: "${order}"}', 'params: {order: "${order}", key: abc}',
         "/steps/1/params/key", "key is set by `as`/`action`"),
        ("{outcome: ok, clause: ADD-001}",
         "{header: {name: Retry-After, pattern: '[0-9'}, clause: ADD-001}",
         "/steps/0/expect/0/header/pattern", "not a regular expression"),
        ('{order: "${order}"}', '{order: "${rate_limit}"}', "/steps/1/params/order",
         "the fact 'rate_limit' needs 'rate-limit'"),
        ("    action: status", "    action: status\n    repeat: {count: '0 *', until: error}",
         "/steps/1/repeat/count", "ends too early"),
        ("    action: add", "    action: add\n    on_refusal: {advance: {seconds: '60'}}",
         "/steps/0/on_refusal", "an add is never sent twice"),
        ("    action: status", "    action: status\n    on_refusal: {advance: {seconds: '${x}'}}",
         "/steps/1/on_refusal/advance/seconds", "unknown name 'x'"),
        ("    action: status", "    action: status\n    on_refusal: {advance: 60}",
         "/steps/1/on_refusal/advance", "is not of type 'object'"),
    ],
)
def test_invalid_scenarios_are_refused_naming_file_and_pointer(
    old: str, new: str, pointer: str, message: str
) -> None:
    assert old in VALID
    with pytest.raises(ScenarioError) as refused:
        load_scenario(VALID.replace(old, new, 1), "broken.yaml", expected_name="example")
    text = str(refused.value)
    assert text.startswith("broken.yaml is not a valid scenario:")
    assert any(
        where == pointer and message in problem for where, problem in refused.value.problems
    ), text
    assert f"  {pointer or '/'}: " in text


def test_a_control_step_only_checks_balances_and_comparisons() -> None:
    broken = VALID.replace("needs: [spend]", "needs: [spend, control]") + (
        "  - name: finish it\n"
        "    control: {order_outcome: {order: '${order}', status: Completed}}\n"
        "    expect:\n"
        "      - {status: [Completed], clause: STATUS-001}\n"
    )
    with pytest.raises(ScenarioError, match="/steps/2/expect/0: a control step can only check"):
        load_scenario(broken, "broken.yaml")


def test_a_control_step_needs_control() -> None:
    broken = VALID + "  - name: later\n    control: {advance: {seconds: '60'}}\n"
    with pytest.raises(ScenarioError, match="/steps/2/control: a control step needs 'control'"):
        load_scenario(broken, "broken.yaml")


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: \xff\xfe")
    with pytest.raises(ScenarioError, match=r"latin\.yaml is not a valid scenario"):
        load_file(path)


def test_many_problems_are_listed_together_and_bounded() -> None:
    broken = VALID.replace('"${order}"', '"${nope}"')
    for index in range(20):
        broken += (
            f"  - name: extra {index}\n    action: status\n"
            f"    params: {{order: '${{missing_{index}}}'}}\n"
        )
    with pytest.raises(ScenarioError) as refused:
        load_scenario(broken, "broken.yaml")
    assert len(refused.value.problems) == 21
    assert "(and 9 more)" in str(refused.value)
