"""The request strategies: valid ones validate against the request schemas and fit the catalogue
and the budget, malformed ones break the schema or the catalogue's bounds, every action, service
type and defect is reachable, and failures shrink to readable minimal requests. Then the
property suite itself: it passes the unbroken mock and fails panels that break its properties.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from harness import contract
from harness.base.exchange import KEY_SLOT
from harness.panel import strategies
from harness.panel.catalog import Catalog, OrderSpec, Service, visible_units
from harness.panel.strategies import MalformedOrder
from harness.plugin import SUITE_DIR
from mockpanel.state.catalog import default_catalog

PLACES = 5  # the reference mock's precision: every service's min is a visible charge
BIG = Decimal(100)
CATALOG = Catalog(
    Service(str(s.id), s.name, s.type.value, s.rate, s.min, s.max, s.refill, s.cancel, s.dripfeed)
    for s in default_catalog()
)
# Derandomized: these tests check what the strategies can reach and shrink to, and the same
# examples every run keep a rare draw from failing one CI run in a thousand.
QUICK = settings(max_examples=40, database=None, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])
FIND = settings(max_examples=2000, database=None, deadline=None, derandomize=True)
# Reachability needs no shrinking: the first example that gets there will do.
REACH = settings(max_examples=2000, database=None, deadline=None, derandomize=True,
                 phases=[Phase.generate])
BROKEN_PROPS = Path(__file__).resolve().parents[1] / "suite" / "broken_props.py"
PROPERTIES = SUITE_DIR / "test_13_properties.py"


def _type_errors(spec_type: str, params: dict[str, str]) -> list[str]:
    """Violations of ``params`` against the ``add`` definition of one catalogue type."""
    name = contract.service_types()[spec_type]
    uri = f"{contract.BASE_URI}request/add.json#/$defs/{name}"
    validator = Draft202012Validator({"$ref": uri}, registry=contract.registry())
    body = {"key": "k", "action": "add", **params}
    return [error.message for error in validator.iter_errors(body)]


def _in_bounds(spec: OrderSpec) -> bool:
    service = spec.service
    return service.flat or (spec.units is not None and service.min <= spec.units <= service.max)


# ---- valid requests -------------------------------------------------------------------------


@QUICK
@given(strategies.orders(CATALOG, budget=BIG, places=PLACES))
def test_valid_orders_validate_and_fit_the_catalogue(spec: OrderSpec) -> None:
    form = spec.form()
    assert contract.validate("add", "request", {"key": "k", **form}) == []
    assert _type_errors(spec.service.type, {k: v for k, v in form.items() if k != "action"}) == []
    assert _in_bounds(spec)
    assert strategies.worst_case(spec.price, PLACES) <= BIG


@pytest.mark.parametrize("service", [s for s, _ in strategies.affordable_services(
    CATALOG, budget=BIG, places=PLACES)], ids=lambda s: f"{s.id}-{s.type}")
def test_every_orderable_service_type_is_reachable(service: Service) -> None:
    spec = find(strategies.orders(CATALOG, budget=BIG, places=PLACES),
                lambda o: o.service.id == service.id, settings=REACH)
    assert spec.service.type == service.type
    assert _type_errors(service.type, {"service": service.id, **dict(spec.params)}) == []


def test_every_documented_type_but_subscriptions_is_orderable() -> None:
    offered = {s.type for s, _ in strategies.affordable_services(CATALOG, budget=BIG,
                                                                  places=PLACES)}
    assert offered == set(contract.service_types()) - {"Subscriptions"}
    subscriptions = strategies.order_shape("Subscriptions")
    assert subscriptions is not None
    assert not subscriptions.orderable
    assert strategies.order_shape("No Such Type") is None


def test_order_shapes_come_from_the_schema() -> None:
    traffic = strategies.order_shape("Web Traffic")
    assert traffic is not None
    assert traffic.required == ("link", "quantity", "country", "device", "type_of_traffic")
    assert ("type_of_traffic", "1", "google_keyword") in traffic.conditional
    package = strategies.order_shape("Custom Comments Package")
    assert package is not None
    assert package.flat
    assert (package.required, package.lines_param) == (("link", "comments"), "comments")


def test_the_minimal_default_order_is_the_cheapest_at_its_minimum() -> None:
    spec = find(strategies.orders(CATALOG, budget=BIG, places=PLACES),
                lambda o: o.service.type == "Default", settings=FIND)
    cheapest = min(CATALOG.of_type("Default"), key=lambda s: (s.price(s.min), s.id))
    assert spec.service == cheapest
    assert dict(spec.params) == {"link": f"{strategies.LINK_BASE}/0",
                                 "quantity": str(cheapest.min)}
    # The explicit example of the type is that same minimal order.
    explicit = strategies.order_examples(CATALOG, budget=BIG, places=PLACES)
    assert next(e for e in explicit if e.service.type == "Default") == spec


def test_the_explicit_orders_are_one_valid_order_per_affordable_type() -> None:
    explicit = strategies.order_examples(CATALOG, budget=BIG, places=PLACES)
    assert [e.service.type for e in explicit] == sorted(
        {s.type for s, _ in strategies.affordable_services(CATALOG, budget=BIG, places=PLACES)},
        key=[e.service.type for e in explicit].index)
    assert len(explicit) == len(contract.service_types()) - 1  # all but Subscriptions
    for spec in explicit:
        assert _type_errors(spec.service.type, {"service": spec.service.id,
                                                **dict(spec.params)}) == []
        assert _in_bounds(spec)
    small = strategies.order_examples(CATALOG, budget=Decimal("0.05"), places=PLACES)
    assert all(strategies.worst_case(e.price, PLACES) <= Decimal("0.05") for e in small)
    assert 0 < len(small) < len(explicit)


def test_drip_feed_is_reachable_and_totals_runs_times_quantity() -> None:
    spec = find(strategies.orders(CATALOG, budget=BIG, places=PLACES),
                lambda o: "runs" in dict(o.params), settings=FIND)
    params = dict(spec.params)
    assert spec.service.dripfeed
    assert params["runs"] == "2"
    assert params["interval"] == "1"
    assert spec.units == int(params["quantity"]) * 2
    assert spec.price == spec.service.price(spec.units)


def test_at_two_decimals_the_smallest_quantity_is_the_smallest_visible_one() -> None:
    spec = find(strategies.orders(CATALOG, budget=BIG, places=2),
                lambda o: o.service.id == "2", settings=FIND)
    assert spec.units == visible_units(spec.service, 2) == 10_000


@QUICK
@given(st.data(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20), places=3))
def test_worst_cases_never_exceed_the_budget(data: st.DataObject, budget: Decimal) -> None:
    if not strategies.affordable_services(CATALOG, budget=budget, places=2):
        with pytest.raises(ValueError, match="no orderable service"):
            strategies.orders(CATALOG, budget=budget, places=2)
        return
    spec = data.draw(strategies.orders(CATALOG, budget=budget, places=2))
    assert strategies.worst_case(spec.price, 2) <= budget
    bad = data.draw(strategies.malformed_orders(CATALOG, budget=budget, places=2))
    assert bad.worst_case <= budget


def test_example_budget_splits_a_share_of_what_is_left() -> None:
    assert strategies.example_budget(Decimal(5), 20) == Decimal("0.25")
    assert strategies.example_budget(Decimal(5), 20, share=Decimal("0.25")) == Decimal("0.0625")
    with pytest.raises(ValueError, match="at least one"):
        strategies.example_budget(Decimal(5), 0)
    with pytest.raises(ValueError, match="negative"):
        strategies.example_budget(Decimal(-1), 3)


@QUICK
@given(strategies.action_requests())
def test_action_requests_validate_and_name_never_issued_ids(
    request: strategies.ActionRequest,
) -> None:
    assert contract.validate(request.form, "request", request.body("k")) == []
    for name, value in request.params:
        if name != "action":
            assert all(part.startswith("9") and len(part) == 13 for part in value.split(","))


def test_the_explicit_actions_are_the_simplest_request_of_each_form() -> None:
    explicit = strategies.action_examples()
    assert [r.form for r in explicit] == list(strategies.READ_FORMS)
    for request in explicit:
        assert contract.validate(request.form, "request", request.body("k")) == []
    assert dict(explicit[1].params) == {"action": "status", "order": "9100000000000"}


@pytest.mark.parametrize("form", strategies.READ_FORMS)
def test_every_action_is_reachable(form: str) -> None:
    request = find(strategies.action_requests(), lambda r: r.form == form, settings=REACH)
    assert contract.validate(form, "request", request.body("k")) == []


def test_action_requests_refuse_the_spending_form() -> None:
    with pytest.raises(ValueError, match="non-spending"):
        strategies.action_requests(["add"])


ADD_FIELDS = sorted(contract.schema("add", "request")["$defs"]["params"]["properties"])


@QUICK
@given(st.data(), st.sampled_from(ADD_FIELDS))
def test_every_add_field_value_validates(data: st.DataObject, field: str) -> None:
    value = data.draw(strategies.field_values("add", field))
    uri = f"{contract.BASE_URI}request/add.json#/$defs/params/properties/{field}"
    validator = Draft202012Validator({"$ref": uri}, registry=contract.registry())
    assert list(validator.iter_errors(value)) == []


def test_field_values_follow_the_schema() -> None:
    assert find(strategies.field_values("add", "device"), lambda _: True) == "1"
    assert find(strategies.field_values("status", "action"), lambda _: True) == "status"
    order = find(strategies.field_values("status", "order"), lambda v: len(v) > 3)
    assert order.isalnum()
    assert len(order) == 4


# ---- malformed requests ---------------------------------------------------------------------


def _breaks_the_contract(order: MalformedOrder) -> bool:
    """Whether the order fails the request schema or the catalogue's bounds."""
    params = dict(order.params)
    body = {"key": "k", "action": "add", **params}
    if contract.validate("add", "request", body):
        return True
    service = next((s for s in CATALOG.services if s.id == params.get("service")), None)
    if service is None:
        return True
    if _type_errors(service.type, params):
        return True
    quantity = int(params["quantity"]) if "quantity" in params else None
    return quantity is not None and not service.min <= quantity <= service.max


@QUICK
@given(strategies.malformed_orders(CATALOG, budget=BIG, places=PLACES))
def test_malformed_orders_break_the_schema_or_the_catalogue(order: MalformedOrder) -> None:
    if order.must_refuse:
        assert _breaks_the_contract(order), order
    else:
        longest = max(len(v) for _, v in order.params)
        # Tolerated: an extra field, an oversized field, or a link that is no URL (a panel
        # may serve any text as the link; one seed alone asks for a URL).
        assert (order.defect in ("extra unknown field", "link not a URL")
                or longest >= strategies.OVERSIZED)
        assert order.price is not None
        assert order.worst_case >= order.price
    assert order.clause in contract.clauses()


# Each defect, and a service it applies to (type-specific fields need their type).
KINDS = {"missing service": "2", "missing link": "2", "missing quantity": "2",
         "missing comments": "7", "missing username": "16", "empty link": "2",
         "quantity below min": "2", "quantity above max": "4",
         "quantity not a positive integer": "4", "quantity beyond 64 bits": "4",
         "unknown service": "2", "service not a number": "2", "link not a URL": "2",
         "drip-feed runs not a positive integer": "1", "extra unknown field": "2",
         "oversized link": "2", "oversized comments": "7"}
TOLERATED = ("extra unknown field", "oversized link", "oversized comments", "link not a URL")


def _only(service_id: str) -> Catalog:
    return Catalog(s for s in CATALOG.services if s.id == service_id)


@pytest.mark.parametrize(("kind", "service_id"), KINDS.items())
def test_every_defect_is_reachable(kind: str, service_id: str) -> None:
    order = find(strategies.malformed_orders(_only(service_id), budget=BIG, places=PLACES),
                 lambda o: o.defect == kind, settings=REACH)
    assert order.must_refuse == (kind not in TOLERATED)
    assert order.clause in contract.clauses()


def test_the_explicit_malformed_orders_hold_every_defect_once() -> None:
    explicit = strategies.malformed_order_examples(CATALOG, budget=BIG, places=PLACES)
    defects = [order.defect for order in explicit]
    assert len(defects) == len(set(defects))
    assert set(KINDS) <= set(defects)
    for order in explicit:
        assert order.worst_case <= BIG
        assert _breaks_the_contract(order) if order.must_refuse else order.price is not None
    # Under a small budget only the defects whose worst case fits are kept.
    small = strategies.malformed_order_examples(CATALOG, budget=Decimal("0.05"), places=PLACES)
    assert "missing link" in {o.defect for o in small}
    assert "missing service" not in {o.defect for o in small}
    assert all(o.worst_case <= Decimal("0.05") for o in small)


def test_the_minimal_malformed_order_is_the_cheapest_order_missing_a_field() -> None:
    views_and_package = Catalog(s for s in CATALOG.services if s.id in ("2", "6"))
    order = find(strategies.malformed_orders(views_and_package, budget=BIG, places=PLACES),
                 lambda _: True, settings=FIND)
    # The worst case of an order with no service is the most expensive one: it fits BIG.
    assert (order.defect, order.clause) == ("missing service", "ADD-006")
    assert "service" not in dict(order.params)
    assert dict(order.params).get("quantity", "10") == "10"
    assert len(dict(order.params)["link"]) <= len(strategies.LINK_BASE) + 2
    # Under a small budget the package's price does not fit: the link goes instead.
    small = find(strategies.malformed_orders(views_and_package, budget=Decimal("0.05"),
                                             places=PLACES), lambda _: True, settings=FIND)
    assert (small.defect, small.clause) == ("missing link", "ADD-006")
    assert dict(small.params) == {"service": "2", "quantity": "10"}
    assert small.worst_case <= Decimal("0.05")


def test_refusals_cite_the_clause_of_their_defect() -> None:
    below = find(strategies.malformed_orders(_only("1"), budget=BIG, places=PLACES),
                 lambda o: o.defect == "quantity below min", settings=FIND)
    assert below.clause == "ADD-003"
    assert dict(below.params)["quantity"] == str(int(dict(below.params)["quantity"]))
    service = next(s for s in CATALOG.services if s.id == dict(below.params)["service"])
    assert int(dict(below.params)["quantity"]) == service.min - 1


@QUICK
@given(strategies.malformed_bodies())
def test_malformed_bodies_are_badly_encoded(request: strategies.MalformedBody) -> None:
    assert KEY_SLOT in request.body
    assert b"add" not in request.body.lower()  # never a spending request
    if request.clause == "ROBUST-003":
        with pytest.raises(UnicodeDecodeError):
            unquote_to_bytes(request.body.replace(KEY_SLOT, b"k")).decode("utf-8")
    else:
        assert request.content_type != "application/x-www-form-urlencoded"


def test_the_explicit_bodies_hold_every_wrong_encoding() -> None:
    explicit = strategies.malformed_body_examples()
    assert {b.content_type for b in explicit} == {
        "application/x-www-form-urlencoded", "application/json", "text/plain",
        "application/octet-stream"}
    assert [b.defect for b in explicit][:2] == ["invalid UTF-8 bytes",
                                                "percent-encoded invalid UTF-8"]
    assert all(b.form == "services" for b in explicit)


@pytest.mark.parametrize("defect", ["invalid UTF-8 bytes", "percent-encoded invalid UTF-8",
                                    "a JSON body where a form is expected",
                                    "a form body labelled text/plain"])
def test_every_encoding_defect_is_reachable(defect: str) -> None:
    found = find(strategies.malformed_bodies(), lambda b: b.defect == defect, settings=FIND)
    assert found.form == "services"  # shrinks to the simplest action
    assert found.body.startswith(b"key=" + KEY_SLOT + b"&action=services") or found.body == (
        b'{"key": "' + KEY_SLOT + b'", "action": "services"}')


# ---- the property suite against live panels -------------------------------------------------



@contextmanager
def _serve(name: str, key: str) -> Iterator[str]:
    env = {**os.environ, "BROKEN_PROPS_KEY": f"{key}=500.00"}
    process = subprocess.Popen([sys.executable, str(BROKEN_PROPS), "serve", name],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def _certify(pytester: pytest.Pytester, name: str) -> tuple[pytest.RunResult, str]:
    key = f"props-{name}-key-0001"
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    with _serve(name, key) as url:
        result = pytester.runpytest_inprocess(
            str(PROPERTIES), f"--panel-url={url}", f"--panel-key={key}",
            "--panel-max-spend=20", "--panel-request-rate=100000", "--panel-seed=7",
            "--panel-examples=30", "-q", "-p", "no:cacheprovider", "-p", "no:allure_pytest",
        )
    return result, key


def _verdict(result: pytest.RunResult, clause: str) -> str:
    """The clause's verdict in the run's table."""
    row = re.compile(rf"^{clause}\s+(MUST|SHOULD|MAY)\s+(PASS|NON-STRICT|FAIL|N/A)\s")
    found = [m.group(2) for m in map(row.match, result.outlines) if m]
    assert len(found) == 1, f"{clause} is not in the verdict table"
    return found[0]


def test_the_properties_pass_the_unbroken_mock(pytester: pytest.Pytester) -> None:
    result, key = _certify(pytester, "unbroken")
    assert result.ret == pytest.ExitCode.OK, "\n".join(result.outlines[-30:])
    result.assert_outcomes(passed=4)
    for clause in ("ROBUST-001", "ROBUST-009", "MONEY-004", "ADD-001", "MONEY-001"):
        assert _verdict(result, clause) == "PASS"
    assert key not in "\n".join(result.outlines + result.errlines)


def test_a_fee_on_refused_orders_fails_money_004_with_the_minimal_request(
    pytester: pytest.Pytester,
) -> None:
    result, key = _certify(pytester, "fee-on-refused-orders")
    output = "\n".join(result.outlines)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _verdict(result, "MONEY-004") == "FAIL"
    assert "test_malformed_orders_are_refused_and_move_no_money" in output
    # The evidence is the shrunk request: the cheapest order (service 2 at its minimum
    # visible quantity) without its link, not whichever example failed first.
    assert "action=add&service=2&quantity=10\n" in output + "\n"
    assert key not in output


def test_a_5xx_on_oversized_fields_fails_robust_001(pytester: pytest.Pytester) -> None:
    result, key = _certify(pytester, "500-on-large-bodies")
    output = "\n".join(result.outlines)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _verdict(result, "ROBUST-001") == "FAIL"
    assert "test_malformed_orders_are_refused_and_move_no_money: HTTP 500" in output
    assert "-> HTTP 500 " in output
    assert key not in output


def test_a_failure_found_by_generation_shrinks_to_the_smallest_request(
    pytester: pytest.Pytester,
) -> None:
    # The explicit examples order each type at its minimum, so only generated orders find this
    # defect; shrinking then stops at the cheapest service just past twice its minimum.
    result, key = _certify(pytester, "overcharges-large-orders")
    output = "\n".join(result.outlines)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _verdict(result, "MONEY-001") == "FAIL"
    shrunk = re.compile(
        r"^    #\d+ POST \S+ key=<redacted>:main key&action=add&service=2&"
        rf"link={re.escape(strategies.LINK_BASE)}/0-7-\d+&quantity=21$", re.M)
    assert shrunk.search(output), output[-3000:]
    assert key not in output

