"""The shape diff (``mockpanel profiles diff A B``): the script reaches every state it claims,
answers' shapes keep what a client depends on and drop what legitimately varies, and two
profiles differ exactly where their data differs.

Every built-in is run against itself with two seeds (different ids, same shapes), which also
proves the script runs on profiles lacking actions or service types. Each checker is tested
both ways: a profile changed in one field must be caught at that place and nowhere else, and
correct-but-different inputs (another name, another seed, another key order) must pass.
"""

from __future__ import annotations

import functools
import io
import json
from dataclasses import replace
from types import MappingProxyType

import pytest

from mockpanel.emulate import (
    Difference,
    Exchange,
    Transcript,
    compare,
    diff_command,
    diff_profiles,
    render,
    run_script,
    shape_of,
)
from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES, REFERENCE, ErrorSpec, NumberStyle, Profile
from mockpanel.state import OrderStatus


@functools.cache
def _run(name: str, seed: int = 0) -> Transcript:
    return run_script(PROFILES[name], seed=seed)


def _body(transcript: Transcript, step: str) -> str:
    return next(e.body for e in transcript.exchanges if e.step == step)


def _steps(differences: list[Difference]) -> set[str]:
    return {d.step for d in differences}


# --------------------------------------------------------------------- the script itself


def test_the_script_drives_orders_and_refills_through_their_lifecycle() -> None:
    run = _run("reference")
    assert run.failures == 0
    reached = {
        "status (Pending)": '"status":"Pending"',
        "status (In progress)": '"status":"In progress"',
        "status (Completed)": '"status":"Completed"',
        "status (Partial)": '"status":"Partial"',
        "status (after cancel)": '"status":"Canceled"',
        "cancel orders=": '"cancel":1',
        "refill_status (Pending)": '"status":"Pending"',
        "refill_status (In progress)": '"status":"In progress"',
        "refill_status (Completed)": '"status":"Completed"',
        "refill_status (Rejected)": '"status":"Rejected"',
        "not enough funds": "Not enough funds on balance",
        "too many ids (101)": "at most 100 IDs",
        "body too large": "larger than",
        "suspended account": "Account suspended",
        "refill (order Pending)": "The order is not completed",
        "cancel (Completed)": "cannot be canceled",
        "quantity below min": "Quantity less than minimal",
        "quantity above max": "Quantity more than maximum",
        "invalid link": "Incorrect link",
        "unknown refill": "Refill not found",
    }
    for step, text in reached.items():
        assert text in _body(run, step), step
    # Every type's add went through (Subscriptions are refused by design: site only).
    added = [e for e in run.exchanges if e.step.startswith("add (") and "link asking" not in e.step]
    refused = [e.step for e in added if '"order"' not in e.body]
    assert refused == ["add (subscriptions)"]
    assert '"refill":' in _body(run, "refill")


def test_the_rate_probe_finds_a_published_budget() -> None:
    run = _run("smmhub")  # 60 requests a minute per key
    probe = run.exchanges[-1]
    assert probe.step == "rate limit"
    assert probe.status == 429
    assert dict(probe.facts) == {"requests answered before a refusal": "60 of 121"}
    assert dict(probe.headers).keys() == {"Retry-After"}


def test_the_script_asks_a_profile_without_actions_the_same_things() -> None:
    # smmpro has no cancel and no refill_status: the same steps are sent, and answered with
    # its unknown-action error rather than skipped.
    full, lean = _run("reference"), _run("smmpro")
    lean_steps = [e.step for e in lean.exchanges]
    assert [e.step for e in full.exchanges if not e.step.startswith("add (")] == [
        s for s in lean_steps if not s.startswith("add (")
    ]
    assert "unknown action cancel" in _body(lean, "cancel orders=")


# ----------------------------------------------------------------- profiles against themselves


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_builtin_against_itself_with_other_ids_has_no_difference(name: str) -> None:
    first, second = _run(name, 1), _run(name, 2)
    assert first.failures == second.failures == 0
    # The seeds really gave other ids, or this test would prove nothing about ids.
    by_role = {role: raw for raw, role in first.ids.items()}
    assert any(by_role.get(role) not in (None, raw) for raw, role in second.ids.items())
    assert compare(first, second) == []


def test_profiles_differing_only_in_name_summary_and_source_have_no_difference() -> None:
    renamed = replace(REFERENCE, name="my-provider", summary="recorded", source="run.har")
    assert diff_profiles(REFERENCE, renamed) == []


# ------------------------------------------------------------------- reference vs smmhub


def test_reference_against_smmhub_reports_its_known_differences_and_nothing_else() -> None:
    differences = compare(_run("reference"), _run("smmhub"))
    found = {(d.step, d.path): (d.a, d.b) for d in differences}
    # Its own error strings (seed 002).
    assert found["not enough funds", "$.error"] == (
        'text "Not enough funds on balance"', 'text "Insufficient balance"'
    )
    assert found["unknown service", "$.error"][1] == 'text "Service is not active"'
    assert found["cancel (Completed)", "$[0].cancel.error"][1] == 'text "Order already completed"'
    # Form bodies only: JSON is refused, and GET is not routed.
    assert "not accepted" in found["JSON body", "$"][1]
    assert found["GET with query", "HTTP status"] == ("200", "405")
    # Its services: no dripfeed field, three types only (so the other types' adds are not
    # sent), and the same values for the services both list.
    assert found["services", "$[service 1-7].dripfeed"] == ("boolean", "(absent)")
    assert found["services", "$[service 8-21]"] == (
        "object {cancel, category, dripfeed, max, min, name, ...}", "(absent)"
    )
    assert found["add (poll)", "(step)"][1].startswith("not sent")
    # In progress orders are cancellable there; 60 requests a minute per key.
    assert found["cancel (In progress)", "$[0].cancel"] == ("{error: text \"The order cannot be "
                                                            'canceled"}', "integer")
    assert found["rate limit", "requests answered before a refusal"] == (
        "all of 121", "60 of 121"
    )
    # Nothing else: every other step is answered alike (same statuses, ids, numbers, the
    # wordings smmhub shares with PerfectPanel such as "Invalid API key").
    types = {f"add ({t})" for t in (
        "comment likes", "comment replies", "custom comments package", "invites from groups",
        "mentions", "mentions custom list", "mentions hashtag", "mentions media likers",
        "mentions user followers", "mentions with hashtags", "poll", "seo", "subscriptions",
        "web traffic",
    )}
    assert _steps(differences) == types | {
        "services",
        "add (link asking for processing)",  # smmhub says Processing; reference never does
        "status (link asking for processing)",
        "add drip-feed on a service without it",  # no dripfeed flags to pick a service by
        "refill (order In progress)",
        "refill (order Pending)",
        "refill (service without refill)",
        "cancel (In progress)",
        "cancel (Completed)",
        "cancel orders= (Completed + unknown)",
        "unknown service",
        "quantity below min",
        "quantity above max",
        "not enough funds",
        "text/plain body",
        "JSON body",
        "GET with query",
        "PUT",
        "DELETE",
        "rate limit",
    }


# ------------------------------------------------------------ one field changed, one place


def test_balance_as_a_number_differs_only_where_a_balance_is_answered() -> None:
    changed = replace(REFERENCE, numbers=replace(REFERENCE.numbers, balance=NumberStyle.NUMBER))
    differences = diff_profiles(REFERENCE, changed)
    assert {(d.path, d.a, d.b) for d in differences} == {
        ("$.balance", "decimal text, 5 places", "number, 5 places")
    }
    assert _steps(differences) == {
        "balance", "balance (after orders)", "JSON body", "GET with query", "endpoint /api/v2",
        "endpoint /api/v2/", "rate limit",
    }


def test_one_error_wording_differs_only_at_that_error() -> None:
    errors = dict(REFERENCE.errors)
    errors[ErrorCode.INSUFFICIENT_FUNDS] = ErrorSpec("Balance too low")
    changed = replace(REFERENCE, errors=MappingProxyType(errors))
    assert diff_profiles(REFERENCE, changed) == [
        Difference(
            "not enough funds", "$.error",
            'text "Not enough funds on balance"', 'text "Balance too low"',
        )
    ]


def test_an_error_status_differs_only_in_the_http_status() -> None:
    errors = dict(REFERENCE.errors)
    errors[ErrorCode.UNKNOWN_REFILL] = ErrorSpec("Refill not found", 404)
    changed = replace(REFERENCE, errors=MappingProxyType(errors))
    differences = diff_profiles(REFERENCE, changed)
    # refill_status refills= reports the unknown refill inside a 200 answer: not affected.
    assert [(d.step, d.path, d.a, d.b) for d in differences] == [
        ("unknown refill", "HTTP status", "200", "404")
    ]


def test_content_type_differs_in_every_api_answer_and_nothing_else() -> None:
    changed = replace(REFERENCE, wire=replace(REFERENCE.wire, content_type="text/html"))
    differences = diff_profiles(REFERENCE, changed)
    assert {(d.path, d.a, d.b) for d in differences} == {
        ("Content-Type", "application/json", "text/html")
    }
    # Every step but PUT and DELETE, which no API route takes (the mock's own 405).
    assert _steps(differences) == {e.step for e in _run("reference").exchanges} - {"PUT", "DELETE"}


def test_pretty_printing_differs_only_in_formatting() -> None:
    changed = replace(REFERENCE, wire=replace(REFERENCE.wire, indent=2))
    differences = diff_profiles(REFERENCE, changed)
    assert differences
    assert {(d.path, d.a, d.b) for d in differences} == {
        ("JSON formatting", "compact", "pretty-printed, indent 2")
    }


def test_money_places_differ_in_money_and_in_what_the_places_price() -> None:
    changed = replace(REFERENCE, money_places=2)
    differences = diff_profiles(REFERENCE, changed)
    money = [d for d in differences if d.path.endswith((".balance", ".charge"))]
    assert money
    assert all(
        (d.a, d.b) == ("decimal text, 5 places", "decimal text, 2 places") for d in money
    )
    # At 2 places the cheapest services cannot charge their old minimum (chargeable_catalog),
    # so the catalogue's minimums and the minimum an error quotes move with them.
    rest = {(d.step, d.path, d.a, d.b) for d in differences} - {
        (d.step, d.path, d.a, d.b) for d in money
    }
    assert rest == {
        ("services", "$[service 2].min", "value '10'", "value '5000'"),
        ("services", "$[service 4].min", "value '10'", "value '2500'"),
        ("services", "$[service 12].min", "value '1'", "value '2'"),
        ("quantity below min", "$.error", 'text "Quantity less than minimal 10"',
         'text "Quantity less than minimal 5000"'),
    }


def test_a_status_spelling_differs_only_where_that_status_is_shown() -> None:
    changed = replace(
        REFERENCE, order_words=MappingProxyType({OrderStatus.IN_PROGRESS: "Inprogress"})
    )
    assert diff_profiles(REFERENCE, changed) == [
        Difference("status (In progress)", "$.status", 'text "In progress"', 'text "Inprogress"')
    ]


def test_order_ids_as_text_differ_wherever_an_order_id_is_answered() -> None:
    changed = replace(REFERENCE, numbers=replace(REFERENCE.numbers, order_id=NumberStyle.STRING))
    differences = diff_profiles(REFERENCE, changed)
    assert differences
    for d in differences:
        assert d.path.endswith(".order"), d
        assert d.a.endswith("as an integer"), d
        assert d.b.endswith("as text of digits"), d


def test_another_path_is_probed_on_both_sides() -> None:
    changed = replace(REFERENCE, wire=replace(REFERENCE.wire, paths=("/api/v2", "/api/v1")))
    differences = diff_profiles(REFERENCE, changed)
    assert _steps(differences) == {"endpoint /api/v1", "endpoint /api/v1/"}
    assert {(d.path, d.a, d.b) for d in differences} >= {("HTTP status", "404", "200")}


# ------------------------------------------------------------------- shapes, one at a time


def test_shape_of_an_error_answer_keeps_its_wording_and_its_code() -> None:
    # SMMApi's coded errors: the "status" beside an error is a wording, not a count.
    answer = '{"error":"API key invalid","status":"102"}\n'
    shape = shape_of(Exchange("s", 401, "application/json; charset=UTF-8", answer), {})
    assert (shape.status, shape.content_type, shape.formatting) == (
        401, "application/json; charset=utf-8", "compact, trailing whitespace"
    )
    assert shape.body == {"error": 'text "API key invalid"', "status": 'text "102"'}
    assert shape.catalogue is None


def _differ(a: str, b: str, **fields: object) -> list[Difference]:
    ids_a = fields.pop("ids_a", {})
    ids_b = fields.pop("ids_b", {})
    assert isinstance(ids_a, dict)
    assert isinstance(ids_b, dict)

    def one(body: str, ids: dict[str, str]) -> Transcript:
        exchange = Exchange(
            "step", 200, str(fields.get("ct", "application/json")), body,
            catalogue=bool(fields.get("catalogue", False)),
        )
        return Transcript("p", (exchange,), MappingProxyType(ids))

    return compare(one(a, ids_a), one(b, ids_b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ('{"count":"157"}', '{"count":"3572"}'),  # digits: the value varies
        ('{"charge":"0.27819"}', '{"charge":"1.00000"}'),  # same places
        ('{"charge":4.20}', '{"charge":9.99}'),
        ('{"a":"1","b":"x"}', '{"b":"x","a":"2"}'),  # key order is not a shape
        ('{"error":"Incorrect order ID"}', '{"error":"Incorrect order ID"}'),
        ('[{"order":1,"cancel":1}]', '[{"order":2,"cancel":1}]'),
    ],
)
def test_values_that_vary_make_no_difference(a: str, b: str) -> None:
    assert _differ(a, b) == []


@pytest.mark.parametrize(
    ("a", "b", "path"),
    [
        ('{"count":"157"}', '{"count":157}', "$.count"),  # text vs number
        ('{"charge":"0.27819"}', '{"charge":"0.27"}', "$.charge"),  # places
        ('{"charge":4.20}', '{"charge":4.2}', "$.charge"),
        ('{"charge":"4.20"}', '{"charge":4.20}', "$.charge"),
        ('{"error":"Incorrect order ID"}', '{"error":"Order not found"}', "$.error"),
        ('{"error":"x","status":"101"}', '{"error":"x","status":"102"}', "$.status"),
        ('{"status":"In progress"}', '{"status":"Inprogress"}', "$.status"),
        ('{"a":"1"}', '{"a":"1","b":"1"}', "$.b"),
        ('[{"order":1}]', '[{"order":1},{"order":2}]', "$"),
        ('{"a":true}', '{"a":1}', "$.a"),
        ('{"a":null}', '{"a":"x"}', "$.a"),
        ('{"a":1}', "<html>oops</html>", "$"),
    ],
)
def test_types_places_and_wordings_make_a_difference(a: str, b: str, path: str) -> None:
    differences = _differ(a, b)
    assert path in [d.path for d in differences], differences


def test_formatting_and_media_type_are_compared_but_charset_case_is_not() -> None:
    pretty = json.dumps({"balance": "1.00"}, indent=4)
    assert [d.path for d in _differ('{"balance":"1.00"}', pretty)] == ["JSON formatting"]
    assert _differ("{}", "{}", ct="text/html; charset=UTF-8") == []
    html = compare(
        Transcript("a", (Exchange("s", 200, "text/html; charset=UTF-8", "{}"),)),
        Transcript("b", (Exchange("s", 200, "text/html;charset=utf-8", "{}"),)),
    )
    assert html == []
    other = compare(
        Transcript("a", (Exchange("s", 200, "application/json", "{}"),)),
        Transcript("b", (Exchange("s", 200, "text/html", "{}"),)),
    )
    assert [(d.path, d.a, d.b) for d in other] == [
        ("Content-Type", "application/json", "text/html")
    ]


def test_ids_compare_by_role_and_kind_not_by_value() -> None:
    a = '{"123":{"status":"Pending"},"error_echo":"Order 123 is late"}'
    b = '{"456":{"status":"Pending"},"error_echo":"Order 456 is late"}'
    assert _differ(a, b, ids_a={"123": "<order x>"}, ids_b={"456": "<order x>"}) == []
    # The same role with letters on one side: smmpremium's ids against numeric ones.
    letters = _differ('{"order":"12345"}', '{"order":"K7M2X9"}',
                      ids_a={"12345": "<order x>"}, ids_b={"K7M2X9": "<order x>"})
    assert [(d.a, d.b) for d in letters] == [
        ("id <order x> as text of digits", "id <order x> as text of letters and digits")
    ]
    # Two different roles are two different keys.
    assert _differ('{"1":{}}', '{"2":{}}', ids_a={"1": "<order x>"}, ids_b={"2": "<order y>"})


def test_a_catalogue_compares_values_by_meaning_and_places_by_shape() -> None:
    entry = {"service": 1, "name": "Followers", "type": "Default", "rate": "2.50", "min": "10",
             "max": "100", "refill": True}

    def with_(**changes: object) -> str:
        return json.dumps([entry | changes])

    base = with_()
    assert _differ(base, with_(), catalogue=True) == []
    places = _differ(base, with_(rate="2.5"), catalogue=True)  # same rate, other places
    assert [(d.path, d.a, d.b) for d in places] == [
        ("$[service 1].rate", "decimal text, 2 places", "decimal text, 1 places")
    ]
    dearer = _differ(base, with_(rate="2.60"), catalogue=True)
    assert [(d.path, d.a, d.b) for d in dearer] == [
        ("$[service 1].rate", "value '2.5'", "value '2.6'")
    ]
    flag = _differ(base, with_(refill=1), catalogue=True)  # same meaning, other type
    assert [(d.path, d.a, d.b) for d in flag] == [("$[service 1].refill", "boolean", "integer")]
    renamed = _differ(base, with_(name="Followers [HQ]", type="default"), catalogue=True)
    assert {(d.path, d.b) for d in renamed} == {
        ("$[service 1].name", "value 'Followers [HQ]'"), ("$[service 1].type", "value 'default'")
    }
    reordered = _differ(
        json.dumps([entry, entry | {"service": 2}]),
        json.dumps([entry | {"service": 2}, entry]),
        catalogue=True,
    )
    assert [d.path for d in reordered] == ["$ (order of services)"]


# ----------------------------------------------------------------------- the report


def test_render_groups_by_step_and_ends_with_a_summary() -> None:
    differences = [
        Difference("balance", "$.balance", "decimal text, 5 places", "number, 5 places"),
        Difference("balance", "$.currency", 'text "USD"', 'text "INR"'),
        Difference("no key", "HTTP status", "200", "401"),
    ]
    assert render(differences, "reference", "mine").splitlines() == [
        "balance:",
        "  $.balance: reference: decimal text, 5 places | mine: number, 5 places",
        '  $.currency: reference: text "USD" | mine: text "INR"',
        "no key:",
        "  HTTP status: reference: 200 | mine: 401",
        "3 differences in 2 steps between reference and mine",
    ]
    assert render([], "a", "b").splitlines() == [
        "same shapes: a and b answer every step of the script alike"
    ]


def _command(a: Profile, b: Profile) -> tuple[int, str]:
    out = io.StringIO()
    code = diff_command(a, b, "A", "B", out)
    return code, out.getvalue()


def test_diff_command_exit_codes_and_report() -> None:
    same, report = _command(REFERENCE, replace(REFERENCE, name="copy"))
    assert (same, report) == (0, "same shapes: A and B answer every step of the script alike\n")
    errors = dict(REFERENCE.errors)
    errors[ErrorCode.INVALID_KEY] = ErrorSpec("Wrong key")
    differs, report = _command(REFERENCE, replace(REFERENCE, errors=MappingProxyType(errors)))
    assert differs == 1
    assert report.splitlines() == [
        "wrong key:",
        '  $.error: A: text "Invalid API key" | B: text "Wrong key"',
        "1 difference in 1 step between A and B",
    ]
